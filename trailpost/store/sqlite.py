"""The embedded state store: one SQLite database in WAL mode inside the data directory.

One connection is shared by the process and guarded by a re-entrant lock; transactions are
``BEGIN IMMEDIATE`` so a writer never deadlocks on lock upgrade, and a ``transaction()`` opened
inside another (or inside a group-commit batch, see ``commit``) is a savepoint.

Durability: the connection runs ``synchronous=NORMAL`` (a commit writes the WAL without syncing it;
checkpoints sync the WAL before and the database after) and the store makes commits durable itself
with ``sync`` (an fdatasync of the WAL file): a top-level ``transaction()`` syncs before it
returns, and group commit syncs a batch before acknowledging it, outside the connection's lock so
the next batch need not wait for the disk. A commit returned by ``transaction()`` or acknowledged
by group commit is durable across power loss, as the contract in ``base`` requires.
Temporary tables and savepoint journals stay in memory (``temp_store=MEMORY``).

A failed sync is final (``DurabilityLost``, whose docstring says why): the store refuses every later
write transaction and sync, and tells ``on_durability_lost`` (the server stops on it).

A reader process (``trailpost.readers``) opens the same database and then ``seal_read_only``s its
store: SQLite refuses every write on that connection (``query_only``), and ``put``/``delete`` raise
``ReadOnlyStoreError`` so the gateway hands the call to the writer process.
"""

from __future__ import annotations

import builtins
import errno
import logging
import os
import sqlite3
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import orjson

from trailpost.store.base import DurabilityLost, Entry, ReadOnlyStoreError

log = logging.getLogger("trailpost.store")

SCHEMA = """
CREATE TABLE IF NOT EXISTS state (
    seq   INTEGER PRIMARY KEY AUTOINCREMENT,
    kind  TEXT NOT NULL,
    scope TEXT NOT NULL,
    key   TEXT NOT NULL,
    doc   BLOB NOT NULL,
    UNIQUE (kind, scope, key)
);
CREATE INDEX IF NOT EXISTS state_by_key ON state (kind, key);
"""

STATE_FILE = "state.db"  # the state database inside the data directory


