"""Plans compiled once per model shape: how a shape is recognized, and the skeleton of a container plan.

Code that walks a botocore ``Shape`` tree on every call (``naming``, ``serializers``,
``validation``, ``audit.parameters``) compiles, once per shape, a plan its per-call walk follows.
Two things are common to all of them:

* ``shape_key``: botocore builds a new ``Shape`` object each time it resolves a reference, so a
  recursive shape never meets itself by identity. While a plan is compiled, a shape already being
  built is recognized by its name and the traits a member reference can change;
* ``container_plan``: the plan of a structure, list or map is ``[kind, parts]`` (``STRUCT`` with one
  entry per member, ``LIST``/``MAP`` with the plan of the items), registered before its children
  are compiled, so a recursive shape makes a cyclic plan instead of an endless one. What a member's
  entry holds is the caller's (``entries``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.model import Shape

STRUCT, LIST, MAP = 1, 2, 3

Plan = list[Any]
Compile = Callable[[Shape, dict[str, Plan]], Any]


def shape_key(shape: Shape) -> str:
    """What tells two shapes of one model apart: the name and the traits a member reference adds."""
    return repr((shape.name, shape.type_name, shape.serialization, shape.metadata))


def container_plan(
    shape: Shape,
    building: dict[str, Plan],
    child: Compile,
    entries: Callable[[Shape, Callable[[Shape], Any]], tuple[Any, ...]],
) -> Plan | None:
    """``[kind, parts]`` of a structure, list or map shape (``None`` for any other): ``entries(shape,
    plan_of)`` gives a structure's member entries, ``child`` compiles the plans of members and items;
    ``building`` holds the plans being compiled, by ``shape_key``."""
    kind = shape.type_name
    if kind not in ("structure", "list", "map"):
        return None
    key = shape_key(shape)
    plan = building.get(key)
    if plan is not None:
        return plan
    plan = building[key] = [None, None]
    if kind == "structure":
        plan[0], plan[1] = STRUCT, entries(shape, lambda member: child(member, building))
    elif kind == "list":
        plan[0], plan[1] = LIST, child(shape.member, building)
    else:
        plan[0], plan[1] = MAP, child(shape.value, building)
    return plan
