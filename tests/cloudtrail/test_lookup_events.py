"""LookupEvents with boto3: every lookup attribute, inclusive time bounds, ordering, paging, the Event shape.

Runs against the module's dedicated ``history`` server (``conftest.py``): seeded records plus live
calls made here, so every expected answer is known exactly.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.cloudtrail.conftest import PAGED, Seeded
from tests.support.records import ACCOUNT
from tests.support.server import ServerProcess


def ids(events: list[dict[str, Any]]) -> list[str]:
    return [event["EventId"] for event in events]


def lookup(client: Any, key: str | None = None, value: str | None = None, **kwargs: Any) -> list[dict[str, Any]]:
    if key is not None:
        kwargs["LookupAttributes"] = [{"AttributeKey": key, "AttributeValue": value}]
    return client.lookup_events(**kwargs)["Events"]


@pytest.fixture(scope="module")
def site(history: tuple[ServerProcess, Seeded]) -> dict[str, Any]:
    """A site created through the API on the history server, and the CreateSite event it made."""
    server = history[0]
    created = server.client("outposts").create_site(Name="History Site")["Site"]
    return created


def test_event_shape_of_a_live_call(cloudtrail: Any, history: tuple[ServerProcess, Seeded], site: dict) -> None:
    key_id = history[0].root_credentials()[0]
    events = lookup(cloudtrail, "ResourceName", site["SiteId"])
    assert [e["EventName"] for e in events] == ["CreateSite"]
    event = events[0]
    record = json.loads(event["CloudTrailEvent"])
    assert event["CloudTrailEvent"] == json.dumps(record, separators=(",", ":"), ensure_ascii=False)  # compact
    assert event["EventId"] == record["eventID"]
    assert event["EventSource"] == record["eventSource"] == "outposts.amazonaws.com"
    assert event["ReadOnly"] == "false" and record["readOnly"] is False
    assert event["Username"] == "root"
    assert event["AccessKeyId"] == key_id == record["userIdentity"]["accessKeyId"]
    assert event["EventTime"] == datetime.strptime(record["eventTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert abs(event["EventTime"].timestamp() - time.time()) < 60
    assert event["Resources"] == [{"ResourceType": "AWS::Outposts::Site", "ResourceName": site["SiteId"]}]


def test_event_time_is_a_java_double_on_the_wire(cloudtrail: Any, site: dict) -> None:
    raw: dict[str, bytes] = {}
    cloudtrail.meta.events.register(
        "after-call.cloudtrail.LookupEvents", lambda http_response, **_: raw.update(body=http_response.content)
    )
    try:
        lookup(cloudtrail, "ResourceName", site["SiteId"])
    finally:
        cloudtrail.meta.events.unregister("after-call.cloudtrail.LookupEvents")
    assert b'"EventTime":1.' in raw["body"] and b"E9" in raw["body"]
    assert b'"ReadOnly":"false"' in raw["body"]


@pytest.mark.parametrize("value", ["AWS::Outposts::Site"])
def test_resource_type(cloudtrail: Any, site: dict, value: str) -> None:
    events = lookup(cloudtrail, "ResourceType", value)
    assert site["SiteId"] in {r["ResourceName"] for e in events for r in e["Resources"]}
    assert all(any(r["ResourceType"] == value for r in e["Resources"]) for e in events)


def test_resource_name_by_name_or_arn(cloudtrail: Any, history: tuple[ServerProcess, Seeded], site: dict) -> None:
    alice = history[1].users[0]
    by_name = lookup(cloudtrail, "ResourceName", "alice")
    by_arn = lookup(cloudtrail, "ResourceName", f"arn:aws:iam::{ACCOUNT}:user/division/alice")
    assert ids(by_name) == ids(by_arn) == [alice["eventID"]]
    assert by_name[0]["Resources"] == [{"ResourceType": "AWS::IAM::User", "ResourceName": "alice"}]
    assert ids(lookup(cloudtrail, "ResourceName", site["SiteArn"])) == ids(
        lookup(cloudtrail, "ResourceName", site["SiteId"])
    )
    assert lookup(cloudtrail, "ResourceType", "AWS::IAM::User")[0]["EventId"] == alice["eventID"]
    assert lookup(cloudtrail, "ResourceName", "ali") == []  # exact match only


def test_event_id(cloudtrail: Any, history: tuple[ServerProcess, Seeded]) -> None:
    wanted = history[1].bounds[1]
    events = lookup(cloudtrail, "EventId", wanted["eventID"])
    assert ids(events) == [wanted["eventID"]]
    assert json.loads(events[0]["CloudTrailEvent"]) == wanted
    assert lookup(cloudtrail, "EventId", "00000000-0000-0000-0000-000000000000") == []


def test_event_name(cloudtrail: Any, history: tuple[ServerProcess, Seeded]) -> None:
    events = lookup(cloudtrail, "EventName", "BurstCall")
    assert sorted(ids(events)) == sorted(r["eventID"] for r in history[1].burst)
    assert lookup(cloudtrail, "EventName", "burstcall") == []  # case-sensitive


def test_event_source(cloudtrail: Any, history: tuple[ServerProcess, Seeded]) -> None:
    events = lookup(cloudtrail, "EventSource", "iam.amazonaws.com")
    assert ids(events) == [history[1].users[1]["eventID"]]
    outposts = lookup(cloudtrail, "EventSource", "outposts.amazonaws.com", MaxResults=50)
    assert outposts and all(e["EventSource"] == "outposts.amazonaws.com" for e in outposts)


def test_username_as_aws_derives_it(cloudtrail: Any, history: tuple[ServerProcess, Seeded], site: dict) -> None:
    alice, role = history[1].users
    assert ids(lookup(cloudtrail, "Username", "alice")) == [alice["eventID"]]
    session = lookup(cloudtrail, "Username", "build-4711")  # an assumed role: the session name
    assert ids(session) == [role["eventID"]] and session[0]["Username"] == "build-4711"
    assert lookup(cloudtrail, "Username", "Deployer") == []
    roots = lookup(cloudtrail, "Username", "root")
    assert roots and all(e["Username"] == "root" for e in roots)


def test_access_key_id(cloudtrail: Any, history: tuple[ServerProcess, Seeded], site: dict) -> None:
    alice, role = history[1].users
    assert ids(lookup(cloudtrail, "AccessKeyId", "AKIAALICEKEY00000001")) == [alice["eventID"]]
    temporary = lookup(cloudtrail, "AccessKeyId", "ASIABUILDKEY00000001")
    assert ids(temporary) == [role["eventID"]] and temporary[0]["AccessKeyId"] == "ASIABUILDKEY00000001"
    key_id = history[0].root_credentials()[0]
    live = lookup(cloudtrail, "AccessKeyId", key_id)
    assert "CreateSite" in {e["EventName"] for e in live} and {e["AccessKeyId"] for e in live} == {key_id}


@pytest.mark.parametrize(("value", "expected"), [("true", "true"), ("false", "false"), ("TRUE", "true")])
def test_read_only(cloudtrail: Any, history: tuple[ServerProcess, Seeded], value: str, expected: str) -> None:
    base = history[1].base
    events = lookup(cloudtrail, "ReadOnly", value, StartTime=base, EndTime=base + 9999)
    assert events and {e["ReadOnly"] for e in events} == {expected}
    names = {e["EventName"] for e in events}
    assert names == ({"PagedCall"} if expected == "true" else {"BoundCall", "BurstCall", "UserCall"})


def test_lookup_calls_are_read_only_events(cloudtrail: Any) -> None:
    lookup(cloudtrail, "EventName", "BoundCall")
    events = lookup(cloudtrail, "EventName", "LookupEvents")
    assert events and {e["ReadOnly"] for e in events} == {"true"}
    record = json.loads(events[0]["CloudTrailEvent"])
    assert record["eventSource"] == "cloudtrail.amazonaws.com" and record["responseElements"] is None


def test_inclusive_time_bounds(cloudtrail: Any, history: tuple[ServerProcess, Seeded]) -> None:
    base = history[1].base
    at = [r["eventID"] for r in history[1].bounds]  # at base, base+10, base+20

    def between(start: float, end: float) -> list[str]:
        return ids(lookup(cloudtrail, "EventName", "BoundCall", StartTime=start, EndTime=end))

    assert between(base + 10, base + 20) == [at[2], at[1]]
    assert between(base, base + 20) == [at[2], at[1], at[0]]
    assert between(base + 10, base + 10) == [at[1]]
    assert between(base + 10.5, base + 20) == [at[2]]
    assert between(base + 1, base + 19.5) == [at[1]]
    assert between(base + 21, base + 30) == []
    dates = ids(lookup(cloudtrail, "EventName", "BoundCall", StartTime=datetime.fromtimestamp(base + 10, UTC)))
    assert dates == [at[2], at[1]]
    assert ids(lookup(cloudtrail, "EventName", "BoundCall", EndTime=base + 10)) == [at[1], at[0]]


def test_newest_first_and_same_second_in_reverse_order_of_arrival(
    cloudtrail: Any, history: tuple[ServerProcess, Seeded]
) -> None:
    burst = [r["eventID"] for r in history[1].burst]
    assert ids(lookup(cloudtrail, "EventName", "BurstCall")) == burst[::-1]
    events = lookup(cloudtrail, "EventSource", "outposts.amazonaws.com", MaxResults=50)
    times = [e["EventTime"] for e in events]
    assert times == sorted(times, reverse=True)


def test_paginator_to_the_end(cloudtrail: Any, history: tuple[ServerProcess, Seeded]) -> None:
    paginator = cloudtrail.get_paginator("lookup_events")
    pages = list(
        paginator.paginate(
            LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "PagedCall"}],
            PaginationConfig={"PageSize": 50},
        )
    )
    assert [len(page["Events"]) for page in pages] == [50, 50, PAGED - 100]
    assert "NextToken" not in pages[-1]
    everything = [e["EventId"] for page in pages for e in page["Events"]]
    assert everything == [r["eventID"] for r in history[1].paged][::-1]


def test_default_max_results_is_50_and_page_size_may_change(cloudtrail: Any, history: tuple[ServerProcess, Seeded]):
    attribute = [{"AttributeKey": "EventName", "AttributeValue": "PagedCall"}]
    first = cloudtrail.lookup_events(LookupAttributes=attribute)
    assert len(first["Events"]) == 50 and first["NextToken"]
    second = cloudtrail.lookup_events(LookupAttributes=attribute, NextToken=first["NextToken"], MaxResults=7)
    assert len(second["Events"]) == 7
    expected = [r["eventID"] for r in history[1].paged][::-1]
    assert ids(first["Events"]) + ids(second["Events"]) == expected[:57]


def test_max_results_one_walks_every_event(cloudtrail: Any, history: tuple[ServerProcess, Seeded]) -> None:
    seen, token = [], None
    while True:
        kwargs = {"NextToken": token} if token else {}
        page = cloudtrail.lookup_events(
            LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "BoundCall"}], MaxResults=1, **kwargs
        )
        seen += ids(page["Events"])
        token = page.get("NextToken")
        if not token:
            break
    assert seen == [r["eventID"] for r in history[1].bounds][::-1]


def test_insight_category_is_empty_not_an_error(cloudtrail: Any) -> None:
    answer = cloudtrail.lookup_events(EventCategory="insight")
    assert answer["Events"] == [] and "NextToken" not in answer
    assert lookup(cloudtrail, "EventName", "BoundCall", EventCategory="insight") == []


def test_data_events_are_not_in_event_history(cloudtrail: Any) -> None:
    assert lookup(cloudtrail, "EventName", "GetObject") == []
    assert lookup(cloudtrail, "EventSource", "s3.amazonaws.com") == []


def test_events_past_retention_are_never_returned_and_are_pruned(
    cloudtrail: Any, history: tuple[ServerProcess, Seeded]
) -> None:
    now = time.time()
    assert lookup(cloudtrail, "EventName", "AncientCall", StartTime=now - 120 * 86400, EndTime=now) == []
    import sqlite3

    deadline = time.monotonic() + 20
    while True:
        with sqlite3.connect(f"file:{history[0].data_dir / 'state.db'}?mode=ro", uri=True) as conn:
            left = conn.execute("SELECT count(*) FROM events WHERE event_name = 'AncientCall'").fetchone()[0]
            kept = conn.execute("SELECT count(*) FROM events WHERE event_name = 'BoundCall'").fetchone()[0]
        if left == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert (left, kept) == (0, 3)


def test_other_region_sees_none_of_these_events(history: tuple[ServerProcess, Seeded], site: dict) -> None:
    west = history[0].client("cloudtrail", region="us-west-2")
    assert lookup(west, "EventName", "BurstCall") == []
    assert lookup(west, "ResourceName", site["SiteId"]) == []
    assert lookup(west, "EventName", "CreateSite") == []


def test_iam_user_calls_and_global_iam_events(history: tuple[ServerProcess, Seeded]) -> None:
    server = history[0]
    iam = server.client("iam", region="eu-west-1")  # IAM is global: its events are in us-east-1
    created = iam.create_user(UserName="lookup-bob")["User"]
    key = iam.create_access_key(UserName="lookup-bob")["AccessKey"]
    bob = (key["AccessKeyId"], key["SecretAccessKey"])
    server.client("sts", credentials=bob).get_caller_identity()
    east, west = server.client("cloudtrail"), server.client("cloudtrail", region="eu-west-1")
    events = lookup(east, "Username", "lookup-bob")
    assert [e["EventName"] for e in events] == ["GetCallerIdentity"]
    assert events[0]["AccessKeyId"] == key["AccessKeyId"] and events[0]["EventSource"] == "sts.amazonaws.com"
    assert ids(lookup(east, "AccessKeyId", key["AccessKeyId"])) == ids(events)
    made = [e for e in lookup(east, "EventName", "CreateUser") if "lookup-bob" in e["CloudTrailEvent"]]
    assert len(made) == 1 and made[0]["Username"] == "root"
    assert json.loads(made[0]["CloudTrailEvent"])["responseElements"]["user"]["userId"] == created["UserId"]
    assert [e for e in lookup(west, "EventName", "CreateUser") if "lookup-bob" in e["CloudTrailEvent"]] == []


def test_direct_lookup_answers_equal_the_generic_serializer(cloudtrail: Any, site: dict) -> None:
    import orjson

    from trailpost.protocol.serializers import JsonResponseSerializer
    from trailpost.protocol.specs import load_service_model

    bodies: list[bytes] = []
    cloudtrail.meta.events.register(
        "after-call.cloudtrail.LookupEvents", lambda http_response, **_: bodies.append(http_response.content)
    )
    try:
        lookup(cloudtrail, "EventName", "PagedCall", MaxResults=3)
        lookup(cloudtrail, "ResourceName", site["SiteId"])
        lookup(cloudtrail, "EventName", "UserCall")
        lookup(cloudtrail, "EventName", "NothingLikeThis")
    finally:
        cloudtrail.meta.events.unregister("after-call.cloudtrail.LookupEvents")
    operation = load_service_model("cloudtrail").operation_model("LookupEvents")
    for body in bodies:
        generic = JsonResponseSerializer().serialize(operation, orjson.loads(body)).body
        assert body == generic
