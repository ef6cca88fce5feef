"""Records and policies the CloudTrail tests build: records shaped like the record builder's, and the
bucket policy CloudTrail needs (reference 3.5)."""

from __future__ import annotations

import time
import uuid
from typing import Any

import orjson

from trailpost.protocol.timestamps import iso8601_epoch

ACCOUNT = "123456789012"
ROLE_ID = "AROAEXAMPLEROLEID0001"


def identity(kind: str, name: str = "", key: str = "AKIAEXAMPLEKEY000001", account: str = ACCOUNT) -> dict[str, Any]:
    """A ``userIdentity`` of ``kind`` as the record builder writes it."""
    if kind == "Root":
        return {
            "type": "Root",
            "principalId": account,
            "arn": f"arn:aws:iam::{account}:root",
            "accountId": account,
            "accessKeyId": key,
        }
    if kind == "IAMUser":
        return {
            "type": "IAMUser",
            "principalId": "AIDAEXAMPLEUSER00001",
            "arn": f"arn:aws:iam::{account}:user/{name}",
            "accountId": account,
            "accessKeyId": key,
            "userName": name,
        }
    role, session = name.split("/")
    return {
        "type": "AssumedRole",
        "principalId": f"{ROLE_ID}:{session}",
        "arn": f"arn:aws:sts::{account}:assumed-role/{role}/{session}",
        "accountId": account,
        "accessKeyId": key,
        "sessionContext": {
            "sessionIssuer": {
                "type": "Role",
                "principalId": ROLE_ID,
                "arn": f"arn:aws:iam::{account}:role/{role}",
                "accountId": account,
                "userName": role,
            },
            "webIdFederationData": {},
            "attributes": {"creationDate": "2026-01-01T00:00:00Z", "mfaAuthenticated": "false"},
        },
    }


def record(
    name: str,
    *,
    at: float | None = None,
    who: dict[str, Any] | None = None,
    region: str = "us-east-1",
    source: str = "outposts.amazonaws.com",
    read_only: bool = False,
    account: str = ACCOUNT,
    category: str = "Management",
    resources: list[dict[str, str]] | None = None,
    agent: str = "test",
    pad: int = 0,
) -> dict[str, Any]:
    """A record shaped like ``audit.record.build_record``'s (``pad`` adds bytes to its user agent)."""
    rec: dict[str, Any] = {
        "eventVersion": "1.11",
        "userIdentity": who or identity("Root", account=account),
        "eventTime": iso8601_epoch(time.time() if at is None else at),
        "eventSource": source,
        "eventName": name,
        "awsRegion": region,
        "sourceIPAddress": "127.0.0.1",
        "userAgent": agent + "x" * pad,
        "requestParameters": None,
        "responseElements": None,
        "requestID": str(uuid.uuid4()),
        "eventID": str(uuid.uuid4()),
        "readOnly": read_only,
    }
    if resources:
        rec["resources"] = resources
    rec.update(
        eventType="AwsApiCall",
        managementEvent=category == "Management",
        recipientAccountId=account,
        eventCategory=category,
    )
    return rec


def cloudtrail_policy(bucket: str, account: str = ACCOUNT, prefix: str | None = None) -> str:
    """The bucket policy of reference 3.5 (without the SourceArn condition, so any trail of ``account`` may write)."""
    head = f"{prefix.rstrip('/')}/" if prefix else ""
    return orjson.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "AWSCloudTrailAclCheck20150319",
                    "Effect": "Allow",
                    "Principal": {"Service": "cloudtrail.amazonaws.com"},
                    "Action": "s3:GetBucketAcl",
                    "Resource": f"arn:aws:s3:::{bucket}",
                },
                {
                    "Sid": "AWSCloudTrailWrite20150319",
                    "Effect": "Allow",
                    "Principal": {"Service": "cloudtrail.amazonaws.com"},
                    "Action": "s3:PutObject",
                    "Resource": f"arn:aws:s3:::{bucket}/{head}AWSLogs/{account}/*",
                    "Condition": {
                        "StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control", "aws:SourceAccount": account}
                    },
                },
            ],
        }
    ).decode()
