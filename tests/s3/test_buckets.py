"""Bucket calls over boto3: create (names, location constraints, global names), head, location,
ACL, policies and delete, each success and error with S3's code and status."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from tests.support.accounts import create_account
from tests.support.errors import aws_error
from tests.support.server import ServerProcess


def _name() -> str:
    return f"tp-{uuid.uuid4().hex[:20]}"


def test_create_list_head_location_delete(s3: Any) -> None:
    name = _name()
    created = s3.create_bucket(Bucket=name)
    assert created["Location"] == f"/{name}"
    listed = s3.list_buckets()
    assert name in [b["Name"] for b in listed["Buckets"]]
    assert len(listed["Owner"]["ID"]) == 64
    head = s3.head_bucket(Bucket=name)
    assert head["BucketRegion"] == "us-east-1"
    assert s3.get_bucket_location(Bucket=name)["LocationConstraint"] is None
    deleted = s3.delete_bucket(Bucket=name)
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    aws_error("404", 404, s3.head_bucket, Bucket=name)
    error = aws_error("NoSuchBucket", 404, s3.delete_bucket, Bucket=name)
    assert error["Error"]["BucketName"] == name
    assert len(error["ResponseMetadata"]["RequestId"]) == 16


def test_region_and_location_constraints(server: ServerProcess) -> None:
    west = server.client("s3", region="eu-west-1")
    name = _name()
    created = west.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    assert created["Location"].startswith(f"http://{name}.")
    assert west.get_bucket_location(Bucket=name)["LocationConstraint"] == "eu-west-1"
    error = aws_error("IllegalLocationConstraintException", 400, west.create_bucket, Bucket=_name())
    assert "unspecified location constraint" in error["Error"]["Message"]
    error = aws_error(
        "IllegalLocationConstraintException",
        400,
        west.create_bucket,
        Bucket=_name(),
        CreateBucketConfiguration={"LocationConstraint": "us-west-2"},
    )
    assert error["Error"]["Message"].startswith("The us-west-2 location constraint is incompatible")
    east = server.client("s3")
    aws_error(
        "InvalidLocationConstraint",
        400,
        east.create_bucket,
        Bucket=_name(),
        CreateBucketConfiguration={"LocationConstraint": "us-east-1"},
    )
    aws_error(
        "BucketAlreadyOwnedByYou",
        409,
        west.create_bucket,
        Bucket=name,
        CreateBucketConfiguration={"LocationConstraint": "eu-west-1"},
    )


@pytest.mark.parametrize(
    "name",
    ["ab", "a" * 64, "UPPER-case", "-leading", "trailing-", "two..dots", "192.168.1.1", "xn--punycode", "x-s3alias"],
)
def test_invalid_bucket_names(s3: Any, name: str) -> None:
    error = aws_error("InvalidBucketName", 400, s3.create_bucket, Bucket=name)
    assert error["Error"]["Message"] == "The specified bucket is not valid."


def test_bucket_names_are_global(server: ServerProcess, s3: Any, bucket: str) -> None:
    _, key, secret = create_account(server.data_dir, f"names-{uuid.uuid4().hex[:6]}")
    other = server.client("s3", credentials=(key, secret))
    aws_error("BucketAlreadyExists", 409, other.create_bucket, Bucket=bucket)
    assert bucket not in [b["Name"] for b in other.list_buckets()["Buckets"]]


def test_delete_non_empty_bucket(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    error = aws_error("BucketNotEmpty", 409, s3.delete_bucket, Bucket=bucket)
    assert error["Error"]["Message"] == "The bucket you tried to delete is not empty"
    s3.delete_object(Bucket=bucket, Key="k")
    s3.delete_bucket(Bucket=bucket)


def test_bucket_acl_is_owner_full_control(s3: Any, bucket: str) -> None:
    acl = s3.get_bucket_acl(Bucket=bucket)
    owner = acl["Owner"]["ID"]
    assert acl["Grants"] == [{"Grantee": {"ID": owner, "Type": "CanonicalUser"}, "Permission": "FULL_CONTROL"}]


def test_bucket_policy_round_trip(s3: Any, bucket: str) -> None:
    aws_error("NoSuchBucketPolicy", 404, s3.get_bucket_policy, Bucket=bucket)
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AWSCloudTrailAclCheck",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "s3:GetBucketAcl",
                "Resource": f"arn:aws:s3:::{bucket}",
            }
        ],
    }
    put = s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    assert put["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"]) == policy
    assert s3.delete_bucket_policy(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 204
    aws_error("NoSuchBucketPolicy", 404, s3.get_bucket_policy, Bucket=bucket)


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        ("", "Policies must be valid JSON and the first byte must be '{'"),
        ("randomstring", "Policies must be valid JSON and the first byte must be '{'"),
        ("{}", "Missing required field Statement"),
        ('{"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}', "Missing required field Principal"),
        (
            '{"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "ec2:*", "Resource": "*"}]}',
            "Policy has invalid action",
        ),
        (
            '{"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:*", '
            '"Resource": "arn:aws:s3:::another-bucket/*"}]}',
            "Policy has invalid resource",
        ),
    ],
)
def test_malformed_policies(s3: Any, bucket: str, policy: str, message: str) -> None:
    error = aws_error("MalformedPolicy", 400, s3.put_bucket_policy, Bucket=bucket, Policy=policy)
    assert error["Error"]["Message"] == message


def test_missing_bucket_errors(s3: Any) -> None:
    name = _name()
    for call in (s3.get_bucket_location, s3.get_bucket_acl, s3.get_bucket_policy, s3.list_objects_v2):
        error = aws_error("NoSuchBucket", 404, call, Bucket=name)
        assert error["Error"]["Message"] == "The specified bucket does not exist"
