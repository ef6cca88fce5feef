"""LookupEvents: Event history of the caller's account and region, newest first, a page at a time.

Business rules (AWS's, see docs/decisions.md "Event history"):

* only management events (``EventCategory`` absent) or only Insights events (``insight``; none
  exist yet, so that answer is empty) of the caller's account and the request's region; global
  services' events (IAM) are in us-east-1;
* one lookup attribute at most, matched exactly; ``ReadOnly`` takes ``true``/``false``;
* ``StartTime``/``EndTime`` are inclusive and compared with the event's whole-second time; they
  default to the oldest retained event and now; history older than ``event_retention_days`` is
  never returned, pruned or not; a start after the end is ``InvalidTimeRangeException``;
* ``MaxResults`` 1-50, default 50; ``NextToken`` is present only when another page exists; it
  encodes where the page ended and an HMAC of the query (account, region, attribute, the times as
  given, category), so a token used with other parameters, or forged, is
  ``InvalidNextTokenException``; changing ``MaxResults`` between pages is allowed;
* each ``Event`` carries ``ReadOnly`` as the string ``"true"``/``"false"``, ``EventTime`` as the
  record's time, ``Username`` as Event history derives it (``store.lookup_wire.username_of``),
  ``Resources`` from the record's ``resources`` and ``CloudTrailEvent`` the record as stored
  (compact JSON);
* with ``lookup_rate_limit`` > 0, each account and region may call LookupEvents that many times
  per second (a token bucket holding one second's worth); beyond, ``ThrottlingException`` ("Rate
  exceeded"), as AWS's 2 requests per second limit answers.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import math
import struct
import threading
import time
from datetime import datetime
from typing import Any

import orjson

from trailpost.gateway.context import RequestContext
from trailpost.protocol.naming import WireResult
from trailpost.services.cloudtrail.errors import (
    InvalidNextTokenException,
    InvalidTimeRangeException,
    ThrottlingException,
)
from trailpost.services.cloudtrail.operations import ops
from trailpost.services.token_key import token_mac
from trailpost.store.events import INSIGHT, MANAGEMENT, HistoryEvent, HistoryQuery, event_store
from trailpost.store.lookup_wire import page_events

DEFAULT_MAX_RESULTS = 50
DAY = 86400
_TOKEN = struct.Struct(">BQQ")  # version, event_time, seq
_DIGEST_BYTES = 16


# -- NextToken ------------------------------------------------------------------------------------


def _digest(cursor: tuple[int, int], binding: list[Any]) -> bytes:
    data = orjson.dumps(["LookupEvents", cursor[0], cursor[1], binding])
    return token_mac(data)[:_DIGEST_BYTES]


def make_token(cursor: tuple[int, int], binding: list[Any]) -> str:
    """An opaque token resuming after ``cursor`` for the query ``binding`` describes."""
    return base64.b64encode(_TOKEN.pack(1, *cursor) + _digest(cursor, binding)).decode("ascii")


def read_token(token: str, binding: list[Any]) -> tuple[int, int]:
    """The cursor in ``token``; ``InvalidNextTokenException`` if it was not made for this query."""
    try:
        raw = base64.b64decode(token.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raw = b""
    if len(raw) == _TOKEN.size + _DIGEST_BYTES:
        version, at, seq = _TOKEN.unpack(raw[: _TOKEN.size])
        if version == 1 and hmac.compare_digest(raw[_TOKEN.size :], _digest((at, seq), binding)):
            return at, seq
    raise InvalidNextTokenException(
        "Invalid NextToken: pass a token with the same parameters as the call that returned it."
    )


# -- throttling -----------------------------------------------------------------------------------


class RateLimiter:
    """A token bucket per (account, region): ``rate`` calls per second, a burst of one second's worth."""

    def __init__(self) -> None:
        self._buckets: dict[tuple[str, str], tuple[float, float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: tuple[str, str], rate: float, now: float) -> bool:
        capacity = max(rate, 1.0)
        with self._lock:
            tokens, last = self._buckets.get(key, (capacity, now))
            tokens = min(capacity, tokens + max(0.0, now - last) * rate)
            allowed = tokens >= 1.0
            self._buckets[key] = (tokens - 1.0 if allowed else tokens, now)
        return allowed


LIMITER = RateLimiter()


# -- the operation --------------------------------------------------------------------------------


def _epoch(value: datetime | None) -> float | None:
    return value.timestamp() if value is not None else None


def _events(rows: list[HistoryEvent]) -> orjson.Fragment:
    """The ``Events`` of a page in wire form, one JSON array: each event the JSON the event store kept
    with the record (model order, absent members left out, ``EventTime`` as Java writes it) and
    ``CloudTrailEvent``, the record as stored."""
    return page_events((row.event, row.record) for row in rows)


def _attribute(params: dict[str, Any]) -> tuple[str, Any] | None:
    """The lookup attribute as the event store filters on it (checked by ``checks`` already)."""
    attributes = params.get("lookup_attributes") or []
    if not attributes:
        return None
    key, value = attributes[0]["attribute_key"], attributes[0]["attribute_value"]
    if key == "ReadOnly":
        return key, 1 if value.lower() == "true" else 0
    return key, value


@ops("LookupEvents")
def lookup_events(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    rate = ctx.settings.lookup_rate_limit
    if rate > 0 and not LIMITER.allow((ctx.account_id, ctx.region), rate, time.monotonic()):
        raise ThrottlingException("Rate exceeded")
    given_start, given_end = _epoch(params.get("start_time")), _epoch(params.get("end_time"))
    if given_start is not None and given_end is not None and given_start > given_end:
        raise InvalidTimeRangeException("Start time must be before or at the end time.")
    now = int(ctx.received)
    oldest = now - int(ctx.settings.event_retention_days * DAY)
    start = max(oldest, math.ceil(given_start)) if given_start is not None else oldest
    end = math.floor(given_end) if given_end is not None else now
    attribute = _attribute(params)
    category = INSIGHT if params.get("event_category") == "insight" else MANAGEMENT
    binding = [ctx.account_id, ctx.region, list(attribute or ()), given_start, given_end, category]
    token = params.get("next_token")
    after = read_token(token, binding) if token else None
    size = params.get("max_results") or DEFAULT_MAX_RESULTS
    rows = event_store(ctx.store).lookup(
        HistoryQuery(ctx.account_id, ctx.region, start, end, size + 1, attribute, category, after)
    )
    result = WireResult(Events=_events(rows[:size]))  # large: built in wire form directly
    if len(rows) > size:
        result["NextToken"] = make_token(rows[size - 1].cursor, binding)
    return result
