"""StartLogging, StopLogging and GetTrailStatus.

Rules:

* StartLogging and StopLogging are home-region operations (``InvalidHomeRegionException`` on a
  shadow trail); starting a stopped trail sets ``is_logging``, ``start_logging_time`` and adds one
  to ``logging_epoch``; stopping a logging trail sets ``stop_logging_time``; calling either on a
  trail already in that state changes nothing (both answer ``{}``);
* GetTrailStatus works on a trail and on its shadows (by ARN); it reports only what happened:
  ``StartLoggingTime``/``StopLoggingTime`` from the trail, the delivery fields from the
  ``cloudtrail.trail_status`` document the delivery and digest workers keep for the trail in the
  caller's region; timestamp members are left out when the thing never happened, and the
  deprecated string members (``TimeLoggingStarted``, ``LatestDeliveryAttemptTime``...) are ``""``
  then, else ``YYYY-MM-DDTHH:MM:SSZ`` (AWS's recorded answers, README facts 1-2).
"""

from __future__ import annotations

from typing import Any

from trailpost.gateway.context import RequestContext
from trailpost.protocol.timestamps import iso8601_epoch
from trailpost.services.cloudtrail import trail_docs
from trailpost.services.cloudtrail.operations import ops
from trailpost.services.cloudtrail.trails import home_only


def _text(value: Any) -> str:
    """A deprecated string member: a time as ``YYYY-MM-DDTHH:MM:SSZ``, or ``""`` when none."""
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, (int, float)):
        return iso8601_epoch(value)
    return str(value)


def _millis(value: Any) -> float | None:
    """A time as AWS answers it: epoch seconds with milliseconds."""
    return round(value, 3) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def status_of(doc: dict[str, Any], delivery: dict[str, Any] | None) -> dict[str, Any]:
    """GetTrailStatus' answer for a trail document and its delivery status document (if any)."""
    delivery = delivery or {}
    attempt = delivery.get("latest_delivery_attempt_time")
    succeeded = delivery.get("latest_delivery_attempt_succeeded")
    if succeeded is True:
        succeeded = attempt
    elif succeeded is False:  # the latest attempt failed: the last one that succeeded delivered the latest file
        succeeded = delivery.get("latest_delivery_time")
    out: dict[str, Any] = {
        "IsLogging": doc["is_logging"],
        "LatestDeliveryError": delivery.get("latest_delivery_error") or None,
        "LatestDeliveryTime": _millis(delivery.get("latest_delivery_time")),
        "StartLoggingTime": doc["start_logging_time"],
        "StopLoggingTime": doc["stop_logging_time"],
        "LatestDigestDeliveryTime": _millis(delivery.get("latest_digest_delivery_time")),
        "LatestDigestDeliveryError": delivery.get("latest_digest_delivery_error") or None,
        "LatestDeliveryAttemptTime": _text(attempt),
        "LatestNotificationAttemptTime": "",
        "LatestNotificationAttemptSucceeded": "",
        "LatestDeliveryAttemptSucceeded": _text(succeeded),
        "TimeLoggingStarted": _text(doc["start_logging_time"]),
        "TimeLoggingStopped": _text(doc["stop_logging_time"]),
    }
    return {key: value for key, value in out.items() if value is not None}


@ops("GetTrailStatus")
def get_trail_status(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    doc = trail_docs.find(ctx.store, params["name"], ctx.account_id, ctx.region)
    delivery = ctx.store.get(trail_docs.STATUS_KIND, trail_docs.scope_of(ctx.account_id, ctx.region), doc["trail_arn"])
    return status_of(doc, delivery)


@ops("StartLogging")
def start_logging(ctx: RequestContext, params: dict[str, Any]) -> None:
    doc = trail_docs.find(ctx.store, params["name"], ctx.account_id, ctx.region)
    home_only(doc, ctx.region)
    if not doc["is_logging"]:
        doc["is_logging"] = True
        doc["start_logging_time"] = round(ctx.received, 3)  # AWS answers milliseconds
        doc["logging_epoch"] += 1
        trail_docs.save(ctx.store, doc)


@ops("StopLogging")
def stop_logging(ctx: RequestContext, params: dict[str, Any]) -> None:
    doc = trail_docs.find(ctx.store, params["name"], ctx.account_id, ctx.region)
    home_only(doc, ctx.region)
    if doc["is_logging"]:
        doc["is_logging"] = False
        doc["stop_logging_time"] = round(ctx.received, 3)
        trail_docs.save(ctx.store, doc)
