"""The Event history page in real Chromium: filters, records, paging, downloads and the chart.

The page is compared with what LookupEvents answers boto3 for the same filter: the console shows
what the API returns, in the API's order.
"""

from __future__ import annotations

import csv
import io
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.console.conftest import screenshot
from tests.support.server import ServerProcess
from trailpost.event_csv import CSV_COLUMNS


@dataclass
class Seeded:
    site_id: str
    event_id: str
    record: dict[str, Any]
    key: str


def lookup(server: ServerProcess, key: str, value: str, **times: Any) -> list[dict[str, Any]]:
    client = server.client("cloudtrail")
    paginator = client.get_paginator("lookup_events")
    pages = paginator.paginate(LookupAttributes=[{"AttributeKey": key, "AttributeValue": value}], **times)
    return [event for page in pages for event in page["Events"]]


@pytest.fixture(scope="module")
def seeded(console: ServerProcess) -> Seeded:
    """A site created by boto3 and read 11 times: 12 events naming it, the first a CreateSite."""
    outposts = console.client("outposts")
    site_id = outposts.create_site(Name=f"history-{time.time_ns()}", Description="seeded")["Site"]["SiteId"]
    for _ in range(11):
        outposts.get_site(SiteId=site_id)
    created = next(e for e in lookup(console, "ResourceName", site_id) if e["EventName"] == "CreateSite")
    return Seeded(site_id, created["EventId"], json.loads(created["CloudTrailEvent"]), created["AccessKeyId"])


def open_history(page: Any, server: ServerProcess, query: str = "") -> None:
    page.goto(f"{server.endpoint}/console/events{query}")


def apply_filter(page: Any, attribute: str, value: str, time_range: str | None = None) -> None:
    page.select_option("#attr", attribute)
    page.fill("#value", value)
    if time_range is not None:
        page.select_option("#range", time_range)
    with page.expect_navigation():
        page.click("#apply")


def rows(page: Any) -> list[dict[str, str]]:
    """The event rows on the page: event id and the text of each column by header."""
    headers = [h.inner_text().strip() for h in page.locator("#events thead th").all()][1:]
    found = []
    for row in page.locator("#events tr.event-row").all():
        cells = [c.inner_text().strip() for c in row.locator("td").all()][1:]
        found.append({"id": row.get_attribute("data-event-id"), **dict(zip(headers, cells, strict=True))})
    return found


def test_default_filter_is_read_only_false(console: ServerProcess, signed_in: Any, seeded: Seeded) -> None:
    open_history(signed_in, console, "?col=read_only")
    assert signed_in.locator("#attr").input_value() == "ReadOnly"
    assert signed_in.locator("#value").input_value() == "false"
    shown = rows(signed_in)
    assert shown and all(row["Read-only"] == "false" for row in shown)
    assert seeded.event_id in [row["id"] for row in shown]
    assert [h.inner_text().strip() for h in signed_in.locator("#events thead th").all()][1:7] == [
        "Event name",
        "Event time",
        "User name",
        "Event source",
        "Resource type",
        "Resource name",
    ]
    screenshot(signed_in, "event-history")


@pytest.mark.parametrize(
    ("attribute", "column"),
    [
        ("EventId", "Event ID"),
        ("EventName", "Event name"),
        ("EventSource", "Event source"),
        ("Username", "User name"),
        ("ResourceType", "Resource type"),
        ("ResourceName", "Resource name"),
        ("AccessKeyId", "AWS access key"),
        ("ReadOnly", "Read-only"),
    ],
)
def test_filter_by_each_attribute(
    console: ServerProcess, signed_in: Any, seeded: Seeded, attribute: str, column: str
) -> None:
    value = {
        "EventId": seeded.event_id,
        "EventName": "CreateSite",
        "EventSource": "outposts.amazonaws.com",
        "Username": "root",
        "ResourceType": "AWS::Outposts::Site",
        "ResourceName": seeded.site_id,
        "AccessKeyId": seeded.key,
        "ReadOnly": "true",
    }[attribute]
    open_history(signed_in, console, "?col=event_id&col=read_only&col=access_key")
    apply_filter(signed_in, attribute, value, "30m")
    query = parse_qs(urlsplit(signed_in.url).query)
    assert query["attr"] == [attribute] and query["value"] == [value] and query["range"] == ["30m"]
    shown = rows(signed_in)
    assert shown, f"no rows for {attribute}={value}"
    for row in shown:
        assert value in row[column].split(", "), (attribute, row)
    at = int(parse_qs(urlsplit(signed_in.locator("#download-json").get_attribute("href")).query)["at"][0])
    expected = lookup(console, attribute, value, StartTime=at - 1800, EndTime=at)
    # The console's own LookupEvents calls (and boto3's) are history too, and newer than the page.
    ours = [row["id"] for row in shown if row["Event name"] != "LookupEvents"]
    theirs = [event["EventId"] for event in expected if event["EventName"] != "LookupEvents"]
    assert ours == theirs[: len(ours)]
    if attribute in ("EventId", "ResourceName", "EventName"):
        assert seeded.event_id in [row["id"] for row in shown]
    assert not signed_in.locator(".alert").count()


def test_row_expands_to_the_full_record(console: ServerProcess, signed_in: Any, seeded: Seeded) -> None:
    open_history(signed_in, console)
    apply_filter(signed_in, "EventId", seeded.event_id)
    record_row = signed_in.locator("#events tr.record-row").first
    assert record_row.is_hidden()
    signed_in.locator("#events button.expand").first.click()
    assert record_row.is_visible()
    assert json.loads(record_row.locator("pre.record").inner_text()) == seeded.record
    screenshot(signed_in, "event-history-expanded")
    signed_in.locator("#events button.expand").first.click()
    assert record_row.is_hidden()


