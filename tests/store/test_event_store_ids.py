"""Event ids in the event store: each record gets its position's id, EventId lookups read by position,
new databases have no index on ``event_id``, and databases made before keep finding their random ids."""

from __future__ import annotations

import shutil
import sqlite3
import time
import uuid
from pathlib import Path

import orjson

from tests.support.records import ACCOUNT, record
from trailpost.store.events import HistoryQuery, SqliteEventStore
from trailpost.store.sqlite import SqliteStateStore

# The events table as databases made before ids were positions have it (``event_id`` UNIQUE).
OLD_EVENTS_TABLE = """
CREATE TABLE events (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id     TEXT NOT NULL UNIQUE,
    account_id   TEXT NOT NULL,
    region       TEXT NOT NULL,
    event_time   INTEGER NOT NULL,
    event_name   TEXT NOT NULL,
    event_source TEXT NOT NULL,
    username     TEXT,
    access_key_id TEXT,
    read_only    INTEGER NOT NULL,
    category     TEXT NOT NULL,
    record       BLOB NOT NULL
);
"""
OLD_INSERT = (
    "INSERT INTO events (event_id, account_id, region, event_time, event_name, event_source, username, "
    "access_key_id, read_only, category, record) VALUES (?, ?, 'us-east-1', ?, ?, 'outposts.amazonaws.com', "
    "'root', NULL, 0, 'Management', ?)"
)


def _open(path: Path) -> tuple[SqliteStateStore, SqliteEventStore]:
    state = SqliteStateStore(path)
    return state, SqliteEventStore(state.connection, state.lock)


def _by_id(events: SqliteEventStore, event_id: str, account: str = ACCOUNT, region: str = "us-east-1") -> list[str]:
    now = int(time.time())
    rows = events.lookup(HistoryQuery(account, region, now - 3600, now + 60, 50, ("EventId", event_id)))
    return [orjson.loads(row.event)["EventId"] for row in rows]


def _indexed_columns(conn: sqlite3.Connection) -> list[list[str]]:
    names = [row[1] for row in conn.execute("PRAGMA index_list(events)")]
    return [[col[2] for col in conn.execute(f'PRAGMA index_info("{name}")')] for name in names]


def test_a_new_database_has_no_event_id_index_and_its_key_travels_with_it(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    state, events = _open(tmp_path / "a" / "state.db")
    columns = _indexed_columns(state.connection)
    assert columns and not any("event_id" in each for each in columns)
    assert not events.legacy_ids
    [(key,)] = state.connection.execute("SELECT value FROM event_store_meta WHERE name = 'event_id_key'").fetchall()
    assert isinstance(key, bytes) and len(key) == 32
    records = [record("CreateSite") for _ in range(3)]
    placeholders = [r["eventID"] for r in records]
    events.append_many(records)
    assert [e.record["eventID"] for e in events.iter_all()] == [r["eventID"] for r in records]
    assert not set(placeholders) & {r["eventID"] for r in records}  # the store's ids, not the caller's
    assert [events.ids.position(r["eventID"]) for r in records] == [e.seq for e in events.iter_all()]
    state.close()

    # A copied database file resolves the same ids: the key is a row of it.
    copy = tmp_path / "copy"
    copy.mkdir()
    shutil.copy(tmp_path / "a" / "state.db", copy / "state.db")
    state, events = _open(copy / "state.db")
    assert all(_by_id(events, r["eventID"]) == [r["eventID"]] for r in records)
    later = record("ListSites")
    events.append(later)
    assert events.ids.position(later["eventID"]) == 4 and _by_id(events, later["eventID"]) == [later["eventID"]]
    state.close()


def test_event_id_lookup_checks_the_stored_id_and_the_query(tmp_path: Path) -> None:
    state, events = _open(tmp_path / "state.db")
    mine = record("CreateSite")
    theirs = {**mine, "recipientAccountId": "210987654321"}  # a shared copy: same record, other account
    events.append_many([mine, theirs])
    assert mine["eventID"] != theirs["eventID"]
    assert _by_id(events, mine["eventID"]) == [mine["eventID"]]
    assert _by_id(events, theirs["eventID"], account="210987654321") == [theirs["eventID"]]
    assert _by_id(events, theirs["eventID"]) == []  # the other account's copy is not ours
    assert _by_id(events, mine["eventID"], region="eu-west-1") == []
    assert _by_id(events, mine["eventID"].upper()) == []  # compared exactly, as before
    assert _by_id(events, events.ids.event_id(3)) == []  # a position nothing holds
    assert _by_id(events, str(uuid.uuid4())) == [] and _by_id(events, "not an id") == []
    now = int(time.time())
    too_late = HistoryQuery(ACCOUNT, "us-east-1", now + 10, now + 20, 50, ("EventId", mine["eventID"]))
    assert events.lookup(too_late) == []
    # The stored id is checked: a row whose id is not its position's is not found by that id.
    forged = events.ids.event_id(1)
    state.connection.execute("UPDATE events SET event_id = 'x' WHERE seq = 1")
    assert _by_id(events, forged) == []
    state.close()


def test_a_database_made_before_finds_its_old_ids_and_stores_new_events(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    conn = sqlite3.connect(path)
    conn.executescript(OLD_EVENTS_TABLE)
    old = [record("CreateSite") for _ in range(3)]
    now = int(time.time())
    with conn:
        for r in old:
            conn.execute(OLD_INSERT, (r["eventID"], ACCOUNT, now, r["eventName"], orjson.dumps(r)))
    conn.close()

    state, events = _open(path)
    assert events.legacy_ids
    assert ["event_id"] in _indexed_columns(state.connection)  # the old UNIQUE index stays
    assert all(_by_id(events, r["eventID"]) == [r["eventID"]] for r in old)
    assert _by_id(events, old[0]["eventID"].upper()) == [] and _by_id(events, str(uuid.uuid4())) == []
    new = record("ListSites")
    events.append(new)
    assert events.ids.position(new["eventID"]) == 4
    assert _by_id(events, new["eventID"]) == [new["eventID"]]
    state.close()

    state, events = _open(path)  # reopened: still the old index, the same key
    assert events.legacy_ids and _by_id(events, new["eventID"]) == [new["eventID"]]
    assert _by_id(events, old[1]["eventID"]) == [old[1]["eventID"]]
    state.close()
