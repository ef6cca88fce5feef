"""Bucket calls: ListBuckets, CreateBucket, HeadBucket, GetBucketLocation, DeleteBucket,
GetBucketAcl, Put/Get/DeleteBucketPolicy.

Rules:

* bucket names are global across accounts: creating a taken name is ``BucketAlreadyOwnedByYou``
  (409) for its owner, ``BucketAlreadyExists`` (409) for anyone else; in us-east-1 the owner's
  repeat without a configuration succeeds, as AWS's legacy region does;
* a new name must follow S3's rules (3-63 characters of lower-case letters, digits, ``.`` and
  ``-``, starting and ending with a letter or digit, no ``..``, ``.-`` or ``-.``, not an IP
  address, not ``xn--``/``sthree-``/``amzn-s3-demo-`` prefixed nor ``-s3alias``/``--ol-s3``/
  ``.mrap``/``--x-s3``/``--table-s3`` suffixed), else ``InvalidBucketName``;
* the location constraint must be the region the request was signed for: none in us-east-1
  (``us-east-1`` itself or an unknown name is ``InvalidLocationConstraint``), that region
  elsewhere; any other is ``IllegalLocationConstraintException`` with AWS's message;
* ``DeleteBucket`` needs an empty bucket (``BucketNotEmpty``);
* ``GetBucketAcl`` answers the owner's ``FULL_CONTROL`` grant (buckets carry no other ACL);
* policies are checked as S3 checks them (``policy.check_bucket_policy``: ``MalformedPolicy``);
  ``GetBucketPolicy`` without one is ``NoSuchBucketPolicy``; ``DeleteBucketPolicy`` is idempotent.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from typing import Any

from trailpost.gateway.context import RequestContext
from trailpost.services.s3.access import canonical_id, open_bucket, storage
from trailpost.services.s3.errors import (
    BucketAlreadyExists,
    BucketAlreadyOwnedByYou,
    BucketNotEmpty,
    IllegalLocationConstraintException,
    InvalidArgument,
    InvalidBucketName,
    InvalidLocationConstraint,
    MalformedPolicy,
    NoSuchBucketPolicy,
)
from trailpost.services.s3.operations import ops
from trailpost.services.s3.policy import MalformedBucketPolicy, check_bucket_policy

US_EAST_1 = "us-east-1"
_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")
_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


def check_bucket_name(name: str) -> None:
    """``InvalidBucketName`` unless ``name`` follows S3's naming rules (module docstring)."""
    bad = (
        not _NAME.match(name)
        or ".." in name
        or ".-" in name
        or "-." in name
        or name.startswith(_PREFIXES)
        or name.endswith(_SUFFIXES)
    )
    if not bad:
        try:
            ipaddress.IPv4Address(name)
            bad = True
        except ValueError:
            pass
    if bad:
        raise InvalidBucketName(fields={"BucketName": name})


def _location(request_host: str, scheme: str, bucket: str, region: str) -> str:
    if region == US_EAST_1:
        return f"/{bucket}"
    return f"{scheme}://{bucket}.{request_host}/"


def _check_constraint(constraint: str | None, region: str) -> None:
    if region == US_EAST_1:
        if not constraint:
            return
        if constraint == US_EAST_1 or not (_REGION.match(constraint) or constraint == "EU"):
            raise InvalidLocationConstraint(fields={"LocationConstraint": constraint})
    elif constraint == region:
        return
    if not constraint:
        raise IllegalLocationConstraintException()
    raise IllegalLocationConstraintException(
        f"The {constraint} location constraint is incompatible for the region specific endpoint this request "
        "was sent to."
    )


