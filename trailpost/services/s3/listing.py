"""ListObjects and ListObjectsV2: prefixes, delimiters, markers and continuation tokens.

Rules (S3's):

* keys are listed in UTF-8 binary order, at most ``MaxKeys`` (default and ceiling 1000) entries,
  where each common prefix counts as one entry;
* with a ``Delimiter``, keys holding it after the ``Prefix`` roll up into ``CommonPrefixes``
  (prefix up to and including the first delimiter), listed once;
* V1 resumes after ``Marker``; ``NextMarker`` is given only with a delimiter (without one the
  client resumes from the last key, as botocore's paginator does); a marker that is a common
  prefix skips that whole prefix;
* V2 resumes after ``ContinuationToken`` (opaque: the base64 of the last entry) or
  ``StartAfter``; ``KeyCount`` counts keys and common prefixes; ``Owner`` only with ``FetchOwner``;
* ``EncodingType=url`` percent-encodes keys and prefixes in the answer.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any
from urllib.parse import quote

from trailpost.gateway.context import RequestContext
from trailpost.services.s3.access import canonical_id, open_bucket, storage
from trailpost.services.s3.errors import InvalidArgument
from trailpost.services.s3.operations import ops
from trailpost.services.s3.storage import BucketStorage

MAX_KEYS = 1000
PAGE = 1000
_TOP = "\U0010ffff"


def _entries(
    store: BucketStorage, bucket: str, prefix: str, delimiter: str, after: str, limit: int
) -> tuple[list[Any], list[str], bool]:
    """Up to ``limit`` objects and common prefixes after ``after``; whether more follow."""
    contents: list[Any] = []
    prefixes: list[str] = []
    start = after
    if delimiter and after.startswith(prefix):
        cut = after.find(delimiter, len(prefix))
        if cut >= 0 and after == after[: cut + len(delimiter)]:
            start = after + _TOP  # the marker is a common prefix: skip all of it
    while True:
        page = store.list_objects(bucket, prefix=prefix, start_after=start, max_keys=PAGE)
        for item in page:
            if delimiter:
                cut = item.key.find(delimiter, len(prefix))
                if cut >= 0:
                    common = item.key[: cut + len(delimiter)]
                    if len(contents) + len(prefixes) >= limit:
                        return contents, prefixes, True
                    prefixes.append(common)
                    start = common + _TOP
                    break
            if len(contents) + len(prefixes) >= limit:
                return contents, prefixes, True
            contents.append(item)
            start = item.key
        else:
            if len(page) < PAGE:
                return contents, prefixes, False
            continue
        # broke out after a common prefix: list again past it


def _common(params: dict[str, Any]) -> tuple[str, str, int, bool]:
    max_keys = params.get("max_keys")
    if max_keys is None:
        max_keys = MAX_KEYS
    if max_keys < 0:
        raise InvalidArgument("max-keys cannot be negative", fields={"ArgumentName": "max-keys"})
    encoding = params.get("encoding_type")
    if encoding is not None and encoding != "url":
        raise InvalidArgument("Invalid Encoding Method specified in Request", fields={"ArgumentName": "encoding-type"})
    return params.get("prefix") or "", params.get("delimiter") or "", min(max_keys, MAX_KEYS), encoding == "url"


def _encode(value: str, url: bool) -> str:
    return quote(value, safe="/") if url else value


def _contents(items: list[Any], owner: str | None, url: bool) -> list[dict[str, Any]]:
    out = []
    for item in items:
        entry: dict[str, Any] = {
            "Key": _encode(item.key, url),
            "LastModified": item.last_modified,
            "ETag": item.etag,
            "Size": item.size,
            "StorageClass": "STANDARD",
        }
        if owner:
            entry["Owner"] = {"ID": owner}
        out.append(entry)
    return out


@ops("ListObjects")
def list_objects(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    bucket = params["bucket"]
    doc = open_bucket(ctx, bucket)
    prefix, delimiter, max_keys, url = _common(params)
    marker = params.get("marker") or ""
    contents, prefixes, truncated = _entries(storage(ctx), bucket, prefix, delimiter, marker, max_keys)
    result: dict[str, Any] = {
        "Name": bucket,
        "Prefix": _encode(prefix, url),
        "Marker": _encode(marker, url),
        "MaxKeys": max_keys,
        "IsTruncated": truncated,
        "Contents": _contents(contents, canonical_id(doc["account_id"]), url) or None,
        "CommonPrefixes": [{"Prefix": _encode(p, url)} for p in prefixes] or None,
    }
    if delimiter:
        result["Delimiter"] = _encode(delimiter, url)
        if truncated and (contents or prefixes):
            result["NextMarker"] = _encode(max([c.key for c in contents[-1:]] + prefixes[-1:]), url)
    if url:
        result["EncodingType"] = "url"
    return result


def _token(value: str) -> str:
    return base64.urlsafe_b64encode(value.encode()).decode()


def _untoken(token: str) -> str:
    try:
        return base64.b64decode(token.encode(), altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidArgument(
            "The continuation token provided is incorrect", fields={"ArgumentName": "continuation-token"}
        ) from None


@ops("ListObjectsV2")
def list_objects_v2(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    bucket = params["bucket"]
    doc = open_bucket(ctx, bucket)
    prefix, delimiter, max_keys, url = _common(params)
    token = params.get("continuation_token")
    start_after = params.get("start_after") or ""
    after = _untoken(token) if token else start_after
    contents, prefixes, truncated = _entries(storage(ctx), bucket, prefix, delimiter, after, max_keys)
    owner = canonical_id(doc["account_id"]) if params.get("fetch_owner") else None
    result: dict[str, Any] = {
        "Name": bucket,
        "Prefix": _encode(prefix, url),
        "MaxKeys": max_keys,
        "KeyCount": len(contents) + len(prefixes),
        "IsTruncated": truncated,
        "Contents": _contents(contents, owner, url) or None,
        "CommonPrefixes": [{"Prefix": _encode(p, url)} for p in prefixes] or None,
    }
    if delimiter:
        result["Delimiter"] = _encode(delimiter, url)
    if token:
        result["ContinuationToken"] = token
    if start_after:
        result["StartAfter"] = _encode(start_after, url)
    if truncated and (contents or prefixes):
        result["NextContinuationToken"] = _token(max([c.key for c in contents[-1:]] + prefixes[-1:]))
    if url:
        result["EncodingType"] = "url"
    return result
