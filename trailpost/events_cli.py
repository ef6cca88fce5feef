"""``trailpost events``: Event history from the command line, through the LookupEvents API only.

The commands are API clients: they sign LookupEvents calls with the user's credentials (the
usual AWS chain: ``--profile``, ``AWS_*`` environment variables, shared credentials and config
files) and never open the database, so they work against any trailpost they can reach.

* ``lookup``: events matching one attribute and a time range, as a table, JSON or CSV;
* ``tail``: follows new events live by polling LookupEvents (oldest first, like ``tail -f``),
  hiding its own polling calls; Ctrl-C (or SIGTERM) ends it cleanly with exit code 0;
* ``download``: every matching event to a CSV or JSON file (written aside and renamed into place),
  with a progress display on stderr.

Rules: the endpoint is ``--endpoint-url``, else ``TRAILPOST_ENDPOINT_URL``,
``AWS_ENDPOINT_URL_CLOUDTRAIL``, ``AWS_ENDPOINT_URL``, else ``http://127.0.0.1:4566`` (never
AWS itself); the region is ``--region``, else the profile's or environment's, else us-east-1.
Times are ISO 8601 (``2026-01-31``, ``2026-01-31T12:00:00Z``, an offset; no zone = UTC), epoch
seconds, ``now``, or relative to now (``-30m``, ``-1h``, ``-7d``, ``-2w``; the ``-`` may be left
out). At most one attribute option may be given, as LookupEvents takes one. Exit codes: 0 done,
1 the API or the connection failed, 2 usage errors.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import re
import signal
import sys
import time
from collections import deque
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

import click

from trailpost.event_csv import CSV_COLUMNS, csv_row, joined_resources

DEFAULT_ENDPOINT = "http://127.0.0.1:4566"
ENDPOINT_VARIABLES = ("TRAILPOST_ENDPOINT_URL", "AWS_ENDPOINT_URL_CLOUDTRAIL", "AWS_ENDPOINT_URL")
ATTRIBUTES = (
    ("event_id", "EventId", "--event-id"),
    ("event_name", "EventName", "--event-name"),
    ("read_only", "ReadOnly", "--read-only"),
    ("username", "Username", "--username"),
    ("resource_type", "ResourceType", "--resource-type"),
    ("resource_name", "ResourceName", "--resource-name"),
    ("event_source", "EventSource", "--event-source"),
    ("access_key_id", "AccessKeyId", "--access-key-id"),
)
_RELATIVE = re.compile(r"^-?\s*(\d+(?:\.\d+)?)\s*(s|sec|secs|m|min|mins|h|hr|hrs|d|day|days|w|wk|weeks?)$", re.I)
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
PAGE = 50
TABLE_COLUMNS = (("Event time", 20), ("Event name", 32), ("User name", 24), ("Event source", 28), ("Resource type", 24))


# -- formatting -----------------------------------------------------------------------------------


def _utc(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def table_lines(events: list[dict[str, Any]]) -> list[str]:
    """A header line, then one line per event: the console's default columns."""
    lines = [" ".join(f"{title:<{width}}" for title, width in TABLE_COLUMNS) + " Resource name"]
    for event in events:
        cells = (
            _utc(event["EventTime"]),
            event.get("EventName", ""),
            event.get("Username") or "-",
            event.get("EventSource", ""),
            joined_resources(event, "ResourceType") or "-",
        )
        line = " ".join(f"{cell:<{width}}" for cell, (_, width) in zip(cells, TABLE_COLUMNS, strict=True))
        lines.append(f"{line} {joined_resources(event, 'ResourceName') or '-'}")
    return lines


def json_events(events: list[dict[str, Any]]) -> str:
    """``{"Events": [...]}`` as the AWS CLI prints LookupEvents, with ISO 8601 UTC event times."""
    shown = [{**event, "EventTime": _utc(event["EventTime"])} for event in events]
    return json.dumps({"Events": shown}, indent=2, ensure_ascii=False)


def parse_time(text: str, now: datetime | None = None) -> datetime:
    """An absolute, epoch or relative time (see the module docstring) as an aware UTC datetime."""
    now = now or datetime.now(UTC)
    value = text.strip()
    if value.lower() == "now":
        return now
    relative = _RELATIVE.match(value)
    if relative:
        return now - timedelta(seconds=float(relative[1]) * _UNITS[relative[2][0].lower()])
    if re.fullmatch(r"\d+(\.\d+)?", value):
        return datetime.fromtimestamp(float(value), UTC)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{text!r} is not a time: use ISO 8601 (2026-01-31T12:00:00Z), epoch seconds, now, or -30m/-1h/-7d"
        ) from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _time_option(_ctx: click.Context, _param: click.Parameter, value: str | None) -> datetime | None:
    return parse_time(value) if value is not None else None


