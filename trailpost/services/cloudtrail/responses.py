"""LookupEvents answers written straight to JSON: the one CloudTrail output large enough to need it.

A LookupEvents page is 50 events of about ten members each; the generic json serializer walks the
output shape member by member (~500 steps) and formats each ``EventTime`` through ``Decimal``.
``CloudTrailResponseSerializer`` writes that one output directly: the gateway's ``to_wire`` has
already put the members in the model's order and left out absent ones, and every member but
``EventTime`` (epoch seconds, written in Java's ``Double.toString`` form, ``1.7949E9``) is JSON
as it is. The LookupEvents handler gives each ``EventTime`` already written (``event_time``, an
``orjson.Fragment`` made once per distinct second), so the page is one ``orjson.dumps`` of the
handler's own dicts; numeric ``EventTime`` values are written here. Every other operation, and
all errors, go to the generic serializer. The bytes are the same as the generic serializer's; a
test compares both on real answers.
"""

from __future__ import annotations

from typing import Any

import orjson
from botocore.model import OperationModel, ServiceModel

from trailpost.http import HttpResponse
from trailpost.protocol.errors import ServiceError
from trailpost.protocol.serializers import ResponseSerializer
from trailpost.protocol.timestamps import java_double


def whole_seconds_double(seconds: float) -> str:
    """``java_double`` for whole epoch seconds >= 1e7, without ``Decimal`` (``1795488796`` -> ``1.795488796E9``)."""
    if seconds >= 1e7 and seconds < 1e16 and float(seconds).is_integer():
        text = str(int(seconds))
        return f"{text[0]}.{text[1:].rstrip('0') or '0'}E{len(text) - 1}"
    return java_double(seconds)


_TIMES: dict[int, orjson.Fragment] = {}
_TIMES_KEPT = 4096  # distinct seconds remembered; a page spans 50 at most


def event_time(seconds: int) -> orjson.Fragment:
    """An ``EventTime`` of whole epoch ``seconds`` as JSON, ready for ``orjson.dumps`` (cached per second)."""
    fragment = _TIMES.get(seconds)
    if fragment is None:
        if len(_TIMES) >= _TIMES_KEPT:
            _TIMES.clear()
        fragment = _TIMES[seconds] = orjson.Fragment(whole_seconds_double(float(seconds)).encode())
    return fragment


def _event(event: dict[str, Any]) -> dict[str, Any]:
    """An ``Event`` as ``to_wire`` left it (model order, no ``None`` members) with its time as a JSON fragment."""
    if type(event["EventTime"]) is orjson.Fragment:
        return event
    return {**event, "EventTime": orjson.Fragment(whole_seconds_double(event["EventTime"]).encode())}


def lookup_events_body(result: dict[str, Any]) -> bytes | None:
    """The LookupEvents output (wire member names) as JSON bytes; ``None`` if an ``EventTime`` is not epoch seconds.

    Events whose ``EventTime`` is already JSON (``event_time``) are written as they are.
    """
    body: dict[str, Any] = {}
    events = result.get("Events")
    if events is not None:
        if not all(type(event.get("EventTime")) is orjson.Fragment for event in events):
            if not all(isinstance(event.get("EventTime"), (int, float, orjson.Fragment)) for event in events):
                return None
            events = [_event(event) for event in events]
        body["Events"] = events
    if result.get("NextToken") is not None:
        body["NextToken"] = result["NextToken"]
    return orjson.dumps(body)


class CloudTrailResponseSerializer(ResponseSerializer):
    """The json serializer, with LookupEvents written directly."""

    def __init__(self, inner: ResponseSerializer) -> None:
        self.inner = inner
        self.content_type = inner.content_type

    def serialize(self, operation: OperationModel, result: dict[str, Any], request_id: str = "") -> HttpResponse:
        if operation.name == "LookupEvents":
            body = lookup_events_body(result)
            if body is not None:
                return HttpResponse(200, {"Content-Type": self.content_type}, body)
        return self.inner.serialize(operation, result, request_id)

    def serialize_error(self, model: ServiceModel | None, error: ServiceError, request_id: str = "") -> HttpResponse:
        return self.inner.serialize_error(model, error, request_id)
