"""The event store: every CloudTrail record, appended in the caller's transaction, read back in order.

Records live in the same SQLite database as service state, so a call's state change and its
event commit together (see ``commit``). Each row keeps the record as stored JSON plus the columns
Event history filters on (issue: LookupEvents), and a position ``seq`` that increases with every
append, for readers that follow the stream (trail delivery).

Contract for other engines (PostgreSQL): ``append`` joins the current transaction; a record is
visible to readers once that transaction commits; ``seq`` increases in commit order per writer.
"""

from __future__ import annotations

import calendar
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
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
CREATE INDEX IF NOT EXISTS events_by_time ON events (account_id, region, event_time);
"""


@dataclass(frozen=True, slots=True)
class StoredEvent:
    seq: int
    record: dict[str, Any]


def username_of(record: dict[str, Any]) -> str | None:
    """The user name Event history shows for a record (``root`` for the root user)."""
    identity = record.get("userIdentity") or {}
    kind = identity.get("type")
    if kind == "Root":
        return identity.get("userName") or "root"
    if kind == "IAMUser":
        return identity.get("userName")
    if kind in ("AssumedRole", "FederatedUser"):
        arn = identity.get("arn", "")
        return arn.rsplit("/", 1)[-1] or None
    return identity.get("userName")


class SqliteEventStore:
    """Events in the SQLite database whose connection the state store owns."""

    def __init__(self, connection: sqlite3.Connection, lock: Any) -> None:
        self._conn = connection
        self._lock = lock
        with self._lock:
            self._conn.executescript(SCHEMA)

    def append(self, record: dict[str, Any]) -> None:
        """Insert ``record`` in the current transaction (or on its own if none is open)."""
        identity = record.get("userIdentity") or {}
        row = (
            record["eventID"],
            record.get("recipientAccountId") or identity.get("accountId", ""),
            record["awsRegion"],
            calendar.timegm(time.strptime(record["eventTime"], "%Y-%m-%dT%H:%M:%SZ")),
            record["eventName"],
            record["eventSource"],
            username_of(record),
            identity.get("accessKeyId"),
            1 if record.get("readOnly") else 0,
            record.get("eventCategory", "Management"),
            orjson.dumps(record),
        )
        with self._lock:
            self._conn.execute(
                "INSERT INTO events (event_id, account_id, region, event_time, event_name, event_source, "
                "username, access_key_id, read_only, category, record) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                row,
            )

    def after(self, seq: int, limit: int = 1000) -> list[StoredEvent]:
        """Committed events with a position after ``seq``, oldest first."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT seq, record FROM events WHERE seq > ? ORDER BY seq LIMIT ?", (seq, limit)
            ).fetchall()
        return [StoredEvent(row[0], orjson.loads(row[1])) for row in rows]

    def iter_all(self) -> Iterator[StoredEvent]:
        seq = 0
        while True:
            batch = self.after(seq)
            yield from batch
            if len(batch) < 1000:
                return
            seq = batch[-1].seq

    def count(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT count(*) FROM events").fetchone()[0])
