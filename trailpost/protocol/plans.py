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
  entry holds is the caller's (``entries``);
* ``Members``: the member entries of a structure that a per-call walk visits by the keys a value
  has rather than by every member of the model. A response structure declares many members and a
  value often carries a few of them (a Site declares 11 members and its rack properties 9), and the
  keys a provider's dicts have repeat from call to call: the members a tuple of keys selects are
  worked out once per tuple, in model order, and reused.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
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
    entries: Callable[[Shape, Callable[[Shape], Any]], Members],
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


# A value whose keys vary without end (a provider building dicts from user input) must not grow a
# structure's table of key tuples for ever: past this many, the table starts over.
_STEPS_MAX = 256


class Members:
    """A structure's member entries, and per tuple of keys a value has, the steps of its walk.

    An entry is ``(out_name, sources, child)``: the name the walk writes, the keys it reads the
    member from (the first that holds a value other than ``None`` wins; one or two of them) and the
    member's plan. ``steps(value)`` gives, in model order, ``(out_name, child, key, fallback)`` for
    each member one of whose sources ``value`` has, ``fallback`` being the second source it has (or
    ``None``); members ``value`` lacks and keys the model does not declare have no step.
    """

    __slots__ = ("_steps", "entries")

    def __init__(self, entries: tuple[tuple[str, tuple[str, ...], Any], ...]) -> None:
        self.entries = entries
        self._steps: dict[tuple[str, ...], tuple[tuple[str, Any, str, str | None], ...]] = {}

    def steps(self, value: Mapping[str, Any]) -> tuple[tuple[str, Any, str, str | None], ...]:
        """The steps of ``value``'s walk (see the class docstring), worked out once per tuple of keys;
        ``TypeError`` if ``value`` is not a mapping (a corrupt stored document, say: never an empty answer)."""
        if type(value) is not dict and not isinstance(value, Mapping):
            raise TypeError(f"a structure's value must be a mapping, not {type(value).__name__}")
        keys = tuple(value)
        found = self._steps.get(keys)
        if found is None:
            if len(self._steps) >= _STEPS_MAX:
                self._steps.clear()
            present = set(keys)
            built = []
            for out_name, sources, child in self.entries:
                have = [key for key in sources if key in present]
                if have:
                    built.append((out_name, child, have[0], have[1] if len(have) > 1 else None))
            found = self._steps[keys] = tuple(built)
        return found
