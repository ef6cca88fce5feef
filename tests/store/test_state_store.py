"""The state-store contract (``store.base``) on the SQLite store: order, positions, count, find, atomicity."""

from __future__ import annotations

from pathlib import Path

import pytest

from trailpost.store.events import CACHE_KIB, WRITER_CACHE_KIB, event_store
from trailpost.store.sqlite import SqliteStateStore


@pytest.fixture
def store(tmp_path: Path) -> SqliteStateStore:
    opened = SqliteStateStore(tmp_path / "state.db")
    yield opened
    opened.close()


def test_list_keeps_insertion_order_and_a_replace_keeps_its_place(store: SqliteStateStore) -> None:
    for key in ("b", "a", "c"):
        store.put("t.doc", "acct/us-east-1", key, {"key": key, "v": 1})
    store.put("t.doc", "acct/us-east-1", "b", {"key": "b", "v": 2})
    entries = store.list("t.doc", "acct/us-east-1")
    assert [(e.key, e.doc["v"]) for e in entries] == [("b", 2), ("a", 1), ("c", 1)]
    assert [e.seq for e in entries] == sorted(e.seq for e in entries)
    after = store.list("t.doc", "acct/us-east-1", after_seq=entries[0].seq, limit=1)
    assert [e.key for e in after] == ["a"]


def test_count_counts_one_kind_in_one_scope_without_reading_documents(store: SqliteStateStore) -> None:
    assert store.count("t.doc", "acct/us-east-1") == 0
    for n in range(5):
        store.put("t.doc", "acct/us-east-1", f"k{n}", {"n": n})
    store.put("t.doc", "acct/eu-west-1", "k0", {"n": 0})
    store.put("t.other", "acct/us-east-1", "k0", {"n": 0})
    store.put("t.doc", "acct/us-east-1", "k0", {"n": 10})  # a replace adds nothing
    assert store.count("t.doc", "acct/us-east-1") == 5
    store.delete("t.doc", "acct/us-east-1", "k1")
    assert store.count("t.doc", "acct/us-east-1") == 4
    assert store.count("t.doc", "acct/eu-west-1") == 1


def test_find_looks_across_scopes_and_a_failed_transaction_leaves_nothing(store: SqliteStateStore) -> None:
    store.put("t.key", "acct-a", "AKIA1", {"owner": "a"})
    found = store.find("t.key", "AKIA1")
    assert found is not None and found.scope == "acct-a" and found.doc == {"owner": "a"}
    with pytest.raises(RuntimeError), store.transaction():
        store.put("t.key", "acct-b", "AKIA2", {"owner": "b"})
        raise RuntimeError("abort")
    assert store.find("t.key", "AKIA2") is None
    assert store.scopes("t.key") == ["acct-a"]


class _CountingSync(SqliteStateStore):
    """The real store, counting its WAL syncs."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.syncs = 0

    def sync(self) -> None:
        super().sync()
        self.syncs += 1


def test_a_transaction_syncs_the_wal_only_when_it_changed_a_row(tmp_path: Path) -> None:
    """A write is durable when ``transaction()`` returns; a read has nothing to sync and skips the flush."""
    store = _CountingSync(tmp_path / "state.db")
    try:
        with store.transaction():
            store.put("t.doc", "acct", "k", {"v": 1})
        assert store.syncs == 1
        with store.transaction():
            assert store.get("t.doc", "acct", "k") == {"v": 1}
            assert store.list("t.doc", "acct")
        assert store.syncs == 1  # the read committed nothing
        with store.transaction():
            store.delete("t.doc", "acct", "missing")  # deletes no row: nothing written either
        assert store.syncs == 1
        with store.transaction(), store.transaction():  # a change made under a savepoint counts
            store.put("t.doc", "acct", "k", {"v": 2})
        assert store.syncs == 2
        reopened = SqliteStateStore(tmp_path / "state.db")
        try:
            assert reopened.get("t.doc", "acct", "k") == {"v": 2}
        finally:
            reopened.close()
    finally:
        store.close()


def test_the_event_stores_page_cache_and_the_writers_smaller_one(store: SqliteStateStore) -> None:
    """One process answers lookups from a 64 MiB page cache; the writer behind reader processes only
    appends and shrinks it to 4 MiB (``serve --workers``), releasing what it held."""
    events = event_store(store)
    assert store.connection.execute("PRAGMA cache_size").fetchone()[0] == -CACHE_KIB == -64 * 1024
    events.set_cache(WRITER_CACHE_KIB)
    assert store.connection.execute("PRAGMA cache_size").fetchone()[0] == -WRITER_CACHE_KIB == -4 * 1024
