"""LookupEvents answers written straight to JSON: the one CloudTrail output large enough to need it.

A LookupEvents page is 50 events of about ten members each; the generic json serializer walks the
output shape member by member (~500 steps) and formats each ``EventTime`` through ``Decimal``.
``CloudTrailResponseSerializer`` writes that one output directly: the gateway's ``to_wire`` has
already put the members in the model's order and left out absent ones, and every member but
``EventTime`` (epoch seconds, written in Java's ``Double.toString`` form, ``1.7949E9``) is JSON
as it is. Every other operation, and all errors, go to the generic serializer. The bytes are the
same as the generic serializer's; a test compares both on real answers.
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


def _event(event: dict[str, Any]) -> dict[str, Any]:
    """An ``Event`` as ``to_wire`` left it (model order, no ``None`` members) with its time as a JSON fragment."""
    return {**event, "EventTime": orjson.Fragment(whole_seconds_double(event["EventTime"]).encode())}


def lookup_events_body(result: dict[str, Any]) -> bytes:
    """The LookupEvents output (wire member names, ``EventTime`` epoch seconds) as JSON bytes."""
    body: dict[str, Any] = {}
    if result.get("Events") is not None:
        body["Events"] = [_event(event) for event in result["Events"]]
    if result.get("NextToken") is not None:
        body["NextToken"] = result["NextToken"]
    return orjson.dumps(body)


class CloudTrailResponseSerializer(ResponseSerializer):
    """The json serializer, with LookupEvents written directly."""

    def __init__(self, inner: ResponseSerializer) -> None:
        self.inner = inner
        self.content_type = inner.content_type

    def serialize(self, operation: OperationModel, result: dict[str, Any], request_id: str = "") -> HttpResponse:
        if operation.name == "LookupEvents" and all(
            isinstance(e.get("EventTime"), (int, float)) for e in result.get("Events") or ()
        ):
            return HttpResponse(200, {"Content-Type": self.content_type}, lookup_events_body(result))
        return self.inner.serialize(operation, result, request_id)

    def serialize_error(self, model: ServiceModel | None, error: ServiceError, request_id: str = "") -> HttpResponse:
        return self.inner.serialize_error(model, error, request_id)
