"""One key-cache probe per call, and what ``note_key_use`` may skip without it.

On the real gateway (``server.create_app``), with requests botocore signed: a steady call probes
``PRAGMA data_version`` once (``lookup_key``), not again in ``note_key_use``; the last use is still
noted when due (another region, or older than the granularity), never from a stale document (a key
another connection deactivated stays inactive), and not from the cache inside a transaction that
wrote the key. A key another connection deactivates is refused on the next call.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.credentials import Credentials

from tests.support.signed import signed
from trailpost.config import Settings
from trailpost.gateway.authenticate import authenticate
from trailpost.gateway.context import RequestContext
from trailpost.http import HttpRequest
from trailpost.identity import accounts
from trailpost.identity.accounts import ACCESS_KEY, LAST_USED_GRANULARITY, AccountRegistry, key_cache, note_key_use
from trailpost.identity.sigv4 import read_authorization
from trailpost.server import create_app
from trailpost.store.sqlite import SqliteStateStore


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Any]:
    app = create_app(Settings.load(data_dir=tmp_path / "data"))
    yield app
    app.gateway.commits.close()
    app.store.close()


def _creds(app: Any) -> Credentials:
    return Credentials(app.root_key.access_key_id, app.root_key.secret_access_key)


def _list_sites(app: Any, region: str = "us-east-1") -> HttpRequest:
    return signed("outposts", "GET", "/sites", {}, b"", _creds(app), region)()


def _call(app: Any, *requests: HttpRequest) -> list[Any]:
    async def main() -> list[Any]:
        return list(await asyncio.gather(*(app.gateway.handle(request) for request in requests)))

    return asyncio.run(main())


def _key_doc(app: Any) -> dict[str, Any]:
    doc = app.store.get(ACCESS_KEY, "", app.root_key.access_key_id)
    assert doc is not None
    return doc


def _other_connection(app: Any) -> SqliteStateStore:
    """Another connection to the same database, as the ``account`` command or another process has."""
    return SqliteStateStore(app.store.path)


def test_a_steady_call_probes_data_version_once(app: Any) -> None:
    for _ in range(2):  # the first notes the key's use (a write): the second fills the cache again
        assert _call(app, _list_sites(app))[0].status == 200
    connection = app.store.connection
    statements: list[str] = []
    connection.set_trace_callback(
        lambda sql: statements.append(sql) if threading.current_thread().name != "trailpost-commit" else None
    )
    try:
        responses = _call(app, *(_list_sites(app) for _ in range(16)))
    finally:
        connection.set_trace_callback(None)
    assert [response.status for response in responses] == [200] * 16
    probes = [sql for sql in statements if sql == "PRAGMA data_version"]
    assert len(probes) == 16, statements  # lookup_key's, none in note_key_use
    assert not [sql for sql in statements if "identity.access_key" in sql or "INSERT INTO state" in sql]


def test_last_use_is_noted_when_due(app: Any) -> None:
    assert _call(app, _list_sites(app))[0].status == 200
    noted = _key_doc(app)["last_used"]
    assert (noted["service"], noted["region"]) == ("outposts", "us-east-1")
    assert _call(app, _list_sites(app))[0].status == 200
    assert _key_doc(app)["last_used"] == noted  # within the granularity, same service and region
    assert _call(app, _list_sites(app, "eu-west-1"))[0].status == 200
    moved = _key_doc(app)["last_used"]
    assert moved["region"] == "eu-west-1" and moved["date"] >= noted["date"]


def _authenticated(app: Any, region: str = "us-east-1") -> RequestContext:
    """A context through ``authenticate`` (so the key cache holds the key), as the gateway makes it."""
    request = _list_sites(app, region)
    ctx = RequestContext(request=request, store=app.store, settings=app.settings)
    ctx.service = app.gateway.services["outposts"]
    ctx.region = region
    ctx.principal = authenticate(ctx, read_authorization(request), app.gateway.accounts)
    return ctx


def test_a_due_note_rereads_a_key_another_connection_deactivated(app: Any) -> None:
    key_id = app.root_key.access_key_id
    ctx = _authenticated(app)
    assert key_cache(app.store).peek(key_id) is not None
    other = _other_connection(app)
    try:
        AccountRegistry(other).set_key_status(key_id, "Inactive")
    finally:
        other.close()
    # The cache has not probed since: the entry still looks current, and says no note was made yet.
    assert key_cache(app.store).peek(key_id) is not None
    with app.store.transaction():
        note_key_use(ctx)
    doc = _key_doc(app)
    assert doc["status"] == "Inactive"  # the note was written on the fresh document
    assert (doc["last_used"]["service"], doc["last_used"]["region"]) == ("outposts", "us-east-1")
    assert app.gateway.accounts.lookup_key(key_id) is None


def test_a_note_not_due_writes_nothing_even_if_another_connection_changed_the_key(app: Any) -> None:
    key_id = app.root_key.access_key_id
    assert _call(app, _list_sites(app))[0].status == 200
    ctx = _authenticated(app)
    other = _other_connection(app)
    try:
        AccountRegistry(other).set_key_status(key_id, "Inactive")
    finally:
        other.close()
    before = _key_doc(app)
    with app.store.transaction():
        note_key_use(ctx)
    assert _key_doc(app) == before  # status Inactive kept, last use as it was
    refused = _call(app, _list_sites(app))[0]
    assert refused.status == 403 and json.loads(refused.body)["__type"] == "UnrecognizedClientException"


def test_inside_a_transaction_that_wrote_the_key_the_cache_is_not_used(app: Any) -> None:
    key_id = app.root_key.access_key_id
    ctx = _authenticated(app)
    cache = key_cache(app.store)
    with app.store.transaction():
        doc = app.store.get(ACCESS_KEY, "", key_id)
        assert doc is not None
        app.store.put(ACCESS_KEY, "", key_id, {**doc, "status": "Inactive"})
        assert cache.peek(key_id) is None
        note_key_use(ctx)  # due (first use): written on the document this transaction wrote
        assert cache.peek(key_id) is None and key_id not in cache.entries
    doc = _key_doc(app)
    assert doc["status"] == "Inactive" and doc["last_used"]["region"] == "us-east-1"
    assert app.gateway.accounts.lookup_key(key_id) is None


def test_an_old_note_is_renewed(app: Any) -> None:
    assert _call(app, _list_sites(app))[0].status == 200
    noted = _key_doc(app)["last_used"]
    ctx = _authenticated(app)
    ctx.received = noted["date"] + LAST_USED_GRANULARITY + 1
    with app.store.transaction():
        note_key_use(ctx)
    assert _key_doc(app)["last_used"]["date"] == ctx.received


def test_key_cache_is_remembered_weakly(tmp_path: Path) -> None:
    store = SqliteStateStore(tmp_path / "state.db")
    cache = key_cache(store)
    assert key_cache(store) is cache and accounts._last is not None
    other = SqliteStateStore(tmp_path / "other.db")
    try:
        assert key_cache(other) is not cache and key_cache(store) is cache
    finally:
        other.close()
        store.close()
