"""LookupEvents' ``Event`` of a stored record, in the JSON the API answers, made once at insert.

A LookupEvents page is 50 events, each its record (``CloudTrailEvent``) plus eight members taken
from the record: ``EventId``, ``EventName``, ``ReadOnly``, ``AccessKeyId``, ``EventTime``,
``EventSource``, ``Username``, ``Resources``. The event store writes those eight as one JSON object
(``wire_event``) in the ``events.wire_event`` column when it inserts the record, so a page reads
two blobs per event instead of ten columns and writes each event as stored, followed by its
escaped record, a page's array at once (``page_events``): the bytes are those the generic serializer
would write.

Rules:

* members in the model's order; ``AccessKeyId`` left out when empty, ``Username`` when null;
  ``ReadOnly`` the strings ``"true"``/``"false"``; ``EventTime`` whole epoch seconds in Java's
  ``Double.toString`` form (``1.7949E9``, ``timestamps.whole_seconds_double``);
* ``Resources``: per entry of the record's ``resources``, its ``ResourceType`` (the entry's
  ``type``) and ``ResourceName`` (``resource_name`` of its ARN: the id after its type);
* ``Username``: ``username_of`` (root: ``root``; role sessions: the session name...);
* rows stored before the column existed read ``NULL`` there: ``legacy_wire_event`` makes their
  object from their other columns (and their ``wire_resources``, or their record), so old data
  dirs answer the same bytes.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Any

import orjson

from trailpost.protocol.timestamps import whole_seconds_double

_TRUE, _FALSE = "true", "false"
_CLOUDTRAIL_EVENT = b',"CloudTrailEvent":'


def wire_event(
    event_id: str,
    event_time: int,
    name: str,
    source: str,
    username: str | None,
    access_key_id: str | None,
    read_only: bool | int,
    resources: bytes,
) -> bytes:
    """LookupEvents' ``Event`` of a row as JSON, every member but ``CloudTrailEvent`` (``resources``:
    the ``Resources`` array, already JSON)."""
    event: dict[str, Any] = {"EventId": event_id, "EventName": name, "ReadOnly": _TRUE if read_only else _FALSE}
    if access_key_id:
        event["AccessKeyId"] = access_key_id
    event["EventTime"] = orjson.Fragment(whole_seconds_double(float(event_time)))
    event["EventSource"] = source
    if username is not None:
        event["Username"] = username
    event["Resources"] = orjson.Fragment(resources)
    return orjson.dumps(event)


def page_events(rows: Iterable[tuple[bytes, bytes]]) -> orjson.Fragment:
    """A page's whole ``Events`` array in JSON: each stored event (``(event, record)``) with
    ``CloudTrailEvent`` (the record, as a JSON string) added as its last member, the array joined at
    once (no object per event: a page is 50 of them)."""
    pieces: list[bytes] = [b"["]
    for event, record in rows:
        pieces += (event[:-1], _CLOUDTRAIL_EVENT, orjson.dumps(record.decode()), b"},")
    if len(pieces) == 1:
        return orjson.Fragment(b"[]")
    pieces[-1] = b"}]"
    return orjson.Fragment(b"".join(pieces))


def legacy_wire_event(columns: tuple[Any, ...]) -> bytes:
    """``wire_event`` of a row stored before ``wire_event`` existed, from its columns: ``wire_event``'s
    first seven, then its record and its ``wire_resources`` (``None`` for rows older still: then
    the record gives the resources)."""
    event_id, event_time, name, source, username, access_key_id, read_only, record, resources = columns
    if resources is None:
        resources = orjson.dumps(stored_resources(record))
    return wire_event(event_id, event_time, name, source, username, access_key_id, read_only, resources)


def username_of(record: dict[str, Any]) -> str | None:
    """The user name Event history shows for a record.

    Root: ``root``; IAM users: the user name; role sessions and federated users: the session
    (federated user) name, the last part of the ARN; services: the service that acted
    (``invokedBy``); others: ``userName`` when the record has one.
    """
    identity = record.get("userIdentity") or {}
    kind = identity.get("type")
    if kind == "Root":
        return "root"
    if kind in ("AssumedRole", "FederatedUser"):
        arn = identity.get("arn") or ""
        if "/" in arn:
            return arn.rsplit("/", 1)[-1] or None
        return identity.get("userName") or None
    if kind == "AWSService":
        return identity.get("invokedBy") or identity.get("userName")
    return identity.get("userName") or None


def resource_name(arn: str) -> str:
    """The name Event history shows for a resource ARN: the id after its type (``os-…``, ``Alice``, a bucket)."""
    parts = arn.split(":", 5)
    if len(parts) < 6 or not parts[5]:
        return arn
    resource = parts[5]
    if "/" in resource:
        return resource.rsplit("/", 1)[-1] or resource
    _kind, sep, rest = resource.partition(":")
    return rest if sep and rest else resource


def resources_of(record: dict[str, Any]) -> list[dict[str, Any]]:
    """LookupEvents' ``Resources`` of a record, in wire form: per entry of ``resources``, its ``ResourceType``
    (the entry's ``type``) and ``ResourceName`` (``resource_name`` of its ARN), each left out when absent."""
    found: list[dict[str, Any]] = []
    for entry in record.get("resources") or ():
        if not isinstance(entry, dict):
            continue
        resource: dict[str, Any] = {}
        kind = entry.get("type")
        if kind is not None:
            resource["ResourceType"] = kind
        arn = entry.get("ARN") or entry.get("arn")
        if isinstance(arn, str) and arn:
            resource["ResourceName"] = resource_name(arn)
        found.append(resource)
    return found


def stored_resources(record: bytes) -> list[dict[str, Any]]:
    """``resources_of`` for a stored record, parsing only its ``resources`` array when it can.

    Records are stored as the record builder orders them, ``resources`` right before
    ``eventType``; if that slice does not parse, the whole record is read instead. The list may be
    shared with other callers: never change it.
    """
    start = record.find(b'"resources":[')
    if start < 0:
        return []
    end = record.find(b'],"eventType"', start)
    if end > 0:
        found = _resources_of_slice(record[start + 12 : end + 1])
        if found is not None:
            return found
    return resources_of(orjson.loads(record))


@lru_cache(maxsize=1024)
def _resources_of_slice(text: bytes) -> list[dict[str, Any]] | None:
    """``resources_of`` a record's ``resources`` array as stored, or ``None`` if it does not parse.

    Cached: the events of a page often name the same resources (a site, an outpost), so most are
    parsed once. The list is shared between callers, which only read it (LookupEvents serializes it).
    """
    try:
        return resources_of({"resources": orjson.loads(text)})
    except orjson.JSONDecodeError:
        return None
