"""The Trails pages in real Chromium: create a trail (all regions and validation on by default, logging
started, as AWS's console does), list it with its status, stop and start logging, see its status
fields and the latest delivered log files, see AWS's error for a missing bucket, and find the trail
from another region as a shadow. Every page action is checked against what boto3 reads back and
against the CloudTrail record of the console call."""

from __future__ import annotations

import gzip
import json
from typing import Any

import botocore.exceptions
import pytest

from tests.cloudtrail.test_trails import ACCOUNT, arn, make_bucket
from tests.console.conftest import screenshot, sign_in
from tests.support.server import ServerProcess

BUCKET = "console-trail-logs"


def put_log_file(server: ServerProcess, key: str) -> None:
    """A delivered log file in the bucket, written through S3."""
    body = gzip.compress(json.dumps({"Records": []}).encode())
    server.client("s3").put_object(Bucket=BUCKET, Key=key, Body=body, ContentEncoding="gzip")


def log_key(region: str, stamp: str, unique: str) -> str:
    day = f"{stamp[:4]}/{stamp[4:6]}/{stamp[6:8]}"
    return f"AWSLogs/{ACCOUNT}/CloudTrail/{region}/{day}/{ACCOUNT}_CloudTrail_{region}_{stamp}_{unique}.json.gz"


def record_of(server: ServerProcess, name: str, event: str) -> dict[str, Any]:
    events = server.client("cloudtrail").lookup_events(
        LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": event}]
    )["Events"]
    for found in events:
        record = json.loads(found["CloudTrailEvent"])
        if (record.get("requestParameters") or {}).get("name") in (name, arn(name)):
            return record
    raise AssertionError(f"no {event} record for {name}")


@pytest.fixture(scope="module")
def bucket(console: ServerProcess) -> str:
    try:
        make_bucket(console, BUCKET)
    except botocore.exceptions.ClientError as exc:  # made already on this server
        assert exc.response["Error"]["Code"] in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists")
    return BUCKET


@pytest.fixture(scope="module")
def listed(console: ServerProcess, bucket: str) -> str:
    """A multi-region trail, logging, made with boto3 for the pages to show."""
    ct = console.client("cloudtrail")
    ct.create_trail(Name="listed-trail", S3BucketName=bucket, IsMultiRegionTrail=True)
    ct.start_logging(Name="listed-trail")
    return "listed-trail"


def test_create_trail_from_the_console(signed_in: Any, console: ServerProcess, bucket: str) -> None:
    page = signed_in
    page.goto(f"{console.endpoint}/console/trails")
    page.click("#create-trail")
    assert page.is_checked("#f-multi_region") and page.is_checked("#f-validation")  # AWS's console defaults
    page.fill("#f-name", "console-trail")
    page.fill("#f-bucket", BUCKET)
    with page.expect_navigation():
        page.click("#save")
    assert page.url.endswith("/console/trails/us-east-1/console-trail")
    assert "Trail console-trail created; logging started." in page.inner_text(".flash")
    assert page.inner_text("#trail-logging") == "Logging"
    ct = console.client("cloudtrail")
    trail = ct.get_trail(Name="console-trail")["Trail"]
    assert trail["IsMultiRegionTrail"] is True and trail["LogFileValidationEnabled"] is True
    assert trail["S3BucketName"] == BUCKET
    status = ct.get_trail_status(Name="console-trail")
    assert status["IsLogging"] is True
    started = page.inner_text("[data-member=StartLoggingTime]")
    assert started == status["StartLoggingTime"].strftime("%Y-%m-%d %H:%M:%S UTC")
    assert page.inner_text("[data-member=LatestDeliveryTime]") == "—"  # nothing delivered: nothing invented
    created = record_of(console, "console-trail", "CreateTrail")
    assert created["userAgent"] == "console.amazonaws.com"
    assert created["sessionCredentialFromConsole"] == "true"
    assert created["requestParameters"]["isMultiRegionTrail"] is True
    assert created["responseElements"]["trailARN"] == arn("console-trail")
    assert record_of(console, "console-trail", "StartLogging")["userAgent"] == "console.amazonaws.com"
    screenshot(page, "trail-detail")