class SqliteStateStore:
    """``StateStore`` on SQLite; safe to share between threads of one process."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")  # made durable by ``sync`` (module docstring)
        self._conn.execute("PRAGMA temp_store=MEMORY")
        self._conn.execute("PRAGMA busy_timeout=5000")
        self._conn.executescript(SCHEMA)
        self._lock = threading.RLock()
        self._depth = 0
        # Savepoints entered but not yet opened in SQLite, outermost first (``_Atomic``): opened by
        # the first write under them, so a block that only reads costs no statement.
        self._unopened: list[_Atomic] = []
        self._wal_path = path.with_name(path.name + "-wal")
        self._wal_fd: int | None = None
        self._wal_lock = threading.Lock()
        self.read_only = False
        self.durability_lost: DurabilityLost | None = None
        # Told (from whichever thread synced) the one time a sync fails.
        self.on_durability_lost: builtins.list[Callable[[DurabilityLost], None]] = []

    def seal_read_only(self) -> None:
        """From now on this connection only reads: SQLite refuses writes, ``put``/``delete`` raise
        ``ReadOnlyStoreError`` (for reader processes, once their caches and triggers are set up)."""
        with self._lock:
            self._conn.execute("PRAGMA query_only=1")
            self.read_only = True

    def transaction(self) -> AbstractContextManager[None]:
        """Atomic block: a transaction of its own, or a savepoint inside an open one."""
        return _Atomic(self)

    # -- explicit batch control, for group commit (``trailpost.store.commit``) ----------------

    def begin(self) -> None:
        if self.durability_lost is not None:
            raise self.durability_lost
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")

    def commit(self) -> None:
        with self._lock:
            self._conn.execute("COMMIT")

    def rollback(self) -> None:
        with self._lock:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")

    def sync(self) -> None:
        """Make every commit so far durable: fdatasync the WAL file (no connection lock needed).

        The WAL file keeps its inode while the connection is open; should it be gone or replaced
        (the last connection closed and checkpointed it away: SQLite synced the database then),
        the descriptor is reopened, or there is nothing to sync.
        """
        with self._wal_lock:
            if self.durability_lost is not None:
                raise self.durability_lost
            fd = self._wal_fd
            try:
                current = os.stat(self._wal_path).st_ino
            except FileNotFoundError:
                current = None
            if fd is not None and (current is None or os.fstat(fd).st_ino != current):
                os.close(fd)
                fd = self._wal_fd = None
            if fd is None and current is not None:
                fd = self._wal_fd = os.open(self._wal_path, os.O_RDONLY | os.O_CLOEXEC)
            if fd is None:
                return
            try:
                self._fdatasync(fd)
                return
            except OSError as exc:
                cause = exc
                lost = self.durability_lost = DurabilityLost(
                    exc.errno or errno.EIO,
                    f"the write-ahead log {self._wal_path} could not be synced ({exc.strerror or exc}): "
                    "nothing more is committed; restart trailpost once the disk is sound (the database "
                    "is recovered from what reached it)",
                )
        log.critical("%s", lost)
        for hook in self.on_durability_lost:
            hook(lost)
        raise lost from cause

    @staticmethod
    def _fdatasync(fd: int) -> None:
        """The disk write barrier itself (a separate step so that tests can make the disk fail)."""
        os.fdatasync(fd)

    @property
    def lock(self) -> threading.RLock:
        """The lock every user of ``connection`` must hold."""
        return self._lock

    @property
    def in_transaction(self) -> bool:
        return self._conn.in_transaction

    @property
    def connection(self) -> sqlite3.Connection:
        """The shared connection, for stores that live in the same database (events)."""
        return self._conn

    def get(self, kind: str, scope: str, key: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT doc FROM state WHERE kind=? AND scope=? AND key=?", (kind, scope, key)
            ).fetchone()
        return orjson.loads(row[0]) if row else None

    def put(self, kind: str, scope: str, key: str, doc: dict[str, Any]) -> None:
        if self.read_only:
            raise ReadOnlyStoreError(f"put {kind}")
        data = orjson.dumps(doc)
        with self._lock:
            if self._unopened:
                self.open_savepoints()
            self._conn.execute(
                "INSERT INTO state (kind, scope, key, doc) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (kind, scope, key) DO UPDATE SET doc=excluded.doc",
                (kind, scope, key, data),
            )

    def delete(self, kind: str, scope: str, key: str) -> bool:
        if self.read_only:
            raise ReadOnlyStoreError(f"delete {kind}")
        with self._lock:
            if self._unopened:
                self.open_savepoints()
            cursor = self._conn.execute("DELETE FROM state WHERE kind=? AND scope=? AND key=?", (kind, scope, key))
        return cursor.rowcount > 0

    def open_savepoints(self) -> None:
        """Open in SQLite the savepoints ``transaction()`` entered but has not opened yet, outermost
        first. ``put`` and ``delete`` do it; whatever else writes on ``connection`` inside a
        ``transaction()`` (the event store) must call it before its first write (``_Atomic``)."""
        if not self._unopened:
            return
        with self._lock:
            for atomic in self._unopened:
                self._conn.execute(f"SAVEPOINT {atomic._savepoint}")
                atomic._opened = True
            self._unopened.clear()

    def list(self, kind: str, scope: str, *, after_seq: int = 0, limit: int | None = None) -> list[Entry]:
        sql = "SELECT seq, key, doc FROM state WHERE kind=? AND scope=? AND seq>? ORDER BY seq"
        args: tuple[Any, ...] = (kind, scope, after_seq)
        if limit is not None:
            sql += " LIMIT ?"
            args += (limit,)
        with self._lock:
            rows = self._conn.execute(sql, args).fetchall()
        return [Entry(kind, scope, key, seq, orjson.loads(doc)) for seq, key, doc in rows]

    def count(self, kind: str, scope: str) -> int:
        with self._lock:
            row = self._conn.execute("SELECT count(*) FROM state WHERE kind=? AND scope=?", (kind, scope)).fetchone()
        return int(row[0])

    def find(self, kind: str, key: str) -> Entry | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT seq, scope, doc FROM state WHERE kind=? AND key=? ORDER BY seq LIMIT 1", (kind, key)
            ).fetchone()
        return Entry(kind, row[1], key, row[0], orjson.loads(row[2])) if row else None

    def scopes(self, kind: str) -> builtins.list[str]:
        with self._lock:
            rows = self._conn.execute("SELECT DISTINCT scope FROM state WHERE kind=? ORDER BY scope", (kind,))
            return [r[0] for r in rows.fetchall()]

    def close(self) -> None:
        with self._lock:
            self._conn.close()
        with self._wal_lock:
            if self._wal_fd is not None:
                os.close(self._wal_fd)
                self._wal_fd = None


class _Atomic:
    """``SqliteStateStore.transaction()``: holds the store's lock from enter to exit; a transaction
    of its own (``BEGIN IMMEDIATE`` ... ``COMMIT`` and the WAL synced), or a savepoint inside an open
    one. A class rather than a ``contextmanager`` generator: every API call enters one or two.

    A transaction of its own that changed no row (a read: ``total_changes`` did not move) appends
    nothing to the WAL when it commits, so it is not synced: there is nothing new to make durable,
    and an fdatasync is a disk flush even then. Schema changes are not counted by ``total_changes``;
    the stores make theirs outside ``transaction()`` (``executescript`` commits first).

    A savepoint is opened lazily: entering only names it, and the store's first write under it
    (``put``, ``delete``) opens it, with every unopened one around it, outermost first. A block that
    only reads (GetSite, ListSites inside a group-commit batch) has nothing to roll back and runs no
    ``SAVEPOINT``/``RELEASE`` pair.

    Writes that bypass ``put``/``delete`` on this connection would have no savepoint to return to:
    if one fails such a block (``total_changes`` moved while it stayed unopened), ``__exit__`` raises
    ``UnopenedSavepointError`` instead of keeping its effects, which fails the enclosing transaction
    or batch as a whole."""

    __slots__ = ("_changes", "_opened", "_savepoint", "_store")

    def __init__(self, store: SqliteStateStore) -> None:
        self._store = store
        self._savepoint: str | None = None
        self._opened = False
        self._changes = -1

    def __enter__(self) -> None:
        store = self._store
        store._lock.acquire()
        try:
            if store._conn.in_transaction:
                store._depth += 1
                self._savepoint = f"sp{store._depth}"
                self._changes = store._conn.total_changes
                store._unopened.append(self)
            else:
                if store.durability_lost is not None:
                    raise store.durability_lost
                store._conn.execute("BEGIN IMMEDIATE")
                self._changes = store._conn.total_changes
        except BaseException:
            store._lock.release()
            raise

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: Any) -> None:
        store = self._store
        conn = store._conn
        name = self._savepoint
        try:
            if name is not None:
                store._depth -= 1
                if not self._opened:
                    store._unopened.pop()  # the innermost: blocks nest
                    if kind is not None and conn.total_changes != self._changes:
                        raise UnopenedSavepointError(
                            f"a write bypassed the state store under savepoint {name}: it cannot be rolled back alone"
                        ) from error
                elif kind is None:
                    conn.execute(f"RELEASE {name}")
                elif conn.in_transaction:
                    # Some errors (SQLITE_FULL, IOERR) make SQLite roll back the whole
                    # transaction itself; then there is no savepoint left to return to.
                    conn.execute(f"ROLLBACK TO {name}")
                    conn.execute(f"RELEASE {name}")
            elif kind is None:
                conn.execute("COMMIT")
                if conn.total_changes != self._changes:
                    store.sync()
            elif conn.in_transaction:
                conn.execute("ROLLBACK")
        finally:
            store._lock.release()


class UnopenedSavepointError(RuntimeError):
    """A block failed after a write that bypassed ``put``/``delete``, under a savepoint not yet opened."""
