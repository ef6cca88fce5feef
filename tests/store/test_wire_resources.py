"""LookupEvents' ``Resources`` stored with each record (``events.wire_resources``): written once at
insert, answered as stored, and rows stored before the column existed still answered from their record."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import orjson

from tests.support.records import ACCOUNT, record
from trailpost.services.cloudtrail.lookup import _events
from trailpost.store.events import HistoryQuery, SqliteEventStore, resources_of, stored_resources
from trailpost.store.sqlite import SqliteStateStore

SITE = "arn:aws:outposts:us-east-1:123456789012:site/os-0123456789abcdef0"
RESOURCES = [
    {"accountId": ACCOUNT, "type": "AWS::Outposts::Site", "ARN": SITE},
    {"type": "AWS::Outposts::Outpost"},  # no ARN: a ResourceType without a ResourceName
    {"ARN": "arn:aws:iam::123456789012:user/Alice"},  # no type
]


def _open(path: Path) -> tuple[SqliteStateStore, SqliteEventStore]:
    state = SqliteStateStore(path)
    return state, SqliteEventStore(state.connection, state.lock)


def _page(events: SqliteEventStore) -> list[dict[str, Any]]:
    """A LookupEvents page of the account as the client reads it (the handler's events, serialized)."""
    now = int(time.time())
    rows = events.lookup(HistoryQuery(ACCOUNT, "us-east-1", now - 3600, now + 60, 50))
    return orjson.loads(orjson.dumps(_events(rows)))


def _records() -> list[dict[str, Any]]:
    return [
        record("CreateSite", resources=RESOURCES),
        record("ListSites", read_only=True),
        record("GetObject", category="Data", resources=[{"type": "AWS::S3::Object", "ARN": "arn:aws:s3:::b/k"}]),
    ]


def test_each_record_is_stored_with_the_resources_lookup_events_answers(tmp_path: Path) -> None:
    state, events = _open(tmp_path / "state.db")
    records = _records()
    events.append_many(records)
    stored = dict(state.connection.execute("SELECT event_name, wire_resources FROM events").fetchall())
    assert orjson.loads(stored["CreateSite"]) == [
        {"ResourceType": "AWS::Outposts::Site", "ResourceName": "os-0123456789abcdef0"},
        {"ResourceType": "AWS::Outposts::Outpost"},
        {"ResourceName": "Alice"},
    ]
    assert orjson.loads(stored["CreateSite"]) == resources_of(records[0])
    assert stored["ListSites"] == b"[]"
    assert stored["GetObject"] is None  # data events are never in Event history
    page = _page(events)
    assert [e["EventName"] for e in page] == ["ListSites", "CreateSite"]
    assert page[1]["Resources"] == resources_of(records[0])
    assert page[0]["Resources"] == []
    state.close()


def test_a_database_made_before_the_column_gains_it_and_answers_its_old_rows_alike(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    state, events = _open(path)
    events.append_many(_records())
    expected = _page(events)
    # The table as it was before the column existed, with rows stored then.
    state.connection.execute("ALTER TABLE events DROP COLUMN wire_resources")
    state.close()

    state, events = _open(path)  # reopening adds the column back; the old rows read NULL
    assert state.connection.execute("SELECT count(*) FROM events WHERE wire_resources IS NULL").fetchone()[0] == 3
    assert _page(events) == expected  # answered from the records themselves
    newer = record("CreateSite", resources=RESOURCES)
    events.append_many([newer])
    page = _page(events)
    assert page[0]["Resources"] == expected[1]["Resources"] == stored_resources(orjson.dumps(newer))
    assert page[1:] == expected
    state.close()
