"""Wire names <-> internal names, driven by the shapes.

Providers see and return snake_case dicts (``site_id``, ``operating_address``); the wire uses the
model's member names (``SiteId``). The conversion walks the shape, so nested structures, lists and
maps convert exactly, map keys (tag keys) are left alone, and members a shape does not declare
are dropped on the way out (internal bookkeeping never leaks to the wire).

Every call converts its input and its output, so the walk is planned once per shape: a plan holds,
per structure member, its wire name, its snake_case name and the plan of its value (``None`` for
scalars, which are passed through without a call). On the way out, a structure's walk visits the
members a value has (``plans.Members``), not every member the model declares. Plans are cached for
the life of the process by shape identity (models are loaded once and kept); while one is compiled,
a shape met again inside itself (told apart by ``plans.shape_key``: botocore makes a new object for
every reference) shares the plan being built, so recursive shapes work.

A handler whose output is large and already shaped for the wire (LookupEvents' page of events) may
return a ``WireResult``: model member names, model order, no ``None`` members; ``to_wire`` passes
it through untouched.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from botocore import xform_name
from botocore.model import Shape

from trailpost.protocol.plans import LIST as _LIST
from trailpost.protocol.plans import STRUCT as _STRUCT
from trailpost.protocol.plans import Members, container_plan

# id(shape) -> (shape, plan): the shape is kept so its id can never be reused by another object.
_PLANS: dict[int, tuple[Shape, list[Any] | None]] = {}


class WireResult(dict[str, Any]):
    """A result already in wire form (see the module docstring); ``to_wire`` returns it as it is."""


@lru_cache(maxsize=8192)
def snake(name: str) -> str:
    """``OutpostIdentifier`` -> ``outpost_identifier`` (botocore's own rule)."""
    return xform_name(name)


def _plan(shape: Shape) -> list[Any] | None:
    """``[kind, parts]`` for containers, ``None`` for scalars (cached; see the module docstring)."""
    cached = _PLANS.get(id(shape))
    if cached is not None:
        return cached[1]
    plan = _compile(shape, {})
    _PLANS[id(shape)] = (shape, plan)
    return plan


def _compile(shape: Shape, building: dict[str, list[Any]]) -> list[Any] | None:
    """The plan of ``shape``: per structure member, its wire name, its snake_case name and its plan."""
    return container_plan(shape, building, _compile, _members)


def _members(shape: Shape, plan_of: Callable[[Shape], Any]) -> Members:
    """Per member: its wire name, read from a provider's snake_case key first, then its wire name."""
    return Members(
        tuple(
            (name, (snake(name), name) if snake(name) != name else (name,), plan_of(member))
            for name, member in shape.members.items()
        )
    )


def to_internal(shape: Shape | None, value: Any) -> Any:
    """A parsed wire value as the provider sees it."""
    if shape is None or value is None:
        return value
    plan = _plan(shape)
    return value if plan is None else _internal(plan, value)


def _internal(plan: list[Any], value: Any) -> Any:
    kind, parts = plan
    if kind == _STRUCT:
        out = {}
        for name, sources, child in parts.entries:
            if name in value:
                item = value[name]
                out[sources[0]] = item if child is None or item is None else _internal(child, item)
        return out
    if kind == _LIST:
        return list(value) if parts is None else [None if item is None else _internal(parts, item) for item in value]
    if parts is None:
        return dict(value)
    return {key: None if item is None else _internal(parts, item) for key, item in value.items()}


def to_wire(shape: Shape | None, value: Any) -> Any:
    """A provider value with the model's member names; undeclared members are dropped."""
    if shape is None or value is None or type(value) is WireResult:
        return value
    plan = _plan(shape)
    return value if plan is None else _wire(plan, value)


def _wire(plan: list[Any], value: Any) -> Any:
    kind, parts = plan
    if kind == _STRUCT:
        out = {}
        for name, child, key, fallback in parts.steps(value):
            item = value[key]
            if item is None and fallback is not None:
                item = value[fallback]
            if item is not None:
                out[name] = item if child is None else _wire(child, item)
        return out
    if kind == _LIST:
        return list(value) if parts is None else [None if item is None else _wire(parts, item) for item in value]
    if parts is None:
        return dict(value)
    return {key: None if item is None else _wire(parts, item) for key, item in value.items()}
