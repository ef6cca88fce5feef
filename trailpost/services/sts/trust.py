"""Role trust: may this caller assume this role? The trust policy and the caller's own policies together.

``decide_assume`` applies AWS's rules for assuming a role, for each action the request needs
(``sts:AssumeRole``, plus ``sts:TagSession`` with session tags and ``sts:SetSourceIdentity`` with
a source identity; ``sts:AssumeRoleWithWebIdentity`` for web identities):

1. an explicit ``Deny`` in the caller's identity-based policies, or in the trust policy for this
   caller, denies;
2. the trust policy must allow the caller: a statement whose ``Principal`` names it (its ARN - for
   a role session also the role's ARN -, its account, ``*``, or for web identities the OpenID
   Connect provider), whose action matches and whose conditions hold;
3. when the trust policy names the caller itself (not just its account) in the role's own
   account, that is enough: a resource-based grant within one account. Otherwise (account-level
   trust, or another account) the caller's identity-based policies must allow the action too.

A denial reads as AWS's: ``User: <caller> is not authorized to perform: sts:AssumeRole on
resource: <role arn>`` - with ``because no identity-based policy allows ...`` when only the
caller's own policies were missing.
"""

from __future__ import annotations

from typing import Any

from trailpost.gateway.context import RequestContext
from trailpost.identity.authorize import Verdict, denial_message, deny, evaluate, request_context
from trailpost.identity.policy import Decision, MalformedPolicy, Policy, decide, parse_policy, principal_matches
from trailpost.identity.principal import Principal


def _trust_statements(role: dict[str, Any]) -> Policy:
    try:
        return parse_policy(role["assume_role_policy_document"], trust=True)
    except MalformedPolicy:
        return Policy(())


def trust_decision(
    role: dict[str, Any], names: dict[str, Any], action: str, context: dict[str, Any]
) -> tuple[Decision, bool]:
    """How the role's trust policy decides ``action`` for a caller known by ``names``
    (``arns``: its ARNs, ``account``: its account, ``federated``: its provider). Returns the
    decision and whether an allowing statement named the caller itself."""
    allowed, specific = False, False
    for statement in _trust_statements(role).statements:
        by_arn = any(principal_matches(statement, {"AWS": arn}) for arn in names.get("arns", []))
        by_account = bool(names.get("account")) and principal_matches(
            statement, {"AWS": "", "account": names["account"]}
        )
        by_provider = bool(names.get("federated")) and principal_matches(statement, {"Federated": names["federated"]})
        if not (by_arn or by_account or by_provider):
            continue
        if decide([Policy((statement,))], action, role["arn"], context) is Decision.IMPLICIT_DENY:
            continue
        if statement.effect == "Deny":
            return Decision.EXPLICIT_DENY, False
        allowed = True
        specific = specific or by_arn or by_provider
    return (Decision.ALLOW if allowed else Decision.IMPLICIT_DENY), specific


def decide_assume(
    ctx: RequestContext,
    caller: Principal,
    role: dict[str, Any] | None,
    role_arn: str,
    actions: list[str],
    extra_context: dict[str, Any],
    names: dict[str, Any] | None = None,
) -> None:
    """Raise the access-denied error unless ``caller`` may take each of ``actions`` on the role."""
    if role is None:
        raise deny(ctx, f"User: {caller.arn} is not authorized to perform: {actions[0]} on resource: {role_arn}")
    context = {**request_context(ctx, caller), **extra_context}
    if names is None:
        arns = [caller.arn]
        if caller.grant and caller.grant.get("role_arn"):
            arns.append(caller.grant["role_arn"])
        names = {"arns": arns, "account": caller.account_id}
    same_account = caller.account_id == role["arn"].split(":")[4]
    for action in actions:
        message = f"User: {caller.arn} is not authorized to perform: {action} on resource: {role_arn}"
        identity = Verdict(Decision.ALLOW)
        if caller.identity_type != "WebIdentityUser":
            identity = evaluate(ctx, caller, action, role_arn)
            if identity.decision is Decision.EXPLICIT_DENY:
                raise deny(ctx, denial_message(caller, action, role_arn, identity))
        trusted, specific = trust_decision(role, names, action, context)
        if trusted is not Decision.ALLOW:
            raise deny(ctx, message)
        if specific and same_account:
            continue
        if not identity.allowed:
            raise deny(ctx, denial_message(caller, action, role_arn, identity))
