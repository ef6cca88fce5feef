"""Which events a missing or altered log file held: trailpost's addition to AWS's INVALID lines.

A digest names each log file with the SHA-256 of its content and the times of its oldest and
newest events, nothing more: the events themselves are gone with the file. Two places can still
say what it held (docs/decisions.md "validate-logs forensics"):

1. an intact copy (``--reference-dir``: a replica, or an earlier ``--save-to`` copy): the same key
   there whose SHA-256 matches the digest IS the original file; its records are listed, and for an
   altered file the records that were changed, added or removed (matched by ``eventID``);
2. Event history (``LookupEvents``, management events of the last 90 days of that region): for an
   altered file that still parses, each of its records is looked up by ``EventId`` and compared
   with the stored record (changed / not in Event history); for a missing or unreadable file, the
   events in Event history between the file's oldest and newest event times are listed as the
   candidates it held (other log files of that time may hold some of them; data events and events
   older than the retention are not in Event history).

At most ``LIMIT`` events are listed per file, and at most ``LOOKUPS`` LookupEvents calls are made
per file (AWS throttles LookupEvents at 2 per second).
"""

from __future__ import annotations

import gzip
import hashlib
from datetime import UTC, datetime
from typing import Any

import orjson

from trailpost.integrity.sources import ObjectSource
from trailpost.integrity.validate import BadLog

LIMIT = 20
LOOKUPS = 25


def _records(data: bytes | None) -> list[dict[str, Any]] | None:
    if data is None:
        return None
    try:
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        records = orjson.loads(data).get("Records")
    except (ValueError, OSError, AttributeError, EOFError):
        return None
    return [r for r in records if isinstance(r, dict)] if isinstance(records, list) else None


def _line(record: dict[str, Any]) -> str:
    return f"{record.get('eventID')} {record.get('eventTime')} {record.get('eventSource')} {record.get('eventName')}"


def _parse(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


class Forensics:
    """Explains a bad log file from an intact copy and/or Event history (either may be absent)."""

    def __init__(self, reference: ObjectSource | None = None, cloudtrail: Any | None = None) -> None:
        self.reference = reference
        self.cloudtrail = cloudtrail

    def explain(self, bad: BadLog) -> list[str]:
        try:
            return self._from_copy(bad) or self._from_history(bad) or []
        except Exception as exc:  # noqa: BLE001 - an explanation must never stop the validation
            return [f"(could not tell which events it held: {exc})"]

    def _from_copy(self, bad: BadLog) -> list[str] | None:
        if self.reference is None:
            return None
        copy = self.reference.get(bad.entry["s3Bucket"], bad.entry["s3Object"])
        if copy is None:
            return None
        try:
            original = gzip.decompress(copy.body)
        except (OSError, EOFError):
            return None
        if hashlib.sha256(original).hexdigest() != bad.entry.get("hashValue"):
            return None
        held = _records(original) or []
        lines = [f"intact copy found (SHA-256 matches the digest): it held {len(held)} events"]
        now = {r.get("eventID"): r for r in (_records(bad.body) or [])}
        if bad.body is None or not now:
            lines += [_line(r) for r in held[:LIMIT]]
        else:
            before = {r.get("eventID"): r for r in held}
            lines += [f"changed: {_line(r)}" for i, r in before.items() if i in now and now[i] != r][:LIMIT]
            lines += [f"removed: {_line(r)}" for i, r in before.items() if i not in now][:LIMIT]
            lines += [f"added: {_line(r)}" for i, r in now.items() if i not in before][:LIMIT]
        return lines

    def _from_history(self, bad: BadLog) -> list[str] | None:
        if self.cloudtrail is None:
            return None
        records = _records(bad.body)
        if records:
            lines = []
            for record in records[:LOOKUPS]:
                answer = self.cloudtrail.lookup_events(
                    LookupAttributes=[{"AttributeKey": "EventId", "AttributeValue": str(record.get("eventID"))}]
                )
                events = answer.get("Events", [])
                if not events:
                    lines.append(f"not in Event history: {_line(record)}")
                elif orjson.loads(events[0]["CloudTrailEvent"]) != record:
                    lines.append(f"differs from Event history: {_line(record)}")
            checked = min(len(records), LOOKUPS)
            lines = [f"Event history check of {checked} of its {len(records)} records:"] + (
                lines[:LIMIT] or ["every checked record equals Event history"]
            )
            present = {r.get("eventID") for r in records}
            gone = [e for e in self._window(bad) if e.get("eventID") not in present]
            if gone:
                lines.append("in Event history between the file's event times but not in it (removed?):")
                lines += [_line(r) for r in gone[:LIMIT]]
            return lines
        events = self._window(bad)
        if not events:
            return None
        oldest, newest = bad.entry.get("oldestEventTime"), bad.entry.get("newestEventTime")
        lines = [
            f"Event history has {len(events)}{'+' if len(events) > LIMIT else ''} events "
            f"between {oldest} and {newest}, the file's event times (candidates it held):"
        ]
        return lines + [_line(r) for r in events[:LIMIT]]

    def _window(self, bad: BadLog) -> list[dict[str, Any]]:
        """Event history's records between the file's oldest and newest event times (LIMIT+ at most)."""
        assert self.cloudtrail is not None
        oldest, newest = bad.entry.get("oldestEventTime"), bad.entry.get("newestEventTime")
        if not oldest or not newest:
            return []
        events: list[dict[str, Any]] = []
        params: dict[str, Any] = {"StartTime": _parse(oldest), "EndTime": _parse(newest), "MaxResults": 50}
        for _ in range(LOOKUPS):
            answer = self.cloudtrail.lookup_events(**params)
            events += [orjson.loads(e["CloudTrailEvent"]) for e in answer.get("Events", [])]
            if not answer.get("NextToken") or len(events) > LIMIT:
                break
            params["NextToken"] = answer["NextToken"]
        return events
