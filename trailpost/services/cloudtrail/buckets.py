"""The destination checks CreateTrail and UpdateTrail make: bucket name, key prefix, bucket, bucket policy.

Rules:

* ``S3BucketName`` must be a usable bucket name (3-255 characters of letters, digits, ``.``, ``-``
  and ``_``, starting and ending with a letter or digit, no ``..``; the legacy rules, which accept
  every name an S3 bucket ever had) else ``InvalidS3BucketNameException``;
* ``S3KeyPrefix`` at most 200 characters, no control characters, no ``.``/``..`` path segment and
  no empty segment (``a//b``), else ``InvalidS3PrefixException``; an empty prefix means none;
* the bucket must exist, served by trailpost or mapped to an external endpoint
  (``delivery.destinations.open_destination``), else ``S3BucketDoesNotExistException``;
* an embedded bucket's policy must let the service principal ``cloudtrail.amazonaws.com`` do
  ``s3:GetBucketAcl`` on ``arn:aws:s3:::<bucket>`` and ``s3:PutObject`` on
  ``arn:aws:s3:::<bucket>/[<prefix>/]AWSLogs/<account>/*``, evaluated with ``aws:SourceArn`` = the
  trail ARN, ``aws:SourceAccount`` = the trail's account and ``s3:x-amz-acl`` =
  ``bucket-owner-full-control``, else ``InsufficientS3BucketPolicyException`` ``Incorrect S3 bucket
  policy is detected for bucket: <name>`` (AWS's message). An external bucket's policy is the
  external store's business: its credentials decide, at delivery.
"""

from __future__ import annotations

import re
from typing import Any

from trailpost.services.cloudtrail.errors import (
    InsufficientS3BucketPolicyException,
    InvalidS3BucketNameException,
    InvalidS3PrefixException,
    S3BucketDoesNotExistException,
)
from trailpost.services.s3.policy import service_allowed
from trailpost.services.s3.storage import BucketStorage

SERVICE = "cloudtrail.amazonaws.com"
BUCKET_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,253}[A-Za-z0-9]$")
MAX_PREFIX = 200
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def check_bucket_name(name: str) -> None:
    if not BUCKET_NAME.match(name) or ".." in name:
        raise InvalidS3BucketNameException(f"Bucket name is not valid: {name}")


def check_prefix(prefix: str | None) -> str | None:
    """The prefix as stored (``None`` for none); ``InvalidS3PrefixException`` if unusable."""
    if not prefix:
        return None
    if len(prefix) > MAX_PREFIX:
        raise InvalidS3PrefixException(
            f"S3 key prefix is too long: {len(prefix)} characters. Maximum allowed length: {MAX_PREFIX} characters."
        )
    segments = prefix.split("/")
    if CONTROL.search(prefix) or any(segment in (".", "..") for segment in segments) or "" in segments[1:-1]:
        raise InvalidS3PrefixException(f"Invalid S3 key prefix: {prefix}")
    return prefix


def log_resource(bucket: str, prefix: str | None, account: str) -> str:
    """The object ARN pattern CloudTrail must be allowed to write: ``arn:aws:s3:::b/[p/]AWSLogs/<account>/*``."""
    head = f"{prefix.rstrip('/')}/" if prefix else ""
    return f"arn:aws:s3:::{bucket}/{head}AWSLogs/{account}/*"


def check_destination(ctx: Any, bucket: str, prefix: str | None, trail_arn: str, account: str) -> None:
    """``S3BucketDoesNotExistException`` / ``InsufficientS3BucketPolicyException`` unless CloudTrail may deliver."""
    # On first use, with boto3 for external buckets: reader processes never run trail writes (~3 MiB each).
    from trailpost.delivery.destinations import open_destination

    storage = BucketStorage.for_settings(ctx.store, ctx.settings)
    destination = open_destination(ctx.settings, storage, bucket)
    if destination is None or not destination.exists():
        raise S3BucketDoesNotExistException(f"S3 bucket {bucket} does not exist!")
    if not getattr(destination, "embedded", False):
        return  # an external bucket: its own policy and credentials decide, at delivery
    policy = destination.policy()
    context = {"aws:SourceArn": trail_arn, "aws:SourceAccount": account}
    acl = service_allowed(
        policy, service=SERVICE, action="s3:GetBucketAcl", resource=f"arn:aws:s3:::{bucket}", context=context
    )
    write = service_allowed(
        policy,
        service=SERVICE,
        action="s3:PutObject",
        resource=log_resource(bucket, prefix, account),
        context={**context, "s3:x-amz-acl": "bucket-owner-full-control"},
    )
    if not (acl and write):
        raise InsufficientS3BucketPolicyException(f"Incorrect S3 bucket policy is detected for bucket: {bucket}")
