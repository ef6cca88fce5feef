"""The CloudTrail record of one API call, field by field as AWS writes it.

``build_record`` is a pure function of the request context (who called, what was asked, how it
ended) plus the event id and completion time; it performs no I/O. Keys follow CloudTrail's
observed order (reference 1.6): ``eventVersion, userIdentity, eventTime, eventSource, eventName,
awsRegion, sourceIPAddress, userAgent, errorCode, errorMessage, requestParameters,
responseElements, additionalEventData, requestID, eventID, readOnly, resources, eventType,
apiVersion, managementEvent, recipientAccountId, eventCategory, tlsDetails``. Rules that are easy
to get wrong:

* ``requestID`` is the ``x-amzn-RequestId`` the client received; ``eventID`` a placeholder
  (``PENDING_EVENT_ID``) that the event store replaces with the id of the record's position when
  it stores it (``store.event_ids``);
* ``requestParameters`` and ``responseElements`` are always present, ``null`` when empty;
  ``requestParameters`` is ``null`` too when the input could not be read as the model's types
  (``SerializationException``: like AWS, there is no input object to show);
  ``responseElements`` is ``null`` for read-only operations (but the STS calls that hand out
  credentials, ``redaction.records_response``), for failures and for mutating operations whose
  output is empty;
* failures carry ``errorCode``/``errorMessage`` right after ``userAgent``;
* ``readOnly`` comes from the reviewed table (``readonly``), never from the name;
* ``resources`` (``audit.resources``) only when the call names or creates a resource;
* ``apiVersion`` only for the services in ``API_VERSIONS`` (none of the served ones: no
  recorded Outposts, CloudTrail, IAM, STS or S3 event carries it);
* ``sessionCredentialFromConsole`` (the string ``"true"``, after ``eventCategory``) only for calls
  the web console made for a signed-in user;
* ``tlsDetails`` only for calls that came over TLS;
* S3 (``audit.s3``): its own ``requestParameters``, ``additionalEventData`` (``response_bytes`` is
  the answer's body size) and resources; object calls are ``Data`` events;
* IAM is global: its events are recorded in ``us-east-1``;
* size limits: ``userAgent``, ``errorCode``, ``errorMessage`` and ``requestID`` are truncated to
  1 KB (UTF-8 bytes, never inside a character); ``requestParameters`` and ``responseElements``
  whose JSON exceeds 100 KB are replaced by ``{"reason": "<field> too large", "omitted": true}``
  (the marker CloudTrail writes, ``OMITTED``), ``additionalEventData`` above 28 KB is dropped;
  a record that would still exceed 256 KB loses those payloads, bulkiest first, the same way.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import orjson

from trailpost.audit import redaction, s3
from trailpost.audit.identity import user_identity
from trailpost.audit.parameters import request_parameters, response_elements
from trailpost.audit.readonly import is_read_only
from trailpost.audit.resources import resources
from trailpost.gateway.context import RequestContext
from trailpost.protocol.timestamps import iso8601_epoch

EVENT_VERSION = "1.11"
# What a record carries as ``eventID`` until the event store stores it and gives it its own.
PENDING_EVENT_ID = "00000000-0000-4000-8000-000000000000"
GLOBAL_SERVICE_REGIONS = {"iam": "us-east-1"}
# Services whose records carry ``apiVersion`` (AWS sets it for some REST services, e.g. Route 53);
# no served service's recorded events have it.
API_VERSIONS: dict[str, str] = {}
# Errors meaning the input could not be read as the model's types: there is no input to record.
UNREADABLE_INPUT = frozenset({"SerializationException"})
SHORT_LIMIT = 1024
PARAMETERS_LIMIT = 100 * 1024
ADDITIONAL_LIMIT = 28 * 1024
RECORD_LIMIT = 256 * 1024


def truncate(text: str, limit: int = SHORT_LIMIT) -> str:
    """``text`` cut to at most ``limit`` UTF-8 bytes, never inside a character."""
    data = text.encode()
    if len(data) <= limit:
        return text
    return data[:limit].decode(errors="ignore")


def omitted(field: str) -> dict[str, Any]:
    """What a record shows instead of a ``requestParameters``/``responseElements`` over 100 KB."""
    return {"reason": f"{field} too large", "omitted": True}


def _size(value: Any) -> int:
    return len(orjson.dumps(value))


def _within(field: str, value: Any, sizes: list[int] | None = None) -> Any:
    """``value``, or the ``omitted`` marker if its JSON exceeds 100 KB; its size is added to ``sizes``."""
    if value is None:
        return None
    size = _size(value)
    if sizes is not None:
        sizes.append(min(size, PARAMETERS_LIMIT))
    return value if size <= PARAMETERS_LIMIT else omitted(field)


# What a record holds besides its payloads and resources is bounded: the identity, names, times
# and ids, and the 1 KB-capped userAgent, errorCode, errorMessage and requestID (``truncate``).
_BOUNDED_FIELDS_BYTES = 32 * 1024
_RESOURCE_BYTES = 2 * 1024  # one entry of ``resources``: an ARN, a type and an account id


def event_source(service: str, endpoint_prefix: str) -> str:
    return f"{endpoint_prefix}.amazonaws.com"


@lru_cache(maxsize=4096)
def _operation_facts(service: str, endpoint_prefix: str, operation: str) -> tuple[str, bool, bool]:
    """``eventSource``, ``readOnly`` and whether it is a data event: fixed per operation, so computed once."""
    data_event = service == "s3" and s3.is_data_event(operation)
    return event_source(service, endpoint_prefix), is_read_only(service, operation), data_event


_IDENTITIES: dict[int, tuple[Any, dict[str, Any]]] = {}
_IDENTITIES_MAX = 4096


def _user_identity(principal: Any) -> dict[str, Any]:
    """``userIdentity`` of a long-term key's caller, kept per principal object (the key cache reuses
    it across calls); a fresh copy each time. Temporary credentials make a new principal per call."""
    if principal.session is not None or principal.identity_type == "WebIdentityUser":
        return user_identity(principal)
    entry = _IDENTITIES.get(id(principal))
    if entry is None or entry[0] is not principal:
        if len(_IDENTITIES) >= _IDENTITIES_MAX:
            _IDENTITIES.clear()
        entry = _IDENTITIES[id(principal)] = (principal, user_identity(principal))
    return dict(entry[1])  # flat: every value is a string


_last_second: tuple[int, str] = (-1, "")


def _event_time(event_time: float) -> str:
    """``iso8601_epoch(event_time)``, formatted once per second."""
    global _last_second
    second = int(event_time)
    if event_time - second >= 0.9999995:  # fromtimestamp rounds to microseconds: may reach the next second
        return iso8601_epoch(event_time)
    cached = _last_second
    if cached[0] != second:
        cached = _last_second = (second, iso8601_epoch(event_time))
    return cached[1]


def build_record(
    ctx: RequestContext,
    *,
    event_id: str,
    event_time: float,
    additional_event_data: dict[str, Any] | None = None,
    response_bytes: int = 0,
) -> dict[str, Any]:
    """The record of the call in ``ctx``; the caller must be known (``ctx.principal``)."""
    binding, operation, principal = ctx.service, ctx.operation, ctx.principal
    assert binding is not None and operation is not None and principal is not None
    service = binding.name
    source, read_only, data_event = _operation_facts(service, binding.model.endpoint_prefix, operation.name)
    failed = ctx.error is not None
    record: dict[str, Any] = {
        "eventVersion": EVENT_VERSION,
        "userIdentity": _user_identity(principal),
        "eventTime": _event_time(event_time),
        "eventSource": source,
        "eventName": operation.name,
        "awsRegion": GLOBAL_SERVICE_REGIONS.get(service, ctx.region),
        "sourceIPAddress": ctx.source_ip,
    }
    agent = ctx.request.headers.get("user-agent")
    if agent:
        record["userAgent"] = truncate(agent)
    if ctx.error is not None:
        record["errorCode"] = truncate(ctx.error.code)
        record["errorMessage"] = truncate(ctx.error.message)
    params = None
    if not (ctx.error is not None and ctx.error.code in UNREADABLE_INPUT):
        params = request_parameters(service, operation.input_shape, ctx.wire_params)
    sizes: list[int] | None = []  # payload sizes, to skip the full-record size check when it cannot fail
    record["requestParameters"] = _within("requestParameters", params, sizes)
    elements = None
    if not failed and redaction.records_response(service, operation.name, read_only):
        elements = response_elements(service, operation.output_shape, ctx.result)
    record["responseElements"] = _within("responseElements", elements, sizes)
    if service == "s3":  # S3 writes its own parameters and payload facts (``audit.s3``)
        sizes = None
        record["eventVersion"] = s3.EVENT_VERSION
        if "userAgent" in record:
            record["userAgent"] = truncate(s3.user_agent(record["userAgent"]))
        if record["requestParameters"] is not None or not failed:
            record["requestParameters"] = _within("requestParameters", s3.request_parameters(ctx))
        record["responseElements"] = s3.response_elements(ctx)
        additional_event_data = s3.additional_event_data(ctx, response_bytes)
    if additional_event_data and _size(additional_event_data) <= ADDITIONAL_LIMIT:
        record["additionalEventData"] = additional_event_data
    record["requestID"] = truncate(ctx.request_id)
    record["eventID"] = event_id
    record["readOnly"] = read_only
    touched = (
        s3.resources(ctx)
        if service == "s3"
        else resources(
            service,
            operation.name,
            ctx.wire_params,
            ctx.result,
            failed=failed,
            account_id=principal.account_id,
            region=ctx.region,
        )
    )
    if touched:
        record["resources"] = touched
    record["eventType"] = "AwsApiCall"
    if service in API_VERSIONS:
        record["apiVersion"] = API_VERSIONS[service]
    record["managementEvent"] = not data_event
    record["recipientAccountId"] = principal.account_id
    record["eventCategory"] = "Data" if data_event else "Management"
    if ctx.request.console:  # made by the web console for a signed-in user (docs/decisions.md "Console")
        record["sessionCredentialFromConsole"] = "true"
    tls = ctx.tls_details
    if tls:
        record["tlsDetails"] = tls
    if sizes is not None and "additionalEventData" not in record:
        bound = sum(sizes) + _BOUNDED_FIELDS_BYTES + _RESOURCE_BYTES * len(record.get("resources") or ())
        if bound <= RECORD_LIMIT:
            return record  # cannot exceed 256 KB: no need to serialize it here
    return cap(record)


def cap(record: dict[str, Any]) -> dict[str, Any]:
    """Keep the record within 256 KB: the bulkiest payload goes first, until it fits."""
    payloads = ("requestParameters", "responseElements", "additionalEventData")
    while _size(record) > RECORD_LIMIT:
        present = [f for f in payloads if isinstance(record.get(f), dict) and record[f] != omitted(f)]
        if not present:
            break
        bulkiest = max(present, key=lambda f: _size(record[f]))
        if bulkiest == "additionalEventData":
            del record[bulkiest]
        else:
            record[bulkiest] = omitted(bulkiest)
    return record
