"""The writer's own reads (``readers.snapshot``): read calls answered from a second, read-only
connection while a batch holds the write one, their records still durable before the answer.

In process on the gateway ``server.create_app`` builds (the write connection held by a thread of
the test, as the committer thread holds it for a batch's inserts and ``COMMIT``), and over HTTP
against a running server with boto3.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import urllib3
from botocore.credentials import Credentials

from tests.support.server import ServerProcess
from tests.support.signed import signed
from trailpost.config import Settings
from trailpost.identity.accounts import ACCESS_KEY
from trailpost.server import create_app
from trailpost.store.base import ReadOnlyStoreError

REGION = "us-east-1"
JSON = {"Content-Type": "application/json"}
LOOKUP_TARGET = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents"


@pytest.fixture
def app(tmp_path: Path) -> Iterator:
    app = create_app(Settings.load(data_dir=tmp_path / "data"))
    yield app
    app.gateway.commits.close()
    app.gateway.snapshot.close()
    app.store.close()


class _SlowCommit:
    """The committer thread holds the write connection in ``COMMIT`` until ``release``."""

    def __init__(self, store, monkeypatch: pytest.MonkeyPatch) -> None:
        self.entered, self._gate = threading.Event(), threading.Event()
        commit = store.commit

        def held_commit() -> None:
            with store.lock:
                self.entered.set()
                self._gate.wait(30)
                commit()

        monkeypatch.setattr(store, "commit", held_commit)

    def release(self) -> None:
        self._gate.set()


def _events_named(app, name: str) -> list[tuple[int, dict]]:
    rows = app.store.connection.execute("SELECT seq, record FROM events WHERE event_name = ? ORDER BY seq", (name,))
    return [(seq, json.loads(record)) for seq, record in rows.fetchall()]


async def _until(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.01)


def test_reads_are_answered_while_the_write_connection_is_held_and_recorded_after_it(
    app, monkeypatch: pytest.MonkeyPatch
) -> None:
    creds = Credentials(app.root_key.access_key_id, app.root_key.secret_access_key)
    gateway, snapshot = app.gateway, app.gateway.snapshot

    async def main() -> list:
        create = signed("outposts", "POST", "/sites", JSON, json.dumps({"Name": "first"}).encode(), creds, REGION)
        first = await gateway.handle(create())
        site_id = json.loads(first.body)["Site"]["SiteId"]
        get = signed("outposts", "GET", f"/sites/{site_id}", {}, b"", creds, REGION)
        await gateway.handle(get())  # warm: the key cache serves authentication without the write connection
        answered = snapshot.answered

        slow = _SlowCommit(app.store, monkeypatch)
        try:
            second = signed("outposts", "POST", "/sites", JSON, json.dumps({"Name": "second"}).encode(), creds, REGION)
            write = asyncio.create_task(gateway.handle(second()))
            await _until(slow.entered.is_set)  # the write's batch is being committed: the connection is held
            reads = [asyncio.create_task(gateway.handle(get())) for _ in range(8)]
            # The eight reads' answers are made from the snapshot while the committer holds the connection...
            await _until(lambda: snapshot.answered == answered + 8)
            await asyncio.sleep(0.05)
            # ...but none leaves before its record is durable, in the batch after the write's.
            assert not any(task.done() for task in [write, *reads])
        finally:
            slow.release()
        return await asyncio.gather(write, *reads)

    responses = asyncio.run(main())
    assert [response.status for response in responses] == [200] * 9
    assert {json.loads(response.body)["Site"]["Name"] for response in responses[1:]} == {"first"}
    gets, creates = _events_named(app, "GetSite"), _events_named(app, "CreateSite")
    assert len(gets) == 9 and {record["readOnly"] for _, record in gets} == {True}
    # Positions follow commit order: the eight reads were staged in the batch after the write's.
    assert min(seq for seq, _ in gets[1:]) > creates[-1][0]
    assert snapshot.handed_back == 0


def test_a_read_whose_handler_writes_is_run_again_in_the_batch(app) -> None:
    """The root key's last use is due (as once a minute): noting it is a write, which the snapshot refuses."""
    creds = Credentials(app.root_key.access_key_id, app.root_key.secret_access_key)
    gateway, snapshot = app.gateway, app.gateway.snapshot
    listing = signed("outposts", "GET", "/sites", {}, b"", creds, REGION)

    async def call() -> int:
        return (await gateway.handle(listing())).status

    assert asyncio.run(call()) == 200
    key_id = app.root_key.access_key_id
    doc = app.store.get(ACCESS_KEY, "", key_id)
    assert doc["last_used"]["service"] == "outposts"
    app.store.put(ACCESS_KEY, "", key_id, {**doc, "last_used": None})  # the next use is due to be noted
    answered, handed_back = snapshot.answered, snapshot.handed_back

    assert asyncio.run(call()) == 200
    assert (snapshot.answered, snapshot.handed_back) == (answered, handed_back + 1)
    assert app.store.get(ACCESS_KEY, "", key_id)["last_used"]["service"] == "outposts"  # noted in the batch
    assert len(_events_named(app, "ListSites")) == 2  # recorded once, by the batch's run

    assert asyncio.run(call()) == 200  # noted now: the snapshot answers again
    assert (snapshot.answered, snapshot.handed_back) == (answered + 1, handed_back + 1)


