"""The writer's side of the reader links: a Unix socket where readers send records and requests.

``WriterEndpoint.start(path)`` listens on ``path`` (inside the data directory, mode 0600). For each
frame a reader sends it starts a task: ``records`` are staged in the writer's group commit and
answered once their batch is durable (each record gets its position there, like the writer's own);
``forward`` requests are answered by the writer's gateway exactly as if they had arrived on its own
connections. Answers go back in the order they are ready, each with its frame's ``id``.

Frames are read as their bytes arrive (``FrameReader`` in a protocol's ``data_received``) and each
starts its task there, in the turn that read it. A malformed frame closes that reader's link (the
reader then stops and the supervisor starts a new one); a failed batch answers its frames with
``error`` (the reader's calls fail, fail-closed). What a reader asked before its link closed is
still done (its records committed); ``stop`` waits for those calls.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from trailpost.readers.frames import FrameReader, LinkClosed, frame, request_from

if TYPE_CHECKING:
    from trailpost.gateway.app import Gateway

log = logging.getLogger("trailpost.readers")


class WriterEndpoint:
    """Serves the reader links of one writer gateway."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self._server: asyncio.AbstractServer | None = None
        self._links: set[_ReaderLink] = set()
        self._calls: set[asyncio.Task[None]] = set()  # frames being answered, every link's
        self.path: Path | None = None
        self.links = 0  # readers connected now

    async def start(self, path: Path) -> None:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()  # left by a writer that did not stop cleanly
        old_umask = os.umask(0o177)
        try:
            loop = asyncio.get_running_loop()
            self._server = await loop.create_unix_server(lambda: _ReaderLink(self), str(path))
        finally:
            os.umask(old_umask)
        self.path = path

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for link in list(self._links):
            link.close()
        if self._calls:  # answer (commit) what was asked before the end
            await asyncio.gather(*self._calls, return_exceptions=True)
        if self.path is not None:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()

    def _start(self, head: dict[str, Any], body: bytes, link: _ReaderLink) -> None:
        call = asyncio.get_running_loop().create_task(self._answer(head, body, link))
        self._calls.add(call)
        call.add_done_callback(self._calls.discard)

    async def _answer(self, head: dict[str, Any], body: bytes, link: _ReaderLink) -> None:
        call_id = head.get("id")
        try:
            if head.get("op") == "records":
                await self._records(head["records"])
                reply, reply_body = {"id": call_id, "ok": True}, b""
            elif head.get("op") == "forward":
                response = await self.gateway.respond_to(request_from(head["request"], body))
                reply = {"id": call_id, "status": response.status, "headers": response.headers}
                reply_body = response.body
            else:
                reply, reply_body = {"id": call_id, "error": f"unknown op {head.get('op')!r}"}, b""
        except Exception as exc:
            log.exception("could not answer a reader's %s", head.get("op"))
            reply, reply_body = {"id": call_id, "error": str(exc) or type(exc).__name__}, b""
        link.send(frame(reply, reply_body))

    async def _records(self, records: list[dict[str, Any]]) -> None:
        gateway = self.gateway
        events, commits = gateway.events, gateway.commits

        def stage() -> None:
            for record in records:
                commits.stage(events.insert, events.prepare(record))

        await commits.run(stage)


class _ReaderLink(asyncio.Protocol):
    """The writer's end of one reader's connection."""

    def __init__(self, endpoint: WriterEndpoint) -> None:
        self.endpoint = endpoint
        self.frames = FrameReader()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports do not subclass it
        self.endpoint._links.add(self)
        self.endpoint.links += 1

    def data_received(self, data: bytes) -> None:
        try:
            frames = self.frames.feed(data)
        except LinkClosed:
            log.exception("a reader link sent something unreadable; closing it")
            self.close()
            return
        for head, body in frames:
            self.endpoint._start(head, body, self)

    def eof_received(self) -> bool:
        return False  # the reader closed its end: close ours too (``connection_lost`` follows)

    def connection_lost(self, exc: Exception | None) -> None:
        if self in self.endpoint._links:
            self.endpoint._links.discard(self)
            self.endpoint.links -= 1

    def send(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()
