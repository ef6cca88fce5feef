"""Raw HTTP for gateway tests: requests built byte by byte, signed with botocore's own SigV4 signer.

``sign`` produces the headers a real SDK sends (botocore ``SigV4Auth`` at a chosen time, so a
request can be signed in the past); ``exchange`` writes the exact bytes on a socket and reads the
answer with ``http.client``; ``Reply.parsed`` reads it with botocore's response parser, the
client's view of the error.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.client import HTTPResponse
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.compat import HTTPHeaders
from botocore.credentials import Credentials
from botocore.parsers import create_parser

AMZ_DATE = "%Y%m%dT%H%M%SZ"


@dataclass
class Reply:
    """One HTTP response as received."""

    status: int
    headers: HTTPHeaders
    body: bytes

    def parsed(self, protocol: str = "rest-json") -> dict[str, Any]:
        """The response as botocore parses an error response of ``protocol``."""
        return create_parser(protocol).parse(
            {"status_code": self.status, "headers": self.headers, "body": self.body}, None
        )

    @property
    def code(self) -> str:
        return str(self.parsed()["Error"]["Code"])

    @property
    def message(self) -> str:
        return str(self.parsed()["Error"]["Message"])

    @property
    def request_id(self) -> str | None:
        return self.headers.get("x-amzn-RequestId")


@dataclass
class Request:
    """A request to build: method, target (path and query, as sent), headers, body."""

    method: str
    path: str
    query: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    @property
    def target(self) -> str:
        return self.path + (f"?{self.query}" if self.query else "")


def sign(
    request: Request,
    host: str,
    credentials: tuple[str, str] | tuple[str, str, str],
    *,
    region: str = "us-east-1",
    service: str = "outposts",
    when: datetime | None = None,
    signed_query: str | None = None,
) -> Request:
    """``request`` with ``Host``, ``X-Amz-Date`` and a SigV4 ``Authorization`` added.

    ``signed_query`` signs another spelling of the query than the one sent (as an SDK that
    normalizes the query before signing would).
    """
    key, secret, *token = credentials
    stamp = (when or datetime.now(UTC)).strftime(AMZ_DATE)
    query = request.query if signed_query is None else signed_query
    url = f"http://{host}{request.path}" + (f"?{query}" if query else "")
    headers = {**request.headers, "Host": host, "X-Amz-Date": stamp}
    if token:
        headers["X-Amz-Security-Token"] = token[0]
    aws = AWSRequest(method=request.method, url=url, data=request.body, headers=headers)
    aws.context["timestamp"] = stamp
    auth = SigV4Auth(Credentials(key, secret, token[0] if token else None), service, region)
    signature = auth.signature(auth.string_to_sign(aws, auth.canonical_request(aws)), aws)
    signed = auth.signed_headers(auth.headers_to_sign(aws))
    headers["Authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={auth.scope(aws)}, SignedHeaders={signed}, Signature={signature}"
    )
    return Request(request.method, request.path, request.query, headers, request.body)


def encode(request: Request, *, content_length: bool = True) -> bytes:
    """The request's bytes on the wire (HTTP/1.1; ``Content-Length`` added unless told not to)."""
    lines = [f"{request.method} {request.target} HTTP/1.1".encode("latin-1")]
    headers = dict(request.headers)
    if content_length and not any(k.lower() in ("content-length", "transfer-encoding") for k in headers):
        headers["Content-Length"] = str(len(request.body))
    for name, value in headers.items():
        lines.append(name.encode("latin-1") + b": " + value.encode("latin-1"))
    return b"\r\n".join(lines) + b"\r\n\r\n" + request.body


def read_reply(sock: socket.socket, method: str = "GET") -> Reply:
    """Read one response from ``sock`` (a ``100 Continue`` before it is skipped)."""
    response = HTTPResponse(sock, method=method)
    response.begin()
    body = response.read()
    headers = HTTPHeaders.from_pairs(list(response.getheaders()))
    return Reply(response.status, headers, body)


def exchange(port: int, data: bytes, method: str = "GET", timeout: float = 10.0) -> Reply:
    """Send ``data`` on a new connection and read the response."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        return read_reply(sock, method)


def send(port: int, request: Request, **options: Any) -> Reply:
    """Encode and send ``request`` on a new connection."""
    return exchange(port, encode(request, **options), request.method)
