"""CloudTrail records of calls made as root, an IAM user, a role session and a federated user,
read back from the event store and checked field by field - types included - against the recorded
AWS events (``shared/reference/aws-recorded``) and the seed's Outposts example."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.identity.support import (
    ACCOUNT,
    User,
    allow,
    client,
    fails,
    make_role,
    make_user,
    record_of,
    session_credentials,
    trust,
    unique,
)
from tests.support.outposts import ADDRESS
from tests.support.server import ServerProcess

REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "reference"
ISO_SECOND = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
STS_DATE = re.compile(r"^[A-Z][a-z]{2} \d{1,2}, \d{4}, \d{1,2}:\d\d:\d\d [AP]M$")
IAM_DATE = re.compile(r"^[A-Z][a-z]{2} \d{1,2}, \d{4} \d{1,2}:\d\d:\d\d [AP]M$")


def shape(value: Any) -> Any:
    """The structure of a JSON value: keys kept, leaves replaced by their type names."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(item) for item in value[:1]]
    return type(value).__name__


def recorded(entry_id: str) -> dict[str, Any]:
    """A recorded AWS event of the reference (the test is skipped where the reference is absent)."""
    path = REFERENCE / "aws-recorded" / "identity-event-records.json"
    if not path.exists():
        pytest.skip("shared/reference is not beside the repository")
    entries = json.loads(path.read_text())["entries"]
    return next(entry["record"] for entry in entries if entry["id"] == entry_id)


def seed_record() -> dict[str, Any]:
    path = REFERENCE / "seed-outposts-cloudtrail.txt"
    if not path.exists():
        pytest.skip("shared/reference is not beside the repository")
    text = path.read_text()
    return json.JSONDecoder().raw_decode(text[text.index('{ "eventVersion"') :])[0]


def envelope(record: dict[str, Any]) -> set[str]:
    """Top-level keys, without those that depend on the transport or the AWS region's features."""
    return set(record) - {"tlsDetails", "sessionCredentialFromConsole"}


# -- root and IAM users --------------------------------------------------------------------------


def test_root_record(server: ServerProcess) -> None:
    key = server.root_credentials()[0]
    record = record_of(server, client(server, "outposts").list_sites())
    assert record["userIdentity"] == {
        "type": "Root",
        "principalId": ACCOUNT,
        "arn": f"arn:aws:iam::{ACCOUNT}:root",
        "accountId": ACCOUNT,
        "accessKeyId": key,
    }
    assert record["recipientAccountId"] == ACCOUNT and record["readOnly"] is True


def test_iam_user_records_match_the_recorded_create_user(server: ServerProcess) -> None:
    admin = make_user(server, allow("iam:*"))
    iam = admin.client(server, "iam", region="eu-west-1")
    name = unique("created")
    created = iam.create_user(UserName=name, Tags=[{"Key": "StratusRedTeam", "Value": "true"}])
    record = record_of(server, created)
    aws = recorded("iam-createuser-ok-1")
    assert envelope(record) == envelope(aws)
    assert shape(record["userIdentity"]) == shape(aws["userIdentity"])
    assert record["userIdentity"] == {
        "type": "IAMUser",
        "principalId": admin.user_id,
        "arn": admin.arn,
        "accountId": ACCOUNT,
        "accessKeyId": admin.key[0],
        "userName": admin.name,
    }
    assert record["eventSource"] == "iam.amazonaws.com" and record["awsRegion"] == "us-east-1"
    assert record["requestParameters"] == {"userName": name, "tags": [{"key": "StratusRedTeam", "value": "true"}]}
    assert shape(record["responseElements"]) == shape(aws["responseElements"])
    assert IAM_DATE.match(record["responseElements"]["user"]["createDate"])
    assert record["readOnly"] is False and record["managementEvent"] is True and record["eventCategory"] == "Management"


def test_create_access_key_record_leaves_the_secret_out(server: ServerProcess) -> None:
    name = unique("keyed")
    iam = client(server, "iam")
    iam.create_user(UserName=name)
    created = iam.create_access_key(UserName=name)
    record = record_of(server, created)
    aws = recorded("iam-createaccesskey-ok-1")
    assert shape(record["responseElements"]) == shape(aws["responseElements"])
    assert record["responseElements"]["accessKey"]["accessKeyId"] == created["AccessKey"]["AccessKeyId"]
    assert created["AccessKey"]["SecretAccessKey"] not in json.dumps(record)


