"""Pre-signed requests for wrk: captured from a real boto3 call, re-signed by botocore, written to a file.

A benchmark request starts as a real call: ``capture`` makes it with a boto3 client and keeps the
request botocore sent (``before-send``: method, URL, headers, body) together with the parsed
answer. ``resign`` turns such a template into another signed request: the same method, path and
headers with a new SigV4 signature (``botocore.auth.SigV4Auth``, ``S3SigV4Auth`` for S3) for
other credentials, another region and, optionally, another body or path: that is how writes get
distinct variants (a CreateSite per account and region, a CreateTrail per trail name).
``write_requests`` writes raw HTTP/1.1 requests, each preceded by its length, into the file that
``bench/replay.lua`` cycles through.

Rules: a SigV4 signature is accepted for 15 minutes, so request files are signed anew for every
wrk run (``SignedRequest.signed_at`` says when); the Host header names the server the file is for.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

REPLAY_LUA = Path(__file__).resolve().parent / "replay.lua"
_SIGNATURE_HEADERS = ("authorization", "x-amz-date", "x-amz-security-token", "x-amz-content-sha256", "host")
_DROPPED = ("content-length", "expect", "transfer-encoding")


@dataclass(frozen=True)
class SignedRequest:
    """One HTTP request as botocore signed it."""

    method: str
    url: str
    headers: dict[str, str]
    body: bytes
    signed_at: float = field(default_factory=time.time)

    @property
    def path(self) -> str:
        parts = urlsplit(self.url)
        return parts.path + (f"?{parts.query}" if parts.query else "")

    def raw(self) -> bytes:
        """The request as it goes on the wire (HTTP/1.1, keep-alive, with Content-Length)."""
        host = urlsplit(self.url).netloc
        lines = [f"{self.method} {self.path} HTTP/1.1", f"Host: {host}"]
        lines += [f"{k}: {v}" for k, v in self.headers.items() if k.lower() not in ("host", *_DROPPED)]
        lines.append(f"Content-Length: {len(self.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + self.body


@dataclass
class Captured:
    """A real call's request (the template) and its parsed answer."""

    request: SignedRequest
    response: dict[str, Any]


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def capture(client: Any, operation: str, **params: Any) -> Captured:
    """Call ``operation`` (a boto3 method name, e.g. ``list_sites``) and keep the request botocore sent."""
    seen: dict[str, Any] = {}

    def grab(request: Any, **_: Any) -> None:
        seen["request"] = request

    event = f"before-send.{client.meta.service_model.service_id.hyphenize()}"
    client.meta.events.register(event, grab)
    try:
        response = getattr(client, operation)(**params)
    finally:
        client.meta.events.unregister(event, grab)
    sent = seen["request"]
    body = sent.body
    if hasattr(body, "read"):  # a file-like body (S3 PutObject)
        body.seek(0)
        body = body.read()
    body = body if isinstance(body, bytes) else (body or "").encode()
    headers = {_text(k): _text(v) for k, v in sent.headers.items() if k.lower() not in _DROPPED}
    return Captured(SignedRequest(sent.method, sent.url, headers, body), response)


def resign(
    template: SignedRequest,
    *,
    access_key: str,
    secret_key: str,
    region: str,
    service: str,
    body: bytes | None = None,
    path: str | None = None,
    endpoint: str | None = None,
) -> SignedRequest:
    """``template`` signed anew (now) for these credentials and region, optionally with another body,
    path or endpoint (``http://host:port``)."""
    parts = urlsplit(template.url)
    url = f"{endpoint or f'{parts.scheme}://{parts.netloc}'}{path if path is not None else template.path}"
    payload = template.body if body is None else body
    headers = {k: v for k, v in template.headers.items() if k.lower() not in _SIGNATURE_HEADERS}
    request = AWSRequest(method=template.method, url=url, data=payload, headers=headers)
    signer = S3SigV4Auth if service == "s3" else SigV4Auth
    signer(Credentials(access_key, secret_key), service, region).add_auth(request)
    signed = {k: _text(v) for k, v in request.headers.items() if k.lower() not in _DROPPED}
    return SignedRequest(template.method, url, signed, payload)


def write_requests(path: Path, requests: Iterable[SignedRequest]) -> int:
    """Write the requests for ``bench/replay.lua`` (length line, raw request); returns how many."""
    count = 0
    with open(path, "wb") as out:
        for request in requests:
            raw = request.raw()
            out.write(f"{len(raw)}\n".encode() + raw)
            count += 1
    return count
