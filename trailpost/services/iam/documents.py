"""Policy documents as IAM accepts them: identity (and session) policies and role trust policies.

On top of ``identity.policy``'s grammar, IAM refuses (``MalformedPolicyDocument``):

* an action without a service prefix: "Actions/Conditions must be prefaced by a vendor, e.g.,
  iam, sdb, ec2, etc." (``*`` alone is fine);
* a resource that is neither ``*`` nor an ARN: ``Resource <r> must be in ARN format or "*".``;
* in a trust policy, text that is not JSON: "This policy contains invalid Json" (the wording IAM
  uses for trust policies), and a principal that names nothing IAM can resolve:
  ``Invalid principal in policy: "AWS":"<value>"``.

Trust principals trailpost can resolve: ``*``; an account (12 digits or ``arn:aws:iam::<id>:root``)
of this trailpost; an existing user or role of such an account (``arn:aws:iam::<id>:user/...``,
``role/...``) or a role session ARN (``arn:aws:sts::<id>:assumed-role/<role>/<session>``) of an
existing role; a service (``<name>.amazonaws.com``); an OpenID Connect provider of the account
that exists, or one of the well-known web identity providers. Everything that can call
trailpost is one of its accounts, so other accounts are not principals it can resolve.
"""

from __future__ import annotations

import re

import orjson

from trailpost.gateway.context import RequestContext
from trailpost.identity.accounts import ACCOUNT
from trailpost.identity.policy import MalformedPolicy, Policy, parse_policy
from trailpost.protocol.errors import ServiceError
from trailpost.services.iam.errors import MalformedPolicyDocumentException
from trailpost.services.iam.resources import OIDC_PROVIDER, ROLE, USER, name_key, parse_iam_arn

WELL_KNOWN_PROVIDERS = frozenset(
    {"accounts.google.com", "graph.facebook.com", "www.amazon.com", "cognito-identity.amazonaws.com"}
)
_VENDOR_ACTION = re.compile(r"^[A-Za-z0-9*?-]+:.+$")
_SERVICE = re.compile(r"^[a-z0-9.-]+\.amazonaws\.com(\.cn)?$")
_SESSION_ARN = re.compile(r"^arn:aws:sts::(\d{12}):assumed-role/([\w+=,.@-]+)/[\w+=,.@-]+$")
_ACCOUNT = re.compile(r"^(\d{12})$|^arn:aws:iam::(\d{12}):root$")

ErrorClass = type[ServiceError]


def identity_policy(text: str, error: ErrorClass = MalformedPolicyDocumentException) -> Policy:
    """An identity-based or session policy, or ``error`` with IAM's message."""
    try:
        policy = parse_policy(text)
    except MalformedPolicy as exc:
        raise error(str(exc)) from None
    for statement in policy.statements:
        for action in statement.actions + statement.not_actions:
            if action != "*" and not _VENDOR_ACTION.match(action):
                raise error("Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.")
        for resource in statement.resources + statement.not_resources:
            if resource != "*" and not resource.startswith("arn:"):
                raise error(f'Resource {resource} must be in ARN format or "*".')
    return policy


def trust_policy(ctx: RequestContext, text: str) -> Policy:
    """A role trust policy whose every principal resolves, or ``MalformedPolicyDocument``."""
    try:
        orjson.loads(text)
    except orjson.JSONDecodeError:
        raise MalformedPolicyDocumentException("This policy contains invalid Json") from None
    try:
        policy = parse_policy(text, trust=True)
    except MalformedPolicy as exc:
        raise MalformedPolicyDocumentException(str(exc)) from None
    for statement in policy.statements:
        for action in statement.actions + statement.not_actions:
            if action != "*" and not _VENDOR_ACTION.match(action):
                raise MalformedPolicyDocumentException(
                    "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."
                )
        for kind, values in (statement.principals or {}).items():
            for value in values:
                if not _resolves(ctx, kind, value):
                    raise MalformedPolicyDocumentException(f'Invalid principal in policy: "{kind}":"{value}"')
    return policy


def _hosted(ctx: RequestContext, account_id: str) -> bool:
    return ctx.store.get(ACCOUNT, "", account_id) is not None


def _resolves(ctx: RequestContext, kind: str, value: str) -> bool:
    if kind == "AWS":
        return _aws_principal(ctx, value)
    if kind == "Service":
        return bool(_SERVICE.match(value))
    if kind == "Federated":
        if value in WELL_KNOWN_PROVIDERS:
            return True
        parsed = parse_iam_arn(value)
        if parsed is None or parsed[1] != "oidc-provider" or not _hosted(ctx, parsed[0]):
            return False
        url = value.split(":oidc-provider/", 1)[1]
        return ctx.store.get(OIDC_PROVIDER, parsed[0], url.lower()) is not None
    return False


def _aws_principal(ctx: RequestContext, value: str) -> bool:
    if value == "*":
        return True
    account = _ACCOUNT.match(value)
    if account:
        return _hosted(ctx, account.group(1) or account.group(2))
    session = _SESSION_ARN.match(value)
    if session:
        return ctx.store.get(ROLE, session.group(1), name_key(session.group(2))) is not None
    parsed = parse_iam_arn(value)
    if parsed is None or parsed[0] == "aws" or parsed[1] not in ("user", "role"):
        return False
    account_id, kind, _, name = parsed
    doc = ctx.store.get(USER if kind == "user" else ROLE, account_id, name_key(name))
    return doc is not None and doc["arn"] == value
