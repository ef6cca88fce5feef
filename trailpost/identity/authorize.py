"""The authorize step: may the caller perform this call? IAM's identity-based evaluation, per call.

The action is ``<service prefix>:<Operation>`` (``outposts:CreateSite``); the resource is the ARN
the call targets when the request names one (``RESOURCE_MEMBERS``, reviewed data per service:
the first member present wins), else the resource a call naming none acts on (``NAMELESS``:
CreateSite on ``site/*``, ListUsers on ``user/``; an IAM call whose optional ``UserName`` is left
out on the calling user), else ``*``. The caller's policies:

* root: always allowed (no policy applies to the root user);
* an IAM user (long-term key or GetSessionToken credentials): the user's inline and attached
  policies and those of its groups, within its permissions boundary;
* a role session: the role's inline and attached policies, within its boundary, intersected with
  the session policies of AssumeRole (``Policy``, ``PolicyArns``);
* a federated user: the federating user's policies (everything, when root federated) intersected
  with the session policies of GetFederationToken - none given, nothing allowed.

Decision (``evaluate``): an explicit ``Deny`` anywhere denies; otherwise the identity policies,
the session policies (when the credentials have them) and the boundary (when one is set) must
each allow. A denial is the protocol's access-denied error (``AccessDeniedException`` 403 for
json/rest-json, ``AccessDenied`` 403 for query) with AWS's message, e.g. ``User: <arn> is not
authorized to perform: outposts:CreateSite on resource: <arn> because no identity-based policy
allows the outposts:CreateSite action`` (``with an explicit deny in an identity-based policy``,
``... session policy``, ``... permissions boundary``). Denied calls are recorded, with
``requestParameters`` and ``responseElements`` null, as AWS records its AccessDenied events.

``sts:GetCallerIdentity`` and ``sts:GetSessionToken`` need no permission (AWS: policies cannot
control them); GetSessionToken and GetFederationToken refuse temporary credentials before any
policy is read ("Cannot call GetFederationToken with session credentials"); ``sts:AssumeRole``
and ``sts:AssumeRoleWithWebIdentity`` are decided by their handlers, which weigh the role's
trust policy too (``services.sts``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from trailpost.gateway.context import RequestContext
from trailpost.identity.accounts import key_cache
from trailpost.identity.policy import Decision, MalformedPolicy, Policy, decide, parse_policy
from trailpost.identity.principal import Principal
from trailpost.protocol import errors
from trailpost.protocol.errors import ServiceError
from trailpost.services.iam.managed import default_document_in
from trailpost.services.iam.resources import GROUP, ROLE, USER, name_key

NO_PERMISSION_NEEDED = frozenset({("sts", "GetCallerIdentity"), ("sts", "GetSessionToken")})
# Calls temporary credentials can never make, whatever their policies say.
NOT_WITH_SESSION_CREDENTIALS = frozenset({("sts", "GetSessionToken"), ("sts", "GetFederationToken")})
DECIDED_BY_HANDLER = frozenset({("sts", "AssumeRole"), ("sts", "AssumeRoleWithWebIdentity")})

# service -> request members naming the resource, in priority order, with how to make its ARN:
# a format string over {region}, {account}, {value} (a value that already is an ARN is kept), or
# None for members that always hold an ARN.
RESOURCE_MEMBERS: dict[str, list[tuple[str, str | None]]] = {
    "outposts": [
        ("OutpostId", "arn:aws:outposts:{region}:{account}:outpost/{value}"),
        ("OutpostIdentifier", "arn:aws:outposts:{region}:{account}:outpost/{value}"),
        ("SiteId", "arn:aws:outposts:{region}:{account}:site/{value}"),
        ("OrderId", "arn:aws:outposts:{region}:{account}:order/{value}"),
        ("QuoteIdentifier", "arn:aws:outposts:{region}:{account}:quote/{value}"),
        ("ResourceArn", None),
    ],
    "cloudtrail": [
        ("TrailName", "arn:aws:cloudtrail:{region}:{account}:trail/{value}"),
        ("Name", "arn:aws:cloudtrail:{region}:{account}:trail/{value}"),
        ("EventDataStore", "arn:aws:cloudtrail:{region}:{account}:eventdatastore/{value}"),
        ("ResourceId", None),
        ("ResourceArn", None),
    ],
    "iam": [
        ("UserName", "user"),
        ("RoleName", "role"),
        ("GroupName", "group"),
        ("PolicyArn", None),
        ("OpenIDConnectProviderArn", None),
        ("PolicyName", "policy"),
    ],
    "sts": [
        ("RoleArn", None),
        ("Name", "arn:aws:sts::{account}:federated-user/{value}"),
    ],
}
# The resource of calls whose request names none: what a create makes, what a listing reads.
NAMELESS: dict[tuple[str, str], str] = {
    ("outposts", "CreateSite"): "arn:aws:outposts:{region}:{account}:site/*",
    ("outposts", "CreateOutpost"): "arn:aws:outposts:{region}:{account}:outpost/*",
    ("iam", "ListUsers"): "arn:aws:iam::{account}:user/",
    ("iam", "ListRoles"): "arn:aws:iam::{account}:role/",
    ("iam", "ListGroups"): "arn:aws:iam::{account}:group/",
}
IAM_KINDS = {"user": USER, "role": ROLE, "group": GROUP}
# S3 operations whose IAM action is not ``s3:<Operation>`` (AWS's S3 action table); the resource of
# an S3 call is ``arn:aws:s3:::<Bucket>`` or ``arn:aws:s3:::<Bucket>/<Key>``, ``*`` for ListBuckets.
S3_ACTIONS: dict[str, str] = {
    "ListBuckets": "s3:ListAllMyBuckets",
    "HeadBucket": "s3:ListBucket",
    "ListObjects": "s3:ListBucket",
    "ListObjectsV2": "s3:ListBucket",
    "HeadObject": "s3:GetObject",
    "DeleteObjects": "s3:DeleteObject",
    "DeleteBucketPolicy": "s3:DeleteBucketPolicy",
    "GetBucketLocation": "s3:GetBucketLocation",
    "ListObjectVersions": "s3:ListBucketVersions",
    "ListMultipartUploads": "s3:ListBucketMultipartUploads",
    "CopyObject": "s3:PutObject",
    "UploadPart": "s3:PutObject",
    "CreateMultipartUpload": "s3:PutObject",
    "CompleteMultipartUpload": "s3:PutObject",
    "AbortMultipartUpload": "s3:AbortMultipartUpload",
    "ListParts": "s3:ListMultipartUploadParts",
    "GetBucketAcl": "s3:GetBucketAcl",
    "PutBucketAcl": "s3:PutBucketAcl",
}


@dataclass(frozen=True, slots=True)
class Verdict:
    """A decision and, for a denial, the policy type that decided it (``identity-based policy``,
    ``session policy``, ``permissions boundary``)."""

    decision: Decision
    policy_type: str = "identity-based policy"

    @property
    def allowed(self) -> bool:
        return self.decision is Decision.ALLOW


# -- the gateway step ----------------------------------------------------------------------------


def authorize(ctx: RequestContext) -> None:
    """Gateway step: raise the protocol's access-denied error unless the caller may make the call."""
    principal, binding = ctx.principal, ctx.service
    if principal is None or binding is None or ctx.operation is None:
        return
    call = (binding.name, ctx.operation.name)
    if call in NOT_WITH_SESSION_CREDENTIALS and principal.session is not None:
        raise deny(ctx, f"Cannot call {ctx.operation.name} with session credentials")
    if principal.is_root or call in NO_PERMISSION_NEEDED or call in DECIDED_BY_HANDLER:
        return
    action = action_of(ctx)
    resource = resource_of(ctx)
    verdict = evaluate(ctx, principal, action, resource)
    if not verdict.allowed:
        raise deny(ctx, denial_message(principal, action, resource, verdict))


