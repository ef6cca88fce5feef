"""IAM access keys: create (two at most), list, deactivate and reactivate, delete, last use."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.identity.support import client, fails, make_user, unique
from tests.support.server import ServerProcess

INVALID = "The security token included in the request is invalid."


@pytest.fixture
def iam(server: ServerProcess) -> Any:
    return client(server, "iam")


def test_create_access_key_returns_the_secret_once(server: ServerProcess, iam: Any) -> None:
    name = unique("keys")
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    assert re.fullmatch(r"AKIA[A-Z2-7]{16}", key["AccessKeyId"])
    assert len(key["SecretAccessKey"]) == 40 and key["Status"] == "Active" and key["UserName"] == name
    listed = iam.list_access_keys(UserName=name)["AccessKeyMetadata"]
    assert [k["AccessKeyId"] for k in listed] == [key["AccessKeyId"]]
    assert "SecretAccessKey" not in listed[0]
    caller = client(server, "sts", credentials=(key["AccessKeyId"], key["SecretAccessKey"]))
    assert caller.get_caller_identity()["Arn"].endswith(f":user/{name}")


def test_a_third_key_exceeds_the_quota(iam: Any) -> None:
    name = unique("quota")
    iam.create_user(UserName=name)
    iam.create_access_key(UserName=name)
    iam.create_access_key(UserName=name)
    fails(
        lambda: iam.create_access_key(UserName=name),
        "LimitExceeded",
        409,
        "Cannot exceed quota for AccessKeysPerUser: 2",
    )
    fails(lambda: iam.create_access_key(UserName=unique("ghost")), "NoSuchEntity", 404)


def test_list_access_keys_of_an_unknown_user(iam: Any) -> None:
    fails(lambda: iam.list_access_keys(UserName=unique("ghost")), "NoSuchEntity", 404)


def test_a_deactivated_key_authenticates_nothing_until_reactivated(server: ServerProcess, iam: Any) -> None:
    user = make_user(server)
    sts = user.client(server, "sts")
    iam.update_access_key(UserName=user.name, AccessKeyId=user.key[0], Status="Inactive")
    assert iam.list_access_keys(UserName=user.name)["AccessKeyMetadata"][0]["Status"] == "Inactive"
    fails(sts.get_caller_identity, "InvalidClientTokenId", 403, INVALID)
    iam.update_access_key(UserName=user.name, AccessKeyId=user.key[0], Status="Active")
    assert sts.get_caller_identity()["UserId"] == user.user_id


def test_update_access_key_of_another_user_is_not_found(server: ServerProcess, iam: Any) -> None:
    owner, other = make_user(server), make_user(server)
    fails(
        lambda: iam.update_access_key(UserName=other.name, AccessKeyId=owner.key[0], Status="Inactive"),
        "NoSuchEntity",
        404,
        f"The Access Key with id {owner.key[0]} cannot be found.",
    )
    fails(
        lambda: iam.update_access_key(UserName=owner.name, AccessKeyId=owner.key[0], Status="Paused"),
        "ValidationError",
        400,
    )


def test_a_deleted_key_never_authenticates_again(server: ServerProcess, iam: Any) -> None:
    user = make_user(server)
    iam.delete_access_key(UserName=user.name, AccessKeyId=user.key[0])
    assert iam.list_access_keys(UserName=user.name)["AccessKeyMetadata"] == []
    fails(user.client(server, "sts").get_caller_identity, "InvalidClientTokenId", 403, INVALID)
    fails(user.client(server, "outposts").list_sites, "UnrecognizedClientException", 403, INVALID)
    fails(lambda: iam.delete_access_key(UserName=user.name, AccessKeyId=user.key[0]), "NoSuchEntity", 404)


def test_users_manage_their_own_keys_without_naming_themselves(server: ServerProcess) -> None:
    user = make_user(server, {"Effect": "Allow", "Action": ["iam:*AccessKey*"], "Resource": "*"})
    own = user.client(server, "iam")
    second = own.create_access_key()["AccessKey"]
    assert second["UserName"] == user.name
    assert {k["AccessKeyId"] for k in own.list_access_keys()["AccessKeyMetadata"]} == {
        user.key[0],
        second["AccessKeyId"],
    }
    own.delete_access_key(AccessKeyId=second["AccessKeyId"])


def test_get_access_key_last_used(server: ServerProcess, iam: Any) -> None:
    name = unique("used")
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    never = iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])
    assert never["UserName"] == name
    assert never["AccessKeyLastUsed"] == {"ServiceName": "N/A", "Region": "N/A"}
    client(
        server, "sts", region="eu-west-1", credentials=(key["AccessKeyId"], key["SecretAccessKey"])
    ).get_caller_identity()
    used = iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])["AccessKeyLastUsed"]
    assert used["ServiceName"] == "sts" and used["Region"] == "eu-west-1" and "LastUsedDate" in used
    fails(lambda: iam.get_access_key_last_used(AccessKeyId="AKIAAAAAAAAAAAAAAAAA"), "NoSuchEntity", 404)
