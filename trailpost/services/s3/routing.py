"""Which S3 operation a request names: path-style or virtual-hosted-style, then the model's routes.

Virtual-hosted rule (``bucket_from_host``): the ``Host`` header (port dropped, lower-cased) names a
bucket when it is ``<bucket>.s3.<anything>`` (the bucket is what comes before the last ``.s3.``:
``logs.example.s3.us-east-1.amazonaws.com`` -> ``logs.example``) or ``<bucket>.localhost``
(``logs.localhost:8080`` -> ``logs``). ``s3.<anything>``, ``localhost``, IP addresses and every
other name are path-style: the bucket is the first path segment. A virtual-hosted request is
routed as if its path were ``/<bucket><path>``; the SigV4 signature is still checked against the
path the client sent.

A request not signed for ``s3`` reaches S3 only when ``S3Router.claims`` it (virtual-hosted
``Host``, ``x-amz-content-sha256``, or an existing bucket as first segment), so unsigned or
mis-signed requests meant for other services keep their JSON answers.

Keys come from the raw path after ``/<bucket>/``, percent-decoded once, so ``dir/`` keeps its
trailing slash and ``a//b`` its empty segment (the generic router trims the path's ends).
"""

from __future__ import annotations

import ipaddress
from dataclasses import replace
from typing import Any

from botocore.model import OperationModel

from trailpost.http import HttpRequest, percent_decode
from trailpost.protocol.errors import UnknownOperationException
from trailpost.protocol.routing import RestRouter
from trailpost.services.s3.errors import MethodNotAllowed


def bucket_from_host(host: str) -> str | None:
    """The bucket a virtual-hosted ``Host`` names, or ``None`` (path-style); see the module docstring."""
    name = host.strip().lower()
    if name.startswith("["):
        return None
    name = name.rsplit(":", 1)[0] if name.count(":") == 1 else name
    try:
        ipaddress.ip_address(name)
        return None
    except ValueError:
        pass
    if name.startswith("s3."):
        return None
    if ".s3." in name:
        bucket = name.rsplit(".s3.", 1)[0]
        return bucket or None
    if name.endswith(".localhost"):
        return name[: -len(".localhost")] or None
    return None


def effective_path(request: HttpRequest) -> str:
    """The path-style path of ``request`` (``/<bucket>/<key>``), whatever style it came in."""
    bucket = bucket_from_host(request.headers.get("host", ""))
    if bucket is None:
        return request.raw_path
    return "/" + bucket + (request.raw_path if request.raw_path.startswith("/") else "/" + request.raw_path)


class S3Router(RestRouter):
    """``RestRouter`` over the path-style path, with keys read exactly (module docstring); a path
    that exists for other methods only is ``MethodNotAllowed`` (405), as S3 answers."""

    @staticmethod
    def claims(request: HttpRequest, store: Any) -> bool:
        """Whether a request whose signature does not name ``s3`` is still for S3 (unsigned, or signed
        for another service): it has a virtual-hosted ``Host``, an ``x-amz-content-sha256`` header, or
        a first path segment that is an existing bucket. Others keep the gateway's generic answer."""
        if "x-amz-content-sha256" in request.headers or bucket_from_host(request.headers.get("host", "")):
            return True
        first = request.raw_path.strip("/").split("/", 1)[0]
        if not first:
            return False
        try:
            return store.get("s3.bucket", "", percent_decode(first)) is not None
        except ValueError:
            return False

    def _matches_path(self, request: HttpRequest, method: str) -> bool:
        path = request.raw_path.strip("/")
        parts = path.split("/") if path else []
        return any(self._match_route(route, parts) is not None for route in self._routes.get(method, ()))

    def match(self, request: HttpRequest) -> tuple[OperationModel, dict[str, str]]:
        path = effective_path(request)
        routed = request if path == request.raw_path else replace(request, raw_path=path)
        try:
            operation, labels = super().match(routed)
        except UnknownOperationException:
            if any(self._matches_path(routed, method) for method in self._routes if method != request.method):
                kind = "OBJECT" if "/" in path.strip("/") else "BUCKET"
                raise MethodNotAllowed(fields={"Method": request.method, "ResourceType": kind}) from None
            raise
        if "Key" in labels:
            bucket_part, _, key_part = path[1:].partition("/")
            labels["Key"] = percent_decode(key_part)
            labels["Bucket"] = percent_decode(bucket_part)
        return operation, labels
