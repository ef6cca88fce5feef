"""Delivery end to end over real HTTP: boto3 creates the bucket, its policy and the trails, makes
Outposts and S3 calls in two regions, and reads the log files back through trailpost's own S3;
the AWS CLI lists and copies them, and DuckDB reads them as an Athena user would.

Every comparison is by ``eventID`` against what LookupEvents returns for the same logging session
(from the trail's StartLogging to its StopLogging, both included), so "exactly once" means: every
selected event is in one log file, no event is in two, and no other event is there.
"""

from __future__ import annotations

import collections
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

from tests.delivery.remote import (
    check_keys,
    delivered,
    log_files,
    lookup_ids,
    make_bucket,
    session_events,
    wait_for,
)
from tests.support.outposts import ADDRESS
from tests.support.records import ACCOUNT
from tests.support.server import ServerProcess
from trailpost.delivery.logfiles import KEY_PATTERN

AWS = Path(sys.executable).with_name("aws")
FAST = ("--delivery-interval", "1")


def event_ids(records: list[dict[str, Any]]) -> list[str]:
    return [record["eventID"] for record in records]


def outposts_calls(server: ServerProcess, region: str) -> None:
    outposts = server.client("outposts", region=region)
    outposts.create_site(Name=f"site-{region}", OperatingAddress=ADDRESS)
    outposts.list_sites()
    outposts.list_outposts()


def test_multi_region_trail_delivers_every_session_event_exactly_once(
    make_server: Callable[..., ServerProcess],
) -> None:
    server = make_server(*FAST)
    make_bucket(server, "trail-logs", prefix="audit")
    ct = server.client("cloudtrail")
    trail = ct.create_trail(Name="everywhere", S3BucketName="trail-logs", S3KeyPrefix="audit", IsMultiRegionTrail=True)
    started = time.time()
    ct.start_logging(Name="everywhere")
    for region in ("us-east-1", "eu-west-1"):
        outposts_calls(server, region)
    ct.stop_logging(Name="everywhere")
    east = session_events(lookup_ids(server, "us-east-1", started), "everywhere")
    west = [e for e in lookup_ids(server, "eu-west-1", started) if e["eventName"] != "LookupEvents"]
    assert {e["eventName"] for e in east} >= {"StartLogging", "CreateSite", "ListSites", "ListOutposts", "StopLogging"}
    assert {e["eventName"] for e in west} == {"CreateSite", "ListSites", "ListOutposts"}
    expected = set(event_ids(east + west))
    s3 = server.client("s3")
    wait_for(lambda: expected <= set(event_ids(delivered(log_files(s3, "trail-logs")))), what="every event delivered")
    time.sleep(2.5)  # two more rounds: nothing else may arrive
    files = log_files(s3, "trail-logs")
    check_keys(files, prefix="audit")
    got = event_ids(delivered(files))
    assert len(got) == len(set(got)), "an event was delivered twice"
    assert set(got) == expected
    for key, records in files.items():
        region = KEY_PATTERN.match(key)["region"]
        assert {r["awsRegion"] for r in records} == {region}
        assert {r["recipientAccountId"] for r in records} == {ACCOUNT}
    assert {KEY_PATTERN.match(key)["region"] for key in files} == {"us-east-1", "eu-west-1"}
    # the records are the ones LookupEvents shows, byte for byte once parsed
    by_id = {e["eventID"]: e for e in east + west}
    assert all(record == by_id[record["eventID"]] for record in delivered(files))
    # each region's status is its own; the shadow trail is reached by ARN
    for region in ("us-east-1", "eu-west-1"):
        status = server.client("cloudtrail", region=region).get_trail_status(Name=trail["TrailARN"])
        assert status["LatestDeliveryTime"].timestamp() >= int(started)
        assert "LatestDeliveryError" not in status and status["IsLogging"] is False


