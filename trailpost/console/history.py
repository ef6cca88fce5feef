"""The Event history page: CloudTrail LookupEvents as the AWS console presents it.

Everything here is read through the API (``cloudtrail:LookupEvents`` signed as the signed-in
user, so each lookup is itself recorded, as in AWS). Rules, after the AWS console (reference 5.3):

* the filter is one lookup attribute (the eight keys of LookupEvents) with one value, and a time
  range; the default filter is Read-only = false (write events only), over the last 90 days;
  an attribute with an empty value filters nothing;
* time ranges are relative (30 minutes to 90 days before "now") or absolute (UTC); a relative
  range is pinned to the moment of its first page (``at``), so paging and downloads see the same
  StartTime/EndTime and LookupEvents' NextToken stays valid;
* newest first, 10, 25 or 50 events a page, paged with NextToken (older) and the trail of
  earlier tokens (newer); each row expands to the full record, pretty-printed, as text;
* default columns Event name, Event time, User name, Event source, Resource type, Resource name;
  optional ones: Event ID, Read-only, AWS access key, Source IP address, AWS region, Error code,
  Request ID (taken from the record);
* downloads (CSV or JSON) hold every event of the filter and range, up to ``DOWNLOAD_LIMIT``;
  JSON is ``{"Records": [...]}`` of the records; CSV has ``CSV_COLUMNS`` and neutralizes cells a
  spreadsheet would run as formulas (a leading ``=``, ``+``, ``-``, ``@``, tab or CR gets a ``'``);
* the chart counts the events of the filter over the range in ``CHART_BUCKETS`` equal buckets,
  from at most ``CHART_LIMIT`` events (the newest; the page says when the cap was reached).
"""

from __future__ import annotations

import calendar
import csv
import io
import json
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from trailpost.console.api import ApiError
from trailpost.console.pages import api, api_pages, error_text, render, signed_in, utc_text
from trailpost.console.sessions import Session
from trailpost.event_csv import CSV_COLUMNS, csv_row, joined_resources

ATTRIBUTES = (
    ("ReadOnly", "Read-only"),
    ("EventName", "Event name"),
    ("EventSource", "Event source"),
    ("EventId", "Event ID"),
    ("Username", "User name"),
    ("ResourceType", "Resource type"),
    ("ResourceName", "Resource name"),
    ("AccessKeyId", "AWS access key"),
)
RANGES = (
    ("30m", "Last 30 minutes", 1800),
    ("1h", "Last hour", 3600),
    ("3h", "Last 3 hours", 3 * 3600),
    ("12h", "Last 12 hours", 12 * 3600),
    ("1d", "Last day", 86400),
    ("7d", "Last 7 days", 7 * 86400),
    ("30d", "Last 30 days", 30 * 86400),
    ("90d", "Last 90 days", 90 * 86400),
)
ABSOLUTE = "absolute"
DEFAULT_RANGE = "90d"
PAGE_SIZES = (10, 25, 50)
DEFAULT_PAGE_SIZE = 50
OPTIONAL_COLUMNS = (
    ("event_id", "Event ID"),
    ("read_only", "Read-only"),
    ("access_key", "AWS access key"),
    ("source_ip", "Source IP address"),
    ("region", "AWS region"),
    ("error_code", "Error code"),
    ("request_id", "Request ID"),
)
DOWNLOAD_LIMIT = 50_000
CHART_LIMIT = 1000
CHART_BUCKETS = 24
_ABSOLUTE_FORMATS = ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d")


