"""The S3 request body after SigV4: ``x-amz-content-sha256`` checked, aws-chunked bodies decoded.

Runs right after the signature is verified (``gateway.authenticate``), before the handler sees
the body. By ``x-amz-content-sha256``:

* a hex SHA-256: must be the hash of the body, else ``XAmzContentSHA256Mismatch``;
* ``UNSIGNED-PAYLOAD``: taken as is;
* ``STREAMING-UNSIGNED-PAYLOAD-TRAILER``: aws-chunked chunks (``<hex size>\\r\\n<data>\\r\\n``,
  ending with a zero chunk), then trailer lines (``x-amz-checksum-crc32:<b64>``) and an empty line;
* ``STREAMING-AWS4-HMAC-SHA256-PAYLOAD``: each chunk carries ``;chunk-signature=<sig>``, the
  HMAC of ``AWS4-HMAC-SHA256-PAYLOAD\\n<date>\\n<scope>\\n<previous signature>\\n<sha256("")>\\n
  <sha256(chunk)>`` chained from the request's signature (``SignatureDoesNotMatch`` if one is wrong);
* ``STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER``: the same, then the trailers, signed by
  ``x-amz-trailer-signature`` over ``AWS4-HMAC-SHA256-TRAILER\\n<date>\\n<scope>\\n<previous
  signature>\\n<sha256(trailer lines)>``;
* anything else: ``InvalidArgument``. A header-signed request without the header is
  ``InvalidRequest`` (S3 requires it).

A decoded body replaces the request's body; ``x-amz-decoded-content-length`` must equal its
length (``IncompleteBody``); the trailers become request headers (so ``x-amz-checksum-*``
trailers are verified by PutObject like headers) and ``aws-chunked`` leaves ``Content-Encoding``.
A body (decoded) above ``max_object_bytes`` is ``EntityTooLarge``.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from trailpost.http import HttpRequest
from trailpost.identity.sigv4 import SignedRequest, signing_key
from trailpost.services.s3.errors import (
    EntityTooLarge,
    IncompleteBody,
    InvalidArgument,
    InvalidRequest,
    SignatureDoesNotMatch,
    XAmzContentSHA256Mismatch,
)

UNSIGNED = "UNSIGNED-PAYLOAD"
STREAMING_UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
STREAMING_SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
STREAMING_SIGNED_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
_HEX_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def check_payload(request: HttpRequest, signed: SignedRequest, secret: str, max_bytes: int) -> None:
    """Check (and for aws-chunked, decode in place) the body of an S3 request; module docstring."""
    declared = signed.payload_hash
    if declared is None:
        raise InvalidRequest("Missing required header for this request: x-amz-content-sha256")
    if _HEX_SHA256.match(declared):
        computed = hashlib.sha256(request.body).hexdigest()
        if computed != declared:
            raise XAmzContentSHA256Mismatch(
                fields={"ClientComputedContentSHA256": declared, "S3ComputedContentSHA256": computed}
            )
    elif declared == UNSIGNED:
        pass
    elif declared in (STREAMING_UNSIGNED_TRAILER, STREAMING_SIGNED, STREAMING_SIGNED_TRAILER):
        _decode(request, signed, secret, declared)
    else:
        raise InvalidArgument(
            "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, "
            "STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER or a valid sha256 value.",
            fields={"ArgumentName": "x-amz-content-sha256", "ArgumentValue": declared},
        )
    if len(request.body) > max_bytes:
        raise EntityTooLarge(fields={"ProposedSize": len(request.body), "MaxSizeAllowed": max_bytes})


def _hmac(key: bytes, text: str) -> str:
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def _decode(request: HttpRequest, signed: SignedRequest, secret: str, mode: str) -> None:
    signed_chunks = mode in (STREAMING_SIGNED, STREAMING_SIGNED_TRAILER)
    key = signing_key(secret, signed.date, signed.region, signed.service)
    previous = signed.signature
    body = request.body
    position = 0
    parts: list[bytes] = []
    while True:
        end = body.find(b"\r\n", position)
        if end < 0:
            raise IncompleteBody()
        header = body[position:end].decode("latin-1")
        size_text, _, extension = header.partition(";")
        try:
            size = int(size_text.strip(), 16)
        except ValueError:
            raise IncompleteBody("The chunk size is not a hexadecimal number") from None
        data = body[end + 2 : end + 2 + size]
        if len(data) != size:
            raise IncompleteBody()
        if signed_chunks:
            name, _, signature = extension.strip().partition("=")
            expected = _hmac(
                key,
                "\n".join(
                    (
                        "AWS4-HMAC-SHA256-PAYLOAD",
                        signed.amz_date,
                        signed.credential_scope,
                        previous,
                        EMPTY_SHA256,
                        hashlib.sha256(data).hexdigest(),
                    )
                ),
            )
            if name != "chunk-signature" or not hmac.compare_digest(expected, signature):
                raise SignatureDoesNotMatch()
            previous = expected
        position = end + 2 + size
        if size == 0:
            break
        parts.append(data)
        if body[position : position + 2] != b"\r\n":
            raise IncompleteBody()
        position += 2
    trailers = _trailers(body[position:].decode("latin-1"))
    announced = [n.strip().lower() for n in request.headers.get("x-amz-trailer", "").split(",") if n.strip()]
    if mode == STREAMING_SIGNED_TRAILER:
        signature = trailers.pop("x-amz-trailer-signature", "")
        text = "".join(f"{name}:{value}\n" for name, value in trailers.items())
        expected = _hmac(
            key,
            "\n".join(
                (
                    "AWS4-HMAC-SHA256-TRAILER",
                    signed.amz_date,
                    signed.credential_scope,
                    previous,
                    hashlib.sha256(text.encode("latin-1")).hexdigest(),
                )
            ),
        )
        if not hmac.compare_digest(expected, signature):
            raise SignatureDoesNotMatch()
    for name in announced:
        if name not in trailers:
            raise IncompleteBody(f"The trailer {name} was announced in x-amz-trailer but not sent")
    decoded = b"".join(parts)
    length = request.headers.get("x-amz-decoded-content-length")
    if length is not None and (not length.strip().isdigit() or int(length) != len(decoded)):
        raise IncompleteBody()
    request.body = decoded
    request.headers.update(trailers)
    encodings = [e.strip() for e in request.headers.get("content-encoding", "").split(",") if e.strip()]
    remaining = [e for e in encodings if e.lower() != "aws-chunked"]
    if remaining:
        request.headers["content-encoding"] = ",".join(remaining)
    else:
        request.headers.pop("content-encoding", None)


def _trailers(text: str) -> dict[str, str]:
    """``name:value`` lines up to the empty line that ends the body."""
    trailers = {}
    for line in text.split("\r\n"):
        if not line.strip():
            continue
        name, colon, value = line.partition(":")
        if not colon:
            raise IncompleteBody("A trailer line is not name:value")
        trailers[name.strip().lower()] = value.strip()
    return trailers
