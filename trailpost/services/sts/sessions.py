"""STS credentials for callers with keys: GetCallerIdentity, AssumeRole, GetSessionToken, GetFederationToken.

Rules (AWS's):
* ``GetCallerIdentity`` needs no permission and answers ``UserId`` (the account id for root,
  ``AIDA…`` for users, ``AROA…:<session>`` for role sessions, ``<account>:<name>`` for federated
  users), ``Account`` and ``Arn``;
* ``AssumeRole``: ``RoleArn`` must be an ARN ("<value> is invalid", ``ValidationError``); the
  root user cannot assume roles ("Roles may not be assumed by root accounts.", ``AccessDenied``);
  a role that does not exist is denied like one that does not trust the caller; trust and the
  caller's policies decide (``trust.decide_assume``); ``DurationSeconds`` (default 3600) may not
  exceed the role's ``MaxSessionDuration``, nor 3600 for role chaining (a role session assuming
  a role), each a ``ValidationError`` with AWS's message; a source identity, once set, stays for
  chained sessions and cannot change; session policies and tags: ``session_policies``;
* ``GetSessionToken`` (IAM users and root; no permission needed): ``DurationSeconds`` default
  43200, root capped at 3600; ``SerialNumber`` and ``TokenCode`` together mark the session
  MFA-authenticated (trailpost keeps no MFA devices, so the code is taken as given);
* ``GetFederationToken`` (IAM users, and root as AWS allows it): the federated user may do what
  both the caller and the session policies allow - nothing without session policies;
  ``DurationSeconds`` default 43200, root capped at 3600;
* neither can be called with temporary credentials ("Cannot call GetSessionToken with session
  credentials", ``AccessDenied``).

Credentials are ``identity.credentials`` sessions; their expiry is issue time plus the duration
on the server clock.
"""

from __future__ import annotations

import re
from typing import Any

from trailpost.gateway.context import RequestContext
from trailpost.identity import credentials
from trailpost.identity.authorize import deny
from trailpost.identity.credentials import session_principal
from trailpost.identity.principal import Principal
from trailpost.services.iam.resources import ROLE, USER, name_key, parse_iam_arn
from trailpost.services.sts import session_policies
from trailpost.services.sts.errors import AccessDenied, ValidationError
from trailpost.services.sts.operations import ops
from trailpost.services.sts.trust import decide_assume

DEFAULT_ROLE_SESSION = 3600
DEFAULT_USER_SESSION = 43200
ROOT_SESSION_LIMIT = 3600
CHAINED_SESSION_LIMIT = 3600
_ARN = re.compile(r"^arn:[^:]+:[^:]+:[^:]*:[^:]*:.+$")


def _caller(ctx: RequestContext) -> Principal:
    assert ctx.principal is not None
    return ctx.principal


def _refuse_session_credentials(ctx: RequestContext, operation: str) -> None:
    if _caller(ctx).session is not None:
        raise AccessDenied(f"Cannot call {operation} with session credentials")


def _mfa(params: dict[str, Any]) -> bool:
    serial, code = params.get("serial_number"), params.get("token_code")
    if bool(serial) != bool(code):
        raise AccessDenied(
            "MultiFactorAuthentication failed, must provide both MFA serial number and one time pass code."
        )
    return bool(serial)


def role_issuer(role: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "Role",
        "principalId": role["role_id"],
        "arn": role["arn"],
        "accountId": role["arn"].split(":")[4],
        "userName": role["role_name"],
    }


def find_role(ctx: RequestContext, role_arn: str) -> dict[str, Any] | None:
    """The role ``role_arn`` names in any account of this trailpost (``None`` if there is none)."""
    if not _ARN.match(role_arn):
        raise ValidationError(f"{role_arn} is invalid")
    parsed = parse_iam_arn(role_arn)
    if parsed is None or parsed[1] != "role" or parsed[0] == "aws":
        return None
    role = ctx.store.get(ROLE, parsed[0], name_key(parsed[3]))
    return role if role is not None and role["arn"] == role_arn else None


