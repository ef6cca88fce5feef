"""IAM groups and membership: Create/Get/List/Update/DeleteGroup, Add/RemoveUserFromGroup, ListGroupsForUser.

Membership is kept on the user (``groups``: lowercased group names), so a user's permissions
are found from the user alone. Rules (IAM's):
* group names are unique in the account ignoring case ("Group with name X already exists."), at
  most ``MAX_GROUPS`` per account;
* a user is in at most ``MAX_GROUPS_PER_USER`` groups ("Cannot exceed quota for GroupsPerUser:
  10"); adding a member again changes nothing; removing a user that is not a member is
  ``NoSuchEntity``;
* ``UpdateGroup`` renames and moves a group, its members and policies stay with it;
* ``DeleteGroup`` refuses a group with members, inline or attached policies (``DeleteConflict``);
* ``GetGroup`` pages through the members in the order they joined the account.
"""

from __future__ import annotations

from typing import Any

from trailpost.gateway.context import RequestContext
from trailpost.services.iam.errors import (
    DeleteConflictException,
    EntityAlreadyExistsException,
    LimitExceededException,
    NoSuchEntityException,
)
from trailpost.services.iam.operations import ops
from trailpost.services.iam.resources import (
    GROUP,
    USER,
    get_group,
    get_user,
    iam_arn,
    name_key,
    new_unique_id,
    page_items,
    page_store,
    put,
    under_path,
)
from trailpost.services.iam.users import describe_user

MAX_GROUPS = 300
MAX_GROUPS_PER_USER = 10


def describe_group(group: dict[str, Any]) -> dict[str, Any]:
    return {
        "path": group["path"],
        "group_name": group["group_name"],
        "group_id": group["group_id"],
        "arn": group["arn"],
        "create_date": group["create_date"],
    }


def _members(ctx: RequestContext, key: str) -> list[dict[str, Any]]:
    return [entry.doc for entry in ctx.store.list(USER, ctx.account_id) if key in entry.doc["groups"]]


@ops("CreateGroup")
def create_group(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    name, path = params["group_name"], params.get("path") or "/"
    with ctx.store.transaction():
        if ctx.store.get(GROUP, ctx.account_id, name_key(name)) is not None:
            raise EntityAlreadyExistsException(f"Group with name {name} already exists.")
        if len(ctx.store.list(GROUP, ctx.account_id, limit=MAX_GROUPS)) >= MAX_GROUPS:
            raise LimitExceededException(f"Cannot exceed quota for GroupsPerAccount: {MAX_GROUPS}")
        group = {
            "group_name": name,
            "group_id": new_unique_id("group"),
            "arn": iam_arn(ctx.account_id, "group", path, name),
            "path": path,
            "create_date": ctx.received,
            "inline_policies": {},
            "attached": [],
        }
        put(ctx, GROUP, name, group)
    return {"group": describe_group(group)}


@ops("GetGroup")
def get_group_op(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    group = get_group(ctx, params["group_name"])
    members = [describe_user(user, full=False) for user in _members(ctx, name_key(group["group_name"]))]
    users, page = page_items(ctx, members, params, binding=group["group_id"])
    return {"group": describe_group(group), "users": users, **page}


@ops("ListGroups")
def list_groups(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    prefix = params.get("path_prefix")
    groups, page = page_store(ctx, GROUP, params, keep=lambda doc: under_path(doc, prefix), binding=prefix)
    return {"groups": [describe_group(group) for group in groups], **page}


@ops("UpdateGroup")
def update_group(ctx: RequestContext, params: dict[str, Any]) -> None:
    name = params["group_name"]
    with ctx.store.transaction():
        group = get_group(ctx, name)
        new_name = params.get("new_group_name") or group["group_name"]
        new_path = params.get("new_path") or group["path"]
        old_key, new_key = name_key(name), name_key(new_name)
        if new_key != old_key and ctx.store.get(GROUP, ctx.account_id, new_key) is not None:
            raise EntityAlreadyExistsException(f"Group with name {new_name} already exists.")
        for user in _members(ctx, old_key):
            user["groups"] = [new_key if key == old_key else key for key in user["groups"]]
            put(ctx, USER, user["user_name"], user)
        ctx.store.delete(GROUP, ctx.account_id, old_key)
        group.update(group_name=new_name, path=new_path, arn=iam_arn(ctx.account_id, "group", new_path, new_name))
        put(ctx, GROUP, new_name, group)


@ops("DeleteGroup")
def delete_group(ctx: RequestContext, params: dict[str, Any]) -> None:
    with ctx.store.transaction():
        group = get_group(ctx, params["group_name"])
        if _members(ctx, name_key(group["group_name"])):
            raise DeleteConflictException("Cannot delete entity, must remove users from group first.")
        if group["inline_policies"]:
            raise DeleteConflictException("Cannot delete entity, must delete policies first.")
        if group["attached"]:
            raise DeleteConflictException("Cannot delete entity, must detach all policies first.")
        ctx.store.delete(GROUP, ctx.account_id, name_key(group["group_name"]))


@ops("AddUserToGroup")
def add_user_to_group(ctx: RequestContext, params: dict[str, Any]) -> None:
    with ctx.store.transaction():
        group = get_group(ctx, params["group_name"])
        user = get_user(ctx, params["user_name"])
        key = name_key(group["group_name"])
        if key in user["groups"]:
            return
        if len(user["groups"]) >= MAX_GROUPS_PER_USER:
            raise LimitExceededException(f"Cannot exceed quota for GroupsPerUser: {MAX_GROUPS_PER_USER}")
        user["groups"].append(key)
        put(ctx, USER, user["user_name"], user)


@ops("RemoveUserFromGroup")
def remove_user_from_group(ctx: RequestContext, params: dict[str, Any]) -> None:
    with ctx.store.transaction():
        group = get_group(ctx, params["group_name"])
        user = get_user(ctx, params["user_name"])
        key = name_key(group["group_name"])
        if key not in user["groups"]:
            raise NoSuchEntityException(f"User {user['user_name']} is not in group {group['group_name']}.")
        user["groups"].remove(key)
        put(ctx, USER, user["user_name"], user)


@ops("ListGroupsForUser")
def list_groups_for_user(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    user = get_user(ctx, params["user_name"])
    found = (ctx.store.get(GROUP, ctx.account_id, key) for key in user["groups"])
    groups = [describe_group(group) for group in found if group is not None]
    items, page = page_items(ctx, groups, params, binding=user["user_id"])
    return {"groups": items, **page}