def test_the_snapshot_connection_refuses_writes(app) -> None:
    with pytest.raises(ReadOnlyStoreError):
        app.gateway.snapshot.store.put("outposts.site", "x", "y", {})


def test_writes_and_calls_that_name_no_operation_are_not_answered_from_the_snapshot(app) -> None:
    creds = Credentials(app.root_key.access_key_id, app.root_key.secret_access_key)
    snapshot = app.gateway.snapshot
    create = signed("outposts", "POST", "/sites", JSON, json.dumps({"Name": "w"}).encode(), creds, REGION)
    nowhere = signed("outposts", "GET", "/no-such-route", {}, b"", creds, REGION)

    async def main() -> list[int]:
        return [(await app.gateway.handle(request())).status for request in (create, nowhere)]

    assert asyncio.run(main()) == [200, 404]
    assert (snapshot.answered, snapshot.handed_back) == (0, 0)


def test_over_http_reads_come_from_the_snapshot_and_see_every_acknowledged_write(server: ServerProcess) -> None:
    outposts, cloudtrail = server.client("outposts"), server.client("cloudtrail")
    http = urllib3.PoolManager()

    def health() -> dict:
        return json.loads(http.request("GET", f"{server.endpoint}/_trailpost/health").data)["snapshot"]

    before = health()
    for n in range(5):
        site_id = outposts.create_site(Name=f"snapshot-{n}")["Site"]["SiteId"]
        assert outposts.get_site(SiteId=site_id)["Site"]["Name"] == f"snapshot-{n}"  # the write just acknowledged
    lookup = {"LookupAttributes": [{"AttributeKey": "ResourceName", "AttributeValue": site_id}]}
    names = {event["EventName"] for event in cloudtrail.lookup_events(**lookup)["Events"]}
    assert names >= {"CreateSite", "GetSite"}
    # Five GetSite at least (the shared server serves other tests too, and a LookupEvents that notes
    # the key's last use, its first CloudTrail call, is handed back to the batch).
    assert health()["answered"] - before["answered"] >= 5


def test_lookup_events_is_answered_from_the_snapshot_and_sees_every_committed_event(app) -> None:
    creds = Credentials(app.root_key.access_key_id, app.root_key.secret_access_key)
    body = json.dumps({"LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": "CreateSite"}]}).encode()
    headers = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": LOOKUP_TARGET}
    lookup = signed("cloudtrail", "POST", "/", headers, body, creds, REGION)
    create = signed("outposts", "POST", "/sites", JSON, json.dumps({"Name": "seen"}).encode(), creds, REGION)

    async def main() -> list:
        await app.gateway.handle(create())
        await app.gateway.handle(lookup())  # the key's first CloudTrail call: its last use is noted in the batch
        answered = app.gateway.snapshot.answered
        response = await app.gateway.handle(lookup())
        assert app.gateway.snapshot.answered == answered + 1
        return json.loads(response.body)["Events"]

    events = asyncio.run(main())
    assert [event["EventName"] for event in events] == ["CreateSite"]