def test_selectors_decide_what_each_trail_gets(make_server: Callable[..., ServerProcess]) -> None:
    server = make_server(*FAST)
    for bucket in ("writes-logs", "reads-logs", "data-logs"):
        make_bucket(server, bucket)
    s3 = server.client("s3")
    s3.create_bucket(Bucket="data-bucket")
    s3.create_bucket(Bucket="other-bucket")
    ct = server.client("cloudtrail")
    ct.create_trail(Name="writes", S3BucketName="writes-logs")
    ct.put_event_selectors(
        TrailName="writes", EventSelectors=[{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True}]
    )
    ct.create_trail(Name="reads", S3BucketName="reads-logs")
    ct.put_event_selectors(
        TrailName="reads",
        AdvancedEventSelectors=[
            {
                "Name": "management reads",
                "FieldSelectors": [
                    {"Field": "eventCategory", "Equals": ["Management"]},
                    {"Field": "readOnly", "Equals": ["true"]},
                ],
            }
        ],
    )
    ct.create_trail(Name="data", S3BucketName="data-logs")
    ct.put_event_selectors(
        TrailName="data",
        EventSelectors=[
            {
                "ReadWriteType": "All",
                "IncludeManagementEvents": False,
                "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::data-bucket/"]}],
            }
        ],
    )
    started = time.time()
    for name in ("writes", "reads", "data"):
        ct.start_logging(Name=name)
    outposts_calls(server, "us-east-1")
    s3.put_object(Bucket="data-bucket", Key="a.txt", Body=b"a")
    s3.put_object(Bucket="other-bucket", Key="b.txt", Body=b"b")
    s3.get_object(Bucket="data-bucket", Key="a.txt")
    for name in ("writes", "reads", "data"):
        ct.stop_logging(Name=name)
    events = lookup_ids(server, "us-east-1", started)
    writes = [e for e in session_events(events, "writes") if not e["readOnly"]]
    reads = [e for e in session_events(events, "reads") if e["readOnly"]]
    assert {"CreateSite", "StartLogging"} <= {e["eventName"] for e in writes}
    assert {"ListSites", "ListOutposts"} <= {e["eventName"] for e in reads}

    def delivered_ids(bucket: str) -> set[str]:
        return set(event_ids(delivered(log_files(s3, bucket))))

    wait_for(lambda: set(event_ids(writes)) <= delivered_ids("writes-logs"), what="write events")
    wait_for(lambda: set(event_ids(reads)) <= delivered_ids("reads-logs"), what="read events")
    wait_for(lambda: len(delivered(log_files(s3, "data-logs"))) >= 2, what="data events")
    time.sleep(2.5)
    for bucket, wanted in (("writes-logs", writes), ("reads-logs", reads)):
        got = event_ids(delivered(log_files(s3, bucket)))
        assert len(got) == len(set(got)) and set(got) == set(event_ids(wanted)), bucket
    data = delivered(log_files(s3, "data-logs"))
    assert sorted((r["eventName"], r["requestParameters"]["bucketName"]) for r in data) == [
        ("GetObject", "data-bucket"),
        ("PutObject", "data-bucket"),
    ]
    assert {r["eventCategory"] for r in data} == {"Data"}
    assert len(set(event_ids(data))) == 2


def test_aws_cli_and_duckdb_read_the_log_files(make_server: Callable[..., ServerProcess], tmp_path: Path) -> None:
    server = make_server(*FAST)
    make_bucket(server, "cli-logs")
    ct = server.client("cloudtrail")
    ct.create_trail(Name="cli", S3BucketName="cli-logs", IsMultiRegionTrail=True)
    ct.start_logging(Name="cli")
    outposts_calls(server, "us-east-1")
    outposts_calls(server, "ap-southeast-2")
    ct.stop_logging(Name="cli")
    s3 = server.client("s3")
    wait_for(
        lambda: "StopLogging" in {r["eventName"] for r in delivered(log_files(s3, "cli-logs"))}, what="the session"
    )
    files = log_files(s3, "cli-logs")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "AWS_SHARED_CREDENTIALS_FILE": str(server.data_dir / "credentials"),
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
    }

    def aws(*args: str) -> str:
        result = subprocess.run(
            [str(AWS), "--endpoint-url", server.endpoint, *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    listing = aws("s3", "ls", "--recursive", "s3://cli-logs/AWSLogs/")
    listed = {line.split()[-1] for line in listing.splitlines() if line.strip()}
    assert listed == set(files)
    download = tmp_path / "logs"
    download.mkdir()
    for key in files:
        aws("s3", "cp", f"s3://cli-logs/{key}", str(download / key.rsplit("/", 1)[-1]))
    assert sorted(p.name for p in download.iterdir()) == sorted(k.rsplit("/", 1)[-1] for k in files)
    # As Athena's CloudTrail table does, the free-form members (requestParameters, responseElements...)
    # are read as JSON text, not auto-detected structs (their keys differ from service to service).
    source = (
        f"read_json('{download / '*.json.gz'}', columns={{'Records': 'STRUCT(eventVersion VARCHAR, "
        "userIdentity STRUCT(type VARCHAR, arn VARCHAR, accountId VARCHAR), eventTime TIMESTAMP, "
        "eventSource VARCHAR, eventName VARCHAR, awsRegion VARCHAR, requestParameters JSON, "
        "responseElements JSON, eventID VARCHAR, readOnly BOOLEAN, recipientAccountId VARCHAR)[]'})"
    )
    rows = duckdb.sql(
        f"SELECT r.eventID, r.eventName, r.awsRegion, r.userIdentity.accountId FROM {source} AS f, "
        "unnest(f.Records) AS t(r)"
    ).fetchall()
    expected = delivered(files)
    assert sorted(row[0] for row in rows) == sorted(event_ids(expected))
    assert collections.Counter((row[1], row[2]) for row in rows) == collections.Counter(
        (r["eventName"], r["awsRegion"]) for r in expected
    )
    assert {row[3] for row in rows} == {ACCOUNT}
    per_region = dict(
        duckdb.sql(
            f"SELECT r.awsRegion, count(*) FROM {source} AS f, unnest(f.Records) AS t(r) "
            "WHERE r.eventSource = 'outposts.amazonaws.com' GROUP BY 1"
        ).fetchall()
    )
    assert per_region == {"us-east-1": 3, "ap-southeast-2": 3}
    names = duckdb.sql(
        f"SELECT json_extract_string(r.requestParameters, '$.name') FROM {source} AS f, unnest(f.Records) AS t(r) "
        "WHERE r.eventName = 'StopLogging'"
    ).fetchall()
    assert names == [("cli",)]
