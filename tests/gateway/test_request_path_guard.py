"""Regression guard for the request path's cost, without timing anything.

The audited request path must stay cheap by construction: concurrent calls share commits (group
commit really groups), a call opens no database connection and loads no service model, each call
runs a small fixed number of SQL statements on the loop, and the records of a batch are inserted
by the committer thread in one statement per table. These are counted on the real gateway
(``server.create_app``, exactly as ``trailpost serve`` builds it), replaying requests botocore
signed, 64 at a time.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import botocore.loaders
import pytest
from botocore.credentials import Credentials

from tests.support.signed import signed
from trailpost.config import Settings
from trailpost.http import HttpRequest
from trailpost.server import create_app

CONCURRENCY = 64
REGION = "us-east-1"
JSON = {"Content-Type": "application/json"}


@pytest.fixture
def app(tmp_path: Path) -> Iterator:
    app = create_app(Settings.load(data_dir=tmp_path / "data"))
    yield app
    app.gateway.commits.close()
    app.store.close()


class _Counting:
    """Counts calls of a few functions the request path must never reach, by wrapping them."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: Counter[str] = Counter()
        for owner, name in (
            (sqlite3, "connect"),
            (botocore.loaders.Loader, "load_service_model"),
            (botocore.loaders.Loader, "load_data"),
        ):
            monkeypatch.setattr(owner, name, self._wrap(f"{owner.__name__}.{name}", getattr(owner, name)))

    def _wrap(self, label: str, original: Callable) -> Callable:
        def counted(*args: object, **kwargs: object) -> object:
            self.calls[label] += 1
            return original(*args, **kwargs)

        return counted


def _run(app, requests: list[HttpRequest]) -> list:
    async def main() -> list:
        responses = []
        for start in range(0, len(requests), CONCURRENCY):
            chunk = requests[start : start + CONCURRENCY]
            responses += await asyncio.gather(*(app.gateway.handle(request) for request in chunk))
        return responses

    return asyncio.run(main())


def test_concurrent_calls_share_commits_and_open_nothing(app, monkeypatch: pytest.MonkeyPatch) -> None:
    creds = Credentials(app.root_key.access_key_id, app.root_key.secret_access_key)
    create = signed(
        "outposts",
        "POST",
        "/sites",
        {"Content-Type": "application/json"},
        json.dumps({"Name": "guard"}).encode(),
        creds,
        REGION,
    )
    (site,) = _run(app, [create()])
    site_id = json.loads(site.body)["Site"]["SiteId"]
    get = signed("outposts", "GET", f"/sites/{site_id}", {}, b"", creds, REGION)
    listing = signed("outposts", "GET", "/sites", {}, b"", creds, REGION)
    _run(app, [get() for _ in range(8)] + [listing() for _ in range(8)])  # warm: caches filled once

    counting = _Counting(monkeypatch)
    statements: list[tuple[str, str]] = []
    connection = app.store.connection
    connection.set_trace_callback(lambda sql: statements.append((threading.current_thread().name, sql)))
    commits_before, events_before = app.gateway.commits.commits, app.gateway.events.count()
    calls = 4 * CONCURRENCY
    responses = _run(app, [(get if n % 2 else listing)() for n in range(calls)])
    connection.set_trace_callback(None)
    commits = app.gateway.commits.commits - commits_before

    assert {response.status for response in responses} == {200}
    assert app.gateway.events.count() - events_before == calls  # every call recorded
    assert counting.calls == Counter(), f"the request path opened or loaded: {dict(counting.calls)}"
    # Group commit really groups: 256 calls arriving 64 at a time need far fewer than 256 commits.
    assert commits <= calls // 8, f"{commits} commits for {calls} concurrent calls"

    loop_statements = [sql for thread, sql in statements if thread != "trailpost-commit"]
    committer = [sql for thread, sql in statements if thread == "trailpost-commit"]
    # On the loop, 2 per call today: the key cache's probe and the handler's read (the handler's
    # savepoint opens only at a write: reads run none), and a BEGIN per batch.
    assert not any(sql.startswith(("SAVEPOINT", "RELEASE")) for sql in loop_statements)
    assert len(loop_statements) <= 2 * calls + 2 * commits, Counter(sql.split()[0] for sql in loop_statements)
    assert not any(sql.startswith("INSERT INTO events") for sql in loop_statements)
    # The committer inserts each batch's records with a few multi-row statements (one per set bit of
    # the batch's size), then commits.
    inserts = [sql for sql in committer if sql.startswith("INSERT INTO events ")]
    assert sum(sql.count("),(") + 1 for sql in inserts) == calls  # every record, each in one row
    assert len(inserts) <= 7 * commits
    assert sum(sql == "COMMIT" for sql in committer) == commits
