"""Response serializers, one class per protocol: result or error -> HTTP response botocore parses.

Results arrive with the model's member names (see ``naming.to_wire``). Timestamps (datetimes or
epoch seconds) are written as AWS's Java services write them (``1.486505154426E9``), blobs as
base64. Errors carry the code where botocore looks for it: the ``x-amzn-ErrorType`` header for
rest-json, ``__type`` in the body for json (botocore ignores the header there); both are sent,
which is harmless. The HTTP status of a modeled error comes from the model's
``error.httpStatusCode``.

Every response body is written through its shape, so the walk is planned once per shape, as
``naming`` plans its conversions: a plan holds, per structure member in model order, its name in
the result, its name in the body and the plan of its value (``None`` for the scalars written as
they are; timestamps and blobs have plans of their own); members bound to a header or the status
code are left out of the plan. A structure's walk visits the members a value has
(``plans.Members``), not every member the model declares. Plans are cached per shape object (models
are loaded once and their shapes kept); the rest-json layout of an output shape (header members,
payload) and what a model says of an error code (status, member plans) are cached the same way.
botocore builds a new ``Shape`` each time it resolves a reference, so a recursive shape never meets
itself by identity: while a plan is compiled, shapes are told apart by name and traits
(``plans.shape_key``) and a shape met again inside itself reuses the plan being built.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import datetime
from functools import lru_cache
from typing import Any

import orjson
from botocore.model import OperationModel, ServiceModel, Shape

from trailpost.http import HttpResponse
from trailpost.protocol.errors import ServiceError
from trailpost.protocol.plans import LIST as _LIST
from trailpost.protocol.plans import MAP as _MAP
from trailpost.protocol.plans import STRUCT as _STRUCT
from trailpost.protocol.plans import Members, container_plan
from trailpost.protocol.timestamps import epoch_fragment, java_double

_TIMESTAMP, _BLOB, _EMPTY = 4, 5, 6  # after plans.STRUCT, LIST, MAP
_TIMESTAMP_PLAN: list[Any] = [_TIMESTAMP, None]
_BLOB_PLAN: list[Any] = [_BLOB, None]
_EMPTY_PLAN: list[Any] = [_EMPTY, None]  # a structure without members: ``{}`` whatever the value


@lru_cache(maxsize=4096)
def _json_plan(shape: Shape) -> list[Any] | None:
    """The plan of ``shape``'s JSON form (cached per shape object; see the module docstring)."""
    return _compile(shape, {})


def _compile(shape: Shape, building: dict[str, list[Any]]) -> list[Any] | None:
    kind = shape.type_name
    if kind == "timestamp":
        return _TIMESTAMP_PLAN
    if kind == "blob":
        return _BLOB_PLAN
    if kind == "structure" and not shape.members:
        return _EMPTY_PLAN
    return container_plan(shape, building, _compile, _members)


def _members(shape: Shape, plan_of: Callable[[Shape], Any]) -> Members:
    """Per body member (header- and status-bound ones are not in the body): its name in the body
    (``locationName``), its name in the result and its plan."""
    return Members(
        tuple(
            (member.serialization.get("name", name), (name,), plan_of(member))
            for name, member in shape.members.items()
            if member.serialization.get("location") is None
        )
    )


def _to_json(shape: Shape | None, value: Any) -> Any:
    """``value`` (model member names) as the JSON body writes it, following ``shape``'s plan."""
    if value is None or shape is None:
        return value
    plan = _json_plan(shape)
    return value if plan is None else _json(plan, value)


def _json(plan: list[Any], value: Any) -> Any:
    kind, parts = plan
    if kind == _STRUCT:
        out = {}
        for wire_name, child, name, _ in parts.steps(value):
            item = value[name]
            if item is not None:
                out[wire_name] = item if child is None else _json(child, item)
        return out
    if kind == _LIST:
        return list(value) if parts is None else [None if item is None else _json(parts, item) for item in value]
    if kind == _MAP:
        if parts is None:
            return dict(value.items())
        return {key: None if item is None else _json(parts, item) for key, item in value.items()}
    if kind == _TIMESTAMP:
        if isinstance(value, datetime):
            return epoch_fragment(value)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return orjson.Fragment(java_double(value).encode())
    elif kind == _EMPTY:
        return {}
    elif isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode()
    return value


