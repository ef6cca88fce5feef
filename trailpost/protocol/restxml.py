"""The rest-xml protocol (S3): request parser, response and error serializer, driven by the model.

Parsing (``RestXmlRequestParser``): members bound to URI labels (greedy ``{Key+}`` included, decoded
by the router), the query string, single headers (timestamps in RFC 1123 form, integers,
booleans), header maps (``x-amz-meta-*``: the ``locationName`` prefix, keys as sent, lower-cased
by HTTP) and the payload: a blob or streaming member takes the body bytes as they are, a string
member the body text, a structure member the XML body (namespaces ignored, a ``DOCTYPE`` refused:
``MalformedXML``). Non-payload body members are read from a root element the same way.

Serializing (``RestXmlResponseSerializer``): header members become headers (timestamps in RFC 1123
form, maps as ``prefix + key``), a ``statusCode`` member the status, a blob/streaming/string
payload the raw body, and the rest an XML document whose root element is the payload member's
``locationName``, else the operation's entry in ``roots``, else ``<Operation>Result``; the root
carries ``xmlns`` (S3's namespace). Body timestamps are ISO 8601 with milliseconds
(``2026-01-02T03:04:05.000Z``), as S3 writes them. The model's ``responseCode`` (204 for
deletes) is the status of a success.

Errors: ``<Error><Code/><Message/>[extra fields]<RequestId/><HostId/></Error>`` with the status the
error carries (the S3 model lists almost none); a ``HEAD`` answer never has a body (the gateway
drops it, and botocore then reports the status as the code: ``404``/``Not Found``).
"""

from __future__ import annotations

import base64
import binascii
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from botocore.model import OperationModel, ServiceModel, Shape

from trailpost.http import HttpRequest, HttpResponse
from trailpost.protocol.errors import SerializationException, ServiceError
from trailpost.protocol.parsers import PARSERS, RequestParser, _from_text
from trailpost.protocol.serializers import SERIALIZERS, ResponseSerializer, error_status
from trailpost.protocol.timestamps import parse_timestamp

S3_NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/"
XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'


class MalformedXML(ServiceError):
    code = "MalformedXML"
    status = 400


# -- parsing ------------------------------------------------------------------------------------


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _scalar(shape: Shape, text: str, name: str) -> Any:
    """A scalar sent as text; timestamps in any of the forms S3 clients send (``header_timestamp``)."""
    if shape.type_name == "timestamp":
        value = header_timestamp(text.strip())
        if value is None:
            raise SerializationException(f"Invalid timestamp for '{name}': {text!r}")
        return value
    return _from_text(shape, text, name)


def _xml_scalar(shape: Shape, text: str, name: str) -> Any:
    kind = shape.type_name
    if kind == "blob":
        try:
            return base64.b64decode(text, validate=True)
        except binascii.Error:
            raise MalformedXML(f"Invalid base64 for '{name}'") from None
    if kind == "boolean":
        return text.strip().lower() == "true"
    return _scalar(shape, text.strip() if kind != "string" else text, name)


def from_xml(shape: Shape, element: ET.Element, name: str = "") -> Any:
    """``element`` read as ``shape`` (structure children by member ``locationName``)."""
    kind = shape.type_name
    if kind == "structure":
        out: dict[str, Any] = {}
        children = list(element)
        for member_name, member in shape.members.items():
            if member.serialization.get("xmlAttribute"):
                attribute = member.serialization.get("name", member_name)
                for key, value in element.attrib.items():
                    if _local(key) == attribute.rpartition(":")[2]:
                        out[member_name] = value
                continue
            wire = member.serialization.get("name", member_name)
            if member.type_name == "list" and member.serialization.get("flattened"):
                item_name = member.member.serialization.get("name", wire)
                items = [c for c in children if _local(c.tag) == item_name]
                if items:
                    out[member_name] = [from_xml(member.member, c, member_name) for c in items]
                continue
            found = next((c for c in children if _local(c.tag) == wire), None)
            if found is not None:
                out[member_name] = from_xml(member, found, member_name)
        return out
    if kind == "list":
        item_name = shape.member.serialization.get("name", "member")
        return [from_xml(shape.member, c, name) for c in element if _local(c.tag) == item_name]
    if kind == "map":
        result = {}
        for entry in element:
            key = next((c.text or "" for c in entry if _local(c.tag) == "key"), "")
            value_element = next((c for c in entry if _local(c.tag) == "value"), None)
            if value_element is not None:
                result[key] = from_xml(shape.value, value_element, name)
        return result
    return _xml_scalar(shape, element.text or "", name)


def parse_xml(body: bytes) -> ET.Element:
    """The root element of ``body``; ``MalformedXML`` for anything that is not plain XML."""
    if b"<!DOCTYPE" in body or b"<!ENTITY" in body:
        raise MalformedXML("The XML you provided was not well-formed or did not validate against our published schema")
    try:
        return ET.fromstring(body)
    except ET.ParseError:
        raise MalformedXML(
            "The XML you provided was not well-formed or did not validate against our published schema"
        ) from None


