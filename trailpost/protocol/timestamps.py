"""Timestamps on the wire: parsing what clients send and writing what AWS writes.

AWS's Java services write JSON timestamps as ``Double.toString`` of epoch seconds
(``1.486505154426E9``); botocore reads that, plain numbers and ISO-8601 strings alike.
"""

from __future__ import annotations

from datetime import UTC, datetime

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
    # Scientific form from the shortest round-trip digits (repr's; Java's for every epoch value),
    # read off repr's text: ``1763978400.123``, ``1e+16``, ``0.000123``, ``1.5e-07``.
    sign = "-" if text[0] == "-" else ""
    mantissa, _, exponent = text.lstrip("-").partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = whole + fraction
    significant = digits.lstrip("0")
    power = (int(exponent) if exponent else 0) + len(whole) - 1 - (len(digits) - len(significant))
    significant = significant.rstrip("0") or "0"
    return f"{sign}{significant[0]}.{significant[1:] or '0'}E{power}"


def whole_seconds_double(seconds: float) -> str:
    """``java_double`` for whole epoch seconds >= 1e7, without ``Decimal`` (``1795488796`` -> ``1.795488796E9``)."""
    if seconds >= 1e7 and seconds < 1e16 and float(seconds).is_integer():
        text = str(int(seconds))
        return f"{text[0]}.{text[1:].rstrip('0') or '0'}E{len(text) - 1}"
    return java_double(seconds)


def epoch_fragment(value: datetime) -> orjson.Fragment:
    """A datetime as a raw JSON number fragment in AWS's ``Double.toString`` form."""
    return orjson.Fragment(java_double(value.timestamp()).encode())


def iso8601(value: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SSZ``, the form CloudTrail records use."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso8601_epoch(seconds: float) -> str:
    """Epoch seconds as ``YYYY-MM-DDTHH:MM:SSZ``."""
    return iso8601(datetime.fromtimestamp(seconds, tz=UTC))
