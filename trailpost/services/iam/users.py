"""IAM users: CreateUser, GetUser, ListUsers, UpdateUser, DeleteUser (their tags and permissions
boundaries: ``tags_and_boundaries``).

Rules (IAM's):
* user names are unique in the account ignoring case ("User with name X already exists.");
  at most ``MAX_USERS`` users ("Cannot exceed quota for UsersPerAccount: 5000");
* ``GetUser`` without ``UserName`` describes the caller: the IAM user, or the root user (its
  account id as ``UserId``, no name or path); role and federated sessions must name a user;
* ``UpdateUser`` renames and moves a user: its ARN changes, and its access keys, group
  memberships and policies stay with it;
* ``DeleteUser`` refuses a user that still has access keys, inline policies, attached policies or
  group memberships (``DeleteConflict``, one message per kind, checked in that order);
* ``ListUsers`` filters by ``PathPrefix`` and leaves out tags and boundaries, as IAM does;
* at most 50 tags per user at creation ("Cannot exceed quota for TagsPerUser: 50"); a boundary
  given at creation must be a managed policy that exists and is visible.
"""

from __future__ import annotations

from typing import Any

from trailpost.gateway.context import RequestContext
from trailpost.identity.accounts import ACCESS_KEY, ACCOUNT
from trailpost.services.iam import managed
from trailpost.services.iam.errors import (
    DeleteConflictException,
    EntityAlreadyExistsException,
    LimitExceededException,
)
from trailpost.services.iam.operations import ops
from trailpost.services.iam.resources import (
    USER,
    find_user,
    get_user,
    iam_arn,
    name_key,
    new_unique_id,
    page_store,
    put,
    tags_of,
    target_user_name,
    under_path,
)

MAX_USERS = 5000


def describe_user(user: dict[str, Any], *, full: bool = True) -> dict[str, Any]:
    """The ``User`` structure (``full``: with tags and boundary, as Create/GetUser return it)."""
    out = {
        "path": user["path"],
        "user_name": user["user_name"],
        "user_id": user["user_id"],
        "arn": user["arn"],
        "create_date": user["create_date"],
    }
    if full and user.get("permissions_boundary"):
        out["permissions_boundary"] = {
            "permissions_boundary_type": "Policy",
            "permissions_boundary_arn": user["permissions_boundary"],
        }
    if full and user.get("tags"):
        out["tags"] = user["tags"]
    return out


@ops("CreateUser")
def create_user(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    name, path = params["user_name"], params.get("path") or "/"
    with ctx.store.transaction():
        if find_user(ctx, name) is not None:
            raise EntityAlreadyExistsException(f"User with name {name} already exists.")
        if len(ctx.store.list(USER, ctx.account_id, limit=MAX_USERS)) >= MAX_USERS:
            raise LimitExceededException(f"Cannot exceed quota for UsersPerAccount: {MAX_USERS}")
        tags = tags_of(params, "TagsPerUser")
        boundary = params.get("permissions_boundary")
        if boundary:
            managed.get_policy(ctx, boundary, attaching=True)
            managed.change_use(ctx, boundary, 1, "boundaries")
        user = {
            "user_name": name,
            "user_id": new_unique_id("user"),
            "arn": iam_arn(ctx.account_id, "user", path, name),
            "path": path,
            "create_date": ctx.received,
            "tags": tags,
            "permissions_boundary": boundary,
            "inline_policies": {},
            "attached": [],
            "groups": [],
            "access_keys": [],
        }
        put(ctx, USER, name, user)
    return {"user": describe_user(user)}


@ops("GetUser")
def get_user_op(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    name = target_user_name(ctx, params.get("user_name"))
    if name is None:
        account = ctx.store.get(ACCOUNT, "", ctx.account_id) or {}
        return {
            "user": {
                "user_id": ctx.account_id,
                "arn": f"arn:aws:iam::{ctx.account_id}:root",
                "create_date": account.get("created", ctx.received),
            }
        }
    return {"user": describe_user(get_user(ctx, name))}


@ops("ListUsers")
def list_users(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    prefix = params.get("path_prefix")
    users, page = page_store(ctx, USER, params, keep=lambda doc: under_path(doc, prefix), binding=prefix)
    return {"users": [describe_user(user, full=False) for user in users], **page}


@ops("UpdateUser")
def update_user(ctx: RequestContext, params: dict[str, Any]) -> None:
    name = params["user_name"]
    with ctx.store.transaction():
        user = get_user(ctx, name)
        new_name = params.get("new_user_name") or user["user_name"]
        new_path = params.get("new_path") or user["path"]
        if name_key(new_name) != name_key(name) and find_user(ctx, new_name) is not None:
            raise EntityAlreadyExistsException(f"User with name {new_name} already exists.")
        ctx.store.delete(USER, ctx.account_id, name_key(name))
        user.update(user_name=new_name, path=new_path, arn=iam_arn(ctx.account_id, "user", new_path, new_name))
        put(ctx, USER, new_name, user)
        for key_id in user["access_keys"]:
            key = ctx.store.get(ACCESS_KEY, "", key_id)
            if key is not None:
                ctx.store.put(ACCESS_KEY, "", key_id, {**key, "user_name": new_name, "user_arn": user["arn"]})


@ops("DeleteUser")
def delete_user(ctx: RequestContext, params: dict[str, Any]) -> None:
    with ctx.store.transaction():
        user = get_user(ctx, params["user_name"])
        for field, what in (
            ("access_keys", "delete access keys"),
            ("inline_policies", "delete policies"),
            ("attached", "detach all policies"),
            ("groups", "remove users from group"),
        ):
            if user[field]:
                raise DeleteConflictException(f"Cannot delete entity, must {what} first.")
        if user.get("permissions_boundary"):
            managed.change_use(ctx, user["permissions_boundary"], -1, "boundaries")
        ctx.store.delete(USER, ctx.account_id, name_key(user["user_name"]))
