"""IAM roles: CreateRole, GetRole, ListRoles, UpdateRole, UpdateAssumeRolePolicy, DeleteRole (their
tags and permissions boundaries: ``tags_and_boundaries``).

Rules (IAM's):
* role names are unique in the account ignoring case ("Role with name X already exists."); at
  most ``MAX_ROLES`` roles ("Cannot exceed quota for RolesPerAccount: 1000");
* the trust policy must parse as a trust policy whose principals all resolve
  (``documents.trust_policy``) and stay within ``MAX_TRUST_SIZE`` characters other than
  whitespace ("Cannot exceed quota for ACLSizePerRole: 2048");
* ``MaxSessionDuration`` (3600-43200 s, the model's range) defaults to 3600 and bounds the
  ``DurationSeconds`` of AssumeRole;
* responses carry the trust policy URL-encoded; ``CreateRole`` answers without
  ``MaxSessionDuration`` and ``RoleLastUsed``, ``GetRole`` with both (``RoleLastUsed`` empty until
  the role is first assumed), ``ListRoles`` with ``MaxSessionDuration`` only - the shapes of the
  recorded AWS responses;
* ``DeleteRole`` refuses a role with inline or attached policies (``DeleteConflict``).
"""

from __future__ import annotations

from typing import Any

from trailpost.gateway.context import RequestContext
from trailpost.services.iam import managed
from trailpost.services.iam.documents import trust_policy
from trailpost.services.iam.errors import (
    DeleteConflictException,
    EntityAlreadyExistsException,
    LimitExceededException,
)
from trailpost.services.iam.operations import ops
from trailpost.services.iam.resources import (
    ROLE,
    encode_document,
    get_role,
    iam_arn,
    name_key,
    new_unique_id,
    page_store,
    policy_size,
    put,
    tags_of,
    under_path,
)

MAX_ROLES = 1000
MAX_TRUST_SIZE = 2048
DEFAULT_MAX_SESSION = 3600


def describe_role(role: dict[str, Any], view: str = "get") -> dict[str, Any]:
    """The ``Role`` structure as ``create``, ``get`` or ``list`` return it."""
    out: dict[str, Any] = {
        "path": role["path"],
        "role_name": role["role_name"],
        "role_id": role["role_id"],
        "arn": role["arn"],
        "create_date": role["create_date"],
        "assume_role_policy_document": encode_document(role["assume_role_policy_document"]),
    }
    if role.get("description"):
        out["description"] = role["description"]
    if view != "create":
        out["max_session_duration"] = role["max_session_duration"]
    if role.get("permissions_boundary") and view != "list":
        out["permissions_boundary"] = {
            "permissions_boundary_type": "Policy",
            "permissions_boundary_arn": role["permissions_boundary"],
        }
    if role.get("tags") and view != "list":
        out["tags"] = role["tags"]
    if view == "get":
        used = role.get("last_used") or {}
        out["role_last_used"] = {"last_used_date": used["date"], "region": used["region"]} if used else {}
    return out


def _trust(ctx: RequestContext, text: str) -> None:
    trust_policy(ctx, text)
    if policy_size(text) > MAX_TRUST_SIZE:
        raise LimitExceededException(f"Cannot exceed quota for ACLSizePerRole: {MAX_TRUST_SIZE}")


@ops("CreateRole")
def create_role(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    name, path = params["role_name"], params.get("path") or "/"
    with ctx.store.transaction():
        if ctx.store.get(ROLE, ctx.account_id, name_key(name)) is not None:
            raise EntityAlreadyExistsException(f"Role with name {name} already exists.")
        if len(ctx.store.list(ROLE, ctx.account_id, limit=MAX_ROLES)) >= MAX_ROLES:
            raise LimitExceededException(f"Cannot exceed quota for RolesPerAccount: {MAX_ROLES}")
        _trust(ctx, params["assume_role_policy_document"])
        tags = tags_of(params, "TagsPerRole")
        boundary = params.get("permissions_boundary")
        if boundary:
            managed.get_policy(ctx, boundary, attaching=True)
            managed.change_use(ctx, boundary, 1, "boundaries")
        role = {
            "role_name": name,
            "role_id": new_unique_id("role"),
            "arn": iam_arn(ctx.account_id, "role", path, name),
            "path": path,
            "create_date": ctx.received,
            "assume_role_policy_document": params["assume_role_policy_document"],
            "description": params.get("description"),
            "max_session_duration": params.get("max_session_duration") or DEFAULT_MAX_SESSION,
            "tags": tags,
            "permissions_boundary": boundary,
            "inline_policies": {},
            "attached": [],
        }
        put(ctx, ROLE, name, role)
    return {"role": describe_role(role, "create")}


@ops("GetRole")
def get_role_op(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    return {"role": describe_role(get_role(ctx, params["role_name"]))}


@ops("ListRoles")
def list_roles(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    prefix = params.get("path_prefix")
    roles, page = page_store(ctx, ROLE, params, keep=lambda doc: under_path(doc, prefix), binding=prefix)
    return {"roles": [describe_role(role, "list") for role in roles], **page}


@ops("UpdateRole")
def update_role(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    with ctx.store.transaction():
        role = get_role(ctx, params["role_name"])
        if "description" in params:
            role["description"] = params["description"]
        if params.get("max_session_duration"):
            role["max_session_duration"] = params["max_session_duration"]
        put(ctx, ROLE, role["role_name"], role)
    return {}


@ops("UpdateAssumeRolePolicy")
def update_assume_role_policy(ctx: RequestContext, params: dict[str, Any]) -> None:
    with ctx.store.transaction():
        role = get_role(ctx, params["role_name"])
        _trust(ctx, params["policy_document"])
        role["assume_role_policy_document"] = params["policy_document"]
        put(ctx, ROLE, role["role_name"], role)


@ops("DeleteRole")
def delete_role(ctx: RequestContext, params: dict[str, Any]) -> None:
    with ctx.store.transaction():
        role = get_role(ctx, params["role_name"])
        if role["inline_policies"]:
            raise DeleteConflictException("Cannot delete entity, must delete policies first.")
        if role["attached"]:
            raise DeleteConflictException("Cannot delete entity, must detach all policies first.")
        if role.get("permissions_boundary"):
            managed.change_use(ctx, role["permissions_boundary"], -1, "boundaries")
        ctx.store.delete(ROLE, ctx.account_id, name_key(role["role_name"]))