def connection_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--endpoint-url``, ``--region``, ``--profile``."""
    for option in reversed(
        (
            click.option("--endpoint-url", default=None, help="trailpost's URL [default: see `trailpost events`]."),
            click.option("--region", default=None, help="Region whose Event history to read [default: profile's]."),
            click.option("--profile", default=None, help="Named profile of the AWS config and credentials files."),
        )
    ):
        command = option(command)
    return command


def filter_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """One lookup attribute and a time range."""
    options = [
        click.option(flag, name, default=None, help=f"Only events whose {key} is this value (exact match).")
        for name, key, flag in ATTRIBUTES
        if key != "ReadOnly"
    ]
    options.insert(
        2,
        click.option(
            "--read-only",
            "read_only",
            type=click.Choice(["true", "false"]),
            default=None,
            help="Only read-only (true) or only write (false) events.",
        ),
    )
    options += [
        click.option(
            "--start-time",
            "--since",
            "start_time",
            callback=_time_option,
            default=None,
            help="Oldest event time (inclusive): ISO 8601, epoch seconds, or -1h/-30m/-7d.",
        ),
        click.option(
            "--end-time",
            "--until",
            "end_time",
            callback=_time_option,
            default=None,
            help="Newest event time (inclusive), same forms [default: now].",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def build_client(endpoint_url: str | None, region: str | None, profile: str | None) -> Any:
    """A CloudTrail client for trailpost with the user's credentials; a ``UsageError`` without any."""
    import boto3
    import botocore.config
    import botocore.exceptions

    try:
        session = boto3.session.Session(profile_name=profile)
    except botocore.exceptions.ProfileNotFound as exc:
        raise click.UsageError(str(exc)) from None
    if session.get_credentials() is None:
        raise click.UsageError(
            "no AWS credentials found: use --profile, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or "
            "AWS_SHARED_CREDENTIALS_FILE=<trailpost data dir>/credentials"
        )
    endpoint = endpoint_url or next((os.environ[v] for v in ENDPOINT_VARIABLES if os.environ.get(v)), DEFAULT_ENDPOINT)
    config = botocore.config.Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=60)
    return session.client(
        "cloudtrail", region_name=region or session.region_name or "us-east-1", endpoint_url=endpoint, config=config
    )


def lookup_request(filters: dict[str, Any]) -> dict[str, Any]:
    """LookupEvents parameters for the attribute and time options; a ``UsageError`` for two attributes."""
    given = [(key, flag, filters[name]) for name, key, flag in ATTRIBUTES if filters.get(name) is not None]
    if len(given) > 1:
        raise click.UsageError(
            f"give at most one attribute option (LookupEvents takes one): {given[0][1]}, {given[1][1]}"
        )
    request: dict[str, Any] = {}
    if given:
        request["LookupAttributes"] = [{"AttributeKey": given[0][0], "AttributeValue": given[0][2]}]
    if filters.get("start_time") is not None:
        request["StartTime"] = filters["start_time"]
    if filters.get("end_time") is not None:
        request["EndTime"] = filters["end_time"]
    return request


def pages(client: Any, request: dict[str, Any], limit: int | None = None) -> Iterator[list[dict[str, Any]]]:
    """Pages of events (newest first) until the end or ``limit`` events; API errors become ``ClickException``."""
    import botocore.exceptions

    token, left = None, limit
    while left is None or left > 0:
        size = PAGE if left is None else min(PAGE, left)
        try:
            answer = client.lookup_events(**request, MaxResults=size, **({"NextToken": token} if token else {}))
        except botocore.exceptions.ClientError as exc:
            raise click.ClickException(str(exc)) from None
        except botocore.exceptions.EndpointConnectionError as exc:
            raise click.ClickException(f"cannot reach trailpost: {exc}") from None
        events = answer.get("Events", [])
        yield events
        if left is not None:
            left -= len(events)
        token = answer.get("NextToken")
        if not token:
            return


@click.group("events")
def events() -> None:
    """Event history (CloudTrail LookupEvents) of a running trailpost.

    Credentials are the usual AWS ones (--profile, environment, shared files); the endpoint is
    --endpoint-url, else TRAILPOST_ENDPOINT_URL, AWS_ENDPOINT_URL_CLOUDTRAIL, AWS_ENDPOINT_URL,
    else http://127.0.0.1:4566.
    """


@events.command("lookup")
@connection_options
@filter_options
@click.option("--output", "output", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True)
@click.option("--max", "max_events", type=click.IntRange(min=1), default=50, show_default=True, help="Events at most.")
def lookup(
    endpoint_url: str | None, region: str | None, profile: str | None, output: str, max_events: int, **filters: Any
) -> None:
    """Events matching one attribute and a time range, newest first."""
    request = lookup_request(filters)
    client = build_client(endpoint_url, region, profile)
    found = [event for page in pages(client, request, max_events) for event in page]
    if output == "json":
        click.echo(json_events(found))
    elif output == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        writer.writerows(csv_row(event, _utc(event["EventTime"])) for event in found)
        click.echo(buffer.getvalue(), nl=False)
    else:
        for line in table_lines(found):
            click.echo(line)


