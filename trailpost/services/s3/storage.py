"""The embedded S3's storage: bucket documents in the state store, object bytes in files.

Rules (the shared contract other packages code against):

* a bucket is a state-store document, kind ``"s3.bucket"``, scope ``""`` (names are global across
  accounts), key = bucket name: ``{"name", "account_id", "region", "creation_date" (float epoch),
  "policy" (str | None)}``. Reads take ``store.lock`` so a worker thread may call them.
* objects live under ``<root>/<bucket-dir>/``: a per-bucket SQLite index (``index.sqlite``: key,
  size, ETag, Last-Modified, metadata, content type/encoding, checksums and the data file name)
  and one data file per object version in ``data/``. Data file names are random hex, never derived
  from the key, so no key (``..``, absolute paths, NUL, 1024-byte keys) can name a path outside
  the bucket's directory. The bucket directory name is the SHA-256 of the bucket name.
* a write is atomic and durable before it returns: bytes go to a temp file, are fsynced, renamed
  into place (directory fsynced), then the index row is committed (``synchronous=FULL``); the
  previous version's file is removed after the commit. A crash leaves at worst an orphan file.
* thread-safe: one lock per bucket directory (process-wide, not per ``BucketStorage``), because
  the delivery worker writes from a worker thread while API calls run. The store's lock is never
  taken while a bucket's lock is held (lock order: store, then bucket).
* Last-Modified is kept in whole seconds, as S3 shows it (``...:30.000Z`` in listings).
"""

from __future__ import annotations

import hashlib
import os
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from trailpost.store.base import StateStore

BUCKET_KIND = "s3.bucket"

_INDEX_SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
    key TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    etag TEXT NOT NULL,
    last_modified REAL NOT NULL,
    content_type TEXT,
    content_encoding TEXT,
    metadata BLOB NOT NULL,
    checksums BLOB NOT NULL,
    file TEXT NOT NULL
);
"""
_COLUMNS = "key, size, etag, last_modified, content_type, content_encoding, metadata, checksums, file"


class NoSuchBucket(LookupError):
    """The bucket does not exist (the S3 handlers turn it into the ``NoSuchBucket`` error)."""


@dataclass(frozen=True, slots=True)
class ObjectSummary:
    """One listed object."""

    key: str
    size: int
    etag: str
    last_modified: float


@dataclass(frozen=True, slots=True)
class StoredObject:
    """An object with its bytes and everything a GetObject answer shows."""

    key: str
    body: bytes
    etag: str
    last_modified: float
    metadata: dict[str, str] = field(default_factory=dict)
    content_type: str | None = None
    content_encoding: str | None = None
    checksums: dict[str, str] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return len(self.body)


class _BucketFiles:
    """The directory, lock and index connection of one bucket (one instance per directory per process)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None

    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            (self.path / "data").mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path / "index.sqlite", isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.executescript(_INDEX_SCHEMA)
            self._conn = conn
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


_FILES: dict[Path, _BucketFiles] = {}
_FILES_LOCK = threading.Lock()


def _files_for(path: Path) -> _BucketFiles:
    with _FILES_LOCK:
        files = _FILES.get(path)
        if files is None:
            files = _FILES[path] = _BucketFiles(path)
        return files


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_atomic(directory: Path, body: bytes) -> str:
    """Write ``body`` to a new file in ``directory`` durably; its name."""
    name = secrets.token_hex(16)
    tmp = directory / f".tmp-{name}"
    with open(tmp, "wb") as out:
        out.write(body)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, directory / name)
    _fsync_dir(directory)
    return name


