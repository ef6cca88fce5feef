"""IAM users through boto3: create, read, list, update, delete and tag, with IAM's errors."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.identity.support import ACCOUNT, client, fails, make_user, unique
from tests.support.server import ServerProcess


@pytest.fixture
def iam(server: ServerProcess) -> Any:
    return client(server, "iam")


def test_create_user_answers_aws_ids_and_arn(iam: Any) -> None:
    name = unique("alice")
    user = iam.create_user(UserName=name, Path="/team/", Tags=[{"Key": "k", "Value": "v"}])["User"]
    assert re.fullmatch(r"AIDA[A-Z2-7]{17}", user["UserId"])
    assert user["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/team/{name}"
    assert user["Path"] == "/team/" and user["UserName"] == name
    assert user["Tags"] == [{"Key": "k", "Value": "v"}]
    assert iam.get_user(UserName=name)["User"]["UserId"] == user["UserId"]


def test_user_names_are_unique_ignoring_case(iam: Any) -> None:
    name = unique("Bob")
    iam.create_user(UserName=name)
    fails(
        lambda: iam.create_user(UserName=name.upper()),
        "EntityAlreadyExists",
        409,
        f"User with name {name.upper()} already exists.",
    )


def test_get_unknown_user_is_no_such_entity(iam: Any) -> None:
    fails(
        lambda: iam.get_user(UserName="nobody-here"),
        "NoSuchEntity",
        404,
        "The user with name nobody-here cannot be found.",
    )


def test_get_user_without_name_describes_the_caller(server: ServerProcess, iam: Any) -> None:
    root = iam.get_user()["User"]
    assert root["UserId"] == ACCOUNT and root["Arn"] == f"arn:aws:iam::{ACCOUNT}:root"
    user = make_user(server, {"Effect": "Allow", "Action": "iam:GetUser", "Resource": "*"})
    assert user.client(server, "iam").get_user()["User"]["Arn"] == user.arn


def test_invalid_user_name_is_validation_error(iam: Any) -> None:
    error = fails(lambda: iam.create_user(UserName="bad name!"), "ValidationError", 400)
    assert "at 'userName' failed to satisfy constraint" in error.response["Error"]["Message"]


def test_list_users_by_path_and_pages(iam: Any) -> None:
    path = f"/{unique('p')}/"
    names = sorted(unique("u") for _ in range(3))
    for name in names:
        iam.create_user(UserName=name, Path=path)
    first = iam.list_users(PathPrefix=path, MaxItems=2)
    assert first["IsTruncated"] is True and len(first["Users"]) == 2
    rest = iam.list_users(PathPrefix=path, Marker=first["Marker"])
    assert rest["IsTruncated"] is False
    listed = [u["UserName"] for u in first["Users"] + rest["Users"]]
    assert sorted(listed) == names
    assert all("Tags" not in u for u in first["Users"])


def test_list_users_refuses_a_forged_marker(iam: Any) -> None:
    fails(lambda: iam.list_users(Marker="99##forged"), "ValidationError", 400)


def test_update_user_renames_and_moves(iam: Any) -> None:
    old, new = unique("old"), unique("new")
    iam.create_user(UserName=old)
    iam.update_user(UserName=old, NewUserName=new, NewPath="/moved/")
    user = iam.get_user(UserName=new)["User"]
    assert user["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/moved/{new}"
    fails(lambda: iam.get_user(UserName=old), "NoSuchEntity", 404)


def test_update_user_to_a_taken_name_is_a_conflict(iam: Any) -> None:
    a, b = unique("a"), unique("b")
    iam.create_user(UserName=a)
    iam.create_user(UserName=b)
    fails(lambda: iam.update_user(UserName=a, NewUserName=b), "EntityAlreadyExists", 409)
    fails(lambda: iam.update_user(UserName=unique("ghost"), NewUserName=b), "NoSuchEntity", 404)


def test_delete_user_and_its_conflicts(iam: Any) -> None:
    name = unique("del")
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]["AccessKeyId"]
    fails(
        lambda: iam.delete_user(UserName=name),
        "DeleteConflict",
        409,
        "Cannot delete entity, must delete access keys first.",
    )
    iam.delete_access_key(UserName=name, AccessKeyId=key)
    iam.put_user_policy(
        UserName=name, PolicyName="p", PolicyDocument='{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}'
    )
    fails(
        lambda: iam.delete_user(UserName=name),
        "DeleteConflict",
        409,
        "Cannot delete entity, must delete policies first.",
    )
    iam.delete_user_policy(UserName=name, PolicyName="p")
    iam.delete_user(UserName=name)
    fails(lambda: iam.delete_user(UserName=name), "NoSuchEntity", 404)


def test_user_tags(iam: Any) -> None:
    name = unique("tagged")
    iam.create_user(UserName=name, Tags=[{"Key": "a", "Value": "1"}])
    iam.tag_user(UserName=name, Tags=[{"Key": "b", "Value": "2"}, {"Key": "a", "Value": "3"}])
    assert iam.list_user_tags(UserName=name)["Tags"] == [{"Key": "a", "Value": "3"}, {"Key": "b", "Value": "2"}]
    iam.untag_user(UserName=name, TagKeys=["a"])
    assert iam.get_user(UserName=name)["User"]["Tags"] == [{"Key": "b", "Value": "2"}]
    fails(lambda: iam.tag_user(UserName=unique("ghost"), Tags=[{"Key": "a", "Value": "1"}]), "NoSuchEntity", 404)
    fails(lambda: iam.untag_user(UserName=unique("ghost"), TagKeys=["a"]), "NoSuchEntity", 404)
    fails(lambda: iam.list_user_tags(UserName=unique("ghost")), "NoSuchEntity", 404)
