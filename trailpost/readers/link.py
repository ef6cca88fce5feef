"""A reader process's link to the writer: read calls answered here, records and the rest sent there.

``WriterLink`` is what the gateway of a reader process uses instead of group commit:

* ``run(work)`` runs the call's work (parse, authorize, dispatch, respond, record) synchronously
  in one read transaction of the reader's own connection (one snapshot for the whole call), then
  sends the records the work ``keep``s to the writer and returns only once the writer answers that
  they are durable (the writer commits them in its next group-commit batch). If the work tries to
  write (``ReadOnlyStoreError``), nothing was changed and the caller hands the call over whole.
* ``forward(request)`` hands a request to the writer and returns the writer's response.
* ``answers(ctx)`` says whether this process may answer the call itself (``placement``).

The records of every call that finishes its work in the same turn of the event loop travel in one
frame; each of those calls waits on a future of its own, which the link resolves in the very turn
that reads the writer's answer (``FrameReader`` in the protocol's ``data_received``): a call
resumes one turn after its answer arrives, where a listener task, a task per frame and a shared
future in between cost it four (docs/decisions.md, "Session 15").

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
from typing import TYPE_CHECKING, Any, TypeVar, cast

from trailpost.http import HttpRequest, HttpResponse
from trailpost.readers.frames import FrameReader, LinkClosed, frame, request_head, response_from
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
        self._transport: asyncio.Transport | None = None
        self._gone: asyncio.Future[None] | None = None  # resolved when the connection is lost
        self._pending: dict[int, asyncio.Future[tuple[dict[str, Any], bytes]]] = {}
        # The calls waiting for a records frame, by its id: each call has a future of its own (no
        # shared one to shield), so cancelling one call cancels only it.
        self._batches: dict[int, list[asyncio.Future[None]]] = {}
        self._ids = itertools.count(1)
        self._kept: list[dict[str, Any]] | None = None
        self._outbox: tuple[list[dict[str, Any]], list[asyncio.Future[None]]] | None = None
        self._closed: LinkClosed | None = None
        self.records_sent = 0
        self.forwarded = 0

    async def connect(self, path: Path, writer_pid: int, timeout: float = CONNECT_SECONDS) -> None:
        """Connect to the writer's socket at ``path``, retrying while the writer (our parent) starts."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            try:
                await loop.create_unix_connection(lambda: _LinkProtocol(self), str(path))
                break
            except (FileNotFoundError, ConnectionRefusedError):
                if loop.time() > deadline or os.getppid() != writer_pid:  # the writer is gone, or never came
                    raise
                await asyncio.sleep(0.05)

    async def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
            if self._gone is not None:
                with contextlib.suppress(ConnectionError, OSError):
                    await self._gone

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
        loop = asyncio.get_running_loop()
        if self._outbox is None:
            self._outbox = ([], [])
            loop.call_soon(self._send_outbox)
        outbox, waiters = self._outbox
        outbox.extend(records)
        mine: asyncio.Future[None] = loop.create_future()
        waiters.append(mine)
        await mine

    def _send_outbox(self) -> None:
        assert self._outbox is not None
        records, waiters = self._outbox
        self._outbox = None
        if self._closed is not None or self._transport is None:
            _fail(waiters, self._closed or LinkClosed("not connected to the writer"))
            return
        call_id = next(self._ids)
        self._batches[call_id] = waiters
        self._transport.write(frame({"op": "records", "records": records, "id": call_id}))

    async def _call(self, head: dict[str, Any], body: bytes = b"") -> tuple[dict[str, Any], bytes]:
        if self._closed is not None or self._transport is None:
            raise self._closed or LinkClosed("not connected to the writer")
        call_id = next(self._ids)
        answer: asyncio.Future[tuple[dict[str, Any], bytes]] = asyncio.get_running_loop().create_future()
        self._pending[call_id] = answer
        head["id"] = call_id
        self._transport.write(frame(head, body))
        try:
            reply, reply_body = await answer
        finally:
            self._pending.pop(call_id, None)
        if "error" in reply:
            raise RuntimeError(f"the writer could not {head['op']}: {reply['error']}")
        return reply, reply_body

    def _answered(self, head: dict[str, Any], body: bytes) -> None:
        """One answer from the writer: its calls resume in the next turn of the loop."""
        call_id = head.get("id", 0)
        waiters = self._batches.pop(call_id, None)
        if waiters is not None:
            if "error" in head:
                _fail(waiters, RuntimeError(f"the writer could not make records durable: {head['error']}"))
            else:
                for waiter in waiters:
                    if not waiter.done():
                        waiter.set_result(None)
            return
        answer = self._pending.get(call_id)
        if answer is not None and not answer.done():
            answer.set_result((head, body))

    def _lost(self, error: LinkClosed) -> None:
        if self._closed is not None:
            return
        self._closed = error
        for answer in self._pending.values():
            if not answer.done():
                answer.set_exception(error)
        for waiters in self._batches.values():
            _fail(waiters, error)
        self._batches.clear()
        if self._outbox is not None:
            _fail(self._outbox[1], error)
        log.warning("the link to the writer is gone (%s): this reader stops", error)
        self.on_lost()


def _fail(waiters: list[asyncio.Future[None]], error: BaseException) -> None:
    for waiter in waiters:
        if not waiter.done():
            waiter.set_exception(error)


class _LinkProtocol(asyncio.Protocol):
    """The reader's end of the connection: answers handed to the link as their bytes arrive."""

    def __init__(self, link: WriterLink) -> None:
        self.link = link
        self.frames = FrameReader()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.link._transport = cast(asyncio.Transport, transport)  # uvloop's transports do not subclass it
        self.link._gone = asyncio.get_running_loop().create_future()

    def data_received(self, data: bytes) -> None:
        try:
            answers = self.frames.feed(data)
        except LinkClosed as exc:  # a malformed frame ends the link like a closed one
            self.link._lost(LinkClosed(f"unreadable frame from the writer: {exc}"))
            assert self.link._transport is not None
            self.link._transport.close()
            return
        for head, body in answers:
            self.link._answered(head, body)

    def eof_received(self) -> bool:
        return False  # the writer closed its end: close ours too (``connection_lost`` follows)

    def connection_lost(self, exc: Exception | None) -> None:
        self.link._lost(LinkClosed(str(exc) if exc else "the link closed"))
        gone = self.link._gone
        if gone is not None and not gone.done():
            gone.set_result(None)
