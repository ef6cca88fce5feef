"""Group commit on the real SQLite store: concurrent work shares commits, and nothing is lost."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
from pathlib import Path

import pytest

from trailpost.store.commit import CommitFailed, GroupCommit
from trailpost.store.events import SqliteEventStore
from trailpost.store.sqlite import SqliteStateStore


def _record(n: int) -> dict:
    return {
        "eventID": f"00000000-0000-0000-0000-{n:012d}",
        "eventTime": "2026-11-24T02:00:00Z",
        "eventName": "CreateSite",
        "eventSource": "outposts.amazonaws.com",
        "awsRegion": "us-east-1",
        "recipientAccountId": "123456789012",
        "userIdentity": {"type": "Root", "accountId": "123456789012", "accessKeyId": "AKIAEXAMPLE"},
        "readOnly": False,
    }


def _open(path: Path) -> tuple[SqliteStateStore, SqliteEventStore]:
    state = SqliteStateStore(path)
    return state, SqliteEventStore(state.connection, state._lock)


def test_concurrent_work_shares_commits_and_is_durable(tmp_path: Path) -> None:
    state, events = _open(tmp_path / "db")
    group = GroupCommit(state)

    async def one(n: int) -> int:
        def work() -> int:
            state.put("test.doc", "s", str(n), {"n": n})
            events.append(_record(n))
            return n

        return await group.run(work)

    async def main() -> list[int]:
        return await asyncio.gather(*(one(n) for n in range(200)))

    assert asyncio.run(main()) == list(range(200))
    assert group.batched == 200
    assert group.commits < 200  # concurrent calls really were grouped
    group.close()
    state.close()

    reopened, reopened_events = _open(tmp_path / "db")
    assert len(reopened.list("test.doc", "s")) == 200
    assert reopened_events.count() == 200
    reopened.close()


def test_failing_work_is_rolled_back_and_others_commit(tmp_path: Path) -> None:
    state, events = _open(tmp_path / "db")
    group = GroupCommit(state)

    async def ok(n: int) -> None:
        await group.run(lambda: (state.put("test.doc", "s", str(n), {}), events.append(_record(n))))

    async def bad() -> None:
        def work() -> None:
            state.put("test.doc", "s", "bad", {})
            raise RuntimeError("handler failed")

        await group.run(work)

    async def main() -> list:
        return await asyncio.gather(ok(1), bad(), ok(2), return_exceptions=True)

    results = asyncio.run(main())
    assert results[0] is None and results[2] is None
    assert isinstance(results[1], RuntimeError)
    assert state.get("test.doc", "s", "bad") is None
    assert {e.key for e in state.list("test.doc", "s")} == {"1", "2"}
    group.close()
    state.close()


def test_unwritable_event_store_fails_the_call_and_keeps_no_state(tmp_path: Path) -> None:
    """Fail-closed: when the event cannot be stored, the work fails and its state change is undone."""
    state, events = _open(tmp_path / "db")
    group = GroupCommit(state)
    pages = state.connection.execute("PRAGMA page_count").fetchone()[0]
    state.connection.execute(f"PRAGMA max_page_count={pages}")  # the database file cannot grow

    async def call() -> None:
        def work() -> None:
            state.put("test.doc", "s", "x", {"payload": "y" * 20000})
            events.append({**_record(1), "padding": "z" * 50000})

        await group.run(work)

    with pytest.raises(sqlite3.OperationalError, match="full"):
        asyncio.run(call())
    assert state.get("test.doc", "s", "x") is None
    assert events.count() == 0
    group.close()
    state.close()


def test_abandoned_batch_fails_every_request_in_it(tmp_path: Path) -> None:
    """When SQLite gives up the batch transaction, no request of that batch is acknowledged."""
    state, _events = _open(tmp_path / "db")
    group = GroupCommit(state)
    pages = state.connection.execute("PRAGMA page_count").fetchone()[0]
    state.connection.execute(f"PRAGMA max_page_count={pages + 2}")

    async def small() -> None:
        await group.run(lambda: state.put("test.doc", "s", "small", {"n": 1}))

    async def huge() -> None:
        await group.run(lambda: state.put("test.doc", "s", "huge", {"blob": "x" * 200_000}))

    async def main() -> list:
        return await asyncio.gather(small(), huge(), return_exceptions=True)

    first, second = asyncio.run(main())
    assert isinstance(first, CommitFailed)
    assert isinstance(second, sqlite3.OperationalError)
    assert state.get("test.doc", "s", "small") is None

    async def after() -> None:  # the next batch works again
        state.connection.execute("PRAGMA max_page_count=1073741823")
        await group.run(lambda: state.put("test.doc", "s", "later", {}))

    asyncio.run(after())
    assert state.get("test.doc", "s", "later") == {}
    group.close()
    state.close()


def test_unisolated_work_that_raises_fails_its_whole_batch(tmp_path: Path) -> None:
    """``isolated=False`` (the gateway's path) has no savepoint: a failure rolls back the batch and fails it all."""
    state, events = _open(tmp_path / "db")
    group = GroupCommit(state)

    async def ok(n: int) -> None:
        await group.run(lambda: (state.put("test.doc", "s", str(n), {}), events.append(_record(n))), isolated=False)

    async def bad() -> None:
        def work() -> None:
            state.put("test.doc", "s", "bad", {})
            raise RuntimeError("record could not be built")

        await group.run(work, isolated=False)

    async def main() -> list:
        return await asyncio.gather(ok(1), bad(), ok(2), return_exceptions=True)

    first, failed, last = asyncio.run(main())
    assert isinstance(first, CommitFailed)
    assert isinstance(failed, RuntimeError)
    # ok(2) ran after the failure, in a fresh batch of its own, and is durable
    assert last is None
    assert {e.key for e in state.list("test.doc", "s")} == {"2"}
    assert events.count() == 1

    async def later() -> None:
        await ok(3)

    asyncio.run(later())
    assert {e.key for e in state.list("test.doc", "s")} == {"2", "3"}
    group.close()
    state.close()


class _SlowSync(SqliteStateStore):
    """The real store whose WAL sync waits for the test's go-ahead (and counts its calls)."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.syncing = threading.Event()
        self.go = threading.Event()
        self.syncs = 0

    def sync(self) -> None:
        self.syncing.set()
        assert self.go.wait(10), "the test never let the sync finish"
        super().sync()
        self.syncs += 1


def test_a_batch_is_acknowledged_only_after_its_sync_and_the_next_batch_runs_meanwhile(tmp_path: Path) -> None:
    """Pipelined group commit: the WAL sync is off the connection, but nothing is acknowledged before it."""
    state = _SlowSync(tmp_path / "db")
    group = GroupCommit(state)

    async def main() -> None:
        first = asyncio.ensure_future(group.run(lambda: state.put("test.doc", "s", "1", {})))
        while not state.syncing.is_set():  # batch 1 is committed and its sync has begun
            await asyncio.sleep(0.001)
        second_ran = asyncio.Event()

        def second_work() -> None:
            state.put("test.doc", "s", "2", {})
            second_ran.set()

        second = asyncio.ensure_future(group.run(second_work))
        await asyncio.wait_for(second_ran.wait(), 5)  # the next batch's work ran during batch 1's sync
        await asyncio.sleep(0.05)
        assert not first.done() and not second.done()  # neither is acknowledged before its sync
        state.go.set()
        await asyncio.wait_for(asyncio.gather(first, second), 5)

    asyncio.run(main())
    assert state.syncs == 2 and group.commits == 2
    group.close()
    state.close()


def test_sync_follows_the_wal_file(tmp_path: Path) -> None:
    """``sync`` works before the WAL exists, and after the WAL file was replaced."""
    state = SqliteStateStore(tmp_path / "db")
    state.sync()
    with state.transaction():
        state.put("test.doc", "s", "1", {})
    wal = tmp_path / "db-wal"
    assert wal.exists()
    first = os.stat(wal).st_ino
    state.connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    wal.rename(tmp_path / "old-wal")  # what a close-and-reopen elsewhere would leave: a new inode
    wal.write_bytes(b"")
    assert os.stat(wal).st_ino != first
    state.sync()
    assert os.fstat(state._wal_fd).st_ino == os.stat(wal).st_ino
    state.close()


def test_staged_records_are_written_with_their_batch_and_a_failing_sink_fails_it(tmp_path: Path) -> None:
    """``stage``: the committer writes what work staged in the batch's transaction, or nothing of the batch."""
    state, events = _open(tmp_path / "db")
    group = GroupCommit(state)
    records = {n: _record(n) for n in (1, 2, 3, 99)}  # ``prepare`` gives each the eventID of its position

    async def call(n: int) -> None:
        def work() -> None:
            state.put("test.doc", "s", str(n), {})
            group.stage(events.insert, events.prepare(records[n]))

        await group.run(work, isolated=False)

    async def failing_isolated() -> None:
        def work() -> None:
            group.stage(events.insert, events.prepare(records[99]))
            raise RuntimeError("handler failed after staging")

        await group.run(work)

    async def main() -> list:
        return await asyncio.gather(call(1), failing_isolated(), call(2), return_exceptions=True)

    first, failed, second = asyncio.run(main())
    assert first is None and second is None and isinstance(failed, RuntimeError)
    assert sorted(e.record["eventID"] for e in events.iter_all()) == sorted(records[n]["eventID"] for n in (1, 2))
    seqs = [e.seq for e in events.iter_all()]
    assert seqs == sorted(seqs)

    def broken(items: list) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    async def doomed() -> None:
        def work() -> None:
            state.put("test.doc", "s", "doomed", {})
            group.stage(broken, "anything")

        await group.run(work, isolated=False)

    with pytest.raises(CommitFailed):
        asyncio.run(doomed())
    assert state.get("test.doc", "s", "doomed") is None  # the state change went with the batch
    asyncio.run(call(3))  # the next batch works
    assert events.count() == 3
    group.close()
    state.close()


class _HeldCommit(SqliteStateStore):
    """The real store whose ``COMMIT`` waits for the test's go-ahead: the committer holds the connection."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.committing = threading.Event()
        self.go = threading.Event()

    def commit(self) -> None:
        self.committing.set()
        assert self.go.wait(10), "the test never let the commit finish"
        super().commit()


def test_calls_wait_for_the_held_connection_and_a_cancelled_one_leaves_the_others_waiting(tmp_path: Path) -> None:
    """Calls arriving while the committer holds the connection run once it is handed back, in one
    batch; cancelling one of them while it waits cancels only that call (nothing of it runs)."""
    state = _HeldCommit(tmp_path / "db")
    group = GroupCommit(state)
    ran: list[str] = []

    def work(name: str) -> None:
        state.put("test.doc", "s", name, {})
        ran.append(name)

    async def main() -> None:
        first = asyncio.ensure_future(group.run(lambda: work("first")))
        while not state.committing.is_set():  # batch 1's COMMIT holds the connection
            await asyncio.sleep(0.001)
        waiting = [asyncio.ensure_future(group.run(lambda n=n: work(n))) for n in ("a", "b", "c")]
        await asyncio.sleep(0.02)
        assert ran == ["first"]  # none of them ran on the held connection
        waiting[1].cancel()
        await asyncio.sleep(0.01)
        state.go.set()
        await asyncio.wait_for(asyncio.gather(first, waiting[0], waiting[2]), 5)
        assert waiting[1].cancelled()

    asyncio.run(main())
    assert ran == ["first", "a", "c"]
    assert group.commits == 2  # "a" and "c" shared the second batch
    assert {name for name in ("first", "a", "b", "c") if state.get("test.doc", "s", name) is not None} == {
        "first",
        "a",
        "c",
    }
    group.close()
    state.close()
