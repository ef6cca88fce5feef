"""The event store: every CloudTrail record, appended in the caller's transaction, read back in order.

Records live in the same SQLite database as service state, so a call's state change and its
event commit together (see ``commit``). Each row keeps the record as stored JSON plus the columns
Event history filters on, and a position ``seq`` that increases with every append, for readers
that follow the stream (trail delivery).

Event history (``lookup``) is served from indexes only, newest first:

* every lookup attribute with a scalar value (EventName, EventSource, Username, AccessKeyId,
  ReadOnly) and the unfiltered case has a composite index ``(account_id, region, <attribute>,
  event_time)`` -- partial on ``category = 'Management'``, so data events never enter them; the
  rowid ``seq`` ends every index entry, which makes ``ORDER BY event_time DESC, seq DESC`` an
  index range scan with no sort;
* a record's resources go to the side table ``event_resources`` (one row per distinct
  ``ResourceType`` value and per ``ResourceName`` value: the resource's name and its full ARN),
  whose key is the lookup itself, ``(account_id, region, attribute, value, event_time, seq)``:
  one B-tree per row, where keying it by position needed a second one for lookups (databases
  made so keep that layout, ``legacy_resources``); ``prune`` finds a pruned event's rows by
  making its keys again from its record;
* EventId has no index: the store gives every record the ``eventID`` of its position
  (``event_ids``, a keyed permutation; the key is the ``event_id_key`` row of ``event_store_meta``,
  32 random bytes made with the schema, so a copied database keeps resolving its ids), and an
  EventId lookup decrypts the id to a position and reads that row, checking the stored id exactly
  (letter case included). A database made before (``event_id`` ``UNIQUE``, random ids) keeps its
  unique index and is looked up through it, old ids and new alike;
* Insights events (``category = 'Insight'``) have their own partial time index;
* a page reads four columns per event: position and time (its cursor), ``wire_event`` (what
  LookupEvents answers of the event but its record, JSON written at insert: ``lookup_wire``) and
  the record. Rows stored before that column existed have it ``NULL`` and are answered from their
  other columns (``wire_resources`` is the ``Resources`` array an earlier version stored; it is no
  longer written).

Rules: ``prepare`` overwrites the record's ``eventID`` (the caller's is a placeholder): the id a
client sees in LookupEvents, delivered log files, the console and the CLI is the stored one; each
copy of a shared cross-account call has its own position and so its own id. ``event_time`` is
whole seconds (the record's ``eventTime``); pages resume after a cursor ``(event_time, seq)``;
``prune`` deletes the oldest events (and their resource rows) in bounded chunks through the
``event_time`` index. ``event_store(state)`` gives the one event store of a state store, shared
by the gateway (which appends) and CloudTrail (which looks up).

Contract for other engines (PostgreSQL): ``append`` joins the current transaction; a record is
visible to readers once that transaction commits; ``seq`` increases in commit order per writer.
"""

from __future__ import annotations

import itertools
import sqlite3
import weakref
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, NamedTuple

import orjson

from trailpost.store.event_ids import EventIds, new_key
from trailpost.store.lookup_wire import legacy_wire_event, resource_name, resources_of, username_of, wire_event

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id     TEXT NOT NULL,
    account_id   TEXT NOT NULL,
    region       TEXT NOT NULL,
    event_time   INTEGER NOT NULL,
    event_name   TEXT NOT NULL,
    event_source TEXT NOT NULL,
    username     TEXT,
    access_key_id TEXT,
    read_only    INTEGER NOT NULL,
    category     TEXT NOT NULL,
    record       BLOB NOT NULL,
    wire_resources BLOB,
    wire_event   BLOB
);
DROP INDEX IF EXISTS events_by_time;
CREATE INDEX IF NOT EXISTS events_by_age ON events (event_time);
CREATE INDEX IF NOT EXISTS history_by_time ON events (account_id, region, event_time)
    WHERE category = 'Management';
