"""Accounts and their access keys, kept in the state store.

An account is ``("identity.account", "", <account id>)``; an access key is
``("identity.access_key", "", <key id>)`` holding its secret, owner (``root``, or ``user`` with
the IAM user's ``user_name``, ``user_id`` and ``user_arn``), status (``Active`` or ``Inactive``)
and ``last_used`` (``{date, service, region}``); ``("identity.setting", "", "default_account")``
names the data directory's default account. The default account and its root key are made on
first start (``ensure_default_account``), from settings when they give them, else generated in
AWS's formats; later starts load them.

Rules: account ids and names are unique (the name ``default`` belongs to the default account);
access key ids are unique across accounts; only ``Active`` keys authenticate (``lookup_key``), as
the root user or as their IAM user. A key's last use is noted by the ``note_key_use`` step (inside
the call's commit batch) when the service or region changes or the noted time is older than
``LAST_USED_GRANULARITY`` seconds, so steady use of one key costs no extra write per call.

Key cache (``KeyCache``): access-key documents are kept in memory per store, so a call reads its
key's document neither in ``lookup_key`` nor in ``note_key_use``; callers' IAM policy sets are kept
with them (``remember``/``recall``, used by ``identity.authorize``). It can never serve a deleted,
deactivated or changed key or policy: a temporary SQLite trigger on the store's connection bumps a
generation at every insert, update or delete of a ``WATCHED_KINDS`` row (access keys, accounts,
IAM users, roles, groups and managed policies; whoever writes it),
an entry is used only while the generation it was read at is current. Other connections' changes
(reader processes, the ``account`` command) are seen through a persistent counter,
``identity_changes``, that real triggers bump at every watched write whoever makes it: when
``PRAGMA data_version`` says another connection committed, the counter is read, and only if it
moved is the generation bumped (a reader process thus keeps its cache while the writer commits
batches that touch no identity row). While a transaction that
wrote such a row is open, the cache is bypassed (it might still roll back); the first lookup after
it ended bumps the generation again. Stores without a SQLite connection are read every time. While
the committer thread holds the connection for a commit, a cached entry of the current generation is
served without the ``data_version`` probe, so authentication never waits for an fsync.

One probe per call: ``lookup_key`` probes; ``note_key_use`` then ``peek``s the entry without a
second probe and, when it shows the use already noted, writes nothing. A note that is due goes
through ``get`` (probe, fresh document) before anything is written, so a key's status is never
written back from a stale document. The shortcut can only differ from a probe when another process
changed the key in between: its status does not enter the decision, and ``last_used`` only moves
forward (the writer process alone notes uses), so the outcome is one the probe would give had that
change come a moment later.
"""

from __future__ import annotations

import sqlite3
import time
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from trailpost.identity.keys import new_access_key_id, new_account_id, new_secret_access_key
from trailpost.identity.principal import Principal
from trailpost.store.base import StateStore

if TYPE_CHECKING:
    from trailpost.gateway.context import RequestContext

LAST_USED_GRANULARITY = 60.0
ACCOUNT = "identity.account"
ACCESS_KEY = "identity.access_key"
# Rows whose change invalidates the key cache, and the callers' policy sets cached with it
# (``identity.authorize.caller_policies`` reads IAM users, roles, groups and managed policies).
WATCHED_KINDS = (ACCESS_KEY, ACCOUNT, "iam.user", "iam.role", "iam.group", "iam.policy")
SETTING = "identity.setting"
DEFAULT_ACCOUNT_NAME = "default"


@dataclass(frozen=True, slots=True)
class RootKey:
    """An account's root access key pair."""

    account_id: str
    access_key_id: str
    secret_access_key: str