def action_of(ctx: RequestContext) -> str:
    assert ctx.service is not None and ctx.operation is not None
    if ctx.service.name == "s3":
        return S3_ACTIONS.get(ctx.operation.name, f"s3:{ctx.operation.name}")
    return f"{ctx.service.signing_name}:{ctx.operation.name}"


def resource_of(ctx: RequestContext) -> str:
    """The ARN the call targets (module docstring), or ``*``."""
    assert ctx.service is not None and ctx.operation is not None
    service, account = ctx.service.name, ctx.account_id
    params = ctx.wire_params
    if service == "s3":
        bucket, key = params.get("Bucket"), params.get("Key")
        if not isinstance(bucket, str) or not bucket:
            return "*"
        return f"arn:aws:s3:::{bucket}/{key}" if isinstance(key, str) and key else f"arn:aws:s3:::{bucket}"
    for member, template in RESOURCE_MEMBERS.get(service, []):
        value = params.get(member)
        if not isinstance(value, str) or not value:
            continue
        if template is None or value.startswith("arn:"):
            return value
        if service == "iam":
            return _iam_resource(ctx, template, value)
        return template.format(region=ctx.region, account=account, value=value)
    nameless = NAMELESS.get((service, ctx.operation.name))
    if nameless:
        return nameless.format(region=ctx.region, account=account)
    shape = ctx.operation.input_shape
    acts_on_caller = shape is not None and "UserName" in shape.members and "UserName" not in shape.required_members
    if service == "iam" and acts_on_caller and ctx.principal is not None and ctx.principal.identity_type == "IAMUser":
        return ctx.principal.arn  # an optional UserName left out: the call acts on the caller itself
    return "*"


