"""What an S3 record holds beyond the common envelope: S3 writes its own request parameters.

Rules (reference README 22, the recorded S3 events):

* ``requestParameters``: ``bucketName`` (bucket calls and object calls), ``Host`` (the ``Host``
  header as sent), ``key`` (object calls), then the query parameters as sent (sub-resources with
  an empty value: ``"policy": ""``, ``"location": ""``, ``"list-type": "2"``, ``"prefix"``...;
  presigned-URL ``X-Amz-*`` parameters are left out), and the XML body of bucket configuration
  calls as S3 copies it (``CreateBucketConfiguration`` with its ``xmlns``), or ``bucketPolicy``
  (the parsed policy) for PutBucketPolicy. Object bodies are never recorded. ``ListBuckets`` has
  ``Host`` only.
* ``responseElements`` is null, but for PutObject (``x-amz-server-side-encryption: AES256``,
  what S3 answers for its default encryption, and nothing else).
* ``additionalEventData``: ``SignatureVersion`` ``SigV4``, ``CipherSuite`` (TLS only),
  ``bytesTransferredIn`` (the body), ``AuthenticationMethod`` (``AuthHeader`` or ``QueryString``
  for presigned URLs), ``x-amz-id-2``, ``bytesTransferredOut`` (the answer's body).
* ``resources``: ``AWS::S3::Object`` (``arn:aws:s3:::b/k``) then ``AWS::S3::Bucket`` (with the
  owner's ``accountId``) for object calls; the bucket alone for bucket calls; none for
  ListBuckets.
* object calls (``DATA_OPERATIONS``: GetObject, PutObject, HeadObject, DeleteObject,
  DeleteObjects, ListObjects, ListObjectsV2... as CloudTrail classifies them) are data events:
  ``eventCategory`` ``Data`` and ``managementEvent`` false; the rest are management events.
* ``userAgent`` is wrapped in square brackets, as S3 writes it (``[aws-cli/2.17 ...]``).
"""

from __future__ import annotations

from typing import Any

import orjson

from trailpost.gateway.context import RequestContext
from trailpost.protocol.restxml import S3_NAMESPACE, host_id

EVENT_VERSION = "1.10"
DATA_OPERATIONS = frozenset(
    {
        "GetObject",
        "PutObject",
        "HeadObject",
        "DeleteObject",
        "DeleteObjects",
        "ListObjects",
        "ListObjectsV2",
        "CopyObject",
        "GetObjectAcl",
        "PutObjectAcl",
        "GetObjectTagging",
        "PutObjectTagging",
        "DeleteObjectTagging",
        "GetObjectAttributes",
        "CreateMultipartUpload",
        "UploadPart",
        "CompleteMultipartUpload",
        "AbortMultipartUpload",
        "ListParts",
        "ListObjectVersions",
        "ListMultipartUploads",
        "RestoreObject",
        "SelectObjectContent",
    }
)


def is_data_event(operation: str) -> bool:
    return operation in DATA_OPERATIONS


def user_agent(agent: str) -> str:
    return agent if agent.startswith("[") else f"[{agent}]"


def request_parameters(ctx: RequestContext) -> dict[str, Any] | None:
    assert ctx.operation is not None
    wire = ctx.wire_params
    params: dict[str, Any] = {}
    bucket = wire.get("Bucket")
    if bucket:
        params["bucketName"] = bucket
    params["Host"] = ctx.request.headers.get("host", "")
    if wire.get("Key") is not None:
        params["key"] = wire["Key"]
    try:
        pairs = ctx.request.query_pairs()
    except ValueError:
        pairs = []
    for name, value in pairs:
        if not name.startswith("X-Amz-") and name not in params:
            params[name] = value
    name = ctx.operation.name
    if name == "CreateBucket" and isinstance(wire.get("CreateBucketConfiguration"), dict):
        params["CreateBucketConfiguration"] = {**wire["CreateBucketConfiguration"], "xmlns": S3_NAMESPACE}
    elif name == "PutBucketPolicy" and isinstance(wire.get("Policy"), str):
        try:
            params["bucketPolicy"] = orjson.loads(wire["Policy"])
        except orjson.JSONDecodeError:
            params["bucketPolicy"] = None
    elif name == "DeleteObjects" and isinstance(wire.get("Delete"), dict):
        objects = wire["Delete"].get("Objects") or []
        params["Delete"] = {"Object": [{"Key": o.get("Key")} for o in objects], "xmlns": S3_NAMESPACE}
        if wire["Delete"].get("Quiet") is not None:
            params["Delete"]["Quiet"] = wire["Delete"]["Quiet"]
    return params


def response_elements(ctx: RequestContext) -> dict[str, Any] | None:
    if ctx.error is None and ctx.operation is not None and ctx.operation.name == "PutObject":
        return {"x-amz-server-side-encryption": "AES256"}
    return None


def additional_event_data(ctx: RequestContext, response_bytes: int) -> dict[str, Any]:
    data: dict[str, Any] = {"SignatureVersion": "SigV4"}
    if ctx.request.tls is not None:
        tls = ctx.tls_details or {}
        if tls.get("cipherSuite"):
            data["CipherSuite"] = tls["cipherSuite"]
    data["bytesTransferredIn"] = len(ctx.request.body)
    presigned = "X-Amz-Signature=" in ctx.request.query_string
    data["AuthenticationMethod"] = "QueryString" if presigned else "AuthHeader"
    data["x-amz-id-2"] = host_id(ctx.request_id)
    data["bytesTransferredOut"] = response_bytes
    return data


def resources(ctx: RequestContext) -> list[dict[str, str]] | None:
    assert ctx.operation is not None
    bucket = ctx.wire_params.get("Bucket")
    if not bucket:
        return None
    owner = _owner(ctx, bucket)
    bucket_entry = {"type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket}"}
    if owner:
        bucket_entry = {"accountId": owner, **bucket_entry}
    key = ctx.wire_params.get("Key")
    if key is not None:
        return [{"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{bucket}/{key}"}, bucket_entry]
    if ctx.operation.name == "DeleteObjects":
        objects = (ctx.wire_params.get("Delete") or {}).get("Objects") or []
        entries = [{"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{bucket}/{o.get('Key')}"} for o in objects]
        return [*entries, bucket_entry]
    return [bucket_entry]


def _owner(ctx: RequestContext, bucket: str) -> str | None:
    if ctx.recipients:
        return ctx.recipients[0]
    doc = ctx.store.get("s3.bucket", "", bucket)
    if doc is not None:
        return str(doc["account_id"])
    if ctx.operation is not None and ctx.operation.name in ("CreateBucket", "DeleteBucket") and ctx.principal:
        return ctx.principal.account_id
    return None