def issue_role_session(
    ctx: RequestContext,
    role: dict[str, Any],
    session_name: str,
    duration: int,
    grant: session_policies.SessionGrant,
    *,
    mfa: bool,
    source_identity: str | None,
    via: str,
    web_identity: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Credentials of a role session and the ``AssumedRoleUser`` of the response."""
    account_id = role["arn"].split(":")[4]
    created = credentials.now(ctx.settings)
    arn = f"arn:aws:sts::{account_id}:assumed-role/{role['role_name']}/{session_name}"
    principal = session_principal(
        account_id=account_id,
        identity_type="AssumedRole",
        arn=arn,
        principal_id=f"{role['role_id']}:{session_name}",
        created=created,
        issuer=role_issuer(role),
        mfa=mfa,
        source_identity=source_identity,
        web_identity=web_identity,
    )
    rights = {
        "kind": "role",
        "role_name": role["role_name"],
        "role_id": role["role_id"],
        "role_arn": role["arn"],
        "session_policies": grant.texts,
        "policy_arns": grant.arns,
        "tags": grant.tags,
        "transitive": grant.transitive,
        "mfa": mfa,
        "via": via,
    }
    if not grant.has_policies:
        rights.pop("session_policies")
    with ctx.store.transaction():
        issued = credentials.issue(ctx.store, principal=principal, grant=rights, created=created, duration=duration)
        ctx.store.put(
            ROLE,
            account_id,
            name_key(role["role_name"]),
            {**role, "last_used": {"date": created, "region": ctx.region}},
        )
    return {
        "credentials": issued.as_result(),
        "assumed_role_user": {"assumed_role_id": principal["principal_id"], "arn": arn},
    }


@ops("GetCallerIdentity")
def get_caller_identity(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    caller = _caller(ctx)
    return {"user_id": caller.principal_id, "account": caller.account_id, "arn": caller.arn}


@ops("AssumeRole")
def assume_role(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    caller = _caller(ctx)
    role_arn = params["role_arn"]
    role = find_role(ctx, role_arn)
    if role is not None:
        ctx.recipients.append(role["arn"].split(":")[4])  # the role's owner gets its copy of the record
    if caller.is_root:
        raise deny(ctx, "Roles may not be assumed by root accounts.")
    inherited = caller.grant or {}
    inherited_source = caller.session.source_identity if caller.session else None
    source = params.get("source_identity")
    mfa = _mfa(params) or bool(inherited.get("mfa"))
    actions = ["sts:AssumeRole"]
    if params.get("tags"):
        actions.append("sts:TagSession")
    if source:
        actions.append("sts:SetSourceIdentity")
    extra = {
        "sts:RoleSessionName": params["role_session_name"],
        "aws:MultiFactorAuthPresent": "true" if mfa else "false",
        "aws:TagKeys": [tag["key"] for tag in params.get("tags") or []],
        **{f"aws:RequestTag/{tag['key']}": tag["value"] for tag in params.get("tags") or []},
    }
    if params.get("external_id"):
        extra["sts:ExternalId"] = params["external_id"]
    if source or inherited_source:
        extra["sts:SourceIdentity"] = source or inherited_source
    decide_assume(ctx, caller, role, role_arn, actions, extra)
    assert role is not None
    if inherited_source and source and source != inherited_source:
        raise deny(
            ctx, f"User: {caller.arn} is not authorized to perform: sts:SetSourceIdentity on resource: {role_arn}"
        )
    duration = params.get("duration_seconds") or DEFAULT_ROLE_SESSION
    if caller.identity_type == "AssumedRole" and duration > CHAINED_SESSION_LIMIT:
        raise ValidationError(
            "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining."
        )
    if duration > role["max_session_duration"]:
        raise ValidationError("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
    grant = session_policies.read(ctx, params, role["arn"].split(":")[4], inherited)
    result = issue_role_session(
        ctx,
        role,
        params["role_session_name"],
        duration,
        grant,
        mfa=mfa,
        source_identity=source or inherited_source,
        via="AssumeRole",
    )
    if grant.has_policies or grant.tags:
        result["packed_policy_size"] = grant.packed_size
    if source or inherited_source:
        result["source_identity"] = source or inherited_source
    return result


@ops("GetSessionToken")
def get_session_token(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    _refuse_session_credentials(ctx, "GetSessionToken")
    caller = _caller(ctx)
    mfa = _mfa(params)
    duration = params.get("duration_seconds") or DEFAULT_USER_SESSION
    if caller.is_root:
        duration = min(duration, ROOT_SESSION_LIMIT)
    created = credentials.now(ctx.settings)
    principal = session_principal(
        account_id=caller.account_id,
        identity_type=caller.identity_type,
        arn=caller.arn,
        principal_id=caller.principal_id,
        created=created,
        issuer={},
        mfa=mfa,
        user_name=caller.user_name,
    )
    grant = {
        "kind": "root" if caller.is_root else "user",
        "user_name": caller.user_name,
        "mfa": mfa,
        "via": "GetSessionToken",
    }
    issued = credentials.issue(ctx.store, principal=principal, grant=grant, created=created, duration=duration)
    return {"credentials": issued.as_result()}


@ops("GetFederationToken")
def get_federation_token(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    _refuse_session_credentials(ctx, "GetFederationToken")
    caller = _caller(ctx)
    name = params["name"]
    duration = params.get("duration_seconds") or DEFAULT_USER_SESSION
    issuer: dict[str, str | None]
    if caller.is_root:
        duration = min(duration, ROOT_SESSION_LIMIT)
        issuer = {"type": "Root", "principalId": caller.account_id, "arn": caller.arn, "accountId": caller.account_id}
    else:
        user = ctx.store.get(USER, caller.account_id, name_key(caller.user_name or ""))
        issuer = {
            "type": "IAMUser",
            "principalId": caller.principal_id,
            "arn": user["arn"] if user else caller.arn,
            "accountId": caller.account_id,
            "userName": caller.user_name,
        }
    grant = session_policies.read(ctx, params, caller.account_id)
    created = credentials.now(ctx.settings)
    arn = f"arn:aws:sts::{caller.account_id}:federated-user/{name}"
    principal = session_principal(
        account_id=caller.account_id,
        identity_type="FederatedUser",
        arn=arn,
        principal_id=f"{caller.account_id}:{name}",
        created=created,
        issuer=issuer,
    )
    rights = {
        "kind": "federated",
        "user_name": caller.user_name,
        "session_policies": grant.texts,
        "policy_arns": grant.arns,
        "tags": grant.tags,
        "via": "GetFederationToken",
    }
    issued = credentials.issue(ctx.store, principal=principal, grant=rights, created=created, duration=duration)
    return {
        "credentials": issued.as_result(),
        "federated_user": {"federated_user_id": principal["principal_id"], "arn": arn},
        "packed_policy_size": grant.packed_size,
    }
