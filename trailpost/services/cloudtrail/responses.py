"""LookupEvents answers written straight to JSON: the one CloudTrail output large enough to need it.

A LookupEvents page is 50 events of about ten members each; the generic json serializer walks the
output shape member by member (~500 steps) and formats each ``EventTime`` through ``Decimal``.
``CloudTrailResponseSerializer`` writes that one output directly. The LookupEvents handler gives
the page's events already written (``store.lookup_wire.page_events``: one ``orjson.Fragment`` of the
JSON the event store kept with each record), so the page is one ``orjson.dumps``; events given as dicts (model
order, absent members left out, as ``to_wire`` leaves them) are written with their numeric
``EventTime`` in Java's ``Double.toString`` form. Every other operation, and all errors, go to the
generic serializer. The bytes are the same as the generic serializer's; a test compares both on
real answers.
"""

from __future__ import annotations

from typing import Any

import orjson
from botocore.model import OperationModel, ServiceModel

from trailpost.http import HttpResponse
from trailpost.protocol.errors import ServiceError
from trailpost.protocol.serializers import ResponseSerializer
from trailpost.protocol.timestamps import whole_seconds_double


def _written(event: Any) -> Any:
    """An ``Event`` ready for ``orjson.dumps`` (its ``EventTime`` JSON already), or ``None`` if its time is
    not epoch seconds."""
    if type(event) is orjson.Fragment:
        return event
    at = event.get("EventTime")
    if type(at) is orjson.Fragment:
        return event
    if isinstance(at, bool) or not isinstance(at, (int, float)):
        return None
    return {**event, "EventTime": orjson.Fragment(whole_seconds_double(at))}


def lookup_events_body(result: dict[str, Any]) -> bytes | None:
    """The LookupEvents output (wire member names) as JSON bytes; ``None`` if an ``EventTime`` is not epoch seconds.

    ``Events`` already JSON (one ``orjson.Fragment`` for the whole array, as the handler gives it, or one
    per event) is written as it is.
    """
    body: dict[str, Any] = {}
    events = result.get("Events")
    if type(events) is orjson.Fragment:
        body["Events"] = events  # the whole array already JSON (the handler's page)
    elif events is not None:
        written = [_written(event) for event in events]
        if any(event is None for event in written):
            return None
        body["Events"] = written
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
