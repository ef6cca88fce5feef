"""A cross-account AssumeRole is recorded in both accounts, joined by one sharedEventID.

Account A owns a role that account B's IAM user may assume. The caller's account (B) keeps the
full record; the role owner's account (A) gets a copy whose userIdentity is ``AWSAccount``
(principalId and accountId of the caller, nothing of its credentials), its own eventID and
recipientAccountId, and the same sharedEventID and requestID. A denied attempt is shared too;
a same-account AssumeRole carries no sharedEventID.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support.accounts import create_account
from tests.support.server import ServerProcess


def _trust(principal: str) -> str:
    statement = {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def _assume_role_records(server: ServerProcess, credentials: tuple[str, str] | None) -> list[dict[str, Any]]:
    cloudtrail = server.client("cloudtrail", credentials=credentials)
    events = cloudtrail.lookup_events(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "AssumeRole"}])
    return [json.loads(event["CloudTrailEvent"]) for event in events["Events"]]


@pytest.fixture
def world(make_server: Callable[..., ServerProcess]) -> dict[str, Any]:
    server = make_server()
    a_iam = server.client("iam")
    a_account = server.client("sts").get_caller_identity()["Account"]
    b_account, b_key, b_secret = create_account(server.data_dir, "caller")
    b_iam = server.client("iam", credentials=(b_key, b_secret))
    b_iam.create_user(UserName="dev")
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]}
    b_iam.put_user_policy(UserName="dev", PolicyName="assume", PolicyDocument=json.dumps(policy))
    key = b_iam.create_access_key(UserName="dev")["AccessKey"]
    shared = a_iam.create_role(RoleName="shared", AssumeRolePolicyDocument=_trust(f"arn:aws:iam::{b_account}:root"))
    closed = a_iam.create_role(RoleName="closed", AssumeRolePolicyDocument=_trust(f"arn:aws:iam::{a_account}:root"))
    return {
        "server": server,
        "a_account": a_account,
        "b_account": b_account,
        "b_root": (b_key, b_secret),
        "dev": (key["AccessKeyId"], key["SecretAccessKey"]),
        "shared_arn": shared["Role"]["Arn"],
        "closed_arn": closed["Role"]["Arn"],
    }


def test_a_cross_account_assume_role_is_recorded_in_both_accounts(world: dict[str, Any]) -> None:
    server = world["server"]
    sts = server.client("sts", credentials=world["dev"])
    response = sts.assume_role(RoleArn=world["shared_arn"], RoleSessionName="audit")
    request_id = response["ResponseMetadata"]["RequestId"]

    [caller_copy] = _assume_role_records(server, world["b_root"])
    [owner_copy] = _assume_role_records(server, None)
    assert caller_copy["requestID"] == owner_copy["requestID"] == request_id
    assert caller_copy["eventID"] != owner_copy["eventID"]
    assert caller_copy["sharedEventID"] == owner_copy["sharedEventID"]
    assert caller_copy["recipientAccountId"] == world["b_account"]
    assert owner_copy["recipientAccountId"] == world["a_account"]
    assert caller_copy["userIdentity"]["type"] == "IAMUser"
    assert caller_copy["userIdentity"]["accessKeyId"] == world["dev"][0]
    assert owner_copy["userIdentity"] == {
        "type": "AWSAccount",
        "principalId": caller_copy["userIdentity"]["principalId"],
        "accountId": world["b_account"],
    }
    assert owner_copy["requestParameters"] == caller_copy["requestParameters"]
    assert owner_copy["responseElements"]["assumedRoleUser"]["arn"].endswith(":assumed-role/shared/audit")
    keys = list(owner_copy)
    assert keys.index("sharedEventID") == keys.index("recipientAccountId") + 1


def test_a_denied_cross_account_attempt_reaches_the_role_owner(world: dict[str, Any]) -> None:
    server = world["server"]
    sts = server.client("sts", credentials=world["dev"])
    with pytest.raises(ClientError) as caught:
        sts.assume_role(RoleArn=world["closed_arn"], RoleSessionName="probe")
    assert caught.value.response["Error"]["Code"] == "AccessDenied"
    [owner_copy] = _assume_role_records(server, None)
    assert owner_copy["errorCode"] == "AccessDenied"
    assert owner_copy["userIdentity"]["type"] == "AWSAccount"
    assert owner_copy["requestParameters"] is None  # denied calls show no input (docs/decisions.md)
    [caller_copy] = _assume_role_records(server, world["b_root"])
    assert caller_copy["sharedEventID"] == owner_copy["sharedEventID"]


def test_a_same_account_assume_role_has_no_shared_event_id(make_server: Callable[..., ServerProcess]) -> None:
    server = make_server()
    iam = server.client("iam")
    account = server.client("sts").get_caller_identity()["Account"]
    iam.create_user(UserName="local")
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]}
    iam.put_user_policy(UserName="local", PolicyName="assume", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName="local")["AccessKey"]
    role = iam.create_role(RoleName="own", AssumeRolePolicyDocument=_trust(f"arn:aws:iam::{account}:root"))["Role"]
    server.client("sts", credentials=(key["AccessKeyId"], key["SecretAccessKey"])).assume_role(
        RoleArn=role["Arn"], RoleSessionName="local"
    )
    [record] = _assume_role_records(server, None)
    assert "sharedEventID" not in record
    assert record["userIdentity"]["type"] == "IAMUser"