def header_timestamp(value: str) -> datetime | None:
    """A header timestamp: RFC 1123 (``Tue, 02 Jan 2024 03:04:05 GMT``, what clients send), else
    ISO 8601 or epoch seconds; ``None`` when unreadable (S3 ignores such a conditional header)."""
    try:
        parsed = parsedate_to_datetime(value)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except (TypeError, ValueError, IndexError):
        pass
    try:
        return parse_timestamp(value)
    except (ValueError, TypeError, OverflowError, OSError):
        return None


def _header_value(member: Shape, value: str, name: str) -> Any:
    if member.type_name == "timestamp":
        return header_timestamp(value)
    if member.type_name == "list":
        return [item.strip() for item in value.split(",") if item.strip()]
    return _from_text(member, value, name)


class RestXmlRequestParser(RequestParser):
    """rest-xml: see the module docstring."""

    def parse(self, operation: OperationModel, request: HttpRequest, labels: dict[str, str]) -> dict[str, Any]:
        shape = operation.input_shape
        if shape is None:
            return {}
        params: dict[str, Any] = {}
        payload = shape.serialization.get("payload")
        body_members: dict[str, Shape] = {}
        for name, member in shape.members.items():
            location = member.serialization.get("location")
            wire = member.serialization.get("name", name)
            if location == "uri":
                if wire in labels:
                    params[name] = _scalar(member, labels[wire], name)
            elif location == "querystring":
                values = request.query_values(wire)
                if values:
                    if member.type_name == "list":
                        params[name] = [_scalar(member.member, v, name) for v in values]
                    else:
                        params[name] = _scalar(member, values[0], name)
            elif location == "header":
                value = request.headers.get(wire.lower())
                if value is not None:
                    converted = _header_value(member, value, name)
                    if converted is not None:
                        params[name] = converted
            elif location == "headers":
                prefix = wire.lower()
                prefixed = {k[len(prefix) :]: v for k, v in request.headers.items() if k.startswith(prefix)}
                if prefixed:
                    params[name] = prefixed
            elif name != payload:
                body_members[name] = member
        if payload:
            member = shape.members[payload]
            if member.type_name == "blob":
                params[payload] = request.body
            elif member.type_name == "string":
                params[payload] = request.body.decode("utf-8", errors="replace")
            elif request.body.strip():
                params[payload] = from_xml(member, parse_xml(request.body), payload)
        elif body_members and request.body.strip():
            root = parse_xml(request.body)
            for name, member in body_members.items():
                wire = member.serialization.get("name", name)
                found = next((c for c in root if _local(c.tag) == wire), None)
                if found is not None:
                    params[name] = from_xml(member, found, name)
        return params


# -- serializing --------------------------------------------------------------------------------


def _datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return parse_timestamp(value).astimezone(UTC)


def iso_millis(value: Any) -> str:
    """``2026-01-02T03:04:05.000Z``: how S3 writes timestamps in XML bodies."""
    moment = _datetime(value)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def http_date(value: Any) -> str:
    """``Tue, 24 Nov 2026 04:51:13 GMT``: timestamps in headers."""
    return format_datetime(_datetime(value).replace(microsecond=0), usegmt=True)


def _text(shape: Shape, value: Any) -> str:
    kind = shape.type_name
    if kind == "timestamp":
        return iso_millis(value)
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "blob":
        return base64.b64encode(value).decode() if isinstance(value, (bytes, bytearray)) else str(value)
    return str(value)


def _attributes(shape: Shape, value: Any) -> str:
    """Namespace declarations and ``xmlAttribute`` members of a structure element."""
    out = ""
    namespace = shape.serialization.get("xmlNamespace")
    if isinstance(namespace, dict) and namespace.get("prefix"):
        out += f" xmlns:{namespace['prefix']}={quoteattr(namespace['uri'])}"
    if shape.type_name == "structure" and isinstance(value, dict):
        for name, member in shape.members.items():
            if member.serialization.get("xmlAttribute") and value.get(name) is not None:
                out += f" {member.serialization.get('name', name)}={quoteattr(str(value[name]))}"
    return out


def to_xml(shape: Shape, value: Any, tag: str) -> str:
    """``value`` as the element ``tag`` of ``shape``."""
    kind = shape.type_name
    if kind == "structure":
        inner = "".join(_members_xml(shape, value))
        return f"<{tag}{_attributes(shape, value)}>{inner}</{tag}>"
    if kind == "list":
        item_tag = shape.member.serialization.get("name", "member")
        inner = "".join(to_xml(shape.member, item, item_tag) for item in value)
        return f"<{tag}>{inner}</{tag}>"
    if kind == "map":
        entries = "".join(
            f"<entry>{to_xml(shape.key, k, 'key')}{to_xml(shape.value, v, 'value')}</entry>" for k, v in value.items()
        )
        return f"<{tag}>{entries}</{tag}>"
    return f"<{tag}>{escape(_text(shape, value))}</{tag}>"


