"""The ``query`` protocol (IAM, STS): form-encoded requests, XML responses, XML error documents.

Requests are ``Action=<Op>&Version=<apiVersion>&...`` in a form-encoded POST body (or the query
string of a GET). Structures nest with dots (``Address.City``), lists are
``Name.member.N`` (``Name.N`` when ``flattened``), maps ``Name.entry.N.key``/``.value``; indexes
start at 1. Responses are ``<OpResponse xmlns=…><OpResult>…</OpResult><ResponseMetadata>
<RequestId>…</RequestId></ResponseMetadata></OpResponse>``; errors are ``<ErrorResponse>`` with
``Type``, ``Code`` and ``Message``, and their HTTP status comes from the error shape whose
``awsQueryError`` code matches (IAM ``NoSuchEntity`` -> 404). An error raised under its shape's
name (``NoSuchEntityException``, what CloudTrail records as ``errorCode``) goes out with the
shape's query code (``NoSuchEntity``, what clients see).
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any
from xml.sax.saxutils import escape

from botocore.model import OperationModel, ServiceModel, Shape

from trailpost.http import HttpRequest, HttpResponse, percent_decode
from trailpost.protocol.errors import SerializationException, ServiceError
from trailpost.protocol.parsers import PARSERS, RequestParser, _from_text
from trailpost.protocol.serializers import SERIALIZERS, ResponseSerializer
from trailpost.protocol.timestamps import iso8601


def form_pairs(request: HttpRequest) -> dict[str, str]:
    """The request's parameters: the form body of a POST, else the query string (last wins)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    text = request.query_string
    if request.method == "POST" and (request.body or content_type == "application/x-www-form-urlencoded"):
        try:
            text = request.body.decode()
        except UnicodeDecodeError:
            raise SerializationException("The request body is not valid UTF-8") from None
    pairs: dict[str, str] = {}
    for part in text.split("&") if text else ():
        if part:
            key, _, value = part.partition("=")
            pairs[percent_decode(key, plus_is_space=True)] = percent_decode(value, plus_is_space=True)
    return pairs


def query_action(request: HttpRequest) -> str | None:
    return form_pairs(request).get("Action")


class QueryRequestParser(RequestParser):
    """Form parameters -> params with the model's member names."""

    def parse(self, operation: OperationModel, request: HttpRequest, labels: dict[str, str]) -> dict[str, Any]:
        shape = operation.input_shape
        if shape is None:
            return {}
        pairs = form_pairs(request)
        return self._structure(shape, pairs, "") or {}

    def _value(self, shape: Shape, pairs: dict[str, str], prefix: str) -> Any:
        kind = shape.type_name
        if kind == "structure":
            return self._structure(shape, pairs, prefix)
        if kind == "list":
            return self._list(shape, pairs, prefix)
        if kind == "map":
            return self._map(shape, pairs, prefix)
        if prefix not in pairs:
            return None
        text = pairs[prefix]
        if kind == "blob":
            try:
                return base64.b64decode(text, validate=True)
            except ValueError:
                raise SerializationException(f"Invalid base64 for '{prefix}'") from None
        return _from_text(shape, text, prefix)

    def _structure(self, shape: Shape, pairs: dict[str, str], prefix: str) -> dict[str, Any] | None:
        out: dict[str, Any] = {}
        for name, member in shape.members.items():
            wire = member.serialization.get("name", name)
            key = f"{prefix}.{wire}" if prefix else wire
            value = self._value(member, pairs, key)
            if value is not None:
                out[name] = value
        if prefix and not out:
            return None
        return out

    def _list(self, shape: Shape, pairs: dict[str, str], prefix: str) -> list[Any] | None:
        if shape.serialization.get("flattened"):
            base = prefix
        else:
            base = f"{prefix}.{shape.member.serialization.get('name', 'member')}"
        if f"{prefix}" in pairs and pairs[prefix] == "":
            return []  # an explicitly empty list
        items = []
        index = 1
        while True:
            value = self._value(shape.member, pairs, f"{base}.{index}")
            if value is None:
                break
            items.append(value)
            index += 1
        return items or None

    def _map(self, shape: Shape, pairs: dict[str, str], prefix: str) -> dict[str, Any] | None:
        base = prefix if shape.serialization.get("flattened") else f"{prefix}.entry"
        key_name = shape.key.serialization.get("name", "key")
        value_name = shape.value.serialization.get("name", "value")
        out = {}
        index = 1
        while f"{base}.{index}.{key_name}" in pairs:
            out[pairs[f"{base}.{index}.{key_name}"]] = self._value(shape.value, pairs, f"{base}.{index}.{value_name}")
            index += 1
        return out or None


