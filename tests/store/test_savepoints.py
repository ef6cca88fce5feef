"""Savepoints opened at their first write: a block inside a transaction that only reads runs no
``SAVEPOINT``/``RELEASE``; one that writes is rolled back alone as before, nested blocks included; a
write that bypasses the state store inside a block not yet opened fails the transaction rather than
survive its block's rollback; the event store opens the blocks around it before it inserts."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.records import record
from trailpost.store.events import event_store
from trailpost.store.sqlite import SqliteStateStore, UnopenedSavepointError

SCOPE = "123456789012/us-east-1"


@pytest.fixture
def store(tmp_path: Path) -> SqliteStateStore:
    opened = SqliteStateStore(tmp_path / "state.db")
    yield opened
    opened.close()


def _traced(store: SqliteStateStore) -> list[str]:
    seen: list[str] = []
    store.connection.set_trace_callback(seen.append)
    return seen


def _keys(store: SqliteStateStore) -> list[str]:
    return [entry.key for entry in store.list("t.doc", SCOPE)]


def test_a_block_that_only_reads_runs_no_savepoint(store: SqliteStateStore) -> None:
    store.put("t.doc", SCOPE, "a", {"n": 1})
    store.begin()
    seen = _traced(store)
    with store.transaction(), store.transaction():
        assert store.get("t.doc", SCOPE, "a") == {"n": 1}
    with pytest.raises(KeyError), store.transaction():
        store.get("t.doc", SCOPE, "a")
        raise KeyError("a failing read has nothing to roll back")
    store.connection.set_trace_callback(None)
    store.commit()
    assert [sql.split()[0] for sql in seen] == ["SELECT", "SELECT"]


def test_a_failing_block_loses_its_writes_and_only_its_own(store: SqliteStateStore) -> None:
    store.begin()
    seen = _traced(store)
    with store.transaction():
        store.get("t.doc", SCOPE, "none")  # reads first: the savepoint opens at the write below
        store.put("t.doc", SCOPE, "kept", {})
        with pytest.raises(ValueError), store.transaction():
            store.put("t.doc", SCOPE, "lost", {})
            raise ValueError("the inner block fails")
    store.connection.set_trace_callback(None)
    store.commit()
    assert _keys(store) == ["kept"]
    opened = [sql for sql in seen if sql.split()[0] in ("SAVEPOINT", "RELEASE", "ROLLBACK")]
    assert opened == ["SAVEPOINT sp1", "SAVEPOINT sp2", "ROLLBACK TO sp2", "RELEASE sp2", "RELEASE sp1"]


def test_an_inner_write_opens_the_outer_block_so_its_failure_loses_both(store: SqliteStateStore) -> None:
    store.begin()
    with pytest.raises(ValueError), store.transaction():
        with store.transaction():  # released: its write now belongs to the outer block
            store.put("t.doc", SCOPE, "inner", {})
        store.put("t.doc", SCOPE, "outer", {})
        raise ValueError("the outer block fails")
    store.put("t.doc", SCOPE, "after", {})
    store.commit()
    assert _keys(store) == ["after"]


def test_a_block_written_by_delete_is_rolled_back(store: SqliteStateStore) -> None:
    store.put("t.doc", SCOPE, "a", {})
    store.begin()
    with pytest.raises(ValueError), store.transaction():
        assert store.delete("t.doc", SCOPE, "a")
        raise ValueError("fails after the delete")
    store.commit()
    assert _keys(store) == ["a"]


def test_a_write_bypassing_the_store_in_a_failing_unopened_block_fails_loudly(store: SqliteStateStore) -> None:
    store.begin()
    with pytest.raises(UnopenedSavepointError), store.transaction():
        store.connection.execute(
            "INSERT INTO state (kind, scope, key, doc) VALUES ('t.doc', ?, 'raw', x'7b7d')", (SCOPE,)
        )
        raise ValueError("fails with a write no savepoint covers")
    store.rollback()  # what the caller of a failed transaction or batch does
    assert _keys(store) == []
    # The store is usable afterwards: the failed block left no savepoint behind.
    with store.transaction():
        store.put("t.doc", SCOPE, "next", {})
    assert _keys(store) == ["next"]


def test_the_event_store_opens_the_blocks_around_its_insert(store: SqliteStateStore) -> None:
    events = event_store(store)
    store.begin()
    with pytest.raises(ValueError), store.transaction():
        events.append(record("ConsoleLogin"))  # as the console's sign-in work does, inside group commit
        raise ValueError("the work fails after its record")
    events.append(record("GetSite", read_only=True))
    store.commit()
    assert [row[0] for row in store.connection.execute("SELECT event_name FROM events")] == ["GetSite"]
