"""The delivery worker's view of the event stream: its own read-only SQLite connection.

The gateway appends events on the shared connection inside group-commit batches, and a reader on
that connection would see a batch's rows before the batch is committed (and then perhaps rolled
back). This reader has a connection of its own, opened read-only (``mode=ro``): in WAL mode it
sees committed data only, never blocks the writer and is never blocked by it.

Why following ``seq`` is sound: there is one writer, and a batch begins only after the previous one
has committed, so every event with a ``seq`` at or below the highest ``seq`` a reader sees is
committed and visible; nothing can appear later below a cursor.

Durable, not only committed: group commit syncs the WAL after a batch's commit (``store.commit``),
so for a moment a committed batch may not yet survive a power loss. The worker sets ``ceiling`` to
the highest position it saw inside a group-commit batch that has since been acknowledged (so
synced); ``head`` and the positions this reader hands out never go past it, and a log file never
holds an event a power loss could still take back.

It is used by one thread at a time (the worker runs its passes one after another); the connection
is opened on first use, in that thread.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

import orjson

CACHE_KIB = 16 * 1024
_COLUMNS = "seq, region, event_time, record, category, event_source, event_name, read_only"
_WHERE = "WHERE seq > ? AND seq <= ? AND account_id = ? AND category != 'Insight' ORDER BY seq LIMIT ?"
_SCAN = f"SELECT {_COLUMNS} FROM events {_WHERE}"
_SCAN_SHORT = f"SELECT {_COLUMNS.rsplit(', ', 3)[0]} FROM events {_WHERE}"
# A scanned row: SQLite's own tuple, no object per event (``scan``); the last three only when asked for.
Row = tuple[Any, ...]
SEQ, REGION, EVENT_TIME, RECORD, CATEGORY, EVENT_SOURCE, EVENT_NAME, READ_ONLY = range(8)


class EventReader:
    """Committed events of the state database, read by position."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        self.ceiling: int | None = None  # the highest position known durable (module docstring)

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            conn = sqlite3.connect(f"{self.path.as_uri()}?mode=ro", uri=True, check_same_thread=False)
            conn.execute("PRAGMA busy_timeout=5000")
            conn.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
            self._conn = conn
        return self._conn

    def head(self) -> int:
        """The highest committed position (0 when there are no events), at most ``ceiling``."""
        with self._lock:
            row = self.conn.execute("SELECT max(seq) FROM events").fetchone()
        head = int(row[0] or 0)
        return head if self.ceiling is None else min(head, self.ceiling)

    def position_at(self, at: float, trail: dict | None = None) -> int:
        """A cursor from which a trail started at ``at`` logs: just before its StartLogging event when
        the stream holds it, else just before the first event of the second ``at`` falls in (event
        times are whole seconds)."""
        if trail is not None:
            start = self.control_event(trail, "StartLogging", at)
            if start is not None:
                return min(start - 1, self.head())
        with self._lock:
            row = self.conn.execute("SELECT min(seq) FROM events WHERE event_time >= ?", (int(at),)).fetchone()
        if row[0] is None:
            return self.head()
        return min(int(row[0]) - 1, self.head())

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

    def scan(self, after: int, upto: int, account: str, limit: int, *, selector_columns: bool = True) -> list[Row]:
        """Up to ``limit`` events of ``account`` (no Insights events) with ``after < seq <= upto``, in order.

        Each row is ``(seq, region, event_time, record, category, event_source, event_name,
        read_only)`` (the indexes ``SEQ`` ... ``READ_ONLY``): position, region, whole-second time,
        the record's JSON bytes as stored, and the columns selectors can be decided from
        (``delivery.selection``); without ``selector_columns`` the rows end at ``category``
        (reading three columns fewer is a sixth of the scan's cost).
        """
        sql = _SCAN if selector_columns else _SCAN_SHORT
        with self._lock:
            return self.conn.execute(sql, (after, upto, account, limit)).fetchall()

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
