"""The wire between a reader process and the writer: frames, and requests and responses in them.

A frame is ``u32 head length, u32 body length`` (big-endian), then the head (a JSON object) and
the body (raw bytes). Every frame a reader sends carries an ``id``; the writer's answer carries the
same ``id``, so a reader may have many calls in flight on one connection, answered in any order.

Heads a reader sends: ``{"id", "op": "records", "records": [...]}`` (CloudTrail records to make
durable; answered ``{"id", "ok": true}`` once their batch is durable, or ``{"id", "error": ...}``)
and ``{"id", "op": "forward", "request": {...}}`` with the request body as the frame's body
(answered ``{"id", "status", "headers"}`` with the response body).

Both ends read frames as the bytes arrive (``FrameReader``, fed by an ``asyncio.Protocol``'s
``data_received``), so an answer resolves its waiting calls in the loop turn that read it: no task
per link wakes first to read it (docs/decisions.md, "Session 15").
"""

from __future__ import annotations

import struct
from typing import Any

import orjson

from trailpost.http import HttpRequest, HttpResponse
from trailpost.tls import TlsInfo

_HEADER = struct.Struct(">II")
MAX_HEAD = 64 * 1024 * 1024  # a head holds records (each at most 256 KB) or a request's headers


class LinkClosed(ConnectionError):
    """The other end of a reader-writer link went away."""


def frame(head: dict[str, Any], body: bytes = b"") -> bytes:
    """One frame: ``head`` as JSON and ``body`` as they are."""
    data = orjson.dumps(head)
    return _HEADER.pack(len(data), len(body)) + data + body


class FrameReader:
    """The frames of one link's byte stream, taken out as its bytes arrive."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[tuple[dict[str, Any], bytes]]:
        """The frames ``data`` completes, in order (the bytes of a frame not yet whole are kept).

        ``LinkClosed`` if the stream is out of step: a head too large or not a JSON object. The link
        is then unusable (nothing says where the next frame starts).
        """
        buffer = self._buffer
        buffer += data
        frames: list[tuple[dict[str, Any], bytes]] = []
        start, size = 0, len(buffer)
        while size - start >= _HEADER.size:
            head_size, body_size = _HEADER.unpack_from(buffer, start)
            if head_size > MAX_HEAD:
                raise LinkClosed(f"a frame head of {head_size} bytes: the link is out of step")
            head_end = start + _HEADER.size + head_size
            end = head_end + body_size
            if end > size:
                break
            try:
                head = orjson.loads(buffer[start + _HEADER.size : head_end])
            except orjson.JSONDecodeError as exc:
                raise LinkClosed(f"a frame head that is not JSON ({exc})") from None
            if not isinstance(head, dict):
                raise LinkClosed(f"a frame head that is not a JSON object: {type(head).__name__}")
            frames.append((head, bytes(buffer[head_end:end])))
            start = end
        if start:
            del buffer[:start]
        return frames

    @property
    def pending(self) -> int:
        """Bytes of a frame not yet whole."""
        return len(self._buffer)


def request_head(request: HttpRequest) -> dict[str, Any]:
    """What the writer needs to answer ``request`` as if it had read it itself (the body goes apart)."""
    return {
        "method": request.method,
        "raw_path": request.raw_path,
        "query_string": request.query_string,
        "headers": request.headers,
        "client_host": request.client_host,
        "client_port": request.client_port,
        "scheme": request.scheme,
        "tls": [request.tls.version, request.tls.cipher_suite] if request.tls is not None else None,
        "verified": request.verified,
    }


def request_from(head: dict[str, Any], body: bytes) -> HttpRequest:
    """The request a reader forwarded (never a console-built one: ``console`` stays false); ``verified``
    when the reader checked its signature (the writer then checks everything else again)."""
    tls = head.get("tls")
    return HttpRequest(
        method=head["method"],
        raw_path=head["raw_path"],
        query_string=head["query_string"],
        headers=dict(head["headers"]),
        body=body,
        client_host=head["client_host"],
        client_port=int(head["client_port"]),
        scheme=head["scheme"],
        tls=TlsInfo(tls[0], tls[1]) if tls else None,
        verified=bool(head.get("verified")),
    )


def response_from(head: dict[str, Any], body: bytes) -> HttpResponse:
    return HttpResponse(int(head["status"]), dict(head["headers"]), body)
