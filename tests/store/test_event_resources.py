"""Resource rows of the event store: keyed by the lookup itself (one B-tree per row), found by
ResourceType and ResourceName (the name and the full ARN), pruned with their events; databases
whose rows are keyed by position keep that layout and are served and pruned the same."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from tests.support.records import ACCOUNT, record
from trailpost.store.events import HistoryQuery, SqliteEventStore
from trailpost.store.sqlite import SqliteStateStore

SITE_ARN = f"arn:aws:outposts:us-east-1:{ACCOUNT}:site/os-0123456789abcdef0"
OUTPOST_ARN = f"arn:aws:outposts:us-east-1:{ACCOUNT}:outpost/op-0123456789abcdef0"
# event_resources as databases made before session 8 have it: keyed by position, a second B-tree for lookups.
LEGACY_RESOURCES = """
CREATE TABLE event_resources (
    seq        INTEGER NOT NULL,
    attribute  TEXT NOT NULL,
    value      TEXT NOT NULL,
    account_id TEXT NOT NULL,
    region     TEXT NOT NULL,
    event_time INTEGER NOT NULL,
    PRIMARY KEY (seq, attribute, value)
) WITHOUT ROWID;
CREATE INDEX event_resources_lookup ON event_resources (account_id, region, attribute, value, event_time, seq);
"""


# What _found finds in what _store_some stored: the site is named by three events, the outpost by one.
ALL = {"site by name": 3, "site by ARN": 3, "outpost by name": 1, "site type": 3, "outpost type": 1}


def _open(path: Path) -> tuple[SqliteStateStore, SqliteEventStore]:
    state = SqliteStateStore(path)
    return state, SqliteEventStore(state.connection, state.lock)


def _names(events: SqliteEventStore, attribute: str, value: str, region: str = "us-east-1") -> list[str]:
    now = int(time.time())
    query = HistoryQuery(ACCOUNT, region, now - 86400 * 400, now + 60, 50, (attribute, value))
    return [event.record.decode() for event in events.lookup(query)]


def _store_some(events: SqliteEventStore) -> None:
    """An old CreateSite and a recent GetSite of the site, a recent CreateOutpost, and a call naming nothing."""
    site = [{"accountId": ACCOUNT, "type": "AWS::Outposts::Site", "ARN": SITE_ARN}]
    outpost = [{"accountId": ACCOUNT, "type": "AWS::Outposts::Outpost", "ARN": OUTPOST_ARN}]
    old = time.time() - 200 * 86400
    events.append_many(
        [
            record("CreateSite", at=old, resources=site),
            record("GetSite", read_only=True, resources=site),
            record("CreateOutpost", resources=outpost + site),
            record("ListSites", read_only=True),
        ]
    )


def _found(events: SqliteEventStore) -> dict[str, int]:
    return {
        "site by name": len(_names(events, "ResourceName", "os-0123456789abcdef0")),
        "site by ARN": len(_names(events, "ResourceName", SITE_ARN)),
        "outpost by name": len(_names(events, "ResourceName", "op-0123456789abcdef0")),
        "site type": len(_names(events, "ResourceType", "AWS::Outposts::Site")),
        "outpost type": len(_names(events, "ResourceType", "AWS::Outposts::Outpost")),
    }


def test_resource_rows_are_one_b_tree_keyed_by_the_lookup(tmp_path: Path) -> None:
    state, events = _open(tmp_path / "state.db")
    conn = state.connection
    assert not events.legacy_resources
    # no index besides the table's own key
    assert all(row[3] == "pk" for row in conn.execute("PRAGMA index_list(event_resources)"))
    key = [row[1] for row in sorted(conn.execute("PRAGMA table_info(event_resources)"), key=lambda r: r[5]) if row[5]]
    assert key == ["account_id", "region", "attribute", "value", "event_time", "seq"]
    _store_some(events)
    assert _found(events) == ALL
    assert _names(events, "ResourceName", SITE_ARN, region="eu-west-1") == []
    plan = " ".join(
        row[3]
        for row in conn.execute(
            "EXPLAIN QUERY PLAN SELECT r.seq FROM event_resources r WHERE r.account_id = ? AND r.region = ? "
            "AND r.attribute = ? AND r.value = ? AND r.event_time BETWEEN ? AND ? "
            "ORDER BY r.event_time DESC, r.seq DESC LIMIT 50",
            (ACCOUNT, "us-east-1", "ResourceName", SITE_ARN, 0, 2**40),
        )
    )
    assert "USING PRIMARY KEY" in plan and "TEMP B-TREE" not in plan  # a range of the key, no sort
    state.close()


def test_prune_deletes_the_resource_rows_of_the_events_it_deletes(tmp_path: Path) -> None:
    state, events = _open(tmp_path / "state.db")
    _store_some(events)
    rows = state.connection.execute("SELECT count(*) FROM event_resources").fetchone()[0]
    assert rows == 3 + 3 + 6  # per resource of an event: its type, its name and its ARN
    assert events.prune(int(time.time()) - 100 * 86400) == 1  # the old CreateSite
    assert state.connection.execute("SELECT count(*) FROM event_resources").fetchone()[0] == rows - 3
    assert _found(events) == {**ALL, "site by name": 2, "site by ARN": 2, "site type": 2}
    assert events.prune(int(time.time()) + 60) == 3
    assert state.connection.execute("SELECT count(*) FROM event_resources").fetchone()[0] == 0
    state.close()


def test_a_database_with_resource_rows_keyed_by_position_keeps_its_layout(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    with sqlite3.connect(path) as conn:
        conn.executescript(LEGACY_RESOURCES)
    state, events = _open(path)
    assert events.legacy_resources
    indexes = [row[1] for row in state.connection.execute("PRAGMA index_list(event_resources)")]
    assert "event_resources_lookup" in indexes
    _store_some(events)
    assert _found(events) == ALL
    assert events.prune(int(time.time()) - 100 * 86400) == 1
    assert _found(events) == {**ALL, "site by name": 2, "site by ARN": 2, "site type": 2}
    assert events.prune(int(time.time()) + 60) == 3
    assert state.connection.execute("SELECT count(*) FROM event_resources").fetchone()[0] == 0
    state.close()
    state, events = _open(path)  # reopened: still that layout
    assert events.legacy_resources
    state.close()
