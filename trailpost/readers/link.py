"""A reader process's link to the writer: read calls answered here, records and the rest sent there.

``WriterLink`` is what the gateway of a reader process uses instead of group commit:

* ``run(work)`` runs the call's work (parse, authorize, dispatch, respond, record) synchronously
  in one read transaction of the reader's own connection (one snapshot for the whole call), then
  sends the records the work ``keep``s to the writer and returns only once the writer answers that
  they are durable (the writer commits them in its next group-commit batch). If the work tries to
  write (``ReadOnlyStoreError``), nothing was changed and the caller hands the call over whole.
* ``forward(request)`` hands a request to the writer and returns the writer's response.
* ``answers(ctx)`` says whether this process may answer the call itself (``placement``).

If the writer goes away (it stopped, or crashed), every call in flight fails with ``LinkClosed``
(the gateway answers InternalFailure: nothing unacknowledged is lost, since no record was
acknowledged), and ``on_lost`` is called, which stops the reader process.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from trailpost.http import HttpRequest, HttpResponse
from trailpost.readers.frames import LinkClosed, frame, read_frame, request_head, response_from
from trailpost.readers.placement import answers_locally
from trailpost.store.sqlite import SqliteStateStore

if TYPE_CHECKING:
    from trailpost.gateway.context import RequestContext

T = TypeVar("T")
log = logging.getLogger("trailpost.readers")
CONNECT_SECONDS = 30.0


class WriterLink:
    """One reader's connection to the writer, shared by all its calls."""

    def __init__(self, store: SqliteStateStore, *, throttled_lookups: bool = False) -> None:
        self.store = store
        self.throttled_lookups = throttled_lookups
        self.on_lost: Callable[[], None] = lambda: None
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._pending: dict[int, asyncio.Future[tuple[dict[str, Any], bytes]]] = {}
        self._ids = itertools.count(1)
        self._kept: list[dict[str, Any]] | None = None
        self._outbox: tuple[list[dict[str, Any]], asyncio.Future[None]] | None = None
        self._listener: asyncio.Task[None] | None = None
        self._closed: LinkClosed | None = None
        self.records_sent = 0
        self.forwarded = 0

    async def connect(self, path: Path, writer_pid: int, timeout: float = CONNECT_SECONDS) -> None:
        """Connect to the writer's socket at ``path``, retrying while the writer (our parent) starts."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            try:
                self._reader, self._writer = await asyncio.open_unix_connection(str(path))
                break
            except (FileNotFoundError, ConnectionRefusedError):
                if loop.time() > deadline or os.getppid() != writer_pid:  # the writer is gone, or never came
                    raise
                await asyncio.sleep(0.05)
        self._listener = loop.create_task(self._listen(), name="trailpost-writer-link")

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await self._writer.wait_closed()
        if self._listener is not None:
            self._listener.cancel()

    # -- what the gateway uses ----------------------------------------------------------------------

    def answers(self, ctx: RequestContext) -> bool:
        return answers_locally(ctx, throttled_lookups=self.throttled_lookups)

    async def run(self, work: Callable[[], T], *, isolated: bool = False) -> T:
        """``work`` in one read transaction; then its records made durable by the writer."""
        del isolated  # the gateway's work isolates its handler itself; nothing here is written
        store = self.store
        with store.lock:
            connection = store.connection
            connection.execute("BEGIN")
            self._kept = []
            try:
                result = work()
            finally:
                kept, self._kept = self._kept, None
                if connection.in_transaction:
                    connection.execute("COMMIT")  # ends the snapshot; nothing was written
        if kept:
            await self._durable(kept)
            self.records_sent += len(kept)
        return result

    def keep(self, record: dict[str, Any]) -> None:
        """Have ``record`` made durable by the writer before the call that ``run`` runs is answered."""
        assert self._kept is not None, "keep() is for work that WriterLink.run is running"
        self._kept.append(record)

    async def forward(self, request: HttpRequest) -> HttpResponse:
        """The writer's response to ``request``."""
        head, body = await self._call({"op": "forward", "request": request_head(request)}, request.body)
        self.forwarded += 1
        return response_from(head, body)

    # -- the wire ---------------------------------------------------------------------------------

    async def _durable(self, records: list[dict[str, Any]]) -> None:
        """Wait until the writer has made ``records`` durable. The records of every call that gets
        here in the same turn of the event loop travel in one frame (one batch for the writer)."""
        if self._outbox is None:
            self._outbox = ([], asyncio.get_running_loop().create_future())
            asyncio.get_running_loop().call_soon(self._send_outbox)
        outbox, done = self._outbox
        outbox.extend(records)
        await asyncio.shield(done)

    def _send_outbox(self) -> None:
        assert self._outbox is not None
        records, done = self._outbox
        self._outbox = None

        def settle(call: asyncio.Task[tuple[dict[str, Any], bytes]]) -> None:
            if call.cancelled():
                done.set_exception(LinkClosed("the link was closed"))
            elif (error := call.exception()) is not None:
                done.set_exception(error)
            else:
                done.set_result(None)

        call = asyncio.get_running_loop().create_task(self._call({"op": "records", "records": records}))
        call.add_done_callback(settle)

    async def _call(self, head: dict[str, Any], body: bytes = b"") -> tuple[dict[str, Any], bytes]:
        if self._closed is not None or self._writer is None:
            raise self._closed or LinkClosed("not connected to the writer")
        call_id = next(self._ids)
        answer: asyncio.Future[tuple[dict[str, Any], bytes]] = asyncio.get_running_loop().create_future()
        self._pending[call_id] = answer
        head["id"] = call_id
        self._writer.write(frame(head, body))
        try:
            reply, reply_body = await answer
        finally:
            self._pending.pop(call_id, None)
        if "error" in reply:
            raise RuntimeError(f"the writer could not {head['op']}: {reply['error']}")
        return reply, reply_body

    async def _listen(self) -> None:
        assert self._reader is not None
        try:
            while True:
                head, body = await read_frame(self._reader)
                answer = self._pending.get(head.get("id", 0))
                if answer is not None and not answer.done():
                    answer.set_result((head, body))
        except LinkClosed as exc:
            self._lost(exc)
        except asyncio.CancelledError:
            self._lost(LinkClosed("the link was closed"))
            raise
        except Exception as exc:  # noqa: BLE001 - a malformed frame ends the link like a closed one
            self._lost(LinkClosed(f"unreadable frame from the writer: {exc}"))

    def _lost(self, error: LinkClosed) -> None:
        if self._closed is not None:
            return
        self._closed = error
        for answer in self._pending.values():
            if not answer.done():
                answer.set_exception(error)
        log.warning("the link to the writer is gone (%s): this reader stops", error)
        self.on_lost()
