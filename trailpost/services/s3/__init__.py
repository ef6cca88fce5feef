"""Amazon S3 (rest-xml, 2006-03-01), embedded: buckets and objects on this server's disk.

Served on the same port as every other service, path-style or virtual-hosted (``routing``),
signed with SigV4 for the service ``s3`` (headers, aws-chunked bodies or presigned URLs:
``identity.sigv4`` and ``payload``). ``storage`` keeps the bytes, ``policy`` the bucket policies,
``access`` decides who may act on a bucket; ``buckets``, ``objects`` and ``listing`` hold the
handlers. Bucket calls are management events, object calls data events (``audit.s3``).
"""

from __future__ import annotations

from typing import Any

from botocore.model import OperationModel

from trailpost.http import HttpResponse
from trailpost.protocol.restxml import S3_NAMESPACE, XML_DECLARATION, RestXmlResponseSerializer
from trailpost.services.base import ServiceBinding, bind_service
from trailpost.services.s3 import buckets, listing, objects  # noqa: F401 - importing registers the handlers
from trailpost.services.s3.operations import ops
from trailpost.services.s3.routing import S3Router

ROOTS = {
    "ListBuckets": "ListAllMyBucketsResult",
    "ListObjects": "ListBucketResult",
    "ListObjectsV2": "ListBucketResult",
    "GetBucketAcl": "AccessControlPolicy",
    "DeleteObjects": "DeleteResult",
}


# Calls S3 answers 204 although the model gives them no ``responseCode``.
NO_CONTENT = frozenset({"PutBucketPolicy"})


class S3ResponseSerializer(RestXmlResponseSerializer):
    """rest-xml with S3's irregular answers: GetBucketLocation's bare ``<LocationConstraint>``
    root, 206 for a ranged GetObject/HeadObject, 204 for ``NO_CONTENT``."""

    def __init__(self) -> None:
        super().__init__(ROOTS, S3_NAMESPACE)

    def serialize(self, operation: OperationModel, result: dict[str, Any], request_id: str = "") -> HttpResponse:
        if operation.name == "GetBucketLocation":
            value = result.get("LocationConstraint") or ""
            body = f'{XML_DECLARATION}<LocationConstraint xmlns="{S3_NAMESPACE}">{value}</LocationConstraint>'
            headers = {**self.request_headers(request_id), "Content-Type": self.content_type}
            return HttpResponse(200, headers, body.encode())
        response = super().serialize(operation, result, request_id)
        if operation.name in NO_CONTENT:
            response.status = 204
        if operation.name in ("GetObject", "HeadObject") and result.get("ContentRange"):
            response.status = 206
        if operation.name == "HeadObject":
            response.headers["Content-Length"] = str(result.get("ContentLength", 0))
        return response

    def serialize_error(self, model: Any, error: Any, request_id: str = "") -> HttpResponse:
        response = super().serialize_error(model, error, request_id)
        if response.status == 304:  # Not Modified carries no body
            response.body = b""
            response.headers.pop("Content-Type", None)
        return response


def binding() -> ServiceBinding:
    bound = bind_service(ops)
    bound.router = S3Router(bound.model)
    bound.serializer = S3ResponseSerializer()
    return bound
