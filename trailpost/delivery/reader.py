"""The delivery worker's view of the event stream: its own read-only SQLite connection.

The gateway appends events on the shared connection inside group-commit batches, and a reader on
that connection would see a batch's rows before the batch is committed (and then perhaps rolled
back). This reader has a connection of its own, opened read-only (``mode=ro``): in WAL mode it
sees committed data only, never blocks the writer and is never blocked by it.

Why following ``seq`` is sound: there is one writer, and a batch begins only after the previous one
has committed, so every event with a ``seq`` at or below the highest ``seq`` a reader sees is
committed and visible; nothing can appear later below a cursor.

It is used by one thread at a time (the worker runs its passes one after another); the connection
is opened on first use, in that thread.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

import orjson

CACHE_KIB = 16 * 1024
_SCAN = (
    "SELECT seq, region, event_time, record FROM events "
    "WHERE seq > ? AND seq <= ? AND account_id = ? AND category != 'Insight' ORDER BY seq LIMIT ?"
)


@dataclass(frozen=True, slots=True)
class Row:
    """One stored event as delivery needs it: position, region, whole-second time, record JSON bytes."""

    seq: int
    region: str
    event_time: int
    record: bytes


class EventReader:
    """Committed events of the state database, read by position."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            conn = sqlite3.connect(f"{self.path.as_uri()}?mode=ro", uri=True, check_same_thread=False)
            conn.execute("PRAGMA busy_timeout=5000")
            conn.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
            self._conn = conn
        return self._conn

    def head(self) -> int:
        """The highest committed position (0 when there are no events)."""
        with self._lock:
            row = self.conn.execute("SELECT max(seq) FROM events").fetchone()
        return int(row[0] or 0)

    def position_at(self, at: float, trail: dict | None = None) -> int:
        """A cursor from which a trail started at ``at`` logs: just before its StartLogging event when
        the stream holds it, else just before the first event of the second ``at`` falls in (event
        times are whole seconds)."""
        if trail is not None:
            start = self.control_event(trail, "StartLogging", at)
            if start is not None:
                return start - 1
        with self._lock:
            row = self.conn.execute("SELECT min(seq) FROM events WHERE event_time >= ?", (int(at),)).fetchone()
        if row[0] is None:
            return self.head()
        return int(row[0]) - 1

    def control_event(self, trail: dict, event_name: str, near: float) -> int | None:
        """The position of the first successful ``event_name`` call (StartLogging, StopLogging) naming
        ``trail`` recorded within two seconds after ``near``, if the stream holds one."""
        names = (trail.get("name"), trail.get("trail_arn"))
        with self._lock:
            rows = self.conn.execute(
                "SELECT seq, record FROM events WHERE event_time BETWEEN ? AND ? AND event_name = ? "
                "AND account_id = ? AND region = ? AND event_source = 'cloudtrail.amazonaws.com' ORDER BY seq",
                (int(near), int(near) + 2, event_name, trail.get("account_id"), trail.get("home_region")),
            ).fetchall()
        for seq, data in rows:
            record = orjson.loads(data)
            if record.get("errorCode") is None and (record.get("requestParameters") or {}).get("name") in names:
                return int(seq)
        return None

    def scan(self, after: int, upto: int, account: str, limit: int) -> list[Row]:
        """Up to ``limit`` events of ``account`` (no Insights events) with ``after < seq <= upto``, in order."""
        with self._lock:
            rows = self.conn.execute(_SCAN, (after, upto, account, limit)).fetchall()
        return [Row(seq, region, event_time, record) for seq, region, event_time, record in rows]

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
