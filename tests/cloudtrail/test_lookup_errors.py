"""LookupEvents' bad input (each modeled error, with its message), throttling, retention, account isolation,
and the AWS CLI's ``aws cloudtrail lookup-events``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import boto3
import botocore.config
import pytest
from botocore.exceptions import ClientError

from tests.cloudtrail.conftest import Seeded, record
from tests.support.server import ServerProcess
from trailpost.store.events import event_store
from trailpost.store.sqlite import SqliteStateStore

AWS = Path(sys.executable).with_name("aws")
NAME = [{"AttributeKey": "EventName", "AttributeValue": "PagedCall"}]


def error_of(call: Any, **kwargs: Any) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    error = caught.value.response
    return error["Error"]["Code"], error["Error"]["Message"], error["ResponseMetadata"]["HTTPStatusCode"]


@pytest.mark.parametrize(
    ("kwargs", "code", "message"),
    [
        (
            {"LookupAttributes": [*NAME, {"AttributeKey": "Username", "AttributeValue": "root"}]},
            "InvalidLookupAttributesException",
            "You can specify only one lookup attribute; the request has 2.",
        ),
        (
            {"LookupAttributes": [{"AttributeKey": "Region", "AttributeValue": "us-east-1"}]},
            "InvalidLookupAttributesException",
            "Value Region for AttributeKey is invalid. Valid keys: EventId, EventName, ReadOnly, Username, "
            "ResourceType, ResourceName, EventSource, AccessKeyId.",
        ),
        (
            {"LookupAttributes": [{"AttributeKey": "ReadOnly", "AttributeValue": "maybe"}]},
            "InvalidLookupAttributesException",
            "Value maybe for ReadOnly is invalid. Valid values: true, false.",
        ),
        (
            {"LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": "x" * 2001}]},
            "InvalidLookupAttributesException",
            "The AttributeValue for EventName is longer than 2000 characters ('_', ' ', ',' and newline count as two).",
        ),
        (
            {"LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": "_" * 1001}]},
            "InvalidLookupAttributesException",
            "The AttributeValue for EventName is longer than 2000 characters ('_', ' ', ',' and newline count as two).",
        ),
        (
            {"EventCategory": "insight", "LookupAttributes": [{"AttributeKey": "Username", "AttributeValue": "root"}]},
            "InvalidLookupAttributesException",
            "The lookup attribute Username is not supported for Insights events. Supported: EventId, EventName, "
            "EventSource.",
        ),
        (
            {"StartTime": 1_700_000_100, "EndTime": 1_700_000_000},
            "InvalidTimeRangeException",
            "Start time must be before or at the end time.",
        ),
        (
            {"MaxResults": 51},
            "InvalidMaxResultsException",
            "Value 51 for MaxResults is invalid. MaxResults must be between 1 and 50.",
        ),
        (
            {"EventCategory": "management"},
            "InvalidEventCategoryException",
            "Value management for EventCategory is invalid. Valid values: insight.",
        ),
        (
            {"NextToken": "not-a-token"},
            "InvalidNextTokenException",
            "Invalid NextToken: pass a token with the same parameters as the call that returned it.",
        ),
    ],
)
def test_modeled_errors(cloudtrail: Any, kwargs: dict[str, Any], code: str, message: str) -> None:
    assert error_of(cloudtrail.lookup_events, **kwargs) == (code, message, 400)
    assert isinstance(getattr(cloudtrail.exceptions, code), type)


def test_longest_attribute_values_are_accepted(cloudtrail: Any) -> None:
    for value in ("x" * 2000, "_" * 1000, "a b,c\n" * 222):
        attribute = [{"AttributeKey": "EventName", "AttributeValue": value}]
        assert cloudtrail.lookup_events(LookupAttributes=attribute)["Events"] == []


def test_max_results_zero_that_boto3_would_refuse(history: tuple[ServerProcess, Seeded]) -> None:
    unchecked = history[0].client("cloudtrail", parameter_validation=False)
    assert error_of(unchecked.lookup_events, MaxResults=0)[:2] == (
        "InvalidMaxResultsException",
        "Value 0 for MaxResults is invalid. MaxResults must be between 1 and 50.",
    )
    empty = [{"AttributeKey": "EventName", "AttributeValue": ""}]
    assert error_of(unchecked.lookup_events, LookupAttributes=empty)[0] == "InvalidLookupAttributesException"


def test_token_of_another_query_or_forged(cloudtrail: Any, history: tuple[ServerProcess, Seeded]) -> None:
    token = cloudtrail.lookup_events(LookupAttributes=NAME, MaxResults=5)["NextToken"]
    other_name = [{"AttributeKey": "EventName", "AttributeValue": "BoundCall"}]
    other_key = [{"AttributeKey": "EventSource", "AttributeValue": "PagedCall"}]
    for kwargs in (
        {"LookupAttributes": other_name},
        {"LookupAttributes": other_key},
        {},
        {"LookupAttributes": NAME, "StartTime": history[1].base},
        {"LookupAttributes": NAME, "EndTime": time.time()},
        {"LookupAttributes": NAME, "EventCategory": "insight"},
    ):
        assert error_of(cloudtrail.lookup_events, NextToken=token, **kwargs)[0] == "InvalidNextTokenException"
    forged = token[:-6] + ("AAAAAA" if not token.endswith("AAAAAA") else "BBBBBB")
    assert error_of(cloudtrail.lookup_events, LookupAttributes=NAME, NextToken=forged)[0] == "InvalidNextTokenException"
    west = history[0].client("cloudtrail", region="us-west-2")
    assert error_of(west.lookup_events, LookupAttributes=NAME, NextToken=token)[0] == "InvalidNextTokenException"
    assert len(cloudtrail.lookup_events(LookupAttributes=NAME, NextToken=token)["Events"]) == 50


def test_failed_lookups_are_recorded_with_their_error_and_parameters(cloudtrail: Any) -> None:
    marker = f"marker-{time.time_ns()}"
    attributes = [{"AttributeKey": "EventName", "AttributeValue": marker}]
    error_of(cloudtrail.lookup_events, LookupAttributes=attributes, MaxResults=51)
    events = cloudtrail.lookup_events(
        LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "LookupEvents"}]
    )
    records = [json.loads(e["CloudTrailEvent"]) for e in events["Events"]]
    failed = [r for r in records if r.get("errorCode") == "InvalidMaxResultsException"]
    assert failed, records
    # CloudTrail's own checks run once the input is read: the record shows what was asked.
    assert failed[0]["requestParameters"] == {
        "lookupAttributes": [{"attributeKey": "EventName", "attributeValue": marker}],
        "maxResults": 51,
    }


def test_another_account_sees_none_of_these_events(history: tuple[ServerProcess, Seeded]) -> None:
    server = history[0]
    created = subprocess.run(
        [
            sys.executable,
            "-m",
            "trailpost",
            "account",
            "create",
            "--name",
            "isolated",
            "--data-dir",
            str(server.data_dir),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    values = dict(line.split(" = ", 1) for line in created.splitlines() if " = " in line)
    other = server.client("cloudtrail", credentials=(values["aws_access_key_id"], values["aws_secret_access_key"]))
    account = created.split()[1]
    for key, value in (("EventName", "PagedCall"), ("Username", "alice"), ("EventName", "CreateSite")):
        assert other.lookup_events(LookupAttributes=[{"AttributeKey": key, "AttributeValue": value}])["Events"] == []
    other.lookup_events()
    mine = other.lookup_events()["Events"]
    assert mine and {json.loads(e["CloudTrailEvent"])["recipientAccountId"] for e in mine} == {account}


def no_retries(server: ServerProcess, region: str = "us-east-1") -> Any:
    """A client that makes one attempt per call (boto3 retries ThrottlingException otherwise)."""
    key, secret = server.root_credentials()
    return boto3.session.Session().client(
        "cloudtrail",
        endpoint_url=server.endpoint,
        region_name=region,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=botocore.config.Config(retries={"total_max_attempts": 1}),
    )


def test_rate_limit_throttles_like_aws(make_server: Any) -> None:
    server = make_server("--lookup-rate-limit", "2")
    east, west = no_retries(server), no_retries(server, "us-west-2")
    started, outcomes = time.monotonic(), []
    for _ in range(12):
        try:
            east.lookup_events(MaxResults=1)
            outcomes.append("ok")
        except ClientError as exc:
            error = exc.response
            assert (error["Error"]["Code"], error["Error"]["Message"]) == ("ThrottlingException", "Rate exceeded")
            assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
            outcomes.append("throttled")
    elapsed = time.monotonic() - started
    assert outcomes[:2] == ["ok", "ok"]  # a burst of one second's worth
    assert outcomes.count("ok") <= 2 + 2 * elapsed + 1 and "throttled" in outcomes
    west.lookup_events()  # another region has its own allowance
    time.sleep(1.1)
    east.lookup_events()
    codes = [json.loads(e["CloudTrailEvent"]).get("errorCode") for e in east.lookup_events()["Events"]]
    assert codes.count("ThrottlingException") == outcomes.count("throttled")  # throttled calls are recorded


def test_slow_rate_limit(make_server: Any) -> None:
    server = make_server("--lookup-rate-limit", "0.5")
    client = no_retries(server)
    client.lookup_events()
    assert error_of(client.lookup_events) == ("ThrottlingException", "Rate exceeded", 400)
    time.sleep(2.1)
    client.lookup_events()


def test_no_rate_limit_by_default(cloudtrail: Any) -> None:
    for _ in range(10):
        cloudtrail.lookup_events(MaxResults=1)


def test_retention_days_setting(make_server: Any, tmp_path: Path) -> None:
    data_dir = tmp_path / "retained"
    data_dir.mkdir()
    now = time.time()
    state = SqliteStateStore(data_dir / "state.db")
    event_store(state).append_many([record(now - 2 * 86400, "OldCall"), record(now - 3600, "RecentCall")])
    state.close()
    server = make_server("--event-retention-days", "1", data_dir=data_dir)
    client = server.client("cloudtrail")
    names = {e["EventName"] for e in client.lookup_events(StartTime=now - 10 * 86400)["Events"]}
    assert "RecentCall" in names and "OldCall" not in names


def test_aws_cli_lookup_events(history: tuple[ServerProcess, Seeded], tmp_path: Path) -> None:
    server = history[0]
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        "AWS_SHARED_CREDENTIALS_FILE": str(server.data_dir / "credentials"),
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_PAGER": "",
        "AWS_EC2_METADATA_DISABLED": "true",
    }

    def aws(*args: str) -> subprocess.CompletedProcess[str]:
        command = [
            str(AWS),
            "--endpoint-url",
            server.endpoint,
            "--output",
            "json",
            "cloudtrail",
            "lookup-events",
            *args,
        ]
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)

    result = aws("--lookup-attributes", "AttributeKey=EventName,AttributeValue=PagedCall", "--page-size", "40")
    assert result.returncode == 0, result.stderr
    events = json.loads(result.stdout)["Events"]
    assert [e["EventId"] for e in events] == [r["eventID"] for r in history[1].paged][::-1]
    assert {e["ReadOnly"] for e in events} == {"true"} and isinstance(events[0]["EventTime"], float)
    first = json.loads(
        aws("--lookup-attributes", "AttributeKey=EventName,AttributeValue=PagedCall", "--max-items", "3").stdout
    )
    assert len(first["Events"]) == 3 and first["NextToken"]
    bad = aws("--max-results", "51")
    assert bad.returncode == 255
    assert "An error occurred (InvalidMaxResultsException) when calling the LookupEvents operation: " in bad.stderr
