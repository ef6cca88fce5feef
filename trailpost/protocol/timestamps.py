"""Timestamps on the wire: parsing what clients send and writing what AWS writes.

AWS's Java services write JSON timestamps as ``Double.toString`` of epoch seconds
(``1.486505154426E9``); botocore reads that, plain numbers and ISO-8601 strings alike.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import orjson


def parse_timestamp(value: object) -> datetime:
    """A client timestamp (epoch number, numeric string or ISO-8601) as an aware UTC datetime."""
    if isinstance(value, bool):
        raise ValueError("boolean is not a timestamp")
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(float(value), tz=UTC)
    if isinstance(value, str):
        text = value.strip()
        try:
            return datetime.fromtimestamp(float(text), tz=UTC)
        except ValueError:
            pass
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC)
    raise ValueError(f"unexpected timestamp {value!r}")


def java_double(seconds: float) -> str:
    """``seconds`` as Java's ``Double.toString`` writes it (``1.486505154426E9``, ``0.5``)."""
    value = float(seconds)
    text = repr(value)
    if value == 0 or 1e-3 <= abs(value) < 1e7:
        return text if ("." in text or "e" in text) else text + ".0"
    # Scientific form from the shortest round-trip digits (repr's; Java's for every epoch value).
    sign, digits, exponent = Decimal(repr(value)).as_tuple()
    significant = "".join(map(str, digits)).rstrip("0") or "0"
    power = len(digits) + int(exponent) - 1
    return f"{'-' if sign else ''}{significant[0]}.{significant[1:] or '0'}E{power}"


def epoch_fragment(value: datetime) -> orjson.Fragment:
    """A datetime as a raw JSON number fragment in AWS's ``Double.toString`` form."""
    return orjson.Fragment(java_double(value.timestamp()).encode())


def iso8601(value: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SSZ``, the form CloudTrail records use."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso8601_epoch(seconds: float) -> str:
    """Epoch seconds as ``YYYY-MM-DDTHH:MM:SSZ``."""
    return iso8601(datetime.fromtimestamp(seconds, tz=UTC))