def test_trails_list_status_and_switching(signed_in: Any, console: ServerProcess, listed: str) -> None:
    page = signed_in
    page.goto(f"{console.endpoint}/console/trails")
    row = page.locator("tr[data-trail='listed-trail']")
    assert row.locator(".trail-status").inner_text() == "Logging"
    assert BUCKET in row.inner_text() and "us-east-1" in row.inner_text()
    row.locator("a").click()
    page.wait_for_load_state()
    with page.expect_navigation():
        page.click("#stop-logging")
    assert "logging stopped" in page.inner_text(".flash")
    assert page.inner_text("#trail-logging") == "Off"
    status = console.client("cloudtrail").get_trail_status(Name=listed)
    assert status["IsLogging"] is False
    assert page.inner_text("[data-member=StopLoggingTime]") == status["StopLoggingTime"].strftime(
        "%Y-%m-%d %H:%M:%S UTC"
    )
    assert record_of(console, listed, "StopLogging")["sessionCredentialFromConsole"] == "true"
    with page.expect_navigation():
        page.click("#start-logging")
    assert page.inner_text("#trail-logging") == "Logging"
    assert console.client("cloudtrail").get_trail_status(Name=listed)["IsLogging"] is True


def test_latest_delivered_files_newest_first(signed_in: Any, console: ServerProcess, listed: str) -> None:
    keys = [
        log_key("us-east-1", "20261124T0455Z", "aaaaaaaaaaaaaaaa"),
        log_key("eu-west-1", "20261124T0505Z", "bbbbbbbbbbbbbbbb"),
        log_key("us-east-1", "20261123T2359Z", "cccccccccccccccc"),
    ]
    for key in keys:
        put_log_file(console, key)
    put_log_file(console, f"AWSLogs/{ACCOUNT}/CloudTrail-Digest/us-east-1/2026/11/24/not-a-log-file.json.gz")
    page = signed_in
    page.goto(f"{console.endpoint}/console/trails/us-east-1/listed-trail")
    rows = page.locator("#log-files tbody tr")
    shown = [rows.nth(i).inner_text() for i in range(rows.count())]
    # The trail logs, so files it really delivered (stamped now, newer than these) may be listed too.
    ours = [text for text in shown if any(k in text for k in keys)]
    assert [next(k for k in keys if k in text) for text in ours] == [keys[1], keys[0], keys[2]]
    assert ours[0].startswith("2026-11-24 05:05 UTC") and "eu-west-1" in ours[0]
    assert not any("not-a-log-file" in text for text in shown)  # digest files are not log files
    assert shown[: len(shown) - len(ours)] == [text for text in shown if text not in ours]  # delivered: newer


def test_missing_bucket_shows_awss_error_and_keeps_the_form(
    signed_in: Any, console: ServerProcess, bucket: str
) -> None:
    page = signed_in
    page.goto(f"{console.endpoint}/console/trails/new")
    page.fill("#f-name", "nowhere-trail")
    page.fill("#f-bucket", "no-such-console-bucket")
    page.uncheck("#f-validation")
    with page.expect_navigation():
        page.click("#save")
    assert "S3BucketDoesNotExistException: S3 bucket no-such-console-bucket does not exist!" in page.inner_text(
        ".alert"
    )
    assert page.input_value("#f-name") == "nowhere-trail"
    assert not page.is_checked("#f-validation") and page.is_checked("#f-multi_region")
    names = [t["Name"] for t in console.client("cloudtrail").describe_trails()["trailList"]]
    assert "nowhere-trail" not in names


def test_shadow_trail_seen_and_switched_from_another_region(
    fresh_context: Any, console: ServerProcess, listed: str
) -> None:
    page = fresh_context().new_page()
    sign_in(page, console)
    page.goto(f"{console.endpoint}/console/trails")
    with page.expect_navigation():
        page.select_option("#region-select", "us-west-2")
    page.goto(f"{console.endpoint}/console/trails")
    row = page.locator("tr[data-trail='listed-trail']")
    assert "us-east-1" in row.inner_text()  # its home region, seen from us-west-2
    row.locator("a").click()
    page.wait_for_load_state()
    assert page.inner_text("#trail-name") == listed
    with page.expect_navigation():
        page.click("#stop-logging")  # signed for the home region, where AWS takes it
    assert console.client("cloudtrail").get_trail_status(Name=listed)["IsLogging"] is False
    with page.expect_navigation():
        page.click("#start-logging")
    assert console.client("cloudtrail").get_trail_status(Name=listed)["IsLogging"] is True
