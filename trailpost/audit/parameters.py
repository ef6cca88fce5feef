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

Every call renders its input (and a mutating call its output), so the walk is planned once per
shape, names and service, as ``naming`` plans its conversions: a plan node is ``[kind, JSON type,
parts]``; a structure's parts map each member the record may show (not blobs) to its recorded name
and plan, a sensitive shape's node holds what the record shows instead (``"***"``, or nothing) and
a timestamp's the date formatter of the service. Plans are cached per shape object; botocore builds
a new ``Shape`` each time it resolves a reference, so while a plan is compiled shapes are told
apart by name and traits and a recursive shape reuses the plan being built.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache, partial
from typing import Any

from botocore.model import Shape

from trailpost.audit import redaction
from trailpost.protocol.plans import shape_key
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
# Plan kinds (see the module docstring).
_PLAIN, _SECRET, _DATE, _STRUCT, _LIST, _MAP = 0, 1, 2, 3, 4, 5
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
    return _render(_plan(shape, keep_names, service), value)


@lru_cache(maxsize=4096)
def _plan(shape: Shape, keep_names: bool, service: str) -> list[Any]:
    """The plan of ``shape``'s rendering for ``service`` (cached; see the module docstring)."""
    secret = REDACTED if redaction.masks_secrets(service) else _MISMATCH
    date = partial(redaction.date_text, service) if service else java_date
    return _compile(shape, keep_names, secret, date, {})


def _compile(
    shape: Shape, keep_names: bool, secret: Any, date: Callable[[Any], str], building: dict[str, list[Any]]
) -> list[Any]:
    if shape.metadata.get("sensitive"):
        return [_SECRET, None, secret]
    kind = shape.type_name
    types = _PYTHON_TYPES.get(kind, object)
    if kind == "timestamp":
        return [_DATE, types, date]
    if kind not in ("structure", "list", "map"):
        return [_PLAIN, types, None]
    key = shape_key(shape)
    plan = building.get(key)
    if plan is not None:
        return plan
    plan = building[key] = [None, types, None]
    if kind == "structure":
        plan[0] = _STRUCT
        plan[2] = {
            name: (name if keep_names else _camel(name), _compile(member, keep_names, secret, date, building))
            for name, member in shape.members.items()
            if member.type_name != "blob"
        }
    elif kind == "list":
        plan[0], plan[2] = _LIST, _compile(shape.member, keep_names, secret, date, building)
    else:
        plan[0], plan[2] = _MAP, _compile(shape.value, keep_names, secret, date, building)
    return plan


def _render(plan: list[Any], value: Any) -> Any:
    kind, types, parts = plan
    if kind == _SECRET:
        return parts
    if not isinstance(value, types):
        return _MISMATCH
    if kind == _STRUCT:
        out: dict[str, Any] = {}
        for name, item in value.items():
            member = parts.get(name)
            if member is None or item is None:
                continue
            out_name, child = member
            if child[0] == _PLAIN:
                if isinstance(item, child[1]):
                    out[out_name] = item
                continue
            rendered = _render(child, item)
            if rendered is not _MISMATCH:
                out[out_name] = rendered
        return out
    if kind == _LIST:
        if parts[0] == _PLAIN:
            child_types = parts[1]
            return [item for item in value if item is None or isinstance(item, child_types)]
        items = (None if item is None else _render(parts, item) for item in value)
        return [item for item in items if item is not _MISMATCH]
    if kind == _MAP:
        if parts[0] == _PLAIN:
            child_types = parts[1]
            return {key: item for key, item in value.items() if item is None or isinstance(item, child_types)}
        entries = ((key, None if item is None else _render(parts, item)) for key, item in value.items())
        return {key: item for key, item in entries if item is not _MISMATCH}
    if kind == _DATE:
        try:
            return parts(value)
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