class BucketStorage:
    """Buckets (state store) and their objects (files under ``root``); see the module docstring."""

    def __init__(self, store: StateStore, root: Path) -> None:
        self.store = store
        self.root = Path(root)

    @classmethod
    def for_settings(cls, store: StateStore, settings: Any) -> BucketStorage:
        return cls(store, settings.data_path("buckets"))

    # -- buckets ---------------------------------------------------------------------------

    def _lock(self) -> Any:
        lock = getattr(self.store, "lock", None)
        return lock if lock is not None else threading.RLock()

    def get_bucket(self, name: str) -> dict[str, Any] | None:
        with self._lock():
            return self.store.get(BUCKET_KIND, "", name)

    def list_buckets(self, account_id: str) -> list[dict[str, Any]]:
        """The buckets ``account_id`` owns, by name."""
        with self._lock():
            docs = [entry.doc for entry in _all_buckets(self.store)]
        return sorted((doc for doc in docs if doc["account_id"] == account_id), key=lambda doc: doc["name"])

    def create_bucket(self, name: str, account_id: str, region: str) -> dict[str, Any]:
        """Store a new bucket document (the caller checked the name is free) and its directory."""
        doc = {"name": name, "account_id": account_id, "region": region, "creation_date": time.time(), "policy": None}
        self._files(name).path.mkdir(parents=True, exist_ok=True)
        with self._lock():
            self.store.put(BUCKET_KIND, "", name, doc)
        return doc

    def set_policy(self, name: str, policy: str | None) -> None:
        with self._lock(), self.store.transaction():
            doc = self.store.get(BUCKET_KIND, "", name)
            if doc is None:
                raise NoSuchBucket(name)
            self.store.put(BUCKET_KIND, "", name, {**doc, "policy": policy})

    def is_empty(self, name: str) -> bool:
        files = self._files(name)
        with files.lock:
            return files.conn().execute("SELECT 1 FROM objects LIMIT 1").fetchone() is None

    def delete_bucket(self, name: str) -> None:
        """Remove the bucket document and its (empty) directory."""
        files = self._files(name)
        with self._lock():
            self.store.delete(BUCKET_KIND, "", name)
        with files.lock:
            files.close()
            for child in sorted(files.path.rglob("*"), reverse=True):
                child.rmdir() if child.is_dir() else child.unlink()
            if files.path.exists():
                files.path.rmdir()

    # -- objects ---------------------------------------------------------------------------

    def _files(self, bucket: str) -> _BucketFiles:
        digest = hashlib.sha256(bucket.encode()).hexdigest()
        return _files_for(self.root / digest)

    def _require(self, bucket: str) -> _BucketFiles:
        if self.get_bucket(bucket) is None:
            raise NoSuchBucket(bucket)
        return self._files(bucket)

    def put_object(
        self,
        bucket: str,
        key: str,
        body: bytes,
        *,
        metadata: dict[str, str] | None = None,
        content_type: str | None = None,
        content_encoding: str | None = None,
        checksums: dict[str, str] | None = None,
    ) -> str:
        """Store ``body`` under ``key`` atomically and durably; the ETag (quoted MD5 hex)."""
        files = self._require(bucket)
        etag = f'"{hashlib.md5(body, usedforsecurity=False).hexdigest()}"'
        with files.lock:
            conn = files.conn()
            name = _write_atomic(files.path / "data", body)
            old = conn.execute("SELECT file FROM objects WHERE key = ?", (key,)).fetchone()
            conn.execute(
                f"INSERT OR REPLACE INTO objects ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    key,
                    len(body),
                    etag,
                    float(int(time.time())),
                    content_type,
                    content_encoding,
                    orjson.dumps(metadata or {}),
                    orjson.dumps(checksums or {}),
                    name,
                ),
            )
            if old is not None:
                (files.path / "data" / old[0]).unlink(missing_ok=True)
        return etag

    def head_object(self, bucket: str, key: str) -> dict[str, Any] | None:
        """The index row of ``key`` (no bytes read), or None."""
        files = self._require(bucket)
        with files.lock:
            return self._row(files, key)

    @staticmethod
    def _row(files: _BucketFiles, key: str) -> dict[str, Any] | None:
        row = files.conn().execute(f"SELECT {_COLUMNS} FROM objects WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        found = dict(zip(_COLUMNS.split(", "), row, strict=True))
        found["metadata"] = orjson.loads(found["metadata"])
        found["checksums"] = orjson.loads(found["checksums"])
        return found

    def get_object(self, bucket: str, key: str) -> StoredObject | None:
        files = self._require(bucket)  # never take the store's lock while holding the bucket's
        with files.lock:
            row = self._row(files, key)
            if row is None:
                return None
            body = (files.path / "data" / row["file"]).read_bytes()
        return StoredObject(
            key=key,
            body=body,
            etag=row["etag"],
            last_modified=row["last_modified"],
            metadata=row["metadata"],
            content_type=row["content_type"],
            content_encoding=row["content_encoding"],
            checksums=row["checksums"],
        )

    def list_objects(
        self, bucket: str, prefix: str = "", start_after: str = "", max_keys: int = 1000
    ) -> list[ObjectSummary]:
        """Objects whose key starts with ``prefix`` and sorts after ``start_after``, by key (binary order)."""
        files = self._require(bucket)
        args: list[str | int]
        if prefix > start_after:
            query, args = "SELECT key, size, etag, last_modified FROM objects WHERE key >= ?", [prefix]
        else:
            query, args = "SELECT key, size, etag, last_modified FROM objects WHERE key > ?", [start_after]
        if prefix:
            query += " AND substr(key, 1, ?) = ?"
            args += [len(prefix), prefix]
        query += " ORDER BY key LIMIT ?"
        args.append(max_keys)
        with files.lock:
            rows = files.conn().execute(query, args).fetchall()
        return [ObjectSummary(key=r[0], size=r[1], etag=r[2], last_modified=r[3]) for r in rows]

    def delete_object(self, bucket: str, key: str) -> None:
        """Remove ``key`` (no error when it does not exist, as S3)."""
        files = self._require(bucket)
        with files.lock:
            conn = files.conn()
            old = conn.execute("SELECT file FROM objects WHERE key = ?", (key,)).fetchone()
            if old is None:
                return
            conn.execute("DELETE FROM objects WHERE key = ?", (key,))
            (files.path / "data" / old[0]).unlink(missing_ok=True)


def _all_buckets(store: StateStore) -> list[Any]:
    from trailpost.store.base import iter_all

    return list(iter_all(store, BUCKET_KIND, ""))
