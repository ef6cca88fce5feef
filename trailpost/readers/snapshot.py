"""The writer's own reads: read calls answered from a second, read-only connection of its process.

A group-commit batch holds the write connection from its first call until its ``COMMIT`` (and the
committer thread holds it meanwhile for the batch's inserts): a call that reads only had to wait
for both before its work could start, and the event loop sat idle while the committer held the
connection. ``SnapshotReads`` answers the calls a reader process would answer itself
(``placement``) from a connection of its own, in one read transaction (one snapshot for the whole
call), whatever the write connection is doing; the call's record is then staged in the group commit
like any other and the response leaves only once it is durable, as before.

What a call answered here sees: every batch committed when its read transaction began. A write is
acknowledged only after its batch's ``COMMIT`` (and sync), so a call that starts after a write was
acknowledged sees it. A call that is not acknowledged yet may or may not be seen: the two calls were
concurrent. Event positions are given when a record is staged, in the batch that commits it, so
positions still increase in commit order (trail delivery reads by position).

Should the handler still try to write (an access key's last use, noted once a minute), the store
refuses (``ReadOnlyStoreError``), nothing was changed, and the gateway runs the call again in the
batch on the write connection. The same read-transaction rule serves reader processes
(``link.WriterLink``), through ``read_snapshot``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from trailpost.identity.accounts import key_cache
from trailpost.readers.placement import answers_locally
from trailpost.store.base import ReadOnlyStoreError
from trailpost.store.events import event_store
from trailpost.store.sqlite import SqliteStateStore

if TYPE_CHECKING:
    from trailpost.gateway.context import RequestContext

T = TypeVar("T")


def read_snapshot(store: SqliteStateStore, work: Callable[[], T], kept: list[dict[str, Any]]) -> T:
    """``work`` in one read transaction of ``store``'s connection; ``kept`` is emptied first.

    The transaction ends however ``work`` ends (nothing was written on a sealed connection)."""
    with store.lock:
        connection = store.connection
        connection.execute("BEGIN")
        kept.clear()
        try:
            return work()
        finally:
            if connection.in_transaction:
                connection.execute("COMMIT")  # ends the snapshot; nothing was written


class SnapshotReads:
    """A read-only connection of the writer's process, for the calls that only read (module docstring)."""

    def __init__(self, path: Path, record_durably: Callable[[list[dict[str, Any]]], Awaitable[None]]) -> None:
        self.store = SqliteStateStore(path)
        key_cache(self.store)  # its trigger needs a writable connection: made before sealing
        event_store(self.store)  # so are the event store's checks of its tables
        self.store.seal_read_only()
        self._record_durably = record_durably
        self._kept: list[dict[str, Any]] = []
        self.answered = 0  # calls whose answer was made here (it leaves once their record is durable)
        self.handed_back = 0  # calls whose handler tried to write: run again in the batch

    def answers(self, ctx: RequestContext) -> bool:
        """Whether ``ctx``'s call is answered here (its handler only reads the state store).

        The LookupEvents rate limiter lives in this process, so a throttled LookupEvents may be too."""
        return answers_locally(ctx)

    async def run(self, work: Callable[[], T]) -> T:
        """``work`` in one snapshot of the read connection; then the records it ``keep``s made durable."""
        kept = self._kept
        try:
            result = read_snapshot(self.store, work, kept)
        except ReadOnlyStoreError:
            self.handed_back += 1
            raise
        records, self._kept = kept, []
        self.answered += 1
        if records:
            await self._record_durably(records)
        return result

    def keep(self, record: dict[str, Any]) -> None:
        """Have ``record`` staged in the group commit before the call that ``run`` runs is answered."""
        self._kept.append(record)

    def close(self) -> None:
        self.store.close()
