"""The writer's side of the reader links: a Unix socket where readers send records and requests.

``WriterEndpoint.start(path)`` listens on ``path`` (inside the data directory, mode 0600). For each
frame a reader sends it starts a task: ``records`` are staged in the writer's group commit and
answered once their batch is durable (each record gets its position there, like the writer's own);
``forward`` requests are answered by the writer's gateway exactly as if they had arrived on its own
connections. Answers go back in the order they are ready, each with its frame's ``id``.

A malformed frame closes that reader's link (the reader then stops and the supervisor starts a
new one); a failed batch answers its frames with ``error`` (the reader's calls fail, fail-closed).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trailpost.readers.frames import LinkClosed, frame, read_frame, request_from

if TYPE_CHECKING:
    from trailpost.gateway.app import Gateway

log = logging.getLogger("trailpost.readers")


class WriterEndpoint:
    """Serves the reader links of one writer gateway."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self._server: asyncio.AbstractServer | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.path: Path | None = None
        self.links = 0  # readers connected now

    async def start(self, path: Path) -> None:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()  # left by a writer that did not stop cleanly
        old_umask = os.umask(0o177)
        try:
            self._server = await asyncio.start_unix_server(self._serve, str(path))
        finally:
            os.umask(old_umask)
        self.path = path

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for task in list(self._tasks):
            task.cancel()
        if self.path is not None:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.links += 1
        calls: set[asyncio.Task[None]] = set()
        try:
            while True:
                head, body = await read_frame(reader)
                call = asyncio.get_running_loop().create_task(self._answer(head, body, writer))
                calls.add(call)
                call.add_done_callback(calls.discard)
        except LinkClosed:
            pass
        except Exception:
            log.exception("a reader link sent something unreadable; closing it")
        finally:
            self.links -= 1
            self._tasks.discard(task)
            if calls:
                await asyncio.gather(*calls, return_exceptions=True)  # answer what was asked before the end
            writer.close()

    async def _answer(self, head: dict[str, Any], body: bytes, writer: asyncio.StreamWriter) -> None:
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
        if not writer.is_closing():
            writer.write(frame(reply, reply_body))

    async def _records(self, records: list[dict[str, Any]]) -> None:
        gateway = self.gateway
        events, commits = gateway.events, gateway.commits

        def stage() -> None:
            for record in records:
                commits.stage(events.insert, events.prepare(record))

        await commits.run(stage)
