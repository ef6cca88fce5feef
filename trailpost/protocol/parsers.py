"""Request parsers, one class per protocol: wire request -> params dict with the model's member names.

``JsonRequestParser`` reads awsJson1_1 bodies (CloudTrail); ``RestJsonRequestParser`` gathers
members from URI labels, the query string, headers and the JSON body (Outposts). Type conversion
happens here (timestamps, blobs, query-string integers and booleans); constraints are checked by
``validation``. New protocols (``query``, ``rest-xml``) are new classes registered in ``PARSERS``.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import orjson
from botocore.model import OperationModel, Shape

from trailpost.http import HttpRequest
from trailpost.protocol.errors import SerializationException, UnsupportedMediaTypeException
from trailpost.protocol.timestamps import parse_timestamp


def _decode_json_body(body: bytes) -> Any:
    if not body.strip():
        return {}
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise SerializationException(f"Could not parse request body into json: {exc}") from None
    if not isinstance(value, dict):
        raise SerializationException("Could not parse request body into json: expected an object")
    return value


def _from_json(shape: Shape, value: Any, path: str) -> Any:
    """Convert JSON-native values to the model's Python types (timestamps, blobs)."""
    if value is None:
        return None
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            return value  # the validator reports the type
        out = {}
        for name, member in shape.members.items():
            wire = member.serialization.get("name", name)
            if wire in value:
                out[name] = _from_json(member, value[wire], f"{path}.{name}" if path else name)
        return out
    if kind == "list" and isinstance(value, list):
        return [_from_json(shape.member, item, path) for item in value]
    if kind == "map" and isinstance(value, dict):
        return {k: _from_json(shape.value, v, path) for k, v in value.items()}
    if kind == "timestamp":
        try:
            return parse_timestamp(value)
        except (ValueError, OverflowError, OSError):
            raise SerializationException(f"Invalid timestamp for '{path}': {value!r}") from None
    if kind == "blob":
        if not isinstance(value, str):
            return value
        try:
            return base64.b64decode(value, validate=True)
        except binascii.Error:
            raise SerializationException(f"Invalid base64 for '{path}'") from None
    return value


def _from_text(shape: Shape, text: str, name: str) -> Any:
    """A scalar sent as text (URI label, query value, header) in the model's type."""
    kind = shape.type_name
    try:
        if kind in ("integer", "long"):
            return int(text)
        if kind in ("float", "double"):
            return float(text)
    except ValueError:
        raise SerializationException(f"Cannot convert '{text}' to a number for '{name}'") from None
    if kind == "boolean":
        if text not in ("true", "false"):
            raise SerializationException(f"Cannot convert '{text}' to a boolean for '{name}'")
        return text == "true"
    if kind == "timestamp":
        try:
            return parse_timestamp(text)
        except (ValueError, OverflowError, OSError):
            raise SerializationException(f"Invalid timestamp for '{name}': {text!r}") from None
    return text


class RequestParser:
    """Base: ``parse(operation, request, labels)`` -> params with wire member names."""

    def parse(self, operation: OperationModel, request: HttpRequest, labels: dict[str, str]) -> dict[str, Any]:
        raise NotImplementedError


class JsonRequestParser(RequestParser):
    """awsJson1_0/1_1: the whole input structure is the JSON body."""

    CONTENT_TYPES = ("application/x-amz-json-1.1", "application/x-amz-json-1.0", "application/json")

    def parse(self, operation: OperationModel, request: HttpRequest, labels: dict[str, str]) -> dict[str, Any]:
        shape = operation.input_shape
        body = _decode_json_body(request.body)
        if shape is None:
            return {}
        return _from_json(shape, body, "")


class RestJsonRequestParser(RequestParser):
    """restJson1: members bound to the URI, query string and headers; the rest is the JSON body."""

    def parse(self, operation: OperationModel, request: HttpRequest, labels: dict[str, str]) -> dict[str, Any]:
        shape = operation.input_shape
        if shape is None:
            return {}
        params: dict[str, Any] = {}
        body_members = {}
        payload = shape.serialization.get("payload")
        for name, member in shape.members.items():
            location = member.serialization.get("location")
            wire = member.serialization.get("name", name)
            if location == "uri":
                if wire in labels:
                    params[name] = _from_text(member, labels[wire], name)
            elif location == "querystring":
                self._query_member(request, member, wire, name, params)
            elif location == "header":
                value = request.headers.get(wire.lower())
                if value is not None:
                    params[name] = _from_text(member, value, name)
            elif location == "headers":
                prefix = wire.lower()
                found = {k[len(prefix) :]: v for k, v in request.headers.items() if k.startswith(prefix)}
                if found:
                    params[name] = found
            elif name != payload:
                body_members[name] = member
        if payload:
            member = shape.members[payload]
            if member.type_name in ("blob", "string"):
                params[payload] = request.body if member.type_name == "blob" else request.body.decode()
            elif request.body.strip():
                params[payload] = _from_json(member, _decode_json_body(request.body), payload)
        elif body_members:
            self._check_content_type(request)
            body = _decode_json_body(request.body)
            for name, member in body_members.items():
                wire = member.serialization.get("name", name)
                if wire in body:
                    params[name] = _from_json(member, body[wire], name)
        return params

    @staticmethod
    def _check_content_type(request: HttpRequest) -> None:
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if (
            request.body.strip()
            and content_type
            and content_type
            not in (
                "application/json",
                "application/x-amz-json-1.1",
                "application/x-amz-json-1.0",
            )
        ):
            raise UnsupportedMediaTypeException(f"Unsupported Media Type: {content_type}")

    @staticmethod
    def _query_member(request: HttpRequest, member: Shape, wire: str, name: str, params: dict[str, Any]) -> None:
        if member.type_name == "list":
            values = request.query_values(wire)
            if values:
                params[name] = [_from_text(member.member, v, name) for v in values]
        elif member.type_name == "map":
            # A querystring map takes every pair not bound to another member (none in our models).
            params[name] = dict(request.query_pairs())
        else:
            values = request.query_values(wire)
            if values:
                params[name] = _from_text(member, values[0], name)


PARSERS: dict[str, type[RequestParser]] = {
    "json": JsonRequestParser,
    "rest-json": RestJsonRequestParser,
}

# The query protocol (IAM, STS) lives in ``query`` and registers itself in ``PARSERS`` when loaded.
import trailpost.protocol.query  # noqa: E402, F401 - imported last: it builds on this module
from trailpost.protocol import restxml as _restxml  # noqa: E402, F401 - rest-xml (S3), registered the same way
