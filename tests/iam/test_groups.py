"""IAM groups and membership: create, read with members, list, rename, delete, add and remove users."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.identity.support import ACCOUNT, allow, client, document, fails, unique
from tests.support.server import ServerProcess


@pytest.fixture
def iam(server: ServerProcess) -> Any:
    return client(server, "iam")


def test_group_lifecycle_with_members(iam: Any) -> None:
    group, user = unique("g"), unique("u")
    created = iam.create_group(GroupName=group, Path="/ops/")["Group"]
    assert re.fullmatch(r"AGPA[A-Z2-7]{17}", created["GroupId"])
    assert created["Arn"] == f"arn:aws:iam::{ACCOUNT}:group/ops/{group}"
    iam.create_user(UserName=user)
    iam.add_user_to_group(GroupName=group, UserName=user)
    iam.add_user_to_group(GroupName=group, UserName=user)  # again: nothing changes
    got = iam.get_group(GroupName=group)
    assert [u["UserName"] for u in got["Users"]] == [user] and got["Group"]["GroupId"] == created["GroupId"]
    assert [g["GroupName"] for g in iam.list_groups_for_user(UserName=user)["Groups"]] == [group]
    assert group in [g["GroupName"] for g in iam.list_groups(PathPrefix="/ops/")["Groups"]]
    fails(
        lambda: iam.delete_group(GroupName=group),
        "DeleteConflict",
        409,
        "Cannot delete entity, must remove users from group first.",
    )
    fails(
        lambda: iam.delete_user(UserName=user),
        "DeleteConflict",
        409,
        "Cannot delete entity, must remove users from group first.",
    )
    iam.remove_user_from_group(GroupName=group, UserName=user)
    fails(lambda: iam.remove_user_from_group(GroupName=group, UserName=user), "NoSuchEntity", 404)
    iam.delete_group(GroupName=group)
    fails(lambda: iam.get_group(GroupName=group), "NoSuchEntity", 404, f"The group with name {group} cannot be found.")


def test_group_errors(iam: Any) -> None:
    group = unique("g")
    iam.create_group(GroupName=group)
    fails(
        lambda: iam.create_group(GroupName=group),
        "EntityAlreadyExists",
        409,
        f"Group with name {group} already exists.",
    )
    fails(lambda: iam.add_user_to_group(GroupName=group, UserName=unique("ghost")), "NoSuchEntity", 404)
    fails(lambda: iam.add_user_to_group(GroupName=unique("ghost"), UserName="x"), "NoSuchEntity", 404)
    fails(lambda: iam.list_groups_for_user(UserName=unique("ghost")), "NoSuchEntity", 404)
    fails(lambda: iam.delete_group(GroupName=unique("ghost")), "NoSuchEntity", 404)
    fails(lambda: iam.list_groups(MaxItems=5000), "ValidationError", 400)


def test_rename_group_keeps_members_and_policies(iam: Any) -> None:
    old, new, user = unique("old"), unique("new"), unique("u")
    iam.create_group(GroupName=old)
    iam.create_user(UserName=user)
    iam.add_user_to_group(GroupName=old, UserName=user)
    iam.put_group_policy(GroupName=old, PolicyName="p", PolicyDocument=document(allow("s3:*")))
    iam.update_group(GroupName=old, NewGroupName=new, NewPath="/moved/")
    assert iam.get_group(GroupName=new)["Group"]["Arn"] == f"arn:aws:iam::{ACCOUNT}:group/moved/{new}"
    assert [g["GroupName"] for g in iam.list_groups_for_user(UserName=user)["Groups"]] == [new]
    assert iam.list_group_policies(GroupName=new)["PolicyNames"] == ["p"]
    fails(lambda: iam.update_group(GroupName=old, NewGroupName=unique("x")), "NoSuchEntity", 404)
    fails(lambda: iam.delete_group(GroupName=new), "DeleteConflict", 409)


def test_groups_per_user_quota(iam: Any) -> None:
    user = unique("busy")
    iam.create_user(UserName=user)
    for _ in range(10):
        group = unique("g")
        iam.create_group(GroupName=group)
        iam.add_user_to_group(GroupName=group, UserName=user)
    extra = unique("g")
    iam.create_group(GroupName=extra)
    fails(
        lambda: iam.add_user_to_group(GroupName=extra, UserName=user),
        "LimitExceeded",
        409,
        "Cannot exceed quota for GroupsPerUser: 10",
    )