@ops("CreateBucket")
def create_bucket(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    bucket = params["bucket"]
    configuration = params.get("create_bucket_configuration") or {}
    store = storage(ctx)
    existing = store.get_bucket(bucket)
    if existing is not None:
        if existing["account_id"] != ctx.account_id:
            raise BucketAlreadyExists(fields={"BucketName": bucket})
        if ctx.region == US_EAST_1 and existing["region"] == US_EAST_1 and not configuration:
            return {"Location": f"/{bucket}", "BucketArn": f"arn:aws:s3:::{bucket}"}
        raise BucketAlreadyOwnedByYou(fields={"BucketName": bucket})
    check_bucket_name(bucket)
    _check_constraint(configuration.get("location_constraint"), ctx.region)
    store.create_bucket(bucket, ctx.account_id, ctx.region)
    host = ctx.request.headers.get("host", "localhost")
    return {
        "Location": _location(host, ctx.request.scheme, bucket, ctx.region),
        "BucketArn": f"arn:aws:s3:::{bucket}",
    }


@ops("HeadBucket")
def head_bucket(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    doc = open_bucket(ctx, params["bucket"])
    return {"BucketRegion": doc["region"], "AccessPointAlias": False, "BucketArn": f"arn:aws:s3:::{doc['name']}"}


@ops("GetBucketLocation")
def get_bucket_location(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    doc = open_bucket(ctx, params["bucket"])
    return {"LocationConstraint": None if doc["region"] == US_EAST_1 else doc["region"]}


@ops("DeleteBucket")
def delete_bucket(ctx: RequestContext, params: dict[str, Any]) -> None:
    bucket = params["bucket"]
    open_bucket(ctx, bucket)
    store = storage(ctx)
    if not store.is_empty(bucket):
        raise BucketNotEmpty(fields={"BucketName": bucket})
    store.delete_bucket(bucket)


@ops("ListBuckets")
def list_buckets(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    docs = storage(ctx).list_buckets(ctx.account_id)
    prefix = params.get("prefix") or ""
    region = params.get("bucket_region")
    docs = [d for d in docs if d["name"].startswith(prefix) and (not region or d["region"] == region)]
    token = params.get("continuation_token")
    if token:
        try:
            after = base64.b64decode(token.encode(), altchars=b"-_", validate=True).decode()
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise InvalidArgument("The continuation token provided is incorrect") from None
        docs = [d for d in docs if d["name"] > after]
    limit = params.get("max_buckets")
    result: dict[str, Any] = {"Owner": {"ID": canonical_id(ctx.account_id)}}
    if limit is not None:
        if not 1 <= limit <= 10000:
            raise InvalidArgument("Argument max-buckets must be an integer between 1 and 10000")
        if len(docs) > limit:
            docs = docs[:limit]
            result["ContinuationToken"] = base64.urlsafe_b64encode(docs[-1]["name"].encode()).decode()
    result["Buckets"] = [
        {
            "Name": d["name"],
            "CreationDate": d["creation_date"],
            "BucketRegion": d["region"],
            "BucketArn": f"arn:aws:s3:::{d['name']}",
        }
        for d in docs
    ]
    if prefix:
        result["Prefix"] = prefix
    return result


@ops("GetBucketAcl")
def get_bucket_acl(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    doc = open_bucket(ctx, params["bucket"])
    owner = canonical_id(doc["account_id"])
    return {
        "Owner": {"ID": owner},
        "Grants": [{"Grantee": {"ID": owner, "Type": "CanonicalUser"}, "Permission": "FULL_CONTROL"}],
    }


@ops("PutBucketPolicy")
def put_bucket_policy(ctx: RequestContext, params: dict[str, Any]) -> None:
    bucket = params["bucket"]
    open_bucket(ctx, bucket)
    text = params.get("policy") or ""
    try:
        check_bucket_policy(text, bucket)
    except MalformedBucketPolicy as exc:
        raise MalformedPolicy(str(exc)) from None
    storage(ctx).set_policy(bucket, text)


@ops("GetBucketPolicy")
def get_bucket_policy(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    doc = open_bucket(ctx, params["bucket"])
    if not doc.get("policy"):
        raise NoSuchBucketPolicy(fields={"BucketName": doc["name"]})
    return {"Policy": doc["policy"]}


@ops("DeleteBucketPolicy")
def delete_bucket_policy(ctx: RequestContext, params: dict[str, Any]) -> None:
    bucket = params["bucket"]
    open_bucket(ctx, bucket)
    storage(ctx).set_policy(bucket, None)
