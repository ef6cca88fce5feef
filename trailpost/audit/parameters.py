"""``requestParameters`` and ``responseElements``: the call's inputs and outputs as AWS records them.

Rendering walks the model shape of the wire value, so that:

* members keep the model's names for Outposts (``SiteId``, as in the seed example) and become
  lowerCamelCase for the other services (``trailName``, ``userName``), as AWS writes them;
* a member whose shape is ``sensitive`` is replaced by ``"***"`` whatever it holds (the seed's
  ``"Address": "***"``), in inputs and outputs alike - or left out, for the services whose records
  omit secrets (IAM, STS: ``redaction``);
* timestamps read as AWS's Java services print them (``Feb 2, 2024, 10:00:00 AM``; IAM without
  the comma after the year: ``redaction.date_text``);
* binary members (blobs, streaming bodies) are left out, and so is any value whose JSON type is
  not the one its shape declares (a call refused for that records no ``requestParameters`` at
  all, see ``record``; this keeps rendering total whatever a handler or client produced).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from botocore.model import Shape

from trailpost.audit import redaction
from trailpost.protocol.timestamps import parse_timestamp

REDACTED = "***"
# A value whose JSON type is not the one its shape declares is left out of the record.
_MISMATCH = object()
_PYTHON_TYPES: dict[str, type | tuple[type, ...]] = {
    "structure": dict,
    "map": dict,
    "list": list,
    "string": str,
    "boolean": bool,
    "integer": int,
    "long": int,
    "float": (int, float),
    "double": (int, float),
    "timestamp": (int, float, str, datetime),
}
# Services whose records keep the model's member names; all others use lowerCamelCase.
MODEL_NAMED_SERVICES = frozenset({"outposts"})


def _camel(name: str) -> str:
    return name[:1].lower() + name[1:]


def java_date(value: datetime | float) -> str:
    """``Feb 2, 2024, 10:00:00 AM``: Java's default medium date-time format, in UTC."""
    if not isinstance(value, datetime):
        value = parse_timestamp(value)
    value = value.astimezone(UTC)
    hour = value.hour % 12 or 12
    half = "AM" if value.hour < 12 else "PM"
    return f"{value:%b} {value.day}, {value.year}, {hour}:{value:%M:%S} {half}"


def render(shape: Shape | None, value: Any, *, keep_names: bool, service: str = "") -> Any:
    """``value`` (wire member names) as ``service``'s records show it (``redaction``: secrets, dates)."""
    if value is None or shape is None:
        return value
    if shape.metadata.get("sensitive"):
        return REDACTED if redaction.masks_secrets(service) else _MISMATCH
    kind = shape.type_name
    if not isinstance(value, _PYTHON_TYPES.get(kind, object)):
        return _MISMATCH
    if kind == "structure":
        out: dict[str, Any] = {}
        for name, item in value.items():
            member = shape.members.get(name)
            if member is None or item is None or member.type_name == "blob":
                continue
            rendered = render(member, item, keep_names=keep_names, service=service)
            if rendered is not _MISMATCH:
                out[name if keep_names else _camel(name)] = rendered
        return out
    if kind == "list":
        items = (render(shape.member, item, keep_names=keep_names, service=service) for item in value)
        return [item for item in items if item is not _MISMATCH]
    if kind == "map":
        entries = (
            (key, render(shape.value, item, keep_names=keep_names, service=service)) for key, item in value.items()
        )
        return {key: item for key, item in entries if item is not _MISMATCH}
    if kind == "timestamp":
        try:
            return redaction.date_text(service, value) if service else java_date(value)
        except (TypeError, ValueError, OverflowError, OSError):
            return _MISMATCH
    return value


def request_parameters(service: str, shape: Shape | None, params: dict[str, Any]) -> dict[str, Any] | None:
    """The ``requestParameters`` of a call: ``null`` when the operation takes no input or none was sent."""
    if shape is None or not params:
        return None
    rendered = render(shape, params, keep_names=service in MODEL_NAMED_SERVICES, service=service)
    return rendered if isinstance(rendered, dict) and rendered else None


def response_elements(service: str, shape: Shape | None, result: dict[str, Any] | None) -> dict[str, Any] | None:
    """The ``responseElements`` of a successful mutating call; ``null`` when there are none."""
    if shape is None or not result:
        return None
    rendered = render(shape, result, keep_names=service in MODEL_NAMED_SERVICES, service=service)
    return rendered if isinstance(rendered, dict) and rendered else None