@lru_cache(maxsize=1024)
def _modeled_error(model: ServiceModel, code: str) -> tuple[int | None, dict[str, list[Any] | None]]:
    """The model's HTTP status for the error ``code`` (if it models one) and the plans of its members."""
    try:
        shape = model.shape_for(code)
    except Exception:  # noqa: BLE001 - an unmodeled code
        return None, {}
    status = None
    if shape.metadata.get("exception"):
        modeled = shape.metadata.get("error", {}).get("httpStatusCode")
        if modeled:
            status = int(modeled)
    members = shape.members if shape.type_name == "structure" else {}
    return status, {name: _compile(member, {}) for name, member in members.items()}


def error_status(model: ServiceModel | None, error: ServiceError) -> int:
    """The HTTP status of ``error``: the model's, if it models the code, else the error's own."""
    if model is not None:
        status = _modeled_error(model, error.code)[0]
        if status is not None:
            return status
    return error.status


@lru_cache(maxsize=4096)
def _rest_layout(shape: Shape) -> tuple[tuple[tuple[str, str, str], ...], str | None, bool]:
    """A rest-json output shape's ``(name, location, wire name)`` of each bound member, its payload
    member and whether that payload is raw (a blob or string, written as it is)."""
    bound = tuple(
        (name, member.serialization["location"], member.serialization.get("name", name))
        for name, member in shape.members.items()
        if member.serialization.get("location") is not None
    )
    payload = shape.serialization.get("payload") or None
    raw = payload is not None and shape.members[payload].type_name in ("blob", "string")
    return bound, payload, raw


class ResponseSerializer:
    """Base: ``serialize(operation, result)`` and ``serialize_error(model, error)``."""

    content_type = "application/json"

    def serialize(self, operation: OperationModel, result: dict[str, Any], request_id: str = "") -> HttpResponse:
        raise NotImplementedError

    def serialize_error(self, model: ServiceModel | None, error: ServiceError, request_id: str = "") -> HttpResponse:
        body: dict[str, Any] = {"__type": error.code, "message": error.message}
        status, plans = _modeled_error(model, error.code) if model is not None else (None, {})
        for key, value in error.fields.items():
            plan = plans.get(key)
            body[key] = value if plan is None or value is None else _json(plan, value)
        headers = {"Content-Type": self.content_type, "x-amzn-ErrorType": error.code, **error.headers}
        return HttpResponse(error.status if status is None else status, headers, orjson.dumps(body))


class JsonResponseSerializer(ResponseSerializer):
    """awsJson1_1: the output structure is the JSON body; errors name their code in ``__type``."""

    content_type = "application/x-amz-json-1.1"

    def serialize(self, operation: OperationModel, result: dict[str, Any], request_id: str = "") -> HttpResponse:
        body = _to_json(operation.output_shape, result) if operation.output_shape is not None else {}
        return HttpResponse(200, {"Content-Type": self.content_type}, orjson.dumps(body or {}))


class RestJsonResponseSerializer(ResponseSerializer):
    """restJson1: header-bound members become headers, the rest the JSON body (or the payload)."""

    content_type = "application/json"

    def serialize(self, operation: OperationModel, result: dict[str, Any], request_id: str = "") -> HttpResponse:
        shape = operation.output_shape
        headers = {"Content-Type": self.content_type}
        status = 200
        if shape is None:
            return HttpResponse(status, headers, b"{}")
        bound, payload, raw = _rest_layout(shape)
        for name, location, wire_name in bound:
            value = result.get(name)
            if value is None:
                continue
            if location == "header":
                headers[wire_name] = str(value)
            elif location == "headers":
                headers.update({wire_name + k: str(v) for k, v in value.items()})
            elif location == "statusCode":
                status = int(value)
        if payload:
            value = result.get(payload)
            if raw:
                body = value if isinstance(value, bytes) else (value or "").encode()
                return HttpResponse(status, headers, body)
            return HttpResponse(status, headers, orjson.dumps(_to_json(shape.members[payload], value) or {}))
        return HttpResponse(status, headers, orjson.dumps(_to_json(shape, result) or {}))


SERIALIZERS: dict[str, type[ResponseSerializer]] = {
    "json": JsonResponseSerializer,
    "rest-json": RestJsonResponseSerializer,
}

# The query protocol (IAM, STS) lives in ``query`` and registers itself in ``SERIALIZERS`` when loaded.
import trailpost.protocol.query  # noqa: E402, F401 - imported last: it builds on this module
from trailpost.protocol import restxml as _restxml  # noqa: E402, F401 - rest-xml (S3), registered the same way