@events.command("tail")
@connection_options
@filter_options
@click.option(
    "--interval", type=click.FloatRange(min=0.1), default=2.0, show_default=True, help="Seconds between polls."
)
@click.option(
    "--lines",
    "-n",
    type=click.IntRange(min=0),
    default=10,
    show_default=True,
    help="Recent events shown before following.",
)
@click.option(
    "--output",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="table: one line per event; json: one record per line.",
)
@click.option("--include-own", is_flag=True, help="Also show the LookupEvents calls tail itself makes.")
def tail(
    endpoint_url: str | None,
    region: str | None,
    profile: str | None,
    interval: float,
    lines: int,
    output: str,
    include_own: bool,
    **filters: Any,
) -> None:
    """Follow new events live (oldest first), until Ctrl-C."""
    request = lookup_request(filters)
    client = build_client(endpoint_url, region, profile)
    follower = Follower(client, request, include_own, sys.stdout, output)
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        follower.start(lines)
        while True:
            time.sleep(interval)
            follower.poll()
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)


def _interrupt(_signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt


class Follower:
    """What ``tail`` remembers between polls: the newest event time shown, the events shown at it, its own calls.

    Each poll asks for events at or after that time (at most 1,000 per poll) and shows those not
    shown yet, oldest first. Its own LookupEvents calls are recognised by their request ids.
    """

    def __init__(self, client: Any, request: dict[str, Any], include_own: bool, out: TextIO, output: str) -> None:
        self.client, self.request, self.include_own, self.out, self.output = client, request, include_own, out, output
        self.watermark: datetime | None = None
        self.shown: dict[str, datetime] = {}
        self.own: deque[str] = deque(maxlen=1000)
        client.meta.events.register("after-call.cloudtrail.LookupEvents", self._remember)

    def _remember(self, http_response: Any, **_: Any) -> None:
        request_id = http_response.headers.get("x-amzn-RequestId")
        if request_id:
            self.own.append(request_id)

    def start(self, lines: int) -> None:
        """Show the ``lines`` most recent matching events."""
        if self.output == "table":
            self.out.write(table_lines([])[0] + "\n")
        recent = next(pages(self.client, self.request, max(lines, 1)))
        self._show(recent[:lines])
        self._remember_shown(recent)
        if self.watermark is not None:  # older events of that same second are not new either
            same_second = {**self.request, "StartTime": self.watermark}
            self._remember_shown([e for page in pages(self.client, same_second, 1000) for e in page])

    def poll(self) -> None:
        """Show the events that arrived since the last poll."""
        request = dict(self.request)
        if self.watermark is not None:
            request["StartTime"] = max(self.watermark, request.get("StartTime", self.watermark))
        fresh = [e for page in pages(self.client, request, 1000) for e in page if e["EventId"] not in self.shown]
        self._show(fresh)
        self._remember_shown(fresh)

    def _remember_shown(self, events: list[dict[str, Any]]) -> None:
        if not events:
            return
        self.shown.update((e["EventId"], e["EventTime"]) for e in events)
        self.watermark = max(self.shown.values())
        self.shown = {i: at for i, at in self.shown.items() if at >= self.watermark}

    def _show(self, newest_first: list[dict[str, Any]]) -> None:
        own = set(self.own)
        for event in reversed(newest_first):
            if not self.include_own and event["EventName"] == "LookupEvents" and _request_id(event) in own:
                continue
            if self.output == "json":
                self.out.write(event["CloudTrailEvent"] + "\n")
            else:
                self.out.write(table_lines([event])[1] + "\n")
        self.out.flush()


def _request_id(event: dict[str, Any]) -> str | None:
    try:
        return json.loads(event["CloudTrailEvent"]).get("requestID")
    except (ValueError, KeyError):
        return None


@events.command("download")
@connection_options
@filter_options
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True)
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="File to write.")
def download(
    endpoint_url: str | None, region: str | None, profile: str | None, fmt: str, out: Path, **filters: Any
) -> None:
    """Every matching event to a CSV or JSON ({"Records": [...]}) file, with progress on stderr."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    request = lookup_request(filters)
    client = build_client(endpoint_url, region, profile)
    temp = out.with_name(f".{out.name}.part")
    count = 0
    progress = Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(bar_width=None),
        TextColumn("{task.completed:,} events"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=False,
    )
    try:
        with progress, open(temp, "w", encoding="utf-8", newline="") as handle:
            task = progress.add_task(f"downloading to {out.name}", total=None)
            writer = csv.writer(handle) if fmt == "csv" else None
            if writer is not None:
                writer.writerow(CSV_COLUMNS)
            else:
                handle.write('{"Records":[')
            for page in pages(client, request):
                for event in page:
                    if writer is not None:
                        writer.writerow(csv_row(event, _utc(event["EventTime"])))
                    else:
                        handle.write(("," if count else "") + "\n" + event["CloudTrailEvent"])
                    count += 1
                progress.update(task, completed=count)
            if writer is None:
                handle.write("\n]}\n")
            progress.update(task, total=count, completed=count)
        os.replace(temp, out)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
    click.echo(f"wrote {count} events to {out}", err=True)