class AccountRegistry:
    """Creates accounts and resolves access keys to principals."""

    def __init__(self, store: StateStore) -> None:
        self.store = store
        key_cache(store)  # made now, outside any transaction

    def accounts(self) -> list[dict[str, Any]]:
        return [entry.doc for entry in self.store.list(ACCOUNT, "")]

    def account(self, account_id: str) -> dict[str, Any] | None:
        return self.store.get(ACCOUNT, "", account_id)

    def create_account(
        self,
        name: str,
        *,
        account_id: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
    ) -> RootKey:
        """Create an account with a root key; raises ``ValueError`` if the id or key is taken."""
        with self.store.transaction():
            account_id = account_id or self._free_account_id()
            if self.store.get(ACCOUNT, "", account_id) is not None:
                raise ValueError(f"account {account_id} already exists")
            if any(entry.doc["name"] == name for entry in self.store.list(ACCOUNT, "")):
                raise ValueError(f"an account named {name!r} already exists")
            key = RootKey(
                account_id,
                access_key_id or new_access_key_id(),
                secret_access_key or new_secret_access_key(),
            )
            if self.store.get(ACCESS_KEY, "", key.access_key_id) is not None:
                raise ValueError(f"access key {key.access_key_id} already exists")
            now = time.time()
            self.store.put(ACCOUNT, "", account_id, {"account_id": account_id, "name": name, "created": now})
            self.store.put(
                ACCESS_KEY,
                "",
                key.access_key_id,
                {
                    "access_key_id": key.access_key_id,
                    "secret_access_key": key.secret_access_key,
                    "account_id": account_id,
                    "owner": "root",
                    "status": "Active",
                    "created": now,
                },
            )
        return key

    def _free_account_id(self) -> str:
        while True:
            candidate = new_account_id()
            if self.store.get(ACCOUNT, "", candidate) is None:
                return candidate

    def root_key(self, account_id: str) -> RootKey | None:
        """The first active root key of an account."""
        for entry in self.store.list(ACCESS_KEY, ""):
            doc = entry.doc
            if doc["account_id"] == account_id and doc["owner"] == "root" and doc["status"] == "Active":
                return RootKey(account_id, doc["access_key_id"], doc["secret_access_key"])
        return None

    def set_key_status(self, access_key_id: str, status: str) -> None:
        """Activate or deactivate a key (``Active`` / ``Inactive``); ``KeyError`` if there is none."""
        if status not in ("Active", "Inactive"):
            raise ValueError(f"status must be Active or Inactive, not {status!r}")
        with self.store.transaction():
            doc = self.store.get(ACCESS_KEY, "", access_key_id)
            if doc is None:
                raise KeyError(access_key_id)
            self.store.put(ACCESS_KEY, "", access_key_id, {**doc, "status": status})

    def lookup_key(self, access_key_id: str) -> tuple[str, Principal] | None:
        """The secret and principal of an active long-term access key, or ``None``."""
        if not access_key_id:
            return None
        found = key_cache(self.store).get(self.store, access_key_id)
        if found is None or found[0]["status"] != "Active":
            return None
        return found[0]["secret_access_key"], found[1]


