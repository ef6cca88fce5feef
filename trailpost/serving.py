"""How a gateway runs under uvicorn, in the writer and in each reader process: the config, the server, the protocol.

``uvicorn_config`` runs a gateway on uvloop and httptools (docs/decisions.md, "ASGI server"), with
TLS when ``--tls-cert`` is given. ``GatewayServer`` returns normally after SIGINT/SIGTERM and tells
``on_exit`` at once; ``request_exit`` stops it the same way from inside (the writer when its store
lost durability, a reader when its link to the writer is lost). A request httptools cannot parse
(raw non-ASCII in the request line, control bytes in a header, not HTTP at all) is answered 400
``SerializationException`` in the same JSON form as every other error, with a request id, and its
connection closed (``_HttpProtocol``), which also carries each TLS connection's facts into the ASGI
``tls`` extension.

Kept apart from ``server`` (which builds the writer: console, delivery, digests) so that a reader
process loads only what it runs (docs/decisions.md, "What a reader process loads").
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import uuid
from collections.abc import Callable, Iterator
from types import FrameType
from typing import TYPE_CHECKING

import orjson
import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from trailpost.config import Settings
from trailpost.tls import connection_extension, server_context

if TYPE_CHECKING:
    from trailpost.gateway.app import Gateway

GRACEFUL_SECONDS = 3


def uvicorn_config(gateway: Gateway, settings: Settings) -> uvicorn.Config:
    """How uvicorn runs a gateway (the writer's or a reader's): uvloop, httptools, trailpost's edge."""
    tls = server_context(settings.tls_cert, settings.tls_key) if settings.tls_cert is not None else None
    return uvicorn.Config(
        gateway,
        loop="uvloop",
        http=_HttpProtocol,
        lifespan="on",
        access_log=False,
        log_level=settings.log_level,
        server_header=False,
        date_header=True,
        timeout_graceful_shutdown=GRACEFUL_SECONDS,
        ssl_context_factory=(lambda _config, _default: tls) if tls is not None else None,
        # uvicorn would otherwise rewrite the client address from X-Forwarded-For for any peer on
        # 127.0.0.1; trailpost decides that itself, only for --trusted-proxies (gateway.context).
        proxy_headers=False,
    )


class GatewayServer(uvicorn.Server):
    """uvicorn's server, returning normally after SIGINT/SIGTERM instead of re-raising the signal;
    ``on_exit`` (the writer's readers) is told at once."""

    on_exit: Callable[[], None] | None = None

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        if self.on_exit is not None:
            self.on_exit()

    def request_exit(self) -> None:
        """Stop as after SIGTERM (safe from any thread: uvicorn polls the flag): the writer when its
        store lost durability, a reader when its link to the writer is lost."""
        self.should_exit = True
        if self.on_exit is not None:
            self.on_exit()


class ReaderServer(GatewayServer):
    """A reader process's server: it also stops when its link to the writer is lost."""


class _HttpProtocol(HttpToolsProtocol):
    """httptools' protocol, answering a request it cannot parse as trailpost answers any error:
    JSON with ``x-amzn-ErrorType`` and ``x-amzn-RequestId``, then closing the connection; on TLS
    connections every request's scope carries the ASGI ``tls`` extension."""

    _tls: dict | None = None

    # uvicorn's HttpToolsProtocol narrows asyncio's ``BaseTransport`` to ``Transport`` (with its own ignore[override])
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        # asyncio and uvloop call this once the TLS handshake is done, so the facts are final.
        self._tls = connection_extension(transport.get_extra_info("ssl_object"))

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._tls is not None:
            self.scope["extensions"] = {"tls": self._tls}

    def send_400_response(self, msg: str) -> None:
        body = orjson.dumps({"__type": "SerializationException", "message": f"Malformed HTTP request: {msg}"})
        headers = [
            *self.server_state.default_headers,
            (b"content-type", b"application/json"),
            (b"x-amzn-ErrorType", b"SerializationException"),
            (b"x-amzn-RequestId", str(uuid.uuid4()).encode()),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]
        head = b"".join(name + b": " + value + b"\r\n" for name, value in headers)
        self.transport.write(b"HTTP/1.1 400 Bad Request\r\n" + head + b"\r\n" + body)
        self.transport.close()