@dataclass
class HistoryFilter:
    """The filter and time range of an Event history view, resolved to LookupEvents parameters."""

    attribute: str = "ReadOnly"
    value: str = "false"
    range: str = DEFAULT_RANGE
    start_text: str = ""
    end_text: str = ""
    size: int = DEFAULT_PAGE_SIZE
    columns: list[str] = field(default_factory=list)
    at: int = 0
    start: int = 0
    end: int = 0
    error: str | None = None

    def lookup_params(self) -> dict[str, Any]:
        params: dict[str, Any] = {"StartTime": self.start, "EndTime": self.end}
        if self.value != "":
            params["LookupAttributes"] = [{"AttributeKey": self.attribute, "AttributeValue": self.value}]
        return params

    def query(self) -> list[tuple[str, str]]:
        """The filter as query pairs for links (page, chart, downloads), pinned to ``at``."""
        pairs = [("attr", self.attribute), ("value", self.value), ("range", self.range)]
        if self.range == ABSOLUTE:
            pairs += [("start", self.start_text), ("end", self.end_text)]
        else:
            pairs.append(("at", str(self.at)))
        pairs.append(("size", str(self.size)))
        pairs += [("col", column) for column in self.columns]
        return pairs

    @property
    def range_label(self) -> str:
        if self.range == ABSOLUTE:
            return f"{utc_text(self.start)} to {utc_text(self.end)}"
        return next(label for key, label, _ in RANGES if key == self.range)


def _parse_time(text: str) -> int | None:
    text = text.strip().removesuffix("Z").removesuffix(" UTC")
    for pattern in _ABSOLUTE_FORMATS:
        try:
            return calendar.timegm(datetime.strptime(text, pattern).timetuple())
        except ValueError:
            continue
    return None


def parse_filter(query: Any, now: float) -> HistoryFilter:
    """The view a query string asks for; defaults as the AWS console's (module docstring)."""
    view = HistoryFilter(attribute=query.get("attr") or "ReadOnly")
    value = query.get("value")
    view.value = ("false" if view.attribute == "ReadOnly" else "") if value is None else value.strip()
    size = query.get("size") or ""
    view.size = int(size) if size.isdigit() and int(size) in PAGE_SIZES else DEFAULT_PAGE_SIZE
    known = {key for key, _ in OPTIONAL_COLUMNS}
    view.columns = [column for column in query.getlist("col") if column in known]
    at = query.get("at") or ""
    view.at = int(at) if at.isdigit() else int(now)
    view.range = query.get("range") or DEFAULT_RANGE
    if view.range == ABSOLUTE:
        view.start_text, view.end_text = (query.get("start") or "").strip(), (query.get("end") or "").strip()
        start, end = _parse_time(view.start_text), _parse_time(view.end_text)
        if start is None or end is None:
            view.error = "Enter the start and end of the range as YYYY-MM-DDTHH:MM (UTC)."
            view.range = DEFAULT_RANGE
        else:
            view.start, view.end = start, end
            return view
    seconds = {key: span for key, _, span in RANGES}
    if view.range not in seconds:
        view.range = DEFAULT_RANGE
    view.end = view.at
    view.start = view.at - seconds[view.range]
    return view


def _row(event: dict[str, Any]) -> dict[str, Any]:
    """One table row: the LookupEvents event plus what the optional columns take from the record."""
    try:
        record = json.loads(event.get("CloudTrailEvent") or "{}")
    except ValueError:
        record = {}
    return {
        "event_id": event.get("EventId", ""),
        "event_name": event.get("EventName", ""),
        "event_time": utc_text(event.get("EventTime")),
        "username": event.get("Username") or "",
        "event_source": event.get("EventSource", ""),
        "resource_type": joined_resources(event, "ResourceType"),
        "resource_name": joined_resources(event, "ResourceName"),
        "read_only": event.get("ReadOnly", ""),
        "access_key": event.get("AccessKeyId") or "",
        "source_ip": record.get("sourceIPAddress", ""),
        "region": record.get("awsRegion", ""),
        "error_code": record.get("errorCode", ""),
        "request_id": record.get("requestID", ""),
        "record": record,
        "pretty": json.dumps(record, indent=2, ensure_ascii=False),
    }


def _trail(text: str) -> list[str]:
    return [token for token in text.split(",") if token] if text else []


