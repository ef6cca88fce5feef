"""LookupEvents by EventId over real HTTP: the id a call's event carries is the store's (its position,
permuted), the same in LookupEvents, the delivered log file and for each account's copy of a shared
call; ids never issued find nothing; a data directory made before (random ids, UNIQUE index) is
served as it was and stores new events with the new ids."""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from tests.delivery.remote import delivered, log_files, make_bucket, wait_for
from tests.store.test_event_store_ids import OLD_EVENTS_TABLE, OLD_INSERT
from tests.support.accounts import create_account
from tests.support.records import ACCOUNT, record
from tests.support.server import ServerProcess
from trailpost.store.event_ids import EventIds


def by_id(client: Any, event_id: str) -> list[dict[str, Any]]:
    return client.lookup_events(LookupAttributes=[{"AttributeKey": "EventId", "AttributeValue": event_id}])["Events"]


def by_name(client: Any, name: str) -> list[dict[str, Any]]:
    return client.lookup_events(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": name}])["Events"]


def test_an_event_is_found_by_its_id_and_delivered_with_it(make_server: Callable[..., ServerProcess]) -> None:
    server = make_server("--delivery-interval", "1")
    make_bucket(server, "id-logs")
    cloudtrail = server.client("cloudtrail")
    cloudtrail.create_trail(Name="ids", S3BucketName="id-logs")
    cloudtrail.start_logging(Name="ids")
    site = server.client("outposts").create_site(Name="ids")["Site"]
    [event] = cloudtrail.lookup_events(
        LookupAttributes=[{"AttributeKey": "ResourceName", "AttributeValue": site["SiteId"]}]
    )["Events"]
    stored = json.loads(event["CloudTrailEvent"])
    event_id = event["EventId"]
    assert stored["eventID"] == event_id and event["EventName"] == "CreateSite"
    parsed = uuid.UUID(event_id)
    assert parsed.version == 4 and parsed.variant == uuid.RFC_4122 and str(parsed) == event_id

    assert by_id(cloudtrail, event_id) == [event]
    near = event_id[:-1] + ("0" if event_id[-1] != "0" else "1")
    for never_issued in (str(uuid.uuid4()), near, event_id.upper(), "not-an-event-id"):
        assert by_id(cloudtrail, never_issued) == [], never_issued
    assert by_id(server.client("cloudtrail", region="eu-west-1"), event_id) == []  # another region's history

    s3 = server.client("s3")

    def delivered_copy() -> list[dict[str, Any]]:
        return [r for r in delivered(log_files(s3, "id-logs")) if r["eventID"] == event_id]

    [copy] = wait_for(delivered_copy, what="the CreateSite record delivered")
    assert copy == stored


def test_each_account_finds_its_own_copy_of_a_shared_call(make_server: Callable[..., ServerProcess]) -> None:
    server = make_server()
    other, key, secret = create_account(server.data_dir, "caller")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{other}:root"}, "Action": "sts:AssumeRole"}
        ],
    }
    role = server.client("iam").create_role(RoleName="shared", AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    iam = server.client("iam", credentials=(key, secret))
    iam.create_user(UserName="dev")
    allow = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]}
    iam.put_user_policy(UserName="dev", PolicyName="assume", PolicyDocument=json.dumps(allow))
    dev = iam.create_access_key(UserName="dev")["AccessKey"]
    sts = server.client("sts", credentials=(dev["AccessKeyId"], dev["SecretAccessKey"]))
    sts.assume_role(RoleArn=role["Arn"], RoleSessionName="ids")
    owner, caller = server.client("cloudtrail"), server.client("cloudtrail", credentials=(key, secret))
    [owner_event] = by_name(owner, "AssumeRole")
    [caller_event] = by_name(caller, "AssumeRole")
    assert owner_event["EventId"] != caller_event["EventId"]
    assert by_id(owner, owner_event["EventId"]) == [owner_event]
    assert by_id(caller, caller_event["EventId"]) == [caller_event]
    assert by_id(owner, caller_event["EventId"]) == [] and by_id(caller, owner_event["EventId"]) == []


def test_a_data_directory_made_before_keeps_its_ids(make_server: Callable[..., ServerProcess], tmp_path: Path) -> None:
    data_dir = tmp_path / "legacy"
    data_dir.mkdir()
    conn = sqlite3.connect(data_dir / "state.db")
    conn.executescript(OLD_EVENTS_TABLE)
    old = [record("CreateSite", at=time.time() - 60) for _ in range(3)]
    with conn:
        for r in old:
            conn.execute(OLD_INSERT, (r["eventID"], ACCOUNT, int(time.time()) - 60, r["eventName"], orjson.dumps(r)))
    conn.close()

    server = make_server(data_dir=data_dir)
    cloudtrail = server.client("cloudtrail")
    for r in old:
        [event] = by_id(cloudtrail, r["eventID"])
        assert json.loads(event["CloudTrailEvent"]) == r
    assert by_id(cloudtrail, str(uuid.uuid4())) == []
    server.client("outposts").list_sites()
    [listed] = by_name(cloudtrail, "ListSites")
    assert by_id(cloudtrail, listed["EventId"]) == [listed]
    server.stop()

    conn = sqlite3.connect(data_dir / "state.db")
    [(key,)] = conn.execute("SELECT value FROM event_store_meta WHERE name = 'event_id_key'").fetchall()
    [(seq,)] = conn.execute("SELECT seq FROM events WHERE event_id = ?", (listed["EventId"],)).fetchall()
    indexed = [row[1] for row in conn.execute("PRAGMA index_list(events)") if row[2]]  # the UNIQUE one stays
    conn.close()
    assert EventIds(key).position(listed["EventId"]) == seq > len(old)
    assert indexed


def test_reader_processes_find_events_by_id(make_server: Callable[..., ServerProcess]) -> None:
    """With ``--workers 2`` the readers answer LookupEvents from their own connections; the writer
    gives the records their ids (it prepares what the readers send)."""
    server = make_server("--workers", "2")
    outposts = server.client("outposts")
    names = [f"reader-ids-{n}" for n in range(6)]
    for name in names:
        outposts.create_site(Name=name)
    events = by_name(server.client("cloudtrail"), "CreateSite")
    assert len(events) == len(names)
    for event in events:  # a new client (a new connection, whichever reader the kernel picks) each time
        assert by_id(server.client("cloudtrail"), event["EventId"]) == [event]
    assert by_id(server.client("cloudtrail"), str(uuid.uuid4())) == []