def _download(page: Any, button: str) -> bytes:
    with page.expect_download() as info:
        page.click(button)
    return Path(info.value.path()).read_bytes()


def test_downloads_hold_the_current_results(console: ServerProcess, signed_in: Any, seeded: Seeded) -> None:
    open_history(signed_in, console)
    apply_filter(signed_in, "ResourceName", seeded.site_id, "1h")
    at = int(parse_qs(urlsplit(signed_in.locator("#download-csv").get_attribute("href")).query)["at"][0])
    expected = lookup(console, "ResourceName", seeded.site_id, StartTime=at - 3600, EndTime=at)
    assert len(expected) == 12

    table = list(csv.reader(io.StringIO(_download(signed_in, "#download-csv").decode("utf-8"))))
    assert tuple(table[0]) == CSV_COLUMNS
    body = [dict(zip(CSV_COLUMNS, line, strict=True)) for line in table[1:]]
    assert [line["Event ID"] for line in body] == [event["EventId"] for event in expected]
    for line, event in zip(body, expected, strict=True):
        record = json.loads(event["CloudTrailEvent"])
        assert line["Event name"] == event["EventName"] and line["Event time"] == record["eventTime"]
        assert line["User name"] == "root" and line["AWS access key"] == seeded.key
        assert line["Resource name"] == seeded.site_id and line["Resource type"] == "AWS::Outposts::Site"
        assert line["Event source"] == "outposts.amazonaws.com" and line["AWS region"] == "us-east-1"
        assert line["Read-only"] == event["ReadOnly"] and line["Source IP address"] == record["sourceIPAddress"]
        assert json.loads(line["Resources"]) == event["Resources"]

    document = json.loads(_download(signed_in, "#download-json"))
    assert list(document) == ["Records"]
    assert document["Records"] == [json.loads(event["CloudTrailEvent"]) for event in expected]


def test_paging_through_next_token(console: ServerProcess, signed_in: Any, seeded: Seeded) -> None:
    open_history(signed_in, console, "?size=10")
    apply_filter(signed_in, "ResourceName", seeded.site_id, "1h")
    first = [row["id"] for row in rows(signed_in)]
    assert len(first) == 10 and signed_in.locator("#newer").count() == 0
    with signed_in.expect_navigation():
        signed_in.click("#older")
    second = [row["id"] for row in rows(signed_in)]
    assert len(second) == 2 and signed_in.locator("#older").count() == 0
    assert signed_in.locator(".page-number").inner_text() == "Page 2"
    at = int(parse_qs(urlsplit(signed_in.url).query)["at"][0])
    expected = [e["EventId"] for e in lookup(console, "ResourceName", seeded.site_id, StartTime=at - 3600, EndTime=at)]
    assert first + second == expected  # newest first across pages, nothing twice
    assert expected[-1] == seeded.event_id  # the CreateSite came first, so it is last
    with signed_in.expect_navigation():
        signed_in.click("#newer")
    assert [row["id"] for row in rows(signed_in)] == first


def test_chart_counts_the_events_of_the_range(console: ServerProcess, signed_in: Any, seeded: Seeded) -> None:
    open_history(signed_in, console)
    apply_filter(signed_in, "ResourceName", seeded.site_id, "1h")
    signed_in.wait_for_selector("#chart[data-ready='true']")
    bars = signed_in.locator("#chart-svg rect.chart-bar")
    assert bars.count() == 24
    assert sum(int(bar.get_attribute("data-count")) for bar in bars.all()) == 12
    assert "12 events" in signed_in.locator("#chart-note").inner_text()
    # The newest bucket holds them: they were made moments ago.
    assert int(bars.nth(23).get_attribute("data-count")) + int(bars.nth(22).get_attribute("data-count")) == 12


def test_absolute_time_ranges(console: ServerProcess, signed_in: Any, seeded: Seeded) -> None:
    open_history(signed_in, console)
    signed_in.select_option("#range", "absolute")
    assert signed_in.locator("#start").is_visible()
    signed_in.select_option("#attr", "ResourceName")
    signed_in.fill("#value", seeded.site_id)
    signed_in.fill("#start", "2020-01-01T00:00:00")
    signed_in.fill("#end", "2020-01-02T00:00:00")
    with signed_in.expect_navigation():
        signed_in.click("#apply")
    assert rows(signed_in) == []
    assert signed_in.locator("td.empty").inner_text() == "No events match this filter and time range."
    now = time.gmtime(time.time() + 120)
    earlier = time.gmtime(time.time() - 3600)
    signed_in.fill("#start", time.strftime("%Y-%m-%dT%H:%M:%S", earlier))
    signed_in.fill("#end", time.strftime("%Y-%m-%dT%H:%M:%S", now))
    with signed_in.expect_navigation():
        signed_in.click("#apply")
    assert len(rows(signed_in)) == 12
    # A start after the end is CloudTrail's own error, shown as AWS words it.
    signed_in.fill("#start", time.strftime("%Y-%m-%dT%H:%M:%S", now))
    signed_in.fill("#end", time.strftime("%Y-%m-%dT%H:%M:%S", earlier))
    with signed_in.expect_navigation():
        signed_in.click("#apply")
    assert "InvalidTimeRangeException" in signed_in.locator(".alert").inner_text()


def test_lookup_errors_are_shown_readably(console: ServerProcess, signed_in: Any) -> None:
    open_history(signed_in, console)
    apply_filter(signed_in, "ReadOnly", "maybe")
    text = signed_in.locator(".alert").inner_text()
    assert "InvalidLookupAttributesException: Value maybe for ReadOnly is invalid" in text
    assert rows(signed_in) == []
