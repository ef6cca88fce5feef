"""Response serializers, one class per protocol: result or error -> HTTP response botocore parses.

Results arrive with the model's member names (see ``naming.to_wire``). Timestamps (datetimes or
epoch seconds) are written as AWS's Java services write them (``1.486505154426E9``), blobs as
base64. Errors carry the code where botocore looks for it: the ``x-amzn-ErrorType`` header for
rest-json, ``__type`` in the body for json (botocore ignores the header there); both are sent,
which is harmless. The HTTP status of a modeled error comes from the model's
``error.httpStatusCode``.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

import orjson
from botocore.model import OperationModel, ServiceModel, Shape

from trailpost.http import HttpResponse
from trailpost.protocol.errors import ServiceError
from trailpost.protocol.timestamps import epoch_fragment, java_double


def _to_json(shape: Shape | None, value: Any) -> Any:
    if value is None:
        return None
    if shape is None:
        return value
    kind = shape.type_name
    if kind == "structure":
        out = {}
        for name, member in shape.members.items():
            item = value.get(name)
            if item is not None and member.serialization.get("location") is None:
                out[member.serialization.get("name", name)] = _to_json(member, item)
        return out
    if kind == "list":
        return [_to_json(shape.member, item) for item in value]
    if kind == "map":
        return {key: _to_json(shape.value, item) for key, item in value.items()}
    if kind == "timestamp":
        if isinstance(value, datetime):
            return epoch_fragment(value)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return orjson.Fragment(java_double(value).encode())
    if kind == "blob" and isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode()
    return value


def error_status(model: ServiceModel | None, error: ServiceError) -> int:
    """The HTTP status of ``error``: the model's, if it models the code, else the error's own."""
    if model is not None:
        try:
            shape = model.shape_for(error.code)
        except Exception:  # noqa: BLE001 - an unmodeled code
            shape = None
        if shape is not None and shape.metadata.get("exception"):
            status = shape.metadata.get("error", {}).get("httpStatusCode")
            if status:
                return int(status)
    return error.status


class ResponseSerializer:
    """Base: ``serialize(operation, result)`` and ``serialize_error(model, error)``."""

    content_type = "application/json"

    def serialize(self, operation: OperationModel, result: dict[str, Any], request_id: str = "") -> HttpResponse:
        raise NotImplementedError

    def serialize_error(self, model: ServiceModel | None, error: ServiceError, request_id: str = "") -> HttpResponse:
        body: dict[str, Any] = {"__type": error.code, "message": error.message}
        shape = None
        if model is not None and error.code in model.shape_names:
            shape = model.shape_for(error.code)
        for key, value in error.fields.items():
            member = shape.members.get(key) if shape is not None else None
            body[key] = _to_json(member, value)
        headers = {"Content-Type": self.content_type, "x-amzn-ErrorType": error.code, **error.headers}
        return HttpResponse(error_status(model, error), headers, orjson.dumps(body))


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
        for name, member in shape.members.items():
            location = member.serialization.get("location")
            value = result.get(name)
            if value is None or location is None:
                continue
            if location == "header":
                headers[member.serialization.get("name", name)] = str(value)
            elif location == "headers":
                prefix = member.serialization.get("name", name)
                headers.update({prefix + k: str(v) for k, v in value.items()})
            elif location == "statusCode":
                status = int(value)
        payload = shape.serialization.get("payload")
        if payload:
            value = result.get(payload)
            member = shape.members[payload]
            if member.type_name in ("blob", "string"):
                body = value if isinstance(value, bytes) else (value or "").encode()
                return HttpResponse(status, headers, body)
            return HttpResponse(status, headers, orjson.dumps(_to_json(member, value) or {}))
        return HttpResponse(status, headers, orjson.dumps(_to_json(shape, result) or {}))


SERIALIZERS: dict[str, type[ResponseSerializer]] = {
    "json": JsonResponseSerializer,
    "rest-json": RestJsonResponseSerializer,
}

# The query protocol (IAM, STS) lives in ``query`` and registers itself in ``SERIALIZERS`` when loaded.
import trailpost.protocol.query  # noqa: E402, F401 - imported last: it builds on this module
from trailpost.protocol import restxml as _restxml  # noqa: E402, F401 - rest-xml (S3), registered the same way