def _xml(shape: Shape | None, value: Any, name: str) -> str:
    if value is None:
        return ""
    if shape is None:
        return f"<{name}>{escape(str(value))}</{name}>"
    kind = shape.type_name
    if kind == "structure":
        inner = "".join(
            _xml(member, value.get(member_name), member.serialization.get("name", member_name))
            for member_name, member in shape.members.items()
        )
        return f"<{name}>{inner}</{name}>"
    if kind == "list":
        member_name = shape.member.serialization.get("name", "member")
        items = "".join(_xml(shape.member, item, member_name) for item in value)
        if shape.serialization.get("flattened"):
            return "".join(_xml(shape.member, item, name) for item in value)
        return f"<{name}>{items}</{name}>"
    if kind == "map":
        key_name = shape.key.serialization.get("name", "key")
        value_name = shape.value.serialization.get("name", "value")
        entries = "".join(
            f"<entry><{key_name}>{escape(str(k))}</{key_name}>{_xml(shape.value, v, value_name)}</entry>"
            for k, v in value.items()
        )
        return f"<{name}>{entries}</{name}>"
    if kind == "timestamp":
        if isinstance(value, (int, float)):
            value = datetime.fromtimestamp(value, tz=UTC)
        return f"<{name}>{iso8601(value)}</{name}>"
    if kind == "boolean":
        return f"<{name}>{'true' if value else 'false'}</{name}>"
    if kind == "blob":
        return f"<{name}>{base64.b64encode(value).decode()}</{name}>"
    return f"<{name}>{escape(str(value))}</{name}>"


def _error_shape_meta(model: ServiceModel | None, error: ServiceError) -> dict[str, Any]:
    """The ``error`` metadata of the shape named ``error.code``, or whose query error code it is."""
    if model is not None:
        for shape in model.error_shapes:
            meta = shape.metadata.get("error", {})
            if shape.name == error.code or meta.get("code") == error.code:
                return dict(meta)
    return {}


def query_error_status(model: ServiceModel | None, error: ServiceError) -> int:
    """The status of the error shape whose query error code (or name) is ``error.code``."""
    status = _error_shape_meta(model, error).get("httpStatusCode")
    return int(status) if status else error.status


def query_error_code(model: ServiceModel | None, error: ServiceError) -> str:
    """The code sent on the wire: an error raised under its shape's name (``NoSuchEntityException``,
    the name CloudTrail records) is sent with the shape's query code (``NoSuchEntity``)."""
    return _error_shape_meta(model, error).get("code") or error.code


class QueryResponseSerializer(ResponseSerializer):
    """XML documents in the service's namespace."""

    content_type = "text/xml"

    def serialize(self, operation: OperationModel, result: dict[str, Any], request_id: str = "") -> HttpResponse:
        namespace = operation.service_model.metadata.get("xmlNamespace", "")
        shape = operation.output_shape
        body = ""
        if shape is not None:
            wrapper = shape.serialization.get("resultWrapper", f"{operation.name}Result")
            inner = "".join(
                _xml(member, result.get(name), member.serialization.get("name", name))
                for name, member in shape.members.items()
            )
            body = f"<{wrapper}>{inner}</{wrapper}>"
        document = (
            f'<{operation.name}Response xmlns="{namespace}">{body}'
            f"<ResponseMetadata><RequestId>{escape(request_id)}</RequestId></ResponseMetadata>"
            f"</{operation.name}Response>"
        )
        return HttpResponse(200, {"Content-Type": self.content_type}, document.encode())

    def serialize_error(self, model: ServiceModel | None, error: ServiceError, request_id: str = "") -> HttpResponse:
        namespace = model.metadata.get("xmlNamespace", "") if model is not None else ""
        fault = "Sender" if error.sender_fault else "Receiver"
        document = (
            f'<ErrorResponse xmlns="{namespace}"><Error><Type>{fault}</Type>'
            f"<Code>{escape(query_error_code(model, error))}</Code><Message>{escape(error.message)}</Message></Error>"
            f"<RequestId>{escape(request_id)}</RequestId></ErrorResponse>"
        )
        headers = {"Content-Type": self.content_type, **error.headers}
        return HttpResponse(query_error_status(model, error), headers, document.encode())


PARSERS["query"] = QueryRequestParser
SERIALIZERS["query"] = QueryResponseSerializer
