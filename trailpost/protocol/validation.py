"""Server-side validation of every model constraint, reported in AWS's wording.

botocore checks only required members, types and minimums on the client, so the server must
enforce the rest: maximum lengths and values, patterns and enums. Violations are gathered in one
pass and reported as AWS's Coral services word them::

    2 validation errors detected: Value 'x' at 'name' failed to satisfy constraint: Member must
    have length less than or equal to 1; Value null at 'siteId' failed to satisfy constraint:
    Member must not be null

Member paths are lowerCamelCase (``operatingAddress.city``, ``lineItems.1.member.quantity``) and
values of ``sensitive`` shapes are never echoed. Type mismatches raise ``SerializationException``
(the body could not be read as the model's types), as AWS's JSON protocols do.

Patterns are searched, as Smithy specifies, except for the query services (IAM, STS), whose
Coral front ends match them against the whole value (``full_match``): STS refuses
``Session1:2`` for ``[\\w+=,.@-]*``, which a search would accept. Model patterns are Java
regexes: ``compile_pattern`` anchors ``$`` at the very end and translates
what Python's ``re`` lacks (UTF-16 surrogate-pair escapes, ``\\p{L}`` Unicode categories).

Every request is validated, and nearly every request is valid, so validation runs in two passes.
The first asks only whether the input breaks any constraint, with a check compiled once per shape
(cached per shape object and ``full_match``): a tree of small closures holding each shape's limits,
its compiled pattern's ``search`` or ``fullmatch`` and its enum values (reduced at compile time to
those that also satisfy the length and pattern, so an enum member is one set lookup); it stops at
the first violation and builds no paths or messages. Only input it refuses is walked again by
``_walk``, which reads the shapes and writes every message with its path, in model order, as
before: the wording and order of the messages rest on that one walk alone. The check is sound by
construction (it accepts nothing ``_walk`` would report or raise for); it may refuse values
``_walk`` accepts (a NaN, a ``str`` subclass), which then simply take the full walk. botocore
builds a new ``Shape`` each time it resolves a reference, so while a check is compiled shapes are
told apart by name and traits, and a recursive shape calls the check being built.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from collections.abc import Callable
from datetime import datetime
from functools import lru_cache
from math import inf
from typing import Any

from botocore.model import Shape

from trailpost.protocol.errors import SerializationException, ServiceError, ValidationException
from trailpost.protocol.plans import shape_key

MAX_REPORTED = 10


_SURROGATE_PAIR = re.compile(r"\\u(d[89ab][0-9a-f]{2})\\u(d[c-f][0-9a-f]{2})", re.IGNORECASE)
_PROPERTY = re.compile(r"\\([pP])\{(\w+)\}")


@lru_cache(maxsize=4096)
def compile_pattern(pattern: str) -> re.Pattern[str]:
    """A model pattern (Java/ECMA syntax) as a Python regex with the same meaning."""
    # Smithy patterns are ECMA-262 searches; Python's ``$`` also matches before a final newline.
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        pattern = pattern[:-1] + r"\Z"
    # Java writes astral characters as UTF-16 surrogate pairs (``\uD800\uDC00`` is U+10000).
    pattern = _SURROGATE_PAIR.sub(
        lambda m: f"\\U{0x10000 + ((int(m[1], 16) - 0xD800) << 10) + int(m[2], 16) - 0xDC00:08X}", pattern
    )
    return re.compile(_unicode_properties(pattern))


def _unicode_properties(pattern: str) -> str:
    """Replace ``\\p{L}`` / ``\\P{L}`` (Unicode general categories, unknown to ``re``) by explicit ranges."""
    if "\\p{" not in pattern and "\\P{" not in pattern:
        return pattern
    out: list[str] = []
    index, in_class = 0, False
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            prop = _PROPERTY.match(pattern, index)
            if prop and (prop[1] == "p" or not in_class):
                ranges = _category_ranges(prop[2])
                out.append(ranges if in_class else f"[{'^' if prop[1] == 'P' else ''}{ranges}]")
                index = prop.end()
            else:
                out.append(pattern[index : index + 2])
                index += 2
            continue
        if char == "[":
            in_class = True
        elif char == "]":
            in_class = False
        out.append(char)
        index += 1
    return "".join(out)


@lru_cache(maxsize=16)
def _category_ranges(category: str) -> str:
    """Character-class ranges of every code point whose general category starts with ``category``."""
    ranges: list[tuple[int, int]] = []
    for code in range(sys.maxunicode + 1):
        if unicodedata.category(chr(code)).startswith(category):
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1] = (ranges[-1][0], code)
            else:
                ranges.append((code, code))
    return "".join(f"\\U{low:08X}" if low == high else f"\\U{low:08X}-\\U{high:08X}" for low, high in ranges)


def _camel(name: str) -> str:
    return name[:1].lower() + name[1:]


def _show(value: Any, sensitive: bool) -> str:
    if sensitive:
        return "Value"
    if value is None:
        return "Value null"
    if isinstance(value, bool):
        return f"Value '{str(value).lower()}'"
    if isinstance(value, (list, dict)):
        return f"Value '{_render(value)}'"
    return f"Value '{value}'"


def _render(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_render(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={_render(v)}" for k, v in value.items()) + "}"
    return str(value)


class _Collector:
    def __init__(self, full_match: bool = False) -> None:
        self.messages: list[str] = []
        self.full_match = full_match  # query services (IAM, STS) match patterns against the whole value

    def add(self, value: Any, path: str, constraint: str, sensitive: bool) -> None:
        self.messages.append(f"{_show(value, sensitive)} at '{path}' failed to satisfy constraint: {constraint}")


def _type_error(path: str, expected: str, value: Any) -> ServiceError:
    return SerializationException(
        f"Unexpected value type for '{path}': expected {expected}, got {type(value).__name__}"
    )


def _check_length(shape: Shape, value: Any, size: int, path: str, out: _Collector, sens: bool) -> None:
    meta = shape.metadata
    if "min" in meta and size < meta["min"]:
        out.add(value, path, f"Member must have length greater than or equal to {meta['min']}", sens)
    if "max" in meta and size > meta["max"]:
        out.add(value, path, f"Member must have length less than or equal to {meta['max']}", sens)


def _walk(shape: Shape, value: Any, path: str, out: _Collector, sensitive: bool) -> None:
    sens = sensitive or bool(shape.metadata.get("sensitive"))
    kind = shape.type_name
    meta = shape.metadata
    if kind == "structure":
        if not isinstance(value, dict):
            raise _type_error(path, "object", value)
        for required in meta.get("required", ()):
            if value.get(required) is None:
                out.add(None, _join(path, _camel(required)), "Member must not be null", False)
        for name, member in shape.members.items():
            if name in value and value[name] is not None:
                _walk(member, value[name], _join(path, _camel(name)), out, sens)
    elif kind == "list":
        if not isinstance(value, list):
            raise _type_error(path, "array", value)
        _check_length(shape, value, len(value), path, out, sens)
        for index, item in enumerate(value, start=1):
            if item is None:
                continue
            _walk(shape.member, item, f"{path}.{index}.member", out, sens)
    elif kind == "map":
        if not isinstance(value, dict):
            raise _type_error(path, "object", value)
        _check_length(shape, value, len(value), path, out, sens)
        keys, values = _Collector(out.full_match), _Collector(out.full_match)
        for key, item in value.items():
            _walk(shape.key, key, path, keys, sens)
            if item is not None:
                _walk(shape.value, item, path, values, sens)
        for label, sub in (("Map keys", keys), ("Map value", values)):
            if sub.messages:
                constraints = sorted({m.split("failed to satisfy constraint: ", 1)[1] for m in sub.messages})
                out.add(value, path, f"{label} must satisfy constraint: [{', '.join(constraints)}]", sens)
    elif kind == "string":
        if not isinstance(value, str):
            raise _type_error(path, "string", value)
        _check_length(shape, value, len(value), path, out, sens)
        if "pattern" in meta and not _matches(meta["pattern"], value, out.full_match):
            out.add(value, path, f"Member must satisfy regular expression pattern: {meta['pattern']}", sens)
        if shape.enum and value not in shape.enum:
            out.add(value, path, f"Member must satisfy enum value set: [{', '.join(shape.enum)}]", sens)
    elif kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            raise _type_error(path, "integer", value)
        _check_range(meta, value, path, out, sens)
    elif kind in ("float", "double"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _type_error(path, "number", value)
        _check_range(meta, value, path, out, sens)
    elif kind == "boolean":
        if not isinstance(value, bool):
            raise _type_error(path, "boolean", value)
    elif kind == "timestamp" and not isinstance(value, datetime):
        raise _type_error(path, "timestamp", value)
    elif kind == "blob" and not isinstance(value, (bytes, bytearray)):
        raise _type_error(path, "blob", value)


def _matches(pattern: str, value: str, full_match: bool) -> bool:
    compiled = compile_pattern(pattern)
    return bool(compiled.fullmatch(value) if full_match else compiled.search(value))


def _check_range(meta: dict[str, Any], value: float, path: str, out: _Collector, sens: bool) -> None:
    if "min" in meta and value < meta["min"]:
        out.add(value, path, f"Member must have value greater than or equal to {meta['min']}", sens)
    if "max" in meta and value > meta["max"]:
        out.add(value, path, f"Member must have value less than or equal to {meta['max']}", sens)


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


Check = Callable[[Any], bool]


@lru_cache(maxsize=4096)
def _check(shape: Shape, full_match: bool) -> Check:
    """Whether a value satisfies every constraint of ``shape`` (cached; see the module docstring)."""
    return _compile(shape, full_match, {})


def _compile(shape: Shape, full_match: bool, building: dict[str, Check]) -> Check:
    kind = shape.type_name
    meta = shape.metadata
    if kind == "string":
        return _string_check(meta, shape.enum, full_match)
    if kind in ("integer", "long"):
        return _number_check(meta, int)
    if kind in ("float", "double"):
        return _number_check(meta, float)
    if kind == "boolean":
        return _is_boolean
    if kind == "timestamp":
        return _is_timestamp
    if kind == "blob":
        return _is_blob
    if kind not in ("structure", "list", "map"):
        return _anything
    key = shape_key(shape)
    if key in building:
        return building[key]
    built: list[Check] = []
    building[key] = lambda value: built[0](value)  # a recursive shape meets itself: the check being built
    if kind == "structure":
        check = _structure_check(
            tuple(meta.get("required", ())),
            tuple((name, _compile(member, full_match, building)) for name, member in shape.members.items()),
        )
    elif kind == "list":
        check = _list_check(meta, _compile(shape.member, full_match, building))
    else:
        check = _map_check(meta, _compile(shape.key, full_match, building), _compile(shape.value, full_match, building))
    built.append(check)
    building[key] = check
    return check


def _structure_check(required: tuple[str, ...], members: tuple[tuple[str, Check], ...]) -> Check:
    def check(value: Any) -> bool:
        if not isinstance(value, dict):
            return False
        get = value.get
        for name in required:
            if get(name) is None:
                return False
        for name, member in members:
            item = get(name)
            if item is not None and not member(item):
                return False
        return True

    return check


def _list_check(meta: dict[str, Any], member: Check) -> Check:
    low, high = meta.get("min", 0), meta.get("max", inf)

    def check(value: Any) -> bool:
        if not isinstance(value, list) or not low <= len(value) <= high:
            return False
        return all(item is None or member(item) for item in value)

    return check


def _map_check(meta: dict[str, Any], key: Check, item: Check) -> Check:
    low, high = meta.get("min", 0), meta.get("max", inf)

    def check(value: Any) -> bool:
        if not isinstance(value, dict) or not low <= len(value) <= high:
            return False
        return all(key(k) and (v is None or item(v)) for k, v in value.items())

    return check


def _string_check(meta: dict[str, Any], enum: list[str], full_match: bool) -> Check:
    low, high = meta.get("min", 0), meta.get("max", inf)
    match = None
    if "pattern" in meta:
        compiled = compile_pattern(meta["pattern"])
        match = compiled.fullmatch if full_match else compiled.search
    if enum:
        # Only the enum values that satisfy the other constraints are valid: one set lookup.
        allowed = frozenset(v for v in enum if low <= len(v) <= high and (match is None or match(v) is not None))
        return lambda value: type(value) is str and value in allowed
    if match is None:
        return lambda value: type(value) is str and low <= len(value) <= high
    return lambda value: type(value) is str and low <= len(value) <= high and match(value) is not None


def _number_check(meta: dict[str, Any], kind: type) -> Check:
    low, high = meta.get("min", -inf), meta.get("max", inf)
    if kind is int:  # booleans are ints to Python, not to the model
        return lambda value: type(value) is int and low <= value <= high
    return lambda value: (type(value) is float or type(value) is int) and low <= value <= high


def _is_boolean(value: Any) -> bool:
    return type(value) is bool


def _is_timestamp(value: Any) -> bool:
    return isinstance(value, datetime)


def _is_blob(value: Any) -> bool:
    return isinstance(value, (bytes, bytearray))


def _anything(value: Any) -> bool:
    return True


def validation_messages(shape: Shape | None, params: dict[str, Any], *, full_match: bool = False) -> list[str]:
    """Every constraint ``params`` (wire member names) violates, in AWS's wording (``full_match``:
    patterns must match whole values, as the query services IAM and STS apply them)."""
    if shape is None or _check(shape, full_match)(params):
        return []
    out = _Collector(full_match)
    _walk(shape, params, "", out, False)
    return out.messages


def validate_input(shape: Shape | None, params: dict[str, Any], *, full_match: bool = False) -> None:
    """Raise ``ValidationException`` naming each violated constraint, or return."""
    messages = validation_messages(shape, params, full_match=full_match)
    if messages:
        count = len(messages)
        noun = "error" if count == 1 else "errors"
        shown = "; ".join(messages[:MAX_REPORTED])
        raise ValidationException(f"{count} validation {noun} detected: {shown}")
