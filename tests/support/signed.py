"""Requests botocore signs once, replayable into ``Gateway.handle`` without HTTP.

Shared by the in-process request-path tests (``tests/gateway/test_request_path_guard.py``) and
``bench/cpu_per_call.py``: the request is signed by botocore's own ``SigV4Auth`` and becomes a
factory of fresh ``HttpRequest`` objects (handlers may read a request, so each call gets its own).
"""

from __future__ import annotations

from collections.abc import Callable

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from trailpost.http import HttpRequest, read_headers

HOST = "127.0.0.1:4566"
Request = Callable[[], HttpRequest]


def signed(
    service: str, method: str, path: str, headers: dict[str, str], body: bytes, creds: Credentials, region: str
) -> Request:
    """A factory of the request botocore signs for ``service`` in ``region``."""
    aws = AWSRequest(method=method, url=f"http://{HOST}{path}", data=body, headers=headers)
    SigV4Auth(creds, service, region).add_auth(aws)
    raw = [(name.lower().encode(), str(value).encode()) for name, value in aws.headers.items()]
    raw.append((b"host", HOST.encode()))
    return lambda: HttpRequest(
        method=method,
        raw_path=path,
        query_string="",
        headers=read_headers(raw),
        body=body,
        client_host="127.0.0.1",
        client_port=5555,
        scheme="http",
        tls=None,
    )
