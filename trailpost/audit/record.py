"""The CloudTrail record of one API call, field by field as AWS writes it.

``build_record`` is a pure function of the request context (who called, what was asked, how it
ended) plus the event id and completion time; it performs no I/O. Keys follow CloudTrail's
observed order (reference 1.6). Rules that are easy to get wrong:

* ``requestID`` is the ``x-amzn-RequestId`` the client received; ``eventID`` a fresh UUID;
* ``responseElements`` is ``null`` for read-only operations and for failures;
* failures carry ``errorCode``/``errorMessage`` right after ``userAgent``;
* ``readOnly`` comes from the reviewed table (``readonly``), never from the name;
* IAM is global: its events are recorded in ``us-east-1``;
* size limits: ``userAgent``, ``errorCode``, ``errorMessage`` and ``requestID`` are truncated to
  1 KB; ``requestParameters`` and ``responseElements`` above 100 KB are omitted (``null``) and
  ``additionalEventData`` above 28 KB too; the whole record stays under 256 KB.
"""

from __future__ import annotations

from typing import Any

import orjson

from trailpost.audit.identity import user_identity
from trailpost.audit.parameters import request_parameters, response_elements
from trailpost.audit.readonly import is_read_only
from trailpost.gateway.context import RequestContext
from trailpost.protocol.timestamps import iso8601_epoch

EVENT_VERSION = "1.11"
GLOBAL_SERVICE_REGIONS = {"iam": "us-east-1"}
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


def _within(value: Any, limit: int) -> Any:
    if value is None:
        return None
    return value if len(orjson.dumps(value)) <= limit else None


def event_source(service: str, endpoint_prefix: str) -> str:
    return f"{endpoint_prefix}.amazonaws.com"


def build_record(
    ctx: RequestContext,
    *,
    event_id: str,
    event_time: float,
    additional_event_data: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The record of the call in ``ctx``; the caller must be known (``ctx.principal``)."""
    binding, operation, principal = ctx.service, ctx.operation, ctx.principal
    assert binding is not None and operation is not None and principal is not None
    service = binding.name
    read_only = is_read_only(service, operation.name)
    record: dict[str, Any] = {
        "eventVersion": EVENT_VERSION,
        "userIdentity": user_identity(principal),
        "eventTime": iso8601_epoch(event_time),
        "eventSource": event_source(service, binding.model.endpoint_prefix),
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
    record["requestParameters"] = _within(
        request_parameters(service, operation.input_shape, ctx.wire_params), PARAMETERS_LIMIT
    )
    elements = None
    if ctx.error is None and not read_only:
        elements = response_elements(service, operation.output_shape, ctx.result)
    record["responseElements"] = _within(elements, PARAMETERS_LIMIT)
    if additional_event_data:
        extra = _within(additional_event_data, ADDITIONAL_LIMIT)
        if extra is not None:
            record["additionalEventData"] = extra
    record["requestID"] = truncate(ctx.request_id)
    record["eventID"] = event_id
    record["readOnly"] = read_only
    record["eventType"] = "AwsApiCall"
    record["managementEvent"] = True
    record["recipientAccountId"] = principal.account_id
    record["eventCategory"] = "Management"
    if ctx.tls_details:
        record["tlsDetails"] = dict(ctx.tls_details)
    return _cap(record)


def _cap(record: dict[str, Any]) -> dict[str, Any]:
    """Keep the record under 256 KB by dropping the bulkiest optional payloads first."""
    for field in ("responseElements", "requestParameters", "additionalEventData"):
        if len(orjson.dumps(record)) <= RECORD_LIMIT:
            break
        if record.get(field) is not None:
            record[field] = None
    return record
