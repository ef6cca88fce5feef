"""Customer managed policies and their versions: Create/Get/List/DeletePolicy, *PolicyVersion.

Rules (IAM's):
* policy names are unique in the account ignoring case and path ("A policy called <name> already
  exists. Duplicate names are not allowed."), at most ``MAX_POLICIES`` per account;
* documents must be valid identity policies and at most ``MAX_SIZE`` characters other than
  whitespace ("Cannot exceed quota for PolicySize: 6144");
* a policy keeps at most ``MAX_VERSIONS`` versions ("A managed policy can have up to 5
  versions. ..."); version ids ``v1``, ``v2``... are never reused; the default version cannot be
  deleted, and a policy with versions besides the default, or attached anywhere, cannot be
  deleted (``DeleteConflict``);
* AWS managed policies are listed with ``Scope`` ``AWS`` or ``All`` (the default) and can be read
  but not changed: changing or deleting one is ``AccessDenied``;
* ``CreatePolicy`` answers without the description (only ``GetPolicy`` shows it), version
  documents are returned URL-encoded by ``GetPolicyVersion`` only.
"""

from __future__ import annotations

from typing import Any

from trailpost.gateway.context import RequestContext
from trailpost.services.iam import managed
from trailpost.services.iam.documents import identity_policy
from trailpost.services.iam.errors import (
    AccessDenied,
    DeleteConflictException,
    EntityAlreadyExistsException,
    LimitExceededException,
    NoSuchEntityException,
)
from trailpost.services.iam.operations import ops
from trailpost.services.iam.resources import (
    POLICY,
    encode_document,
    iam_arn,
    name_key,
    new_unique_id,
    page_items,
    policy_size,
    put,
    tags_of,
)

MAX_POLICIES = 1500
MAX_SIZE = 6144
MAX_VERSIONS = 5


def _document(text: str) -> str:
    identity_policy(text)
    if policy_size(text) > MAX_SIZE:
        raise LimitExceededException(f"Cannot exceed quota for PolicySize: {MAX_SIZE}")
    return text


def _own(ctx: RequestContext, arn: str) -> dict[str, Any]:
    """A customer managed policy the caller may change (AWS managed ones are refused)."""
    policy = managed.get_policy(ctx, arn)
    if policy.get("aws_managed"):
        principal = ctx.principal
        assert principal is not None
        raise AccessDenied(
            f"User: {principal.arn} is not authorized to perform: iam:{ctx.operation_name} on resource: policy {arn}"
        )
    return policy


def _version(policy: dict[str, Any], version_id: str) -> dict[str, Any]:
    for version in policy["versions"]:
        if version["version_id"] == version_id:
            return version
    raise NoSuchEntityException(f"Policy {policy['arn']} version {version_id} does not exist or is not attachable.")


def _describe_version(policy: dict[str, Any], version: dict[str, Any], *, document: bool) -> dict[str, Any]:
    out = {
        "version_id": version["version_id"],
        "is_default_version": version["version_id"] == policy["default_version_id"],
        "create_date": version["create_date"],
    }
    if document:
        out["document"] = encode_document(version["document"])
    return out