class KeyCache:
    """Access-key documents and their principals, valid while no identity row changed (module docstring)."""

    def __init__(self, connection: sqlite3.Connection | None) -> None:
        self.connection = connection
        self.generation = 0
        self.pending = False  # an identity row was written in a transaction that may still be open
        self.data_version = -1
        self.entries: dict[str, tuple[int, dict[str, Any], Principal]] = {}
        # Derived facts kept with the same validity (``remember``/``recall``): callers' policy sets.
        self.derived: dict[tuple[Any, ...], tuple[int, Any]] = {}
        self.changes = -1  # the persistent ``identity_changes`` counter when last read
        if connection is not None:
            connection.create_function("trailpost_identity_changed", 0, self._changed)
            kinds = ", ".join(f"'{kind}'" for kind in WATCHED_KINDS)
            if not connection.execute("PRAGMA query_only").fetchone()[0]:
                connection.executescript(_changes_schema(kinds))
            for event, row in (("INSERT", "new"), ("UPDATE", "old"), ("DELETE", "old")):
                connection.execute(
                    f"CREATE TEMP TRIGGER IF NOT EXISTS trailpost_identity_{event.lower()} AFTER {event} ON main.state "
                    f"WHEN {row}.kind IN ({kinds}) "
                    "BEGIN SELECT trailpost_identity_changed(); END"
                )

    def _changed(self) -> None:
        self.generation += 1
        self.pending = True
        self.entries.clear()
        self.derived.clear()

    def recall(self, store: StateStore, key: tuple[Any, ...]) -> tuple[int | None, Any]:
        """``(generation, value)`` remembered under ``key`` if still valid, else ``(generation, None)``;
        the generation is ``None`` when nothing may be cached now (a watched row is being written)."""
        lock = getattr(store, "lock", None)
        if lock is not None and not lock.acquire(blocking=False):
            generation = None if self.pending else self.generation  # a commit holds the connection: no probe
        else:
            try:
                generation = self._current()
            finally:
                if lock is not None:
                    lock.release()
        entry = self.derived.get(key) if generation is not None else None
        if entry is not None and entry[0] == generation:
            return generation, entry[1]
        return generation, None

    def remember(self, generation: int | None, key: tuple[Any, ...], value: Any) -> None:
        """Keep ``value`` under ``key`` if nothing watched changed since ``generation`` was read."""
        if generation is not None and generation == self.generation and not self.pending:
            if len(self.derived) >= DERIVED_MAX:
                self.derived.clear()
            self.derived[key] = (generation, value)

    def _current(self) -> int | None:
        """The generation entries must carry to be served, or ``None`` (do not use the cache now)."""
        connection = self.connection
        if connection is None:
            return None
        if self.pending:
            if connection.in_transaction:
                return None
            self.pending = False
            self._changed()
            self.pending = False
        version = connection.execute("PRAGMA data_version").fetchone()[0]
        if version != self.data_version:
            self.data_version = version
            row = connection.execute("SELECT n FROM identity_changes").fetchone()
            changes = row[0] if row else -2
            if changes != self.changes or changes < 0:
                self.changes = changes
                self.generation += 1
                self.entries.clear()
                self.derived.clear()
        return self.generation

    def peek(self, access_key_id: str) -> dict[str, Any] | None:
        """The key's cached document if it is of the generation last probed, else ``None``; no probe.

        Only for ``note_key_use`` deciding that a note is not due: the call's own ``lookup_key``
        probed a moment before, any write of a watched row by this connection has since bumped the
        generation (or left ``pending``), and another process can only have changed the key's
        status (``last_used`` is written by the writer process alone and only moves forward), which
        does not change that decision. A due note still goes through ``get``."""
        entry = self.entries.get(access_key_id)
        if entry is None or entry[0] != self.generation or self.pending:
            return None
        return entry[1]

    def get(self, store: StateStore, access_key_id: str) -> tuple[dict[str, Any], Principal] | None:
        """The key's document in ``store`` (never mutate it) and principal, or ``None`` if there is none.

        (The cache holds no reference to its store: the store's connection holds the cache.)
        """
        lock = getattr(store, "lock", None)
        if lock is not None and not lock.acquire(blocking=False):
            # The committer thread holds the connection for a commit (an fsync): rather than stall the
            # event loop until it is done, serve an entry of the current generation without the
            # ``data_version`` probe (another process's change is seen by the next probe).
            entry = self.entries.get(access_key_id)
            if entry is not None and entry[0] == self.generation and not self.pending:
                return entry[1], entry[2]
            lock.acquire()
        try:
            generation = self._current()
            entry = self.entries.get(access_key_id) if generation is not None else None
            if entry is not None and entry[0] == generation:
                return entry[1], entry[2]
            doc = store.get(ACCESS_KEY, "", access_key_id)
            if doc is None:
                return None
            principal = key_principal(doc)
            if generation is not None and generation == self.generation and not self.pending:
                self.entries[access_key_id] = (generation, doc, principal)
            return doc, principal
        finally:
            if lock is not None:
                lock.release()


def _changes_schema(kinds: str) -> str:
    """The persistent change counter of identity rows and the triggers that bump it (any connection)."""
    triggers = "".join(
        f"CREATE TRIGGER IF NOT EXISTS identity_changes_v1_{event.lower()} AFTER {event} ON state "
        f"WHEN {row}.kind IN ({kinds}) BEGIN UPDATE identity_changes SET n = n + 1; END;\n"
        for event, row in (("INSERT", "new"), ("UPDATE", "old"), ("DELETE", "old"))
    )
    return (
        "CREATE TABLE IF NOT EXISTS identity_changes (id INTEGER PRIMARY KEY CHECK (id = 1), n INTEGER NOT NULL);\n"
        "INSERT OR IGNORE INTO identity_changes VALUES (1, 0);\n" + triggers
    )


DERIVED_MAX = 4096
_CACHES: weakref.WeakKeyDictionary[Any, KeyCache] = weakref.WeakKeyDictionary()


# The store asked for last and its cache, both weakly (neither is kept alive by this memo).
_last: tuple[weakref.ref[Any], weakref.ref[KeyCache]] | None = None


def key_cache(store: StateStore) -> KeyCache:
    """The ``KeyCache`` of ``store`` (made, with its trigger, on first use)."""
    global _last
    last = _last
    if last is not None and last[0]() is store:
        remembered = last[1]()
        if remembered is not None:
            return remembered  # a process serves one store: spare the weak dictionary's lookup
    cache: KeyCache | None
    try:
        cache = _CACHES[store]
    except KeyError:
        pass
    else:
        _last = (weakref.ref(store), weakref.ref(cache))
        return cache
    connection = getattr(store, "connection", None)
    lock = getattr(store, "lock", None)
    if not isinstance(connection, sqlite3.Connection) or lock is None:
        return KeyCache(None)
    with lock:
        if connection.in_transaction:
            return KeyCache(None)  # a rollback would drop the trigger: make it another time
        cache = _CACHES.get(store)
        if cache is None:
            cache = _CACHES[store] = KeyCache(connection)
    return cache