def _iam_resource(ctx: RequestContext, kind: str, name: str) -> str:
    path = ctx.wire_params.get("Path") or "/"
    doc = ctx.store.get(IAM_KINDS[kind], ctx.account_id, name_key(name)) if kind in IAM_KINDS else None
    if doc is not None:
        return str(doc["arn"])
    return f"arn:aws:iam::{ctx.account_id}:{kind}{path}{name}"


def deny(ctx: RequestContext, message: str) -> ServiceError:
    """The access-denied error of the call's protocol. The record of a denied call shows no
    request parameters (as AWS's AccessDenied records), so they are dropped from the context."""
    ctx.wire_params = {}
    return errors.access_denied(ctx.service.protocol if ctx.service else "json", message)


def denial_message(principal: Principal, action: str, resource: str, verdict: Verdict) -> str:
    head = f"User: {principal.arn} is not authorized to perform: {action} on resource: {resource}"
    if verdict.decision is Decision.EXPLICIT_DENY:
        return f"{head} with an explicit deny in {_article(verdict.policy_type)}"
    return f"{head} because no {verdict.policy_type} allows the {action} action"


def _article(policy_type: str) -> str:
    return f"an {policy_type}" if policy_type[0] in "aeiou" else f"a {policy_type}"


# -- evaluation ----------------------------------------------------------------------------------


def evaluate(ctx: RequestContext, principal: Principal, action: str, resource: str) -> Verdict:
    """How the caller's policies decide ``action`` on ``resource`` (module docstring)."""
    if principal.is_root:
        return Verdict(Decision.ALLOW)
    identity, session, boundary = caller_policies(ctx, principal)
    context = request_context(ctx, principal)
    decisions = [
        (
            "identity-based policy",
            decide(identity, action, resource, context) if identity is not None else Decision.ALLOW,
        )
    ]
    if session is not None:
        decisions.append(("session policy", decide(session, action, resource, context)))
    if boundary is not None:
        decisions.append(("permissions boundary", decide(boundary, action, resource, context)))
    for policy_type, decision in decisions:
        if decision is Decision.EXPLICIT_DENY:
            return Verdict(decision, policy_type)
    for policy_type, decision in decisions:
        if decision is Decision.IMPLICIT_DENY:
            return Verdict(decision, policy_type)
    return Verdict(Decision.ALLOW)


def caller_policies(
    ctx: RequestContext, principal: Principal
) -> tuple[list[Policy] | None, list[Policy] | None, list[Policy] | None]:
    """``(identity, session, boundary)`` policies of the caller; ``None`` where none apply
    (identity ``None``: everything, as for a federated user of the root user).

    The identity and boundary policies of a user or role are kept in the key cache
    (``accounts.KeyCache.remember``): they stay valid until an IAM user, role, group or policy row
    changes, whoever writes it, so a policy change applies to the very next call."""
    grant = principal.grant or {}
    account = principal.account_id
    kind = grant.get("kind") or ("user" if principal.identity_type == "IAMUser" else "root")
    session = _session_policies(ctx, account, grant) if "session_policies" in grant else None
    user_name = grant.get("user_name") or principal.user_name
    if kind != "role" and (kind == "root" or (kind == "federated" and not user_name)):
        return None, session, None
    if kind == "role":
        key: tuple[Any, ...] = ("policies", account, "role", grant["role_name"], grant["role_id"])
    else:
        key = ("policies", account, "user", user_name or "")
    cache = key_cache(ctx.store)
    generation, found = cache.recall(ctx.store, key)
    if found is None:
        found = _role_policies(ctx, account, grant) if kind == "role" else _user_policies(ctx, account, user_name)
        cache.remember(generation, key, found)
    identity, boundary = found
    return list(identity), session, boundary


