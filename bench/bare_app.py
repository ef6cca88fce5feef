"""The apps the server-stack benchmark (``bench/server_stack.py``) serves under each ASGI server.

``app`` is the bare HTTP ceiling: a raw ASGI callable with no framework that drains the request
body and answers every path with the same small JSON (``BODY``, 44 bytes) plus content-type and
content-length headers, exactly like the reference app of perf-baselines.md §1. It implements
the lifespan protocol as a no-op so that every server can run it with lifespan on.

``trailpost_gateway`` is a factory (granian ``--factory``) for trailpost's real ASGI app,
``trailpost.server.create_app(settings).gateway``, built from the ``TRAILPOST_*`` environment
(data dir, root key, log level) in the server's worker process. It wires the same lifespan hooks
as ``trailpost serve`` (background runner start, store close), so under granian trailpost does the
same background work as under uvicorn, and settles the garbage collector after them as it does
(``trailpost.collector``); only the HTTP server around the gateway differs.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

BODY = b'{"ok":true,"service":"outposts","items":[]}'
HEADERS = [
    (b"content-type", b"application/json"),
    (b"content-length", str(len(BODY)).encode()),
]


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    """The bare ASGI app: drain the body, answer ``BODY`` with status 200."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    while True:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body"):
            break
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})


def trailpost_gateway() -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    """trailpost's ASGI gateway, configured from ``TRAILPOST_*`` like ``trailpost serve`` is."""
    from trailpost import collector
    from trailpost.config import Settings
    from trailpost.server import create_app

    settings = Settings.load()
    logging.basicConfig(level=settings.log_level.upper())
    gateway = create_app(settings).gateway
    gateway.on_startup.append(collector.settle)  # last, as ``trailpost serve`` does
    return gateway