def key_principal(doc: dict[str, Any]) -> Principal:
    """The caller an access key document stands for: the root user or its IAM user."""
    account_id = doc["account_id"]
    if doc.get("owner") == "user":
        return Principal(
            account_id=account_id,
            identity_type="IAMUser",
            arn=doc["user_arn"],
            principal_id=doc["user_id"],
            access_key_id=doc["access_key_id"],
            user_name=doc["user_name"],
        )
    return Principal(
        account_id=account_id,
        identity_type="Root",
        arn=f"arn:aws:iam::{account_id}:root",
        principal_id=account_id,
        access_key_id=doc["access_key_id"],
    )


def root_keys(store: StateStore, account_id: str) -> list[dict[str, Any]]:
    """The root user's access keys (active or not) of ``account_id``, oldest first."""
    return [
        entry.doc
        for entry in store.list(ACCESS_KEY, "")
        if entry.doc["account_id"] == account_id and entry.doc["owner"] == "root"
    ]


def add_key(
    store: StateStore, account_id: str, *, created: float, user: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A new active key for the root user of ``account_id``, or for the IAM ``user`` document."""
    while True:
        key_id = new_access_key_id()
        if store.get(ACCESS_KEY, "", key_id) is None:
            break
    doc: dict[str, Any] = {
        "access_key_id": key_id,
        "secret_access_key": new_secret_access_key(),
        "account_id": account_id,
        "owner": "root",
        "status": "Active",
        "created": created,
    }
    if user is not None:
        doc.update(owner="user", user_name=user["user_name"], user_id=user["user_id"], user_arn=user["arn"])
    store.put(ACCESS_KEY, "", key_id, doc)
    return doc


def note_key_use(ctx: RequestContext) -> None:
    """Gateway step: remember when, for which service and in which region a long-term key was used."""
    principal = ctx.principal
    if principal is None or ctx.service is None or not principal.access_key_id:
        return
    cache = key_cache(ctx.store)
    service = ctx.service.model.endpoint_prefix
    # The entry the call's authentication has just read (or a newer one) tells, without a second
    # ``data_version`` probe, that the use is already noted; a due note re-reads the key through
    # ``get`` before writing it (module docstring, "Key cache").
    peeked = cache.peek(principal.access_key_id)
    if peeked is not None and not _note_due(peeked, service, ctx):
        return
    found = cache.get(ctx.store, principal.access_key_id)
    if found is None:
        return  # temporary credentials: their use is their session's
    doc = found[0]
    if not _note_due(doc, service, ctx):
        return
    last = {"date": ctx.received, "service": service, "region": ctx.region}
    ctx.store.put(ACCESS_KEY, "", principal.access_key_id, {**doc, "last_used": last})


def _note_due(doc: dict[str, Any], service: str, ctx: RequestContext) -> bool:
    """Whether the key's noted last use is of another service or region, or older than the granularity."""
    used = doc.get("last_used") or {}
    return not (
        used.get("service") == service
        and used.get("region") == ctx.region
        and ctx.received - used.get("date", 0) < LAST_USED_GRANULARITY
    )


def ensure_default_account(
    registry: AccountRegistry,
    account_id: str,
    access_key_id: str | None,
    secret_access_key: str | None,
) -> tuple[RootKey, bool]:
    """The default account's root key, creating both on first start. Returns (key, created).

    On later starts the stored default account and its key win over the arguments, which only
    seed the first start. ``ValueError`` if the stored default account has no active root key.
    """
    store = registry.store
    key: RootKey | None
    with store.transaction():
        marker = store.get(SETTING, "", "default_account")
        if marker is None:
            named = [doc for doc in registry.accounts() if doc["name"] == DEFAULT_ACCOUNT_NAME]
            if not named:
                key = registry.create_account(
                    DEFAULT_ACCOUNT_NAME,
                    account_id=account_id,
                    access_key_id=access_key_id,
                    secret_access_key=secret_access_key,
                )
                store.put(SETTING, "", "default_account", {"account_id": key.account_id})
                return key, True
            marker = {"account_id": named[0]["account_id"]}
            store.put(SETTING, "", "default_account", marker)
        key = registry.root_key(marker["account_id"])
    if key is None:
        raise ValueError(f"the default account {marker['account_id']} has no active root access key")
    return key, False