CREATE INDEX IF NOT EXISTS history_by_name ON events (account_id, region, event_name, event_time)
    WHERE category = 'Management';
CREATE INDEX IF NOT EXISTS history_by_source ON events (account_id, region, event_source, event_time)
    WHERE category = 'Management';
CREATE INDEX IF NOT EXISTS history_by_user ON events (account_id, region, username, event_time)
    WHERE category = 'Management';
CREATE INDEX IF NOT EXISTS history_by_key ON events (account_id, region, access_key_id, event_time)
    WHERE category = 'Management';
CREATE INDEX IF NOT EXISTS history_by_read_only ON events (account_id, region, read_only, event_time)
    WHERE category = 'Management';
CREATE INDEX IF NOT EXISTS insights_by_time ON events (account_id, region, event_time)
    WHERE category = 'Insight';
CREATE TABLE IF NOT EXISTS event_resources (
    account_id TEXT NOT NULL,
    region     TEXT NOT NULL,
    attribute  TEXT NOT NULL,
    value      TEXT NOT NULL,
    event_time INTEGER NOT NULL,
    seq        INTEGER NOT NULL,
    PRIMARY KEY (account_id, region, attribute, value, event_time, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS event_store_meta (
    name  TEXT PRIMARY KEY,
    value BLOB NOT NULL
) WITHOUT ROWID;
"""

MANAGEMENT, INSIGHT, DATA = "Management", "Insight", "Data"
ID_KEY = "event_id_key"  # the event_store_meta row holding the eventID permutation's key
# Page cache of the shared connection, one process's appends and lookups: it fills as the process runs,
# so it bounds the server's memory (docs/decisions.md, "The writer's page cache").
CACHE_KIB = 64 * 1024
# The writer behind reader processes (``--workers``) only appends (the readers answer lookups): the
# hot pages of ten B-trees' right edges fit in far less, and the pages it appends are touched once
# (docs/decisions.md, "The writer's page cache").
WRITER_CACHE_KIB = 4 * 1024
# Lookup attribute -> the events column it filters on (the resource attributes use the side table).
COLUMNS = {
    "EventName": "event_name",
    "EventSource": "event_source",
    "Username": "username",
    "AccessKeyId": "access_key_id",
    "ReadOnly": "read_only",
    "EventId": "event_id",
}
RESOURCE_ATTRIBUTES = ("ResourceType", "ResourceName")
_SELECT = "e.seq, e.event_time, e.wire_event, e.record"
# The columns ``lookup_wire.legacy_wire_event`` makes a row's LookupEvents object of (rows without one).
_LEGACY = (
    "SELECT seq, event_id, event_time, event_name, event_source, username, access_key_id, read_only, record, "
    "wire_resources FROM events WHERE seq IN ({})"
)
_INSERT = (
    "INSERT INTO events (seq, event_id, account_id, region, event_time, event_name, event_source, "
    "username, access_key_id, read_only, category, record, wire_event) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)"
)
_INSERT_RESOURCE = (
    "INSERT OR IGNORE INTO event_resources (seq, attribute, value, account_id, region, event_time) VALUES (?,?,?,?,?,?)"
)
_DELETE_RESOURCE = (
    "DELETE FROM event_resources WHERE seq = ? AND attribute = ? AND value = ? AND account_id = ? AND region = ? "
    "AND event_time = ?"
)


@dataclass(frozen=True, slots=True)
class PreparedEvent:
    """A record ready to insert: its ``events`` row (position first) and its ``event_resources`` rows."""

    row: tuple[Any, ...]
    resources: list[tuple[Any, ...]]


@dataclass(frozen=True, slots=True)
class StoredEvent:
    seq: int
    record: dict[str, Any]


@dataclass(frozen=True, slots=True)
class HistoryQuery:
    """One page of Event history: an account and region, one attribute at most, an inclusive time range.

    ``after`` is the cursor ``(event_time, seq)`` of the last event of the previous page.
    """

    account_id: str
    region: str
    start: int
    end: int
    limit: int
    attribute: tuple[str, Any] | None = None  # ReadOnly filters on 0 or 1
    category: str = MANAGEMENT
    after: tuple[int, int] | None = None


class HistoryEvent(NamedTuple):
    """An Event history row: its position and time (the page cursor), LookupEvents' ``Event`` of it
    in JSON but for ``CloudTrailEvent`` (``lookup_wire``), and the record as stored (compact JSON).

    A tuple in ``lookup``'s column order, so a page is made from SQLite's rows without a call per row.
    """

    seq: int
    event_time: int
    event: bytes
    record: bytes

    @property
    def cursor(self) -> tuple[int, int]:
        return (self.event_time, self.seq)


def _lookup_values(record: dict[str, Any]) -> set[tuple[str, str]]:
    """The (attribute, value) pairs of a record's resources that ResourceType/ResourceName lookups match."""
    values: set[tuple[str, str]] = set()
    for entry in record.get("resources") or ():
        if not isinstance(entry, dict):
            continue
        if isinstance(entry.get("type"), str) and entry["type"]:
            values.add(("ResourceType", entry["type"]))
        arn = entry.get("ARN") or entry.get("arn")
        if isinstance(arn, str) and arn:
            values.add(("ResourceName", resource_name(arn)))
            values.add(("ResourceName", arn))
    return values


@lru_cache(maxsize=256)
def _epoch(text: str) -> int:
    """``YYYY-MM-DDTHH:MM:SSZ`` as whole epoch seconds (cached: records arrive in time order)."""
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


def _row(record: dict[str, Any]) -> tuple[Any, ...]:
    """The ``events`` columns of ``record`` after ``seq``: ``_INSERT``'s parameters but the first.

    ``wire_event`` (the last) is what LookupEvents answers of the event but its record
    (``lookup_wire``), made once here rather than from the columns at every lookup; data events,
    which Event history never shows, have none.
    """
    identity = record.get("userIdentity") or {}
    category = record.get("eventCategory", MANAGEMENT)
    event_id, at, name, source = (
        record["eventID"],
        _epoch(record["eventTime"]),
        record["eventName"],
        record["eventSource"],
    )
    username, key, read_only = (
        username_of(record),
        identity.get("accessKeyId") or None,
        1 if record.get("readOnly") else 0,
    )
    wire = None
    if category != DATA:
        wire = wire_event(event_id, at, name, source, username, key, read_only, orjson.dumps(resources_of(record)))
    return (
        event_id,
        record.get("recipientAccountId") or identity.get("accountId", ""),
        record["awsRegion"],
        at,
        name,
        source,
        username,
        key,
        read_only,
        category,
        orjson.dumps(record),
        wire,
    )


# The most rows one INSERT statement writes (a power of two; 64 rows of 13 columns: 832 bound values, under
# SQLite's oldest default limit of 999).
ROWS_PER_STATEMENT = 64


@lru_cache(maxsize=32)
def _rows_statement(sql: str, rows: int) -> str:
    """``sql`` (an ``INSERT ... VALUES (?,...)``) writing ``rows`` rows at once."""
    head, _, values = sql.partition(" VALUES ")
    return f"{head} VALUES " + ",".join([values] * rows)


def _insert_rows(conn: sqlite3.Connection, sql: str, rows: list[tuple[Any, ...]]) -> None:
    """Insert ``rows`` with as few statements as their count allows: one per set bit of it (up to
    ``ROWS_PER_STATEMENT`` rows each), so that the connection prepares and caches at most seven
    statements per table (docs/decisions.md, "A batch's rows inserted a few statements at a time")."""
    start, left = 0, len(rows)
    while left:
        size = min(ROWS_PER_STATEMENT, 1 << (left.bit_length() - 1))
        chunk = rows[start : start + size]
        conn.execute(_rows_statement(sql, size), [value for row in chunk for value in row])
        start, left = start + size, left - size


class SqliteEventStore:
    """Events in the SQLite database whose connection the state store owns."""

    def __init__(
        self, connection: sqlite3.Connection, lock: Any, before_write: Callable[[], None] | None = None
    ) -> None:
        self._conn = connection
        self._lock = lock
        # The state store's ``open_savepoints``: its savepoints open at their first write, and this
        # store writes on the same connection without going through it.
        self._before_write = before_write
        self.last_prune = 0.0
        with self._lock:
            # Event history reads and every append descend ten B-trees of a database that grows to
            # gigabytes: SQLite's default 2 MB page cache would re-read their inner pages each time.
            self._conn.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
            fresh = not self._conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type='table' AND name='event_resources'"
            ).fetchone()
            self._conn.executescript(SCHEMA)
            if fresh:
                self._backfill_resources()
            _add_columns(self._conn)
            self.ids = EventIds(self._id_key())
            # A database made before ids were positions has the UNIQUE index of ``event_id``.
            self.legacy_ids = _has_event_id_index(self._conn)
            # One made before resource rows were keyed by their lookup has them keyed by position.
            self.legacy_resources = _resources_keyed_by_seq(self._conn)
        self._seqs = itertools.count(self._next_seq_from_table())

    def set_cache(self, kib: int) -> None:
        """Resize the connection's page cache to ``kib`` KiB (pages beyond it are released)."""
        with self._lock:
            self._conn.execute(f"PRAGMA cache_size=-{int(kib)}")

    # -- writing --------------------------------------------------------------------------------

    def _next_seq_from_table(self) -> int:
        """The first position never used: past every row, and past ``sqlite_sequence`` (rows deleted)."""
        with self._lock:
            used = self._conn.execute("SELECT max(seq) FROM events").fetchone()[0] or 0
            row = self._conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'events'").fetchone()
        return max(used, row[0] if row else 0) + 1

    def _id_key(self) -> bytes:
        """The eventID key of this database, made (and committed) on first use."""
        select = f"SELECT value FROM event_store_meta WHERE name = '{ID_KEY}'"
        row = self._conn.execute(select).fetchone()
        if row is None:
            insert = "INSERT OR IGNORE INTO event_store_meta (name, value) VALUES (?, ?)"
            self._conn.execute(insert, (ID_KEY, new_key()))
            row = self._conn.execute(select).fetchone()  # another process may have won the race
        return bytes(row[0])

    def prepare(self, record: dict[str, Any]) -> PreparedEvent:
        """``record`` as rows, with its position drawn now and its ``eventID`` set to that position's
        (pure Python: the caller's thread).

        Positions come from a counter read from the table once: this process is the one writer of
        its data directory. They increase in the order records are prepared, which is the order
        their batches commit in (a batch's work runs only after the previous batch committed).
        """
        seq = next(self._seqs)
        record["eventID"] = self.ids.event_id(seq)
        row = _row(record)
        extra: list[tuple[Any, ...]] = []
        if row[9] == MANAGEMENT and record.get("resources"):
            extra = [(seq, a, v, row[1], row[2], row[3]) for a, v in _lookup_values(record)]
        return PreparedEvent((seq, *row), extra)

    def insert(self, prepared: list[PreparedEvent]) -> None:
        """Insert prepared events in the current transaction (group commit's sink, ``commit.stage``)."""
        with self._lock:
            if self._before_write is not None:
                self._before_write()
            try:
                _insert_rows(self._conn, _INSERT, [event.row for event in prepared])
            except sqlite3.IntegrityError:
                self._seqs = itertools.count(self._next_seq_from_table())  # another writer: resynchronize
                raise
            resources = [row for event in prepared for row in event.resources]
            if resources:
                _insert_rows(self._conn, _INSERT_RESOURCE, resources)

    def append(self, record: dict[str, Any]) -> None:
        """Insert ``record`` in the current transaction, or in one of its own if none is open.

        Durable once the enclosing transaction is: a group-commit batch, or the state store's
        ``transaction()`` (which syncs). A transaction of its own here is atomic, not synced.
        """
        prepared = [self.prepare(record)]
        with self._lock:
            if self._conn.in_transaction:
                self.insert(prepared)
                return
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self.insert(prepared)
            except BaseException:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def append_many(self, records: Iterable[dict[str, Any]]) -> int:
        """Insert many records in one transaction (bulk loading, seeding); returns how many."""
        count = 0
        with self._lock:
            started = not self._conn.in_transaction
            if started:
                self._conn.execute("BEGIN IMMEDIATE")
            try:
                for record in records:
                    self.append(record)
                    count += 1
                if started:
                    self._conn.execute("COMMIT")
            except BaseException:
                if started and self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise
        return count

    def _backfill_resources(self) -> None:
        """Resource rows for events stored before the side table existed."""
        seq = 0
        while True:
            rows = self._conn.execute(
                "SELECT seq, record FROM events WHERE seq > ? AND category = 'Management' ORDER BY seq LIMIT 1000",
                (seq,),
            ).fetchall()
            for seq, data in rows:
                record = orjson.loads(data)
                if record.get("resources"):
                    account, region, at = _row(record)[1:4]
                    self._conn.executemany(
                        _INSERT_RESOURCE, [(seq, a, v, account, region, at) for a, v in _lookup_values(record)]
                    )
            if len(rows) < 1000:
                return

    def prune(self, before: int, limit: int = 2000) -> int:
        """Delete up to ``limit`` events older than ``before`` (epoch seconds), oldest first; returns how many.

        Their resource rows go with them: found by position in a database that keys them so
        (``legacy_resources``), else by their keys, made again from each record as ``prepare`` made them.
        """
        with self._lock:
            rows = self._conn.execute(
                "SELECT seq, account_id, region, event_time, category, record FROM events WHERE event_time < ? "
                "ORDER BY event_time LIMIT ?",
                (before, limit),
            ).fetchall()
            if not rows:
                return 0
            if self._before_write is not None:
                self._before_write()
            if self.legacy_resources:
                self._conn.executemany("DELETE FROM event_resources WHERE seq = ?", [(row[0],) for row in rows])
            else:
                self._conn.executemany(_DELETE_RESOURCE, _resource_rows_of(rows))
            self._conn.executemany("DELETE FROM events WHERE seq = ?", [(row[0],) for row in rows])
        return len(rows)

    # -- Event history ----------------------------------------------------------------------------

    def lookup(self, query: HistoryQuery) -> list[HistoryEvent]:
        """Up to ``query.limit`` events of the query, newest first (``event_time``, then ``seq``)."""
        start, end = query.start, query.end
        cursor_sql = ""
        args_tail: tuple[int, ...] = ()
        if query.after is not None:
            at, seq = query.after
            end = min(end, at)
            cursor_sql = " AND ({t}.event_time < ? OR {t}.seq < ?)"
            args_tail = (at, seq)
        if start > end:
            return []
        category = INSIGHT if query.category == INSIGHT else MANAGEMENT
        key, value = query.attribute or (None, None)
        if key in RESOURCE_ATTRIBUTES:
            sql = (
                f"SELECT {_SELECT} FROM event_resources r JOIN events e ON e.seq = r.seq "
                "WHERE r.account_id = ? AND r.region = ? AND r.attribute = ? AND r.value = ? "
                f"AND r.event_time BETWEEN ? AND ?{cursor_sql.format(t='r')} AND e.category = '{category}' "
                "ORDER BY r.event_time DESC, r.seq DESC LIMIT ?"
            )
            args: tuple[Any, ...] = (query.account_id, query.region, key, value, start, end, *args_tail, query.limit)
        else:
            where = ""
            filters: tuple[Any, ...] = ()
            if key == "EventId" and not self.legacy_ids:
                position = self.ids.position(value)
                if position is None:
                    return []  # no position has this id: never issued here
                where, filters = " AND e.seq = ? AND e.event_id = ?", (position, value)
            elif key is not None:
                where = f" AND e.{COLUMNS[key]} = ?"
                filters = (value,)
            sql = (
                f"SELECT {_SELECT} FROM events e WHERE e.account_id = ? AND e.region = ? "
                f"AND e.category = '{category}'{where} AND e.event_time BETWEEN ? AND ?{cursor_sql.format(t='e')} "
                "ORDER BY e.event_time DESC, e.seq DESC LIMIT ?"
            )
            args = (query.account_id, query.region, *filters, start, end, *args_tail, query.limit)
        with self._lock:
            rows = self._conn.execute(sql, args).fetchall()
            if any(row[2] is None for row in rows):
                rows = self._with_legacy_events(rows)
        return list(map(HistoryEvent._make, rows))

    def _with_legacy_events(self, rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        """``rows`` with the LookupEvents object of those stored before ``wire_event`` existed made
        from their other columns (the caller holds the lock)."""
        seqs = [row[0] for row in rows if row[2] is None]
        legacy = {
            seq: legacy_wire_event(tuple(columns))
            for seq, *columns in self._conn.execute(_LEGACY.format(",".join("?" * len(seqs))), seqs)
        }
        return [row if row[2] is not None else (row[0], row[1], legacy[row[0]], row[3]) for row in rows]

    # -- followers --------------------------------------------------------------------------------

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

    def head(self) -> int:
        """The highest position this connection sees (0 with no events): inside a group-commit
        batch, what is committed plus what the batch itself inserted so far."""
        with self._lock:
            return int(self._conn.execute("SELECT max(seq) FROM events").fetchone()[0] or 0)

    def count(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT count(*) FROM events").fetchone()[0])


def _add_columns(conn: sqlite3.Connection) -> None:
    """Give an ``events`` table made before ``wire_resources`` and ``wire_event`` existed those columns
    (instant in SQLite: old rows read ``NULL`` there and are answered from their other columns)."""
    columns = {row[1] for row in conn.execute("PRAGMA table_info(events)").fetchall()}
    for name in ("wire_resources", "wire_event"):
        if name not in columns:
            conn.execute(f"ALTER TABLE events ADD COLUMN {name} BLOB")


def _resource_rows_of(rows: list[tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
    """The ``event_resources`` rows (``_INSERT_RESOURCE``'s order) of events read as ``(seq, account_id,
    region, event_time, category, record)``: what ``prepare`` inserted for them."""
    for seq, account, region, at, category, data in rows:
        if category == MANAGEMENT and b'"resources"' in data:
            for attribute, value in _lookup_values(orjson.loads(data)):
                yield (seq, attribute, value, account, region, at)


def _resources_keyed_by_seq(conn: sqlite3.Connection) -> bool:
    """Whether ``event_resources`` has the layout of databases made before session 8: keyed by
    ``(seq, attribute, value)``, with a second B-tree (``event_resources_lookup``) for lookups."""
    key = sorted((row[5], row[1]) for row in conn.execute("PRAGMA table_info(event_resources)") if row[5])
    return bool(key) and key[0][1] == "seq"


def _has_event_id_index(conn: sqlite3.Connection) -> bool:
    """Whether ``events`` has an index on ``event_id`` alone (the UNIQUE one of databases made before)."""
    for _n, name, *_rest in conn.execute("PRAGMA index_list(events)").fetchall():
        columns = [row[2] for row in conn.execute(f'PRAGMA index_info("{name}")').fetchall()]
        if columns == ["event_id"]:
            return True
    return False


_STORES: weakref.WeakKeyDictionary[Any, SqliteEventStore] = weakref.WeakKeyDictionary()


def event_store(state: Any) -> SqliteEventStore:
    """The event store living in ``state``'s database (a ``SqliteStateStore``), made once per state store."""
    events = _STORES.get(state)
    if events is None:
        events = _STORES[state] = SqliteEventStore(state.connection, state.lock, state.open_savepoints)
    return events
