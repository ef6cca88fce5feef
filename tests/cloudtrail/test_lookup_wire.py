"""LookupEvents' wire body, built straight from the store's rows, against one built from the records themselves.

A dedicated server is seeded with records chosen to stress the direct path: unicode, markup,
quotes and control characters in every member, each identity type (with and without a user name
or access key), resources of every odd shape (non-dict entries, missing type or ARN, lowercase
``arn``), ``resources`` placed after ``eventType`` (the slice cannot be taken, the record is
parsed whole) and ``"resources":[`` text inside ``requestParameters``. The expected answer is
built independently from the seeded records (their stored JSON, the documented member rules and
hand-written resource names) and written by the generic json serializer; the raw HTTP bodies
boto3 received must be byte-identical to it, page by page.
"""

from __future__ import annotations

import calendar
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.support.records import ACCOUNT, identity
from tests.support.records import record as base_record
from tests.support.server import ServerProcess
from trailpost.protocol.serializers import JsonResponseSerializer
from trailpost.protocol.specs import load_service_model
from trailpost.protocol.timestamps import java_double, whole_seconds_double
from trailpost.store.events import event_store
from trailpost.store.sqlite import SqliteStateStore

MARKUP = 'Mözilla <b>"x"</b> & \\ \u2028 \U0001f600 </script>'
NAME = "WireCall"


def _record(n: int, at: int, **fields: Any) -> dict[str, Any]:
    rec = base_record(fields.pop("name", NAME), at=at, **fields)
    rec["requestID"] = f"{n:08d}-0000-4000-8000-000000000000"  # its number (the store gives the eventID)
    return rec


def _seed(data_dir: Path, base: int) -> list[tuple[dict[str, Any], str | None, str | None, list[dict[str, str]]]]:
    """The seeded records, newest first, each with its expected Username, AccessKeyId and Resources."""
    user_arn = f"arn:aws:iam::{ACCOUNT}:user/path/álïce<script>"
    odd = [
        {"type": "T\u00e9<x>", "arn": f"arn:aws:sns:us-east-1:{ACCOUNT}:topic:sub"},
        "not-a-dict",
        5,
        {"type": None, "ARN": ""},
        {"ARN": "arn:aws:x"},
        {"ARN": "arn:aws:s3:::bucket-é/key/ö"},
        {"type": "AWS::S3::Object"},
        {},
    ]
    odd_expected = [
        {"ResourceType": "T\u00e9<x>", "ResourceName": "sub"},
        {},
        {"ResourceName": "arn:aws:x"},
        {"ResourceName": "ö"},
        {"ResourceType": "AWS::S3::Object"},
        {},
    ]
    service = {"type": "AWSService", "invokedBy": "ec2.amazonaws.com"}
    nameless = {"type": "IAMUser", "accountId": ACCOUNT, "userName": "", "accessKeyId": ""}
    blank = {"type": "AWSService", "userName": ""}  # an empty Username is shown, as it is
    cases: list[tuple[dict[str, Any], str | None, str | None, list[dict[str, str]]]] = [
        (_record(0, base, agent=MARKUP), "root", "AKIAEXAMPLEKEY000001", []),
        (
            _record(
                1,
                base + 1,
                who=identity("IAMUser", "álïce<script>", "AKIAALICEKEY00000001"),
                resources=[{"accountId": ACCOUNT, "type": "AWS::IAM::User", "ARN": user_arn}],
                read_only=True,
            ),
            "álïce<script>",
            "AKIAALICEKEY00000001",
            [{"ResourceType": "AWS::IAM::User", "ResourceName": "álïce<script>"}],
        ),
        (
            _record(2, base + 2, who=identity("AssumedRole", 'Deployer/sé"ss\\ion'), source="ïam\n.amazonaws.com"),
            'sé"ss\\ion',
            "AKIAEXAMPLEKEY000001",
            [],
        ),
        (_record(3, base + 3, who=service, resources=odd), "ec2.amazonaws.com", None, odd_expected),
        (_record(4, base + 4, who=nameless, agent="ctl\x00\x01\x1f\x7f\t"), None, None, []),
        (_record(5, base + 5, name="Wire\u2028Call<&>\x00"), "root", "AKIAEXAMPLEKEY000001", []),
        (_record(20, base + 5, who=blank), "", None, []),
    ]
    moved = _record(6, base + 6, resources=[{"type": "AWS::Outposts::Site", "ARN": "arn:aws:outposts:::site/os-1"}])
    moved["resources"] = moved.pop("resources")  # after eventType: the record is parsed whole
    cases.append(
        (moved, "root", "AKIAEXAMPLEKEY000001", [{"ResourceType": "AWS::Outposts::Site", "ResourceName": "os-1"}])
    )
    nested = _record(7, base + 7, resources=[{"type": "AWS::IAM::User", "ARN": user_arn}])
    nested["requestParameters"] = {"resources": [{"ARN": "nested"}], "note": '"resources":[1],"eventType"'}
    cases.append(
        (nested, "root", "AKIAEXAMPLEKEY000001", [{"ResourceType": "AWS::IAM::User", "ResourceName": "álïce<script>"}])
    )
    only_nested = _record(8, base + 8)
    only_nested["requestParameters"] = {"resources": [{"ARN": "nested"}]}
    cases.append((only_nested, "root", "AKIAEXAMPLEKEY000001", []))
    for n in range(9, 20):  # same second: newest first is the reverse of insertion
        cases.append((_record(n, base + 9, read_only=bool(n % 2)), "root", "AKIAEXAMPLEKEY000001", []))
    data_dir.mkdir(parents=True)
    state = SqliteStateStore(data_dir / "state.db")
    event_store(state).append_many([rec for rec, *_ in cases])
    state.close()
    return cases[::-1]