def _role_policies(
    ctx: RequestContext, account: str, grant: dict[str, Any]
) -> tuple[list[Policy], list[Policy] | None]:
    role = ctx.store.get(ROLE, account, name_key(grant["role_name"]))
    if role is None or role["role_id"] != grant["role_id"]:
        return [], None  # the role is gone: nothing it granted remains
    return _entity_policies(ctx, account, role), _boundary(ctx, account, role)


def _user_policies(
    ctx: RequestContext, account: str, user_name: str | None
) -> tuple[list[Policy], list[Policy] | None]:
    user = ctx.store.get(USER, account, name_key(user_name or ""))
    if user is None:
        return [], None
    policies = _entity_policies(ctx, account, user)
    for key in user["groups"]:
        group = ctx.store.get(GROUP, account, key)
        if group is not None:
            policies += _entity_policies(ctx, account, group)
    return policies, _boundary(ctx, account, user)


def _entity_policies(ctx: RequestContext, account: str, doc: dict[str, Any]) -> list[Policy]:
    texts = list(doc["inline_policies"].values())
    texts += [text for arn in doc["attached"] if (text := default_document_in(ctx.store, account, arn))]
    return [policy for text in texts if (policy := parsed(text)) is not None]


def _boundary(ctx: RequestContext, account: str, doc: dict[str, Any]) -> list[Policy] | None:
    arn = doc.get("permissions_boundary")
    if not arn:
        return None
    policy = parsed(default_document_in(ctx.store, account, arn) or "")
    return [policy] if policy is not None else []


def _session_policies(ctx: RequestContext, account: str, grant: dict[str, Any]) -> list[Policy]:
    texts = list(grant.get("session_policies") or [])
    texts += [text for arn in grant.get("policy_arns") or [] if (text := default_document_in(ctx.store, account, arn))]
    return [policy for text in texts if (policy := parsed(text)) is not None]


@lru_cache(maxsize=1024)
def parsed(text: str) -> Policy | None:
    """A stored policy document, parsed once (documents were validated when they were stored)."""
    try:
        return parse_policy(text)
    except MalformedPolicy:
        return None


def request_context(ctx: RequestContext, principal: Principal) -> dict[str, Any]:
    """The global condition keys of the call (``aws:SourceIp``, ``aws:PrincipalArn``...)."""
    grant = principal.grant or {}
    now = datetime.fromtimestamp(ctx.received, UTC)
    principal_arn = principal.arn
    if grant.get("kind") == "role":
        principal_arn = grant.get("role_arn", principal.arn)
    context: dict[str, Any] = {
        "aws:SourceIp": ctx.source_ip,
        "aws:CurrentTime": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "aws:EpochTime": int(ctx.received),
        "aws:SecureTransport": "true" if ctx.request.tls is not None else "false",
        "aws:RequestedRegion": ctx.region,
        "aws:PrincipalArn": principal_arn,
        "aws:PrincipalAccount": principal.account_id,
        "aws:PrincipalType": principal.identity_type,
        "aws:userid": principal.principal_id,
        "aws:MultiFactorAuthPresent": "true" if grant.get("mfa") else "false",
        "aws:ViaAWSService": "false",
    }
    if principal.identity_type == "IAMUser" and principal.user_name:
        context["aws:username"] = principal.user_name
    if principal.session is not None and principal.session.source_identity:
        context["aws:SourceIdentity"] = principal.session.source_identity
    for key, value in (grant.get("tags") or {}).items():
        context[f"aws:PrincipalTag/{key}"] = value
    return context
