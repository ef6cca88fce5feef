"""AWS CloudTrail (json, 2013-11-01): trails, their selectors and status, tags, and Event history.

Each module owns one family of operations and registers its handlers in ``operations.ops``;
importing this package imports them all: ``trails`` (Create/Update/Delete/Get/Describe/ListTrails),
``status`` (Start/StopLogging, GetTrailStatus), ``event_selectors`` (event and Insights selectors),
``tags`` (Add/Remove/ListTags), ``lookup`` (LookupEvents). ``selectors`` decides which events a
trail takes (for delivery and the data-event hook). Operations without a handler are answered by
the gateway's "not implemented" error. ``binding()`` returns the service ready to serve: its input
check runs CloudTrail's own checks (``checks``) so that invalid input gets CloudTrail's modeled
errors, its serializer writes LookupEvents pages directly (``responses``), and its ticker prunes
Event history (``history``).
"""

from __future__ import annotations

from trailpost.services.base import ServiceBinding, bind_service
from trailpost.services.cloudtrail import (  # noqa: F401 - importing registers the handlers
    event_selectors,
    history,
    lookup,
    public_keys,
    status,
    tags,
    trails,
)
from trailpost.services.cloudtrail.checks import check_input
from trailpost.services.cloudtrail.operations import ops
from trailpost.services.cloudtrail.responses import CloudTrailResponseSerializer


def binding() -> ServiceBinding:
    service = bind_service(ops, tickers=history.TICKERS)
    service.check_input = check_input
    service.serializer = CloudTrailResponseSerializer(service.serializer)
    return service
