"""The CSV form of Event history, one definition for every download (console and `trailpost events`).

A row is one LookupEvents ``Event`` (with its ``CloudTrailEvent`` record string): the console's
columns, then what the record adds (region, error code, source address, request id) and the
resources as JSON. Cells a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``,
``@``, tab or carriage return) get a leading quote, as OWASP advises for CSV injection: event
fields are untrusted text (a user agent, a site name).
"""

from __future__ import annotations

import json
from typing import Any

CSV_COLUMNS = (
    "Event ID",
    "Event time",
    "User name",
    "Event name",
    "Event source",
    "Resource type",
    "Resource name",
    "Read-only",
    "AWS access key",
    "AWS region",
    "Error code",
    "Source IP address",
    "Request ID",
    "Resources",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> str:
    """``value`` as a CSV cell that a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def joined_resources(event: dict[str, Any], key: str) -> str:
    """The ``ResourceType`` or ``ResourceName`` values of an event, comma-separated."""
    return ", ".join(str(r.get(key)) for r in event.get("Resources") or () if r.get(key))


def csv_row(event: dict[str, Any], event_time: str) -> list[str]:
    """The ``CSV_COLUMNS`` of a LookupEvents event; ``event_time`` already formatted (ISO 8601 UTC)."""
    try:
        record = json.loads(event.get("CloudTrailEvent") or "{}")
    except ValueError:
        record = {}
    resources = [
        {"ResourceType": r.get("ResourceType"), "ResourceName": r.get("ResourceName")}
        for r in event.get("Resources") or []
    ]
    cells = (
        event.get("EventId", ""),
        event_time,
        event.get("Username") or "",
        event.get("EventName", ""),
        event.get("EventSource", ""),
        joined_resources(event, "ResourceType"),
        joined_resources(event, "ResourceName"),
        event.get("ReadOnly", ""),
        event.get("AccessKeyId") or "",
        record.get("awsRegion", ""),
        record.get("errorCode", ""),
        record.get("sourceIPAddress", ""),
        record.get("requestID", ""),
        json.dumps(resources) if resources else "",
    )
    return [safe_cell(cell) for cell in cells]
