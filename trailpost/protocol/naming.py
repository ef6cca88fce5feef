"""Wire names <-> internal names, driven by the shapes.

Providers see and return snake_case dicts (``site_id``, ``operating_address``); the wire uses the
model's member names (``SiteId``). The conversion walks the shape, so nested structures, lists and
maps convert exactly, map keys (tag keys) are left alone, and members a shape does not declare
are dropped on the way out (internal bookkeeping never leaks to the wire).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from botocore import xform_name
from botocore.model import Shape


@lru_cache(maxsize=8192)
def snake(name: str) -> str:
    """``OutpostIdentifier`` -> ``outpost_identifier`` (botocore's own rule)."""
    return xform_name(name)


def to_internal(shape: Shape | None, value: Any) -> Any:
    """A parsed wire value as the provider sees it."""
    if shape is None or value is None:
        return value
    kind = shape.type_name
    if kind == "structure":
        members = shape.members
        return {snake(name): to_internal(members.get(name), item) for name, item in value.items() if name in members}
    if kind == "list":
        return [to_internal(shape.member, item) for item in value]
    if kind == "map":
        return {key: to_internal(shape.value, item) for key, item in value.items()}
    return value


def to_wire(shape: Shape | None, value: Any) -> Any:
    """A provider value with the model's member names; undeclared members are dropped."""
    if shape is None or value is None:
        return value
    kind = shape.type_name
    if kind == "structure":
        out = {}
        for name, member in shape.members.items():
            item = value.get(snake(name))
            if item is None:
                item = value.get(name)
            if item is not None:
                out[name] = to_wire(member, item)
        return out
    if kind == "list":
        return [to_wire(shape.member, item) for item in value]
    if kind == "map":
        return {key: to_wire(shape.value, item) for key, item in value.items()}
    return value
