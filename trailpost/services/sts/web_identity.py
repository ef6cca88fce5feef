"""AssumeRoleWithWebIdentity: role sessions for holders of an OpenID Connect ID token, no AWS keys.

The call is unsigned. Its caller (``unsigned_caller``) is the ``WebIdentityUser`` the token names:
``principalId`` ``<provider>:<audience>:<subject>``, ``userName`` the subject and
``identityProvider`` the provider, recorded in the account of the requested role. A request that
cannot be tied to such an account - no readable role ARN or token, or a role account this
trailpost does not hold - is answered and not recorded, as any unauthenticated request.

Rules (AWS's): the token's issuer must be an IAM OpenID Connect provider of the role's account
("No OpenIDConnect provider found in your account for <iss>", ``InvalidIdentityToken``); the
token must verify (``identity.oidc.verify``: signature, audience among the provider's client ids,
expiry, subject); the role's trust policy must allow ``sts:AssumeRoleWithWebIdentity`` to the
provider (``Federated``), with the conditions ``<provider host/path>:aud`` and ``...:sub``
available - else ``AccessDenied`` "Not authorized to perform sts:AssumeRoleWithWebIdentity";
``DurationSeconds`` (default 3600) within the role's ``MaxSessionDuration``. A
``https://aws.amazon.com/source_identity`` claim sets the session's source identity (the trust
policy must allow ``sts:SetSourceIdentity``).

``Provider``, ``identityProvider`` and later records' ``webIdFederationData.federatedProvider``
are the IAM provider's ARN (``arn:aws:iam::<account>:oidc-provider/<host/path>``).
"""

from __future__ import annotations

from typing import Any

from trailpost.gateway.context import RequestContext
from trailpost.identity import credentials, oidc
from trailpost.identity.accounts import ACCOUNT
from trailpost.identity.principal import Principal
from trailpost.protocol.errors import ServiceError
from trailpost.services.iam.oidc_providers import provider_key
from trailpost.services.iam.resources import OIDC_PROVIDER
from trailpost.services.sts import session_policies
from trailpost.services.sts.errors import AccessDenied, InvalidIdentityTokenException, ValidationError
from trailpost.services.sts.operations import ops
from trailpost.services.sts.sessions import DEFAULT_ROLE_SESSION, find_role, issue_role_session
from trailpost.services.sts.trust import decide_assume

NOT_AUTHORIZED = "Not authorized to perform sts:AssumeRoleWithWebIdentity"
SOURCE_IDENTITY_CLAIM = "https://aws.amazon.com/source_identity"


def _provider(ctx: RequestContext, account_id: str, issuer: str) -> dict[str, Any] | None:
    return ctx.store.get(OIDC_PROVIDER, account_id, provider_key(issuer))


def _account_of(role_arn: str) -> str:
    parts = role_arn.split(":")
    if len(parts) < 6 or not role_arn.startswith("arn:"):
        raise ValidationError(f"{role_arn} is invalid")
    return parts[4]


def unsigned_caller(ctx: RequestContext, pairs: dict[str, str]) -> Principal:
    """The ``WebIdentityUser`` an unsigned AssumeRoleWithWebIdentity request names (module docstring)."""
    role_arn, token = pairs.get("RoleArn") or "", pairs.get("WebIdentityToken") or ""
    account_id = _account_of(role_arn)
    if ctx.store.get(ACCOUNT, "", account_id) is None:
        raise AccessDenied(NOT_AUTHORIZED)
    try:
        claims = oidc.peek(token)
    except oidc.TokenError as exc:
        raise InvalidIdentityTokenException(str(exc)) from None
    issuer = str(claims.get("iss", ""))
    provider = _provider(ctx, account_id, issuer)
    name = provider["arn"] if provider else issuer.removeprefix("https://")
    audience = next(iter(oidc.audiences(claims)), "")
    subject = str(claims.get("sub", ""))
    return Principal(
        account_id=account_id,
        identity_type="WebIdentityUser",
        arn="",
        principal_id=f"{name}:{audience}:{subject}",
        access_key_id="",
        user_name=subject,
        identity_provider=name,
    )


@ops("AssumeRoleWithWebIdentity")
def assume_role_with_web_identity(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    assert ctx.principal is not None
    role_arn = params["role_arn"]
    role = find_role(ctx, role_arn)
    account_id = _account_of(role_arn)
    try:
        issuer = str(oidc.peek(params["web_identity_token"]).get("iss", ""))
    except oidc.TokenError as exc:
        raise InvalidIdentityTokenException(str(exc)) from None
    provider = _provider(ctx, account_id, issuer)
    if provider is None:
        raise InvalidIdentityTokenException(f"No OpenIDConnect provider found in your account for {issuer}")
    try:
        claims = oidc.verify(
            params["web_identity_token"],
            issuer=provider["url"],
            client_ids=provider["client_id_list"],
            jwks_file=ctx.settings.oidc_jwks_file,
            now=credentials.now(ctx.settings),
        )
    except oidc.TokenError as exc:
        raise InvalidIdentityTokenException(str(exc)) from None
    host = provider_key(provider["url"])
    audience = next(a for a in oidc.audiences(claims) if a in provider["client_id_list"])
    source = claims.get(SOURCE_IDENTITY_CLAIM) if isinstance(claims.get(SOURCE_IDENTITY_CLAIM), str) else None
    actions = ["sts:AssumeRoleWithWebIdentity"] + (["sts:SetSourceIdentity"] if source else [])
    extra = {f"{host}:aud": audience, f"{host}:sub": claims["sub"], "sts:RoleSessionName": params["role_session_name"]}
    names = {"federated": provider["arn"]}
    try:
        decide_assume(ctx, ctx.principal, role, role_arn, actions, extra, names)
    except ServiceError as error:
        if error.code == "AccessDenied":
            raise AccessDenied(NOT_AUTHORIZED) from None
        raise
    assert role is not None
    duration = params.get("duration_seconds") or DEFAULT_ROLE_SESSION
    if duration > role["max_session_duration"]:
        raise ValidationError("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
    grant = session_policies.read(ctx, params, account_id)
    web = {"federatedProvider": provider["arn"], "attributes": {}}
    result = issue_role_session(
        ctx,
        role,
        params["role_session_name"],
        duration,
        grant,
        mfa=False,
        source_identity=source,
        via="AssumeRoleWithWebIdentity",
        web_identity=web,
    )
    result.update(subject_from_web_identity_token=claims["sub"], audience=audience, provider=provider["arn"])
    if grant.has_policies:
        result["packed_policy_size"] = grant.packed_size
    if source:
        result["source_identity"] = source
    return result