@ops("CreatePolicy")
def create_policy(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    name, path = params["policy_name"], params.get("path") or "/"
    text = _document(params["policy_document"])
    with ctx.store.transaction():
        if ctx.store.get(POLICY, ctx.account_id, name_key(name)) is not None:
            raise EntityAlreadyExistsException(
                f"A policy called {name} already exists. Duplicate names are not allowed."
            )
        if len(ctx.store.list(POLICY, ctx.account_id, limit=MAX_POLICIES)) >= MAX_POLICIES:
            raise LimitExceededException(f"Cannot exceed quota for PoliciesPerAccount: {MAX_POLICIES}")
        policy = {
            "policy_name": name,
            "policy_id": new_unique_id("policy"),
            "arn": iam_arn(ctx.account_id, "policy", path, name),
            "path": path,
            "description": params.get("description"),
            "create_date": ctx.received,
            "update_date": ctx.received,
            "default_version_id": "v1",
            "versions": [{"version_id": "v1", "document": text, "create_date": ctx.received}],
            "next_version": 2,
            "tags": tags_of(params),
        }
        put(ctx, POLICY, name, policy)
    described = managed.describe(ctx, policy)
    described.pop("description", None)
    return {"policy": described}


@ops("GetPolicy")
def get_policy(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    return {"policy": managed.describe(ctx, managed.get_policy(ctx, params["policy_arn"]))}


@ops("ListPolicies")
def list_policies(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    scope = params.get("scope") or "All"
    prefix = params.get("path_prefix") or "/"
    policies: list[dict[str, Any]] = []
    if scope in ("All", "AWS"):
        policies += list(managed.aws_policies().values())
    if scope in ("All", "Local"):
        policies += [entry.doc for entry in ctx.store.list(POLICY, ctx.account_id)]
    usage = params.get("policy_usage_filter")
    field = "boundaries" if usage == "PermissionsBoundary" else "count"
    described = []
    for policy in policies:
        if not policy["path"].startswith(prefix):
            continue
        used = managed.attachment_count(ctx, policy["arn"], field) > 0
        if (params.get("only_attached") or usage) and not used:
            continue
        item = managed.describe(ctx, policy)
        item.pop("description", None)
        item.pop("tags", None)
        described.append(item)
    items, page = page_items(ctx, described, params, binding=[scope, prefix, params.get("only_attached"), usage])
    return {"policies": items, **page}


@ops("DeletePolicy")
def delete_policy(ctx: RequestContext, params: dict[str, Any]) -> None:
    with ctx.store.transaction():
        policy = _own(ctx, params["policy_arn"])
        if managed.attachment_count(ctx, policy["arn"]) or managed.attachment_count(ctx, policy["arn"], "boundaries"):
            raise DeleteConflictException("Cannot delete a policy attached to entities.")
        if len(policy["versions"]) > 1:
            raise DeleteConflictException(
                "This policy has more than one version. Before you delete a policy, you must delete the policy's "
                "versions. The default version is deleted with the policy."
            )
        ctx.store.delete(POLICY, ctx.account_id, name_key(policy["policy_name"]))


@ops("CreatePolicyVersion")
def create_policy_version(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    text = _document(params["policy_document"])
    with ctx.store.transaction():
        policy = _own(ctx, params["policy_arn"])
        if len(policy["versions"]) >= MAX_VERSIONS:
            raise LimitExceededException(
                f"A managed policy can have up to {MAX_VERSIONS} versions. Before you create a new version, you "
                "must delete an existing version."
            )
        version = {"version_id": f"v{policy['next_version']}", "document": text, "create_date": ctx.received}
        policy["versions"].append(version)
        policy["next_version"] += 1
        if params.get("set_as_default"):
            policy["default_version_id"] = version["version_id"]
            policy["update_date"] = ctx.received
        put(ctx, POLICY, policy["policy_name"], policy)
    return {"policy_version": _describe_version(policy, version, document=False)}


@ops("GetPolicyVersion")
def get_policy_version(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    policy = managed.get_policy(ctx, params["policy_arn"])
    version = _version(policy, params["version_id"])
    return {"policy_version": _describe_version(policy, version, document=True)}


@ops("ListPolicyVersions")
def list_policy_versions(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    policy = managed.get_policy(ctx, params["policy_arn"])
    newest_first = sorted(policy["versions"], key=lambda v: int(v["version_id"][1:]), reverse=True)
    described = [_describe_version(policy, version, document=False) for version in newest_first]
    items, page = page_items(ctx, described, params, binding=policy["arn"])
    return {"versions": items, **page}


@ops("DeletePolicyVersion")
def delete_policy_version(ctx: RequestContext, params: dict[str, Any]) -> None:
    with ctx.store.transaction():
        policy = _own(ctx, params["policy_arn"])
        version = _version(policy, params["version_id"])
        if version["version_id"] == policy["default_version_id"]:
            raise DeleteConflictException("Cannot delete the default version of a policy.")
        policy["versions"] = [v for v in policy["versions"] if v["version_id"] != version["version_id"]]
        put(ctx, POLICY, policy["policy_name"], policy)


@ops("SetDefaultPolicyVersion")
def set_default_policy_version(ctx: RequestContext, params: dict[str, Any]) -> None:
    with ctx.store.transaction():
        policy = _own(ctx, params["policy_arn"])
        version = _version(policy, params["version_id"])
        policy["default_version_id"] = version["version_id"]
        policy["update_date"] = ctx.received
        put(ctx, POLICY, policy["policy_name"], policy)
