"""Group commit: the work of concurrent requests shares one transaction and one durable commit.

A request's work (its state changes and its CloudTrail event) runs synchronously on the event
loop inside the currently open batch transaction, under its own savepoint; the request then
waits until the batch is durable. A dedicated committer thread, handed each batch through a
queue, commits it (``COMMIT``: the batch's pages are written to the WAL, not yet synced), hands
the connection back to the loop at once, and only then makes the WAL durable (``sync``: an
fdatasync of the WAL file, outside the connection's lock); when that is done, one loop callback
resolves all the batch's waiters (no executor future per batch). So the next batch runs its work
while the previous one is being synced: the fsync is no longer part of the cycle. Requests that
arrive meanwhile join the next batch, so the batch size grows with the load by itself.

Why acknowledging after ``sync`` is as durable as ``synchronous=FULL``: a batch is acknowledged
only after an fdatasync of the WAL that began after its ``COMMIT`` returned, and the WAL is
append-only between checkpoints (SQLite's ``NORMAL`` mode syncs the WAL before and the database
after every checkpoint, before the WAL can be reused). Anything a request read from an earlier,
not yet synced batch is durable by the time that request is acknowledged: its own batch was
committed later, and its sync covers every frame before it.

Failure rules (fail-closed):
* work that raises is rolled back to its savepoint and its exception propagates; the batch goes on;
* what work ``stage``s is written by the committer thread just before the commit; if that fails,
  the batch is rolled back and every request in it fails;
* work run with ``isolated=False`` has no savepoint of its own (it saves two statements and the
  savepoint's page journaling per request; the gateway, which isolates the handler itself, uses it):
  if it raises anyway, the whole batch is rolled back and every request in it fails;
* if the engine itself abandons the transaction (SQLite rolls back on a full disk or an I/O
  error), every request of the batch fails with ``CommitFailed``: none of them is acknowledged;
* if the commit fails, the batch is rolled back and every request in it fails;
* if the sync fails (an I/O error), every request of the batch fails with the store's
  ``DurabilityLost``: its effects are committed but not known to be durable, so none of them is
  acknowledged; the store then refuses every later batch (``begin`` and ``sync`` raise it), those
  already committed behind it included, and the server stops (``store.base.DurabilityLost``).
Nothing is acknowledged that is not durable, and no state change survives without its event.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from trailpost.store.base import DurabilityLost

T = TypeVar("T")
log = logging.getLogger("trailpost.store")


class Transactional(Protocol):
    """What group commit needs of a database: explicit batch control and savepoints."""

    @property
    def in_transaction(self) -> bool: ...

    def begin(self) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...

    def sync(self) -> None: ...

    def transaction(self) -> AbstractContextManager[None]: ...


class CommitFailed(Exception):
    """The batch this work belonged to could not be committed; its effects were rolled back."""


@dataclass
class _Batch:
    waiters: list[asyncio.Future[None]] = field(default_factory=list)
    failed: Exception | None = None
    staged: dict[Callable[[list[Any]], None], list[Any]] = field(default_factory=dict)

    def fail(self, error: Exception) -> None:
        self.failed = error
        for waiter in self.waiters:
            if not waiter.done():
                waiter.set_exception(error)


class GroupCommit:
    """Runs work items in shared transactions and resolves them when their batch is durable."""

    def __init__(self, database: Transactional) -> None:
        self.database = database
        self._jobs: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._thread_lock = threading.Lock()
        self._batch: _Batch | None = None
        self._committing: object | None = None  # the batch the committer thread holds the connection for
        self._turns: list[asyncio.Future[None]] = []  # calls waiting for the committer to release the connection
        self.commits = 0
        self.batched = 0

    async def run(self, work: Callable[[], T], *, isolated: bool = True) -> T:
        """Run ``work`` in the open batch and return its result once the batch is committed.

        ``work`` must not await. It runs under a savepoint: if it raises, its own effects are
        rolled back, the batch goes on without it, and the exception propagates at once. With
        ``isolated=False`` there is no savepoint: if ``work`` raises, the batch is rolled back and
        fails as a whole (the exception propagates to this caller, ``CommitFailed`` to the others).
        """
        loop = asyncio.get_running_loop()
        while self._committing is not None:
            # Wait for the connection with a future of this call's own (cancelling the call cancels
            # only it), resolved with the others when the committer hands the connection back.
            turn: asyncio.Future[None] = loop.create_future()
            self._turns.append(turn)
            await turn
        if self._batch is None:
            self.database.begin()
            self._batch = _Batch()
            loop.call_soon(self._flush, self._batch)
        batch = self._batch
        staged = {sink: len(items) for sink, items in batch.staged.items()} if isolated else None
        try:
            if isolated:
                with self.database.transaction():
                    result = work()
            else:
                result = work()
        except BaseException as exc:
            if staged is not None:  # what the failed work staged goes with its savepoint
                for sink in list(batch.staged):
                    del batch.staged[sink][staged.get(sink, 0) :]
            if not isolated or not self.database.in_transaction:
                self._batch = None
                self.database.rollback()
                batch.fail(CommitFailed(f"the batch transaction was rolled back: {exc}"))
            raise
        done: asyncio.Future[None] = loop.create_future()
        batch.waiters.append(done)
        await done
        return result

    def stage(self, sink: Callable[[list[Any]], None], item: Any) -> None:
        """Have ``sink`` write ``item`` in the open batch's transaction, on the committer thread.

        Called from work that ``run`` is running. Just before the batch commits, each sink gets the
        list of everything staged for it in this batch, in order; if a sink raises, the batch is
        rolled back and every request in it fails. The gateway stages its records this way, so the
        event inserts (C work that releases the GIL) run beside the event loop instead of on it.
        """
        batch = self._batch
        assert batch is not None, "stage() is for work that GroupCommit.run is running"
        batch.staged.setdefault(sink, []).append(item)

    def _flush(self, batch: _Batch) -> None:
        if batch.failed is not None or batch is not self._batch:
            return  # already failed and replaced; nothing of it is left to commit
        self._batch = None
        loop = asyncio.get_running_loop()
        committing = self._committing = object()  # this batch holds the connection

        def released() -> None:  # the batch is committed (or gone): the connection is the loop's again
            if self._committing is not committing:
                return  # released already
            self._committing = None
            turns, self._turns = self._turns, []
            for turn in turns:
                if not turn.done():
                    turn.set_result(None)

        def finished(error: BaseException | None) -> None:
            released()
            if error is None:
                self.commits += 1
                self.batched += len(batch.waiters)
                for waiter in batch.waiters:
                    if not waiter.done():
                        waiter.set_result(None)
            elif isinstance(error, DurabilityLost):
                batch.fail(error)  # the store stopped committing: its callers say so as it is
            else:
                batch.fail(CommitFailed(f"commit failed: {error}"))

        def job() -> None:  # on the committer thread
            error: BaseException | None = None
            try:
                self._commit_or_rollback(batch)
            except BaseException as exc:  # noqa: BLE001 - every failure must reach the waiters
                error = exc
            if error is None:
                with contextlib.suppress(RuntimeError):  # a closed loop: nobody is left waiting
                    loop.call_soon_threadsafe(released)
                try:
                    self.database.sync()
                except BaseException as exc:  # noqa: BLE001
                    log.error("the WAL could not be synced; the batch's %d calls fail: %s", len(batch.waiters), exc)
                    error = exc
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(finished, error)

        self._committer().put(job)

    def _committer(self) -> queue.SimpleQueue[Callable[[], None] | None]:
        """The committer thread's queue, starting the thread if it is not running."""
        with self._thread_lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._commit_loop, args=(self._jobs,), name="trailpost-commit", daemon=True
                )
                self._thread.start()
            return self._jobs

    @staticmethod
    def _commit_loop(jobs: queue.SimpleQueue[Callable[[], None] | None]) -> None:
        while (job := jobs.get()) is not None:
            job()

    def _commit_or_rollback(self, batch: _Batch) -> None:
        try:
            for sink, items in batch.staged.items():
                sink(items)
            self.database.commit()
        except BaseException:
            self.database.rollback()
            raise

    def close(self) -> None:
        """Finish the batches handed over so far and stop the committer thread."""
        with self._thread_lock:
            thread, self._thread = self._thread, None
            if thread is None:
                return
            jobs, self._jobs = self._jobs, queue.SimpleQueue()
        jobs.put(None)
        thread.join()
