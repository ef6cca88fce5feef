"""``requestParameters`` and ``responseElements``: the call's inputs and outputs as AWS records them.

Rendering walks the model shape of the wire value, so that:

* members keep the model's names for Outposts (``SiteId``, as in the seed example) and become
  lowerCamelCase for the other services (``trailName``, ``userName``), as AWS writes them;
* a member whose shape is ``sensitive`` is replaced by ``"***"`` whatever it holds (the seed's
  ``"Address": "***"``), in inputs and outputs alike;
* timestamps read as AWS's Java services print them (``Feb 2, 2024, 10:00:00 AM``);
* binary members (blobs, streaming bodies) are left out.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from botocore.model import Shape

REDACTED = "***"
# Services whose records keep the model's member names; all others use lowerCamelCase.
MODEL_NAMED_SERVICES = frozenset({"outposts"})


def _camel(name: str) -> str:
    return name[:1].lower() + name[1:]


def java_date(value: datetime | float) -> str:
    """``Feb 2, 2024, 10:00:00 AM``: Java's default medium date-time format, in UTC."""
    if not isinstance(value, datetime):
        value = datetime.fromtimestamp(float(value), tz=UTC)
    value = value.astimezone(UTC)
    hour = value.hour % 12 or 12
    half = "AM" if value.hour < 12 else "PM"
    return f"{value:%b} {value.day}, {value.year}, {hour}:{value:%M:%S} {half}"


def render(shape: Shape | None, value: Any, *, keep_names: bool) -> Any:
    """``value`` (wire member names) as a record shows it."""
    if value is None:
        return None
    if shape is None:
        return value
    if shape.metadata.get("sensitive"):
        return REDACTED
    kind = shape.type_name
    if kind == "structure":
        out: dict[str, Any] = {}
        for name, item in value.items():
            member = shape.members.get(name)
            if member is None or item is None or member.type_name == "blob":
                continue
            out[name if keep_names else _camel(name)] = render(member, item, keep_names=keep_names)
        return out
    if kind == "list":
        return [render(shape.member, item, keep_names=keep_names) for item in value]
    if kind == "map":
        return {key: render(shape.value, item, keep_names=keep_names) for key, item in value.items()}
    if kind == "timestamp":
        return java_date(value)
    return value


def request_parameters(service: str, shape: Shape | None, params: dict[str, Any]) -> dict[str, Any] | None:
    """The ``requestParameters`` of a call: ``null`` when the operation takes no input."""
    if shape is None or not params:
        return None
    return render(shape, params, keep_names=service in MODEL_NAMED_SERVICES)


def response_elements(service: str, shape: Shape | None, result: dict[str, Any] | None) -> dict[str, Any] | None:
    """The ``responseElements`` of a successful mutating call; ``null`` when there are none."""
    if shape is None or not result:
        return None
    rendered = render(shape, result, keep_names=service in MODEL_NAMED_SERVICES)
    return rendered or None
