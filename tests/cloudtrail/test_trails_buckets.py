"""The destination checks of CreateTrail and UpdateTrail with boto3: a missing bucket, a missing or
insufficient bucket policy (AWS's "Incorrect S3 bucket policy is detected for bucket: <name>"), a
policy bound to one trail by ``aws:SourceArn``, and key prefixes the policy must cover."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cloudtrail.test_trails import REGIONS, arn, bucket_policy, error_of, make_bucket
from tests.support.server import ServerProcess


def insufficient(bucket: str) -> dict[str, str]:
    return {
        "Code": "InsufficientS3BucketPolicyException",
        "Message": f"Incorrect S3 bucket policy is detected for bucket: {bucket}",
    }


@pytest.fixture(scope="module")
def bucket_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = ServerProcess(Path(tmp_path_factory.mktemp("buckets")) / "data").start()
    make_bucket(proc, "open-logs", bucket_policy("open-logs", "", "audit"))
    make_bucket(proc, "no-policy", None)
    make_bucket(
        proc,
        "wrong-service",
        bucket_policy("wrong-service").replace("cloudtrail.amazonaws.com", "config.amazonaws.com"),
    )
    make_bucket(proc, "prefix-only", bucket_policy("prefix-only", "audit"))
    make_bucket(proc, "one-trail", bucket_policy("one-trail", source_arn=arn("the-chosen-one", "eu-west-2")))
    denied = json.loads(bucket_policy("denied"))
    denied["Statement"].append(
        {
            "Effect": "Deny",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "s3:PutObject",
            "Resource": "arn:aws:s3:::denied/*",
        }
    )
    make_bucket(proc, "denied", json.dumps(denied))
    yield proc
    proc.stop()


@pytest.fixture
def ct(bucket_server: ServerProcess) -> Any:
    return bucket_server.client("cloudtrail", region=next(REGIONS))


def test_missing_bucket(ct: Any) -> None:
    error = error_of(ct.create_trail, Name="to-nowhere", S3BucketName="no-such-bucket-here")
    assert error == {
        "Code": "S3BucketDoesNotExistException",
        "Message": "S3 bucket no-such-bucket-here does not exist!",
    }


@pytest.mark.parametrize("bucket", ["no-policy", "wrong-service", "denied", "prefix-only"])
def test_insufficient_policies(ct: Any, bucket: str) -> None:
    assert error_of(ct.create_trail, Name="refused", S3BucketName=bucket) == insufficient(bucket)
    assert ct.describe_trails(includeShadowTrails=False)["trailList"] == []


def test_policy_must_cover_the_prefix(ct: Any) -> None:
    assert ct.create_trail(Name="prefixed", S3BucketName="prefix-only", S3KeyPrefix="audit")["S3KeyPrefix"] == "audit"
    assert error_of(ct.create_trail, Name="elsewhere", S3BucketName="open-logs", S3KeyPrefix="other") == insufficient(
        "open-logs"
    )
    assert ct.create_trail(Name="audited", S3BucketName="open-logs", S3KeyPrefix="audit")["S3BucketName"] == "open-logs"


def test_policy_bound_to_one_trail_by_source_arn(bucket_server: ServerProcess) -> None:
    london = bucket_server.client("cloudtrail", region="eu-west-2")
    assert error_of(london.create_trail, Name="an-impostor", S3BucketName="one-trail") == insufficient("one-trail")
    assert london.create_trail(Name="the-chosen-one", S3BucketName="one-trail")["TrailARN"] == arn(
        "the-chosen-one", "eu-west-2"
    )


def test_update_trail_checks_the_new_destination(ct: Any) -> None:
    ct.create_trail(Name="moving", S3BucketName="open-logs")
    assert error_of(ct.update_trail, Name="moving", S3BucketName="no-such-bucket-here")["Code"] == (
        "S3BucketDoesNotExistException"
    )
    assert error_of(ct.update_trail, Name="moving", S3BucketName="no-policy") == insufficient("no-policy")
    assert error_of(ct.update_trail, Name="moving", S3KeyPrefix="not-covered") == insufficient("open-logs")
    assert ct.get_trail(Name="moving")["Trail"]["S3BucketName"] == "open-logs"  # unchanged
    assert "S3KeyPrefix" not in ct.get_trail(Name="moving")["Trail"]
    assert ct.update_trail(Name="moving", S3KeyPrefix="audit")["S3KeyPrefix"] == "audit"