def _members_xml(shape: Shape, value: dict[str, Any]) -> list[str]:
    parts: list[str] = []
    for name, member in shape.members.items():
        item = value.get(name)
        if item is None or member.serialization.get("location") or member.serialization.get("xmlAttribute"):
            continue
        wire = member.serialization.get("name", name)
        if member.type_name == "list" and member.serialization.get("flattened"):
            item_tag = member.member.serialization.get("name", wire)
            parts.extend(to_xml(member.member, element, item_tag) for element in item)
        else:
            parts.append(to_xml(member, item, wire))
    return parts


def _header_text(member: Shape, value: Any) -> str:
    if member.type_name == "timestamp":
        return http_date(value)
    if member.type_name == "boolean":
        return "true" if value else "false"
    if member.type_name == "list":
        return ",".join(str(v) for v in value)
    return str(value)


class RestXmlResponseSerializer(ResponseSerializer):
    """rest-xml: see the module docstring. ``roots`` names the root element of outputs the model
    leaves unnamed; ``extra_headers(request_id)`` adds the service's request-id headers."""

    content_type = "application/xml"

    def __init__(self, roots: dict[str, str] | None = None, namespace: str = S3_NAMESPACE) -> None:
        self.roots = roots or {}
        self.namespace = namespace

    def request_headers(self, request_id: str) -> dict[str, str]:
        return {"x-amz-request-id": request_id, "x-amz-id-2": host_id(request_id)} if request_id else {}

    def serialize(self, operation: OperationModel, result: dict[str, Any], request_id: str = "") -> HttpResponse:
        shape = operation.output_shape
        status = int(operation.http.get("responseCode", 200))
        headers = self.request_headers(request_id)
        if shape is None:
            return HttpResponse(status, headers, b"")
        for name, member in shape.members.items():
            location = member.serialization.get("location")
            value = result.get(name)
            if value is None or location is None:
                continue
            if location == "header":
                headers[member.serialization.get("name", name)] = _header_text(member, value)
            elif location == "headers":
                prefix = member.serialization.get("name", name)
                headers.update({prefix + k: str(v) for k, v in value.items()})
            elif location == "statusCode":
                status = int(value)
        payload = shape.serialization.get("payload")
        if payload:
            member = shape.members[payload]
            value = result.get(payload)
            if member.type_name in ("blob", "string"):
                body = value if isinstance(value, (bytes, bytearray)) else (value or "").encode()
                if member.type_name == "string":
                    headers.setdefault("Content-Type", "application/json" if body[:1] == b"{" else "text/plain")
                return HttpResponse(status, headers, bytes(body))
            if value is None:
                return HttpResponse(status, headers, b"")
            tag = member.serialization.get("name", payload)
            return self._document(status, headers, to_xml(member, value, tag))
        body_members = [n for n, m in shape.members.items() if not m.serialization.get("location")]
        if not body_members:
            return HttpResponse(status, headers, b"")
        tag = shape.serialization.get("name") or self.roots.get(operation.name, f"{operation.name}Result")
        return self._document(status, headers, to_xml(shape, result, tag))

    def _document(self, status: int, headers: dict[str, str], element: str) -> HttpResponse:
        if self.namespace:
            head, _, rest = element.partition(">")
            closing = head.endswith("/")
            head = head.rstrip("/")
            element = f'{head} xmlns="{self.namespace}"{"/" if closing else ""}>{rest}'
        headers["Content-Type"] = self.content_type
        return HttpResponse(status, headers, (XML_DECLARATION + element).encode())

    def serialize_error(self, model: ServiceModel | None, error: ServiceError, request_id: str = "") -> HttpResponse:
        parts = [f"<Code>{escape(error.code)}</Code>", f"<Message>{escape(error.message)}</Message>"]
        for key, value in error.fields.items():
            if value is not None:
                parts.append(f"<{key}>{escape(str(value))}</{key}>")
        if request_id:
            parts.append(f"<RequestId>{escape(request_id)}</RequestId><HostId>{escape(host_id(request_id))}</HostId>")
        body = XML_DECLARATION + "<Error>" + "".join(parts) + "</Error>"
        headers = {"Content-Type": self.content_type, **self.request_headers(request_id), **error.headers}
        return HttpResponse(error_status(model, error), headers, body.encode())


def host_id(request_id: str) -> str:
    """An ``x-amz-id-2`` for ``request_id``: opaque base64, stable per request."""
    import hashlib

    return base64.b64encode(hashlib.sha384(request_id.encode()).digest()).decode()


PARSERS["rest-xml"] = RestXmlRequestParser
SERIALIZERS["rest-xml"] = RestXmlResponseSerializer