@pytest.fixture(scope="module")
def wire(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, int, list[Any]]]:
    data_dir = tmp_path_factory.mktemp("lookup-wire") / "data"
    base = int(time.time()) - 2 * 86400
    cases = _seed(data_dir, base)
    server = ServerProcess(data_dir).start()
    yield server, base, cases
    server.stop()


def _expected_event(rec: dict[str, Any], username: str | None, key: str | None, resources: list[Any]) -> dict:
    """An ``Event`` as the LookupEvents model orders it, from the record alone."""
    event: dict[str, Any] = {
        "EventId": rec["eventID"],
        "EventName": rec["eventName"],
        "ReadOnly": "true" if rec["readOnly"] else "false",
    }
    if key:
        event["AccessKeyId"] = key
    event["EventTime"] = float(calendar.timegm(time.strptime(rec["eventTime"], "%Y-%m-%dT%H:%M:%SZ")))
    event["EventSource"] = rec["eventSource"]
    if username is not None:
        event["Username"] = username
    event["Resources"] = resources
    event["CloudTrailEvent"] = orjson.dumps(rec).decode()
    return event


@pytest.mark.parametrize("page_size", [50, 4, 1])
def test_bodies_equal_the_generic_serializer_on_expected_events(
    wire: tuple[ServerProcess, int, list[Any]], page_size: int
) -> None:
    server, base, cases = wire
    client = server.client("cloudtrail")
    bodies: list[bytes] = []
    client.meta.events.register(
        "after-call.cloudtrail.LookupEvents", lambda http_response, **_: bodies.append(http_response.content)
    )
    params: dict[str, Any] = {"StartTime": base, "EndTime": base + 60, "MaxResults": page_size}
    while True:
        page = client.lookup_events(**params)
        if "NextToken" not in page:
            break
        params["NextToken"] = page["NextToken"]
    operation = load_service_model("cloudtrail").operation_model("LookupEvents")
    expected = [_expected_event(*case) for case in cases]
    assert len(bodies) == -(-len(expected) // page_size)
    for index, body in enumerate(bodies):
        result: dict[str, Any] = {"Events": expected[index * page_size : (index + 1) * page_size]}
        token = orjson.loads(body).get("NextToken")
        if index < len(bodies) - 1:
            result["NextToken"] = token
        else:
            assert token is None
        assert body == JsonResponseSerializer().serialize(operation, result).body


def test_filtered_bodies_match_too(wire: tuple[ServerProcess, int, list[Any]]) -> None:
    server, base, cases = wire
    client = server.client("cloudtrail")
    bodies: list[bytes] = []
    client.meta.events.register(
        "after-call.cloudtrail.LookupEvents", lambda http_response, **_: bodies.append(http_response.content)
    )
    window = {"StartTime": base, "EndTime": base + 60}
    client.lookup_events(
        LookupAttributes=[{"AttributeKey": "ResourceName", "AttributeValue": "álïce<script>"}], **window
    )
    client.lookup_events(LookupAttributes=[{"AttributeKey": "Username", "AttributeValue": 'sé"ss\\ion'}], **window)
    client.lookup_events(LookupAttributes=[{"AttributeKey": "ResourceType", "AttributeValue": "T\u00e9<x>"}], **window)
    operation = load_service_model("cloudtrail").operation_model("LookupEvents")
    by_number = {case[0]["requestID"]: _expected_event(*case) for case in cases}
    wanted = [["00000007-0000-4000-8000-000000000000", "00000001-0000-4000-8000-000000000000"]]
    wanted += [["00000002-0000-4000-8000-000000000000"], ["00000003-0000-4000-8000-000000000000"]]
    assert len(bodies) == 3
    for body, numbers in zip(bodies, wanted, strict=True):
        result = {"Events": [by_number[number] for number in numbers]}
        assert body == JsonResponseSerializer().serialize(operation, result).body


def test_whole_seconds_are_written_as_java_doubles() -> None:
    for seconds in (10_000_000, 1_795_488_796, 1_795_488_000, 1_800_000_000, 1_000_000_001, 9_999_999, 0, 5):
        assert whole_seconds_double(float(seconds)) == java_double(float(seconds))