def test_iam_errors_are_recorded_under_their_exception_names(server: ServerProcess) -> None:
    iam, name = client(server, "iam"), unique("full")
    iam.create_user(UserName=name)
    for _ in range(2):
        iam.create_access_key(UserName=name)
    error = fails(lambda: iam.create_access_key(UserName=name), "LimitExceeded", 409)
    record = record_of(server, error)
    assert record["errorCode"] == "LimitExceededException"
    assert record["errorMessage"] == "Cannot exceed quota for AccessKeysPerUser: 2"
    assert record["requestParameters"] == {"userName": name} and record["responseElements"] is None
    missing = fails(lambda: iam.get_user(UserName=unique("ghost")), "NoSuchEntity", 404)
    assert record_of(server, missing)["errorCode"] == "NoSuchEntityException"
    invalid = fails(lambda: iam.create_user(UserName="no spaces"), "ValidationError", 400)
    assert record_of(server, invalid)["errorCode"] == "ValidationError"


# -- role sessions -------------------------------------------------------------------------------


def _assume(server: ServerProcess, user: User, role: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return user.client(server, "sts", region="eu-west-1").assume_role(
        RoleArn=role["Arn"], RoleSessionName="aws-go-sdk-1722587398902687000", DurationSeconds=900, **extra
    )


def test_assume_role_record_matches_the_recorded_one(server: ServerProcess) -> None:
    user = make_user(server)
    role = make_role(server, {"AWS": user.arn})
    response = _assume(server, user, role)
    record = record_of(server, response)
    aws = recorded("sts-assumerole-ok-1")
    assert envelope(record) == envelope(aws)
    assert record["requestParameters"] == {
        "roleArn": role["Arn"],
        "roleSessionName": "aws-go-sdk-1722587398902687000",
        "durationSeconds": 900,
    }
    assert shape(record["responseElements"]) == shape(aws["responseElements"])
    credentials = record["responseElements"]["credentials"]
    assert credentials["accessKeyId"] == response["Credentials"]["AccessKeyId"]
    assert credentials["sessionToken"] == response["Credentials"]["SessionToken"]  # AWS records the token
    assert response["Credentials"]["SecretAccessKey"] not in json.dumps(record)
    assert STS_DATE.match(credentials["expiration"])
    assert record["readOnly"] is True and record["eventSource"] == "sts.amazonaws.com"
    assert record["awsRegion"] == "eu-west-1"  # STS: the region the request was signed for


def test_assumed_role_caller_record(server: ServerProcess) -> None:
    user = make_user(server)
    role = make_role(server, {"AWS": user.arn})
    response = _assume(server, user, role)
    creds = session_credentials(response)
    record = record_of(server, client(server, "sts", credentials=creds).get_caller_identity())
    aws = recorded("sts-getcalleridentity-ok-3")
    expected = {key: value for key, value in aws["userIdentity"].items()}
    expected["sessionContext"] = {k: v for k, v in expected["sessionContext"].items() if k != "ec2RoleDelivery"}
    assert shape(record["userIdentity"]) == shape(expected)
    identity = record["userIdentity"]
    assert identity["type"] == "AssumedRole"
    assert identity["principalId"] == f"{role['RoleId']}:aws-go-sdk-1722587398902687000"
    assert identity["arn"] == response["AssumedRoleUser"]["Arn"] and identity["accessKeyId"] == creds[0]
    assert identity["sessionContext"]["sessionIssuer"] == {
        "type": "Role",
        "principalId": role["RoleId"],
        "arn": role["Arn"],
        "accountId": ACCOUNT,
        "userName": role["RoleName"],
    }
    attributes = identity["sessionContext"]["attributes"]
    assert list(attributes) == ["creationDate", "mfaAuthenticated"]
    assert attributes["mfaAuthenticated"] == "false" and ISO_SECOND.match(attributes["creationDate"])
    assert identity["sessionContext"]["webIdFederationData"] == {}
    assert record["requestParameters"] is None and record["responseElements"] is None


def test_source_identity_is_recorded_in_the_session_context(server: ServerProcess) -> None:
    user = make_user(server)
    role = make_role(server, {"AWS": user.arn})
    client(server, "iam").update_assume_role_policy(
        RoleName=role["RoleName"], PolicyDocument=trust({"AWS": user.arn}, ["sts:AssumeRole", "sts:SetSourceIdentity"])
    )
    response = _assume(server, user, role, SourceIdentity="source-identity-value-present")
    assert record_of(server, response)["requestParameters"]["sourceIdentity"] == "source-identity-value-present"
    later = record_of(server, client(server, "sts", credentials=session_credentials(response)).get_caller_identity())
    aws = recorded("snippet-sourceidentity-ok-2")
    assert shape(later["userIdentity"]) == shape(aws["userIdentity"])
    assert list(later["userIdentity"]["sessionContext"]) == list(aws["userIdentity"]["sessionContext"])
    assert later["userIdentity"]["sessionContext"]["sourceIdentity"] == "source-identity-value-present"


def test_the_seed_example_reproduced(server: ServerProcess) -> None:
    """An assumed-role session calls UpdateSiteAddress: the seed's SetSiteAddress record, field by field."""
    site_id = client(server, "outposts", region="us-west-2").create_site(Name="seed", OperatingAddress=ADDRESS)["Site"][
        "SiteId"
    ]
    user = make_user(server)
    role = make_role(server, {"AWS": user.arn}, allow("outposts:*"))
    creds = session_credentials(user.client(server, "sts").assume_role(RoleArn=role["Arn"], RoleSessionName="jdoe"))
    outposts = client(server, "outposts", region="us-west-2", credentials=creds)
    response = outposts.update_site_address(SiteId=site_id, AddressType="OPERATING_ADDRESS", Address=ADDRESS)
    record, seed = record_of(server, response), seed_record()
    extra = envelope(record) - set(seed)
    assert extra - {"resources"} == {"managementEvent", "eventCategory"}  # eventVersion 1.11's additions
    assert set(seed) <= set(record)
    assert shape(record["userIdentity"]) == shape(seed["userIdentity"])
    assert record["userIdentity"]["sessionContext"]["attributes"]["mfaAuthenticated"] == "false"
    assert record["requestParameters"]["Address"] == "***" and record["requestParameters"]["SiteId"] == site_id
    assert record["responseElements"]["Address"] == "***"
    for key in (
        "eventVersion",
        "eventTime",
        "eventSource",
        "eventName",
        "awsRegion",
        "requestID",
        "eventID",
        "eventType",
    ):
        assert isinstance(record[key], str), key
    assert record["readOnly"] is False and record["eventSource"] == seed["eventSource"]
    assert record["awsRegion"] == "us-west-2" and record["recipientAccountId"] == ACCOUNT
    assert record["userIdentity"]["arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/{role['RoleName']}/jdoe"
    assert record["userIdentity"]["sessionContext"]["sessionIssuer"]["userName"] == role["RoleName"]


# -- federated users and session tokens ----------------------------------------------------------


def test_federated_user_records(server: ServerProcess) -> None:
    user = make_user(server, allow("sts:GetFederationToken"))
    policy = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
    response = user.client(server, "sts").get_federation_token(Name="stratus_red_team", Policy=policy)
    issued = record_of(server, response)
    aws = recorded("sts-getfederationtoken-ok-1")
    assert envelope(issued) == envelope(aws)
    assert shape(issued["responseElements"]) == shape(aws["responseElements"])
    assert issued["responseElements"]["packedPolicySize"] == aws["responseElements"]["packedPolicySize"] == 4
    assert issued["readOnly"] is False and issued["requestParameters"] == {"name": "stratus_red_team", "policy": policy}
    later = record_of(server, client(server, "sts", credentials=session_credentials(response)).get_caller_identity())
    aws_later = recorded("sts-getcalleridentity-ok-2")
    assert shape(later["userIdentity"]) == shape(aws_later["userIdentity"])
    identity = later["userIdentity"]
    assert identity["type"] == "FederatedUser" and identity["principalId"] == f"{ACCOUNT}:stratus_red_team"
    assert identity["arn"] == f"arn:aws:sts::{ACCOUNT}:federated-user/stratus_red_team"
    assert identity["sessionContext"]["sessionIssuer"] == {
        "type": "IAMUser",
        "principalId": user.user_id,
        "arn": user.arn,
        "accountId": ACCOUNT,
        "userName": user.name,
    }
    assert identity["sessionContext"]["webIdFederationData"] == {}


def test_session_token_caller_keeps_its_type(server: ServerProcess) -> None:
    user = make_user(server, allow("iam:GetUser"))
    response = user.client(server, "sts").get_session_token(
        SerialNumber=f"arn:aws:iam::{ACCOUNT}:mfa/{user.name}", TokenCode="123456"
    )
    issued = record_of(server, response)
    assert issued["readOnly"] is True
    assert set(issued["responseElements"]["credentials"]) == {"accessKeyId", "sessionToken", "expiration"}
    assert "tokenCode" in issued["requestParameters"]
    later = record_of(server, client(server, "iam", credentials=session_credentials(response)).get_user())
    identity = later["userIdentity"]
    assert identity["type"] == "IAMUser" and identity["userName"] == user.name
    assert identity["accessKeyId"] == response["Credentials"]["AccessKeyId"]
    assert identity["sessionContext"]["sessionIssuer"] == {} and identity["sessionContext"]["webIdFederationData"] == {}
    assert identity["sessionContext"]["attributes"]["mfaAuthenticated"] == "true"
