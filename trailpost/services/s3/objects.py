"""Object calls: PutObject, GetObject, HeadObject, DeleteObject, DeleteObjects.

Rules:

* keys are 1-1024 bytes of UTF-8 (``KeyTooLongError`` beyond); any key is safe, the storage never
  derives a path from it;
* PutObject checks ``Content-MD5`` (``BadDigest``/``InvalidDigest``) and every
  ``x-amz-checksum-*`` header or trailer (``BadDigest``), keeps ``x-amz-meta-*`` user metadata
  (keys lower-case, as HTTP delivers them), ``Content-Type`` (default ``binary/octet-stream``) and
  ``Content-Encoding``; the ETag is the quoted MD5 hex of the body; the checksums sent are echoed
  and kept for ``ChecksumMode=ENABLED`` reads;
* GetObject/HeadObject with ``Range: bytes=a-b`` / ``bytes=a-`` / ``bytes=-n`` answer 206 with
  ``Content-Range: bytes a-b/size``; a range starting at or past the end (or a suffix of zero
  bytes) is ``InvalidRange`` (416); a header that is not one byte range is ignored (the whole
  object, as S3 does);
* conditional reads: ``If-Match``/``If-Unmodified-Since`` failing is ``PreconditionFailed`` (412),
  ``If-None-Match``/``If-Modified-Since`` failing is 304 Not Modified (no body);
* DeleteObject succeeds whether or not the key exists (204); DeleteObjects answers each key in
  ``Deleted`` (none with ``Quiet``), at most 1000 keys (``MalformedXML`` beyond).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from trailpost.gateway.context import RequestContext
from trailpost.services.s3.access import open_bucket, storage
from trailpost.services.s3.checksums import verify_checksums, verify_content_md5
from trailpost.services.s3.errors import (
    InvalidRange,
    KeyTooLongError,
    MalformedXML,
    NotModified,
    PreconditionFailed,
    no_such_key,
)
from trailpost.services.s3.operations import ops

MAX_KEY_BYTES = 1024
DEFAULT_CONTENT_TYPE = "binary/octet-stream"
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def _check_key(key: str) -> None:
    if len(key.encode()) > MAX_KEY_BYTES:
        raise KeyTooLongError(fields={"Size": len(key.encode()), "MaxSizeAllowed": MAX_KEY_BYTES})


@ops("PutObject")
def put_object(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    bucket, key = params["bucket"], params["key"]
    _check_key(key)
    open_bucket(ctx, bucket, key)
    body = params.get("body") or b""
    verify_content_md5(ctx.request.headers.get("content-md5"), body)
    checksums = verify_checksums(ctx.request.headers, body)
    etag = storage(ctx).put_object(
        bucket,
        key,
        body,
        metadata=params.get("metadata") or {},
        content_type=params.get("content_type") or DEFAULT_CONTENT_TYPE,
        content_encoding=params.get("content_encoding"),
        checksums=checksums,
    )
    result: dict[str, Any] = {"ETag": etag, "Size": len(body)}
    for algorithm, value in checksums.items():
        result[f"Checksum{algorithm.upper()}"] = value
    if checksums:
        result["ChecksumType"] = "FULL_OBJECT"
    return result


def _range(header: str | None, size: int) -> tuple[int, int] | None:
    """``(first, last)`` of a single byte range, ``None`` for the whole object; ``InvalidRange``."""
    if not header:
        return None
    match = _RANGE.match(header.strip())
    if match is None or (not match.group(1) and not match.group(2)):
        return None
    first_text, last_text = match.groups()
    if not first_text:
        suffix = int(last_text)
        if suffix == 0 or size == 0:
            raise InvalidRange(fields={"RangeRequested": header, "ActualObjectSize": size})
        return max(0, size - suffix), size - 1
    first = int(first_text)
    last = int(last_text) if last_text else size - 1
    if last < first:
        return None
    if first >= size:
        raise InvalidRange(fields={"RangeRequested": header, "ActualObjectSize": size})
    return first, min(last, size - 1)


def _describe(ctx: RequestContext, params: dict[str, Any], *, with_body: bool) -> dict[str, Any]:
    bucket, key = params["bucket"], params["key"]
    open_bucket(ctx, bucket, key)
    store = storage(ctx)
    if with_body:
        found = store.get_object(bucket, key)
        if found is None:
            raise no_such_key(key)
        row: dict[str, Any] = {
            "etag": found.etag,
            "last_modified": found.last_modified,
            "metadata": found.metadata,
            "content_type": found.content_type,
            "content_encoding": found.content_encoding,
            "checksums": found.checksums,
            "size": found.size,
        }
        body = found.body
    else:
        head = store.head_object(bucket, key)
        if head is None:
            raise no_such_key(key)
        row, body = head, b""
    _check_conditions(params, row["etag"], row["last_modified"])
    size = row["size"]
    result: dict[str, Any] = {
        "AcceptRanges": "bytes",
        "LastModified": row["last_modified"],
        "ContentLength": size,
        "ETag": row["etag"],
        "ContentType": row["content_type"] or DEFAULT_CONTENT_TYPE,
        "Metadata": row["metadata"] or None,
    }
    if row["content_encoding"]:
        result["ContentEncoding"] = row["content_encoding"]
    span = _range(params.get("range"), size)
    if span is not None:
        first, last = span
        result["ContentRange"] = f"bytes {first}-{last}/{size}"
        result["ContentLength"] = last - first + 1
        body = body[first : last + 1]
    elif params.get("checksum_mode") == "ENABLED":
        for algorithm, value in (row["checksums"] or {}).items():
            result[f"Checksum{algorithm.upper()}"] = value
        if row["checksums"]:
            result["ChecksumType"] = "FULL_OBJECT"
    if with_body:
        result["Body"] = body
    return result


def _epoch(value: Any) -> float:
    return value.timestamp() if isinstance(value, datetime) else float(value)


def _etag_matches(header: str, etag: str) -> bool:
    wanted = [item.strip() for item in header.split(",")]
    return "*" in wanted or etag in wanted or etag.strip('"') in wanted


def _check_conditions(params: dict[str, Any], etag: str, last_modified: float) -> None:
    """``If-Match``/``If-Unmodified-Since`` -> 412, ``If-None-Match``/``If-Modified-Since`` -> 304 (RFC 9110
    order: If-Match before If-Unmodified-Since, If-None-Match before If-Modified-Since)."""
    if_match, if_none_match = params.get("if_match"), params.get("if_none_match")
    if if_match is not None and not _etag_matches(if_match, etag):
        raise PreconditionFailed(fields={"Condition": "If-Match"})
    since = params.get("if_unmodified_since")
    if if_match is None and since is not None and last_modified > _epoch(since):
        raise PreconditionFailed(fields={"Condition": "If-Unmodified-Since"})
    if if_none_match is not None and _etag_matches(if_none_match, etag):
        raise NotModified(headers={"ETag": etag})
    since = params.get("if_modified_since")
    if if_none_match is None and since is not None and last_modified <= _epoch(since):
        raise NotModified(headers={"ETag": etag})


@ops("GetObject")
def get_object(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    return _describe(ctx, params, with_body=True)


@ops("HeadObject")
def head_object(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    return _describe(ctx, params, with_body=False)


@ops("DeleteObject")
def delete_object(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    bucket, key = params["bucket"], params["key"]
    open_bucket(ctx, bucket, key)
    storage(ctx).delete_object(bucket, key)
    return {}


@ops("DeleteObjects")
def delete_objects(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    bucket = params["bucket"]
    open_bucket(ctx, bucket)
    verify_content_md5(ctx.request.headers.get("content-md5"), ctx.request.body)
    verify_checksums(ctx.request.headers, ctx.request.body)
    delete = params.get("delete") or {}
    objects = delete.get("objects") or []
    if not objects or len(objects) > 1000:
        raise MalformedXML()
    store = storage(ctx)
    deleted = []
    for item in objects:
        key = item.get("key", "")
        store.delete_object(bucket, key)
        deleted.append({"Key": key})
    return {} if delete.get("quiet") else {"Deleted": deleted}
