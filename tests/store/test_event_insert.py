"""A batch's events written a statement per set bit of its size: every row stored as prepared,
whatever the batch's size, with at most seven statements per table for any size (so the connection
caches few), and a failing batch leaves nothing of itself."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.support.records import record
from trailpost.store.events import ROWS_PER_STATEMENT, SqliteEventStore
from trailpost.store.sqlite import SqliteStateStore

SITE = "arn:aws:outposts:us-east-1:123456789012:site/os-0123456789abcdef0"


def _open(path: Path) -> tuple[SqliteStateStore, SqliteEventStore]:
    state = SqliteStateStore(path)
    return state, SqliteEventStore(state.connection, state.lock)


def _statements(state: SqliteStateStore) -> list[str]:
    seen: list[str] = []
    state.connection.set_trace_callback(seen.append)
    return seen


@pytest.mark.parametrize("size", [1, 2, 3, 31, 32, 64, 65, 127, 200])
def test_every_prepared_row_is_stored_whatever_the_batch_size(tmp_path: Path, size: int) -> None:
    state, events = _open(tmp_path / "db")
    site = [{"accountId": "123456789012", "type": "AWS::Outposts::Site", "ARN": SITE}]
    prepared = [
        events.prepare(record("GetSite", read_only=True, resources=site if n % 2 else None)) for n in range(size)
    ]
    seen = _statements(state)
    with state.transaction():
        events.insert(prepared)
    state.connection.set_trace_callback(None)
    inserts = [sql for sql in seen if sql.startswith("INSERT INTO events")]
    full, rest = divmod(size, ROWS_PER_STATEMENT)
    assert len(inserts) == full + bin(rest).count("1")  # one statement per set bit, 64 rows at most
    stored = state.connection.execute(
        "SELECT seq, event_id, account_id, region, event_time, event_name, event_source, username, access_key_id, "
        "read_only, category, record, wire_event FROM events ORDER BY seq"
    ).fetchall()
    assert stored == [event.row for event in prepared]
    resources = state.connection.execute(
        "SELECT seq, attribute, value, account_id, region, event_time FROM event_resources "
        "ORDER BY seq, attribute, value"
    ).fetchall()
    assert resources == sorted(row for event in prepared for row in event.resources)
    assert len(resources) == 3 * (size // 2)  # type, name and ARN of every other event
    state.close()


def test_the_connection_prepares_few_statements_for_any_batch_size(tmp_path: Path) -> None:
    state, events = _open(tmp_path / "db")
    seen = _statements(state)
    for size in range(1, 2 * ROWS_PER_STATEMENT + 1):
        with state.transaction():
            events.insert([events.prepare(record("ListSites", read_only=True)) for _ in range(size)])
    state.connection.set_trace_callback(None)
    shapes = {sql.count("),(") for sql in seen if sql.startswith("INSERT INTO events")}
    assert shapes == {0, 1, 3, 7, 15, 31, 63}  # rows per statement: 1, 2, 4, ... 64
    state.close()


def test_a_batch_with_a_taken_position_stores_none_of_its_rows(tmp_path: Path) -> None:
    state, events = _open(tmp_path / "db")
    prepared = [events.prepare(record("GetSite", read_only=True)) for _ in range(5)]
    with state.transaction():
        events.insert(prepared[:1])
    with pytest.raises(sqlite3.IntegrityError), state.transaction():
        events.insert(prepared)  # its first row's position is taken
    assert state.connection.execute("SELECT count(*) FROM events").fetchone()[0] == 1
    state.close()
