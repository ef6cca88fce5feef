"""The state store contract: documents of service state, grouped by kind and scope.

Every resource a service keeps (accounts, access keys, sites, outposts, orders...) is a JSON
document addressed by ``(kind, scope, key)``:

* ``kind``  - what it is (``"outposts.site"``), one namespace per resource type;
* ``scope`` - whose it is: ``"<account>/<region>"`` for regional resources, ``"<account>"`` for
  account-wide ones, ``""`` for global ones (access keys);
* ``key``   - its id within the scope.

Contract (any implementation, SQLite now, PostgreSQL later, must keep it):

1. ``put`` inserts or replaces a document; the document is stored as given (JSON types only;
   datetimes must be converted by the caller) and read back equal.
2. ``list`` returns a scope's documents of one kind in **insertion order** (the order of the first
   ``put``; a replace keeps the position), each with its position ``seq``, a positive integer that
   increases with insertion and is never reused. Pagination resumes with ``after_seq``.
3. ``transaction()`` is a context manager under which reads and writes are atomic and isolated
   (serializable with respect to other transactions); it nests (inner blocks join the outer one).
   Writes outside a transaction are committed at once, each on its own.
4. Data is durable once a write (or the outermost transaction) returns: it survives a crash of the
   process. A store that cannot make a commit durable (its sync failed) raises ``DurabilityLost``
   then and on every later write, and tells ``on_durability_lost`` once.
5. ``count`` is the number of documents of a kind in a scope, without reading them (quotas).
6. ``find`` looks a document up by key alone across scopes of a kind (for ids that are globally
   unique, such as access keys); it returns the scope too.

Services never see SQL: they use ``StateStore`` only, so a new engine needs no service change.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol


class DurabilityLost(OSError):
    """The store could not make its commits durable (an fdatasync failed) and refuses every write since.

    Once a sync has failed, no later one proves anything: the kernel may have dropped the pages it
    could not write and reports that once, so a later sync that succeeds says nothing of the frames
    before it, and a log whose frames are chained by checksums (SQLite's WAL) loses everything after
    a missing frame when it is recovered, later acknowledged commits included. So, as PostgreSQL
    does since 2018 ("fsyncgate"), the store stops: nothing more is committed or acknowledged, and
    the server exits so that a restart recovers the database from what reached the disk."""


class ReadOnlyStoreError(Exception):
    """A store opened read-only (a reader process, ``trailpost.readers``) was asked to write: the
    call must be answered by the writer process instead."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One stored document with its address and insertion position."""

    kind: str
    scope: str
    key: str
    seq: int
    doc: dict[str, Any]


class StateStore(Protocol):
    """Documents of service state; see the module docstring for the contract."""

    def get(self, kind: str, scope: str, key: str) -> dict[str, Any] | None: ...

    def put(self, kind: str, scope: str, key: str, doc: dict[str, Any]) -> None: ...

    def delete(self, kind: str, scope: str, key: str) -> bool: ...

    def list(self, kind: str, scope: str, *, after_seq: int = 0, limit: int | None = None) -> list[Entry]: ...

    def count(self, kind: str, scope: str) -> int: ...

    def find(self, kind: str, key: str) -> Entry | None: ...

    # ``builtins.list``: in this class body ``list`` names the method above.
    def scopes(self, kind: str) -> builtins.list[str]: ...

    def transaction(self) -> AbstractContextManager[None]: ...

    def close(self) -> None: ...


def iter_all(store: StateStore, kind: str, scope: str, page: int = 500) -> Iterator[Entry]:
    """Every document of ``kind`` in ``scope``, in insertion order, fetched page by page."""
    after = 0
    while True:
        entries = store.list(kind, scope, after_seq=after, limit=page)
        yield from entries
        if len(entries) < page:
            return
        after = entries[-1].seq
