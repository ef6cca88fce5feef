"""LookupEvents' ``Event`` stored with each record (``events.wire_event``): written once at insert,
answered as stored, and rows stored before the column existed (with ``wire_resources``, or with
neither) answered with the same bytes from their other columns."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import orjson

from tests.support.records import ACCOUNT, identity, record
from trailpost.services.cloudtrail.lookup import _events
from trailpost.services.cloudtrail.responses import lookup_events_body
from trailpost.store.events import HistoryQuery, SqliteEventStore
from trailpost.store.lookup_wire import resources_of, stored_resources
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


def _body(events: SqliteEventStore) -> bytes:
    """A LookupEvents page of the account as the server writes it (the handler's events, serialized)."""
    now = int(time.time())
    rows = events.lookup(HistoryQuery(ACCOUNT, "us-east-1", now - 3600, now + 60, 50))
    body = lookup_events_body({"Events": _events(rows)})
    assert body is not None
    return body


def _records() -> list[dict[str, Any]]:
    with_user = record("CreateSite", resources=RESOURCES)
    with_user["userIdentity"] = identity("IAMUser", "Alice")
    no_key = record("ListSites", read_only=True)
    no_key["userIdentity"] = {"type": "AWSService", "invokedBy": "outposts.amazonaws.com"}  # no access key
    return [
        with_user,
        no_key,
        record("GetObject", category="Data", resources=[{"type": "AWS::S3::Object", "ARN": "arn:aws:s3:::b/k"}]),
    ]


def test_each_record_is_stored_with_the_event_lookup_events_answers(tmp_path: Path) -> None:
    state, events = _open(tmp_path / "state.db")
    records = _records()
    events.append_many(records)
    stored = dict(state.connection.execute("SELECT event_name, wire_event FROM events").fetchall())
    created, listed = orjson.loads(stored["CreateSite"]), orjson.loads(stored["ListSites"])
    assert list(created) == [  # the model's member order, CloudTrailEvent left for the page
        "EventId",
        "EventName",
        "ReadOnly",
        "AccessKeyId",
        "EventTime",
        "EventSource",
        "Username",
        "Resources",
    ]
    assert (
        created["Resources"]
        == resources_of(records[0])
        == [
            {"ResourceType": "AWS::Outposts::Site", "ResourceName": "os-0123456789abcdef0"},
            {"ResourceType": "AWS::Outposts::Outpost"},
            {"ResourceName": "Alice"},
        ]
    )
    assert (created["Username"], created["ReadOnly"], created["EventId"]) == ("Alice", "false", records[0]["eventID"])
    assert "AccessKeyId" not in listed and listed["ReadOnly"] == "true" and listed["Resources"] == []
    assert listed["Username"] == "outposts.amazonaws.com"
    assert stored["GetObject"] is None  # data events are never in Event history
    page = orjson.loads(_body(events))["Events"]
    assert [e["EventName"] for e in page] == ["ListSites", "CreateSite"]
    assert orjson.loads(page[1]["CloudTrailEvent"]) == records[0]
    assert {k: v for k, v in page[1].items() if k != "CloudTrailEvent"} == created
    # nothing else is written: the earlier Resources-only column stays empty
    assert state.connection.execute("SELECT count(*) FROM events WHERE wire_resources IS NOT NULL").fetchone()[0] == 0
    state.close()


def _rows_as_before(state: SqliteStateStore, *, with_resources: bool) -> None:
    """Make the stored rows look as an older trailpost left them: no ``wire_event``, and
    ``wire_resources`` as session 5 wrote it (or, older still, no column for either)."""
    conn = state.connection
    if with_resources:
        rows = conn.execute("SELECT seq, record FROM events WHERE category != 'Data'").fetchall()
        for seq, data in rows:
            resources = orjson.dumps(resources_of(orjson.loads(data)))
            conn.execute("UPDATE events SET wire_resources = ? WHERE seq = ?", (resources, seq))
        conn.execute("ALTER TABLE events DROP COLUMN wire_event")
    else:
        conn.execute("ALTER TABLE events DROP COLUMN wire_event")
        conn.execute("ALTER TABLE events DROP COLUMN wire_resources")


def test_databases_made_before_the_column_answer_their_old_rows_with_the_same_bytes(tmp_path: Path) -> None:
    for with_resources in (True, False):
        path = tmp_path / f"state-{with_resources}.db"
        state, events = _open(path)
        events.append_many(_records())
        expected = _body(events)
        _rows_as_before(state, with_resources=with_resources)
        state.close()

        state, events = _open(path)  # reopening adds the columns back; the old rows read NULL
        nulls = state.connection.execute("SELECT count(*) FROM events WHERE wire_event IS NULL").fetchone()[0]
        assert nulls == 3
        assert _body(events) == expected  # made from the old rows' columns and records
        newer = record("CreateSite", resources=RESOURCES)
        events.append_many([newer])
        page = orjson.loads(_body(events))["Events"]
        assert page[0]["Resources"] == stored_resources(orjson.dumps(newer))
        assert page[1:] == orjson.loads(expected)["Events"]  # old and new rows on one page
        state.close()


def test_an_empty_page_is_an_empty_array() -> None:
    assert lookup_events_body({"Events": _events([])}) == b'{"Events":[]}'
