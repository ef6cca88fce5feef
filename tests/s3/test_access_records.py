"""Who may use a bucket (cross-account AccessDenied, a bucket-policy grant, IAM actions of S3
calls) and what CloudTrail keeps: bucket calls in LookupEvents, no data events in Event history."""

from __future__ import annotations

import json
import uuid
from typing import Any

from tests.support.accounts import create_account
from tests.support.errors import aws_error
from tests.support.server import ServerProcess


def _events(server: ServerProcess, name: str) -> list[dict[str, Any]]:
    trail = server.client("cloudtrail")
    found = trail.lookup_events(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": name}])
    return [json.loads(e["CloudTrailEvent"]) for e in found["Events"]]


def test_cross_account_denied_until_the_bucket_policy_allows(server: ServerProcess, s3: Any, bucket: str) -> None:
    account, key, secret = create_account(server.data_dir, f"reader-{uuid.uuid4().hex[:6]}")
    other = server.client("s3", credentials=(key, secret))
    s3.put_object(Bucket=bucket, Key="shared.txt", Body=b"for the reader")
    aws_error("AccessDenied", 403, other.get_object, Bucket=bucket, Key="shared.txt")
    aws_error("AccessDenied", 403, other.list_objects_v2, Bucket=bucket)
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket}/*",
            }
        ],
    }
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    assert other.get_object(Bucket=bucket, Key="shared.txt")["Body"].read() == b"for the reader"
    aws_error("AccessDenied", 403, other.put_object, Bucket=bucket, Key="x", Body=b"no")
    aws_error("AccessDenied", 403, other.list_objects_v2, Bucket=bucket)


def test_iam_user_needs_the_s3_actions(server: ServerProcess, s3: Any, bucket: str) -> None:
    iam = server.client("iam")
    user = f"s3user-{uuid.uuid4().hex[:6]}"
    iam.create_user(UserName=user)
    keys = iam.create_access_key(UserName=user)["AccessKey"]
    client = server.client("s3", credentials=(keys["AccessKeyId"], keys["SecretAccessKey"]))
    error = aws_error("AccessDenied", 403, client.list_objects, Bucket=bucket)
    assert f"s3:ListBucket on resource: arn:aws:s3:::{bucket}" in error["Error"]["Message"]
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["s3:ListBucket", "s3:GetObject"], "Resource": "*"}],
    }
    iam.put_user_policy(UserName=user, PolicyName="read", PolicyDocument=json.dumps(policy))
    assert client.list_objects(Bucket=bucket)["Name"] == bucket
    error = aws_error("AccessDenied", 403, client.put_object, Bucket=bucket, Key="k", Body=b"")
    assert f"s3:PutObject on resource: arn:aws:s3:::{bucket}/k" in error["Error"]["Message"]
    aws_error("AccessDenied", 403, client.list_buckets)


def test_bucket_calls_are_recorded_and_data_events_are_not(server: ServerProcess, s3: Any) -> None:
    name = f"tp-rec-{uuid.uuid4().hex[:12]}"
    created = s3.create_bucket(Bucket=name)
    s3.put_bucket_policy(
        Bucket=name,
        Policy=json.dumps(
            {
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "cloudtrail.amazonaws.com"},
                        "Action": "s3:GetBucketAcl",
                        "Resource": f"arn:aws:s3:::{name}",
                    }
                ]
            }
        ),
    )
    put = s3.put_object(Bucket=name, Key="secret.txt", Body=b"never in a record")
    request_id = created["ResponseMetadata"]["RequestId"]
    record = next(r for r in _events(server, "CreateBucket") if r["requestID"] == request_id)
    assert record["eventSource"] == "s3.amazonaws.com"
    assert record["eventCategory"] == "Management" and record["managementEvent"] is True
    assert record["requestParameters"]["bucketName"] == name
    assert record["requestParameters"]["Host"] == f"127.0.0.1:{server.port}"
    assert record["resources"] == [
        {"accountId": "123456789012", "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{name}"}
    ]
    assert record["userAgent"].startswith("[") and len(record["requestID"]) == 16
    assert record["additionalEventData"]["SignatureVersion"] == "SigV4"
    assert record["additionalEventData"]["AuthenticationMethod"] == "AuthHeader"
    policy_record = next(r for r in _events(server, "PutBucketPolicy") if r["requestParameters"]["bucketName"] == name)
    assert policy_record["requestParameters"]["policy"] == ""
    assert policy_record["requestParameters"]["bucketPolicy"]["Statement"][0]["Action"] == "s3:GetBucketAcl"
    assert policy_record["readOnly"] is False
    put_id = put["ResponseMetadata"]["RequestId"]
    assert not [r for r in _events(server, "PutObject") if r["requestID"] == put_id]
    assert (
        b"never in a record" not in (server.data_dir / "state.db").read_bytes()
        if (server.data_dir / "state.db").exists()
        else True
    )