@signed_in
async def event_history(request: Request, session: Session) -> Response:
    view = parse_filter(request.query_params, time.time())
    token = request.query_params.get("token") or ""
    trail = _trail(request.query_params.get("trail") or "")
    params = {**view.lookup_params(), "MaxResults": view.size}
    if token:
        params["NextToken"] = token
    rows: list[dict[str, Any]] = []
    next_token = None
    error = view.error
    if error is None:
        try:
            page = await api(request, session, "cloudtrail", "LookupEvents", params)
            rows = [_row(event) for event in page.get("Events") or []]
            next_token = page.get("NextToken")
        except ApiError as failure:
            error = error_text(failure)
    base = view.query()
    older = newer = None
    if next_token:
        older = [*base, ("token", next_token), ("trail", ",".join([*trail, token or "-"]))]
    if token:
        previous = trail[-1] if trail else "-"
        newer = [*base, ("trail", ",".join(trail[:-1]))]
        if previous != "-":
            newer.append(("token", previous))
    return render(
        request,
        "history.html",
        session,
        title="Event history",
        view=view,
        rows=rows,
        error=error,
        older=older,
        newer=newer,
        page_number=len(trail) + 1,
        base=base,
        attributes=ATTRIBUTES,
        ranges=RANGES,
        page_sizes=PAGE_SIZES,
        optional_columns=OPTIONAL_COLUMNS,
        column_names=dict(OPTIONAL_COLUMNS),
    )


async def _all_events(request: Request, session: Session, view: HistoryFilter, limit: int) -> tuple[list, bool]:
    params = {**view.lookup_params(), "MaxResults": 50}
    return await api_pages(request, session, "cloudtrail", "LookupEvents", params, "Events", limit)


def _record_time(event: dict[str, Any]) -> str:
    try:
        return str(json.loads(event.get("CloudTrailEvent") or "{}").get("eventTime", ""))
    except ValueError:
        return ""


def events_csv(events: list[dict[str, Any]]) -> str:
    """The CSV download of ``events`` (LookupEvents events), one row each, header first."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for event in events:
        writer.writerow(csv_row(event, _record_time(event)))
    return out.getvalue()


@signed_in
async def download(request: Request, session: Session) -> Response:
    kind = request.query_params.get("format", "json")
    if kind not in ("csv", "json"):
        return render(request, "error.html", session, status=400, title="Download", message="Choose CSV or JSON.")
    view = parse_filter(request.query_params, time.time())
    if view.error:
        return render(request, "error.html", session, status=400, title="Download", message=view.error)
    events, _more = await _all_events(request, session, view, DOWNLOAD_LIMIT)
    if kind == "csv":
        body = events_csv(events).encode("utf-8")
        media = "text/csv; charset=utf-8"
    else:
        records = [orjson.Fragment(event.get("CloudTrailEvent") or "{}") for event in events]
        body = orjson.dumps({"Records": records})
        media = "application/json"
    headers = {"Content-Disposition": f'attachment; filename="event_history.{kind}"'}
    return Response(body, media_type=media, headers=headers)


def chart_buckets(times: list[float], start: int, end: int, buckets: int = CHART_BUCKETS) -> list[dict[str, Any]]:
    """Counts of ``times`` in ``buckets`` equal slices of ``[start, end]`` (the last one closed)."""
    span = max(end - start, 1)
    width = span / buckets
    counts = [0] * buckets
    for at in times:
        if start <= at <= end:
            counts[min(int((at - start) / width), buckets - 1)] += 1
    return [
        {"start": start + i * width, "end": start + (i + 1) * width, "count": count} for i, count in enumerate(counts)
    ]


@signed_in
async def counts(request: Request, session: Session) -> Response:
    view = parse_filter(request.query_params, time.time())
    if view.error:
        return JSONResponse({"error": view.error}, status_code=400)
    try:
        events, more = await _all_events(request, session, view, CHART_LIMIT)
    except ApiError as failure:
        return JSONResponse({"error": error_text(failure)}, status_code=400)
    times = [_epoch(event.get("EventTime")) for event in events]
    slices = chart_buckets([t for t in times if t is not None], view.start, view.end)
    for entry in slices:
        entry["label"] = f"{utc_text(entry['start'])} to {utc_text(entry['end'])}"
    return JSONResponse(
        {
            "start": utc_text(view.start),
            "end": utc_text(view.end),
            "total": len(events),
            "capped": more,
            "limit": CHART_LIMIT,
            "buckets": slices,
        }
    )


def _epoch(value: Any) -> float | None:
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, int | float):
        return float(value)
    return None


ROUTES = [
    Route("/console/events", event_history, methods=["GET", "HEAD"]),
    Route("/console/events/download", download, methods=["GET", "HEAD"]),
    Route("/console/events/counts", counts, methods=["GET", "HEAD"]),
]
