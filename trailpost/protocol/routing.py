"""Which operation a request names: rest-json URI templates, or the json ``X-Amz-Target`` header.

REST routes are matched on the raw path split at ``/`` before any decoding (a percent-encoded ARN
is one segment), preferring templates with more literal segments; labels are decoded afterwards.
Literal query parts of a ``requestUri`` (``/path?versioning``) must be present to match. Templates
that tie are told apart by their required query-string and header members (S3's PutObject vs CopyObject).

Index: a request tries only the routes of its method that can match its number of path segments
(a greedy ``{Key+}`` template matches any number from its own length up) and its first segment
(a template starting with a literal needs that literal), in the same order as a scan of every route
of the method would try them; the routes left out are those the scan would reject on length or on
the first segment, before decoding any label, so the winner, its labels and the errors are the same.
When every segment of the path decodes (no label can raise ``MalformedEncoding``), a candidate's
literal segments and literal query are checked before its labels are read, and only the winner's
labels are decoded; otherwise each candidate's labels are decoded first, as the scan did, so a
malformed path fails the same way. ``tests/protocol/test_routing_index.py`` holds the scan and
compares the two over every template of the served REST models.
"""

from __future__ import annotations

from dataclasses import dataclass
from operator import itemgetter

from botocore.model import OperationModel, ServiceModel

from trailpost.http import HttpRequest, MalformedEncoding, percent_decode
from trailpost.protocol.errors import UnknownOperationException


@dataclass(frozen=True, slots=True)
class _Route:
    operation: OperationModel
    segments: tuple[str, ...]
    labels: tuple[tuple[int, str, bool], ...]  # (segment index, label name, greedy)
    literal_query: tuple[tuple[str, str | None], ...]
    score: tuple[int, int]
    required: tuple[tuple[str, str], ...]  # (querystring|header, wire name) of required members
    label_at: dict[int, tuple[str, bool]]  # segment index -> (label name, greedy)
    greedy: bool  # the last label takes the rest of the path
    # For the index's cheap checks (``RestRouter.match``): the literal segments ``_match_route``
    # compares (those before a greedy label), as an ``itemgetter`` over the path's segments and the
    # value it must give, and the literal query's keys and ``key=value`` parts.
    pick: itemgetter[int | tuple[int, ...]] | None  # generic in the index (or indexes) it picks
    picked: str | tuple[str, ...]
    query_keys: frozenset[str]
    query_values: tuple[tuple[str, str], ...]


def _compile(operation: OperationModel) -> _Route:
    uri = operation.http["requestUri"]
    path, _, query = uri.partition("?")
    segments = tuple(path.strip("/").split("/")) if path.strip("/") else ()
    labels: list[tuple[int, str, bool]] = []
    for index, segment in enumerate(segments):
        if segment.startswith("{") and segment.endswith("}"):
            name = segment[1:-1]
            greedy = name.endswith("+")
            labels.append((index, name.rstrip("+"), greedy))
    label_at = {index: (name, greedy) for index, name, greedy in labels}
    literal_query: list[tuple[str, str | None]] = []
    for part in filter(None, query.split("&")):
        key, eq, value = part.partition("=")
        literal_query.append((key, value if eq else None))
    literals = len(segments) - len(labels)
    greedy_at = next((index for index, _, greedy in labels if greedy), len(segments))
    compared = [(index, segment) for index, segment in enumerate(segments[:greedy_at]) if index not in label_at]
    required = []
    shape = operation.input_shape
    for name in shape.required_members if shape is not None else ():
        location = shape.members[name].serialization.get("location")
        if location in ("querystring", "header"):
            wire = shape.members[name].serialization.get("name", name)
            required.append((location, wire.lower() if location == "header" else wire))
    return _Route(
        operation,
        segments,
        tuple(labels),
        tuple(literal_query),
        (literals + len(literal_query), -len(labels)),
        tuple(required),
        label_at,
        bool(labels and labels[-1][2]),
        itemgetter(*(index for index, _ in compared)) if compared else None,
        tuple(segment for _, segment in compared) if len(compared) != 1 else compared[0][1],
        frozenset(key for key, _ in literal_query),
        tuple((key, value) for key, value in literal_query if value is not None),
    )


def _has_literal_query(route: _Route, request: HttpRequest, query_keys: set[str]) -> bool:
    """Whether the request's query holds every literal query part of the route's ``requestUri``."""
    return route.query_keys <= query_keys and all(
        value in request.query_values(key) for key, value in route.query_values
    )


def _decodes(parts: list[str]) -> bool:
    """Whether every segment percent-decodes; then so does any label made of them (joined by ``/``)."""
    try:
        for part in parts:
            percent_decode(part)
    except MalformedEncoding:
        return False
    return True


class _MethodIndex:
    """The routes of one method by number of path segments and first segment (module docstring).

    ``candidates`` keeps the score order of the full list: the routes it leaves out are exactly those
    ``RestRouter._match_route`` rejects on the segment count or on a literal first segment.
    """

    __slots__ = ("_buckets", "_firsts", "_longest")

    def __init__(self, routes: list[_Route]) -> None:
        self._longest = max((len(route.segments) for route in routes), default=0)
        self._firsts = frozenset(route.segments[0] for route in routes if route.segments and 0 not in route.label_at)
        # Beyond the longest template only greedy templates match, all of them whatever the count.
        self._buckets: dict[tuple[int, str | None], tuple[_Route, ...]] = {
            (count, first): tuple(route for route in routes if _may_match(route, count, first))
            for count in range(self._longest + 2)
            for first in (*self._firsts, None)
        }

    def candidates(self, parts: list[str]) -> tuple[_Route, ...]:
        """The routes that may match a path split into ``parts``, best score first."""
        first = parts[0] if parts and parts[0] in self._firsts else None
        return self._buckets[(min(len(parts), self._longest + 1), first)]


def _may_match(route: _Route, count: int, first: str | None) -> bool:
    """Whether ``route`` passes the segment-count and first-segment checks of ``_match_route`` for a
    path of ``count`` segments whose first is ``first`` (``None``: no template's first literal)."""
    segments = route.segments
    if (count < len(segments)) if route.greedy else (count != len(segments)):
        return False
    return not segments or 0 in route.label_at or segments[0] == first


class RestRouter:
    """Matches ``(method, raw path, query)`` to one operation of a REST-protocol model."""

    def __init__(self, model: ServiceModel) -> None:
        self._routes: dict[str, list[_Route]] = {}
        for name in model.operation_names:
            route = _compile(model.operation_model(name))
            self._routes.setdefault(route.operation.http["method"], []).append(route)
        for routes in self._routes.values():
            routes.sort(key=lambda r: r.score, reverse=True)
        self._index = {method: _MethodIndex(routes) for method, routes in self._routes.items()}

    def match(self, request: HttpRequest) -> tuple[OperationModel, dict[str, str]]:
        """The operation and its decoded URI labels, or ``UnknownOperationException``.

        Among routes matching method, path and literal query, the most specific template wins; templates
        that tie (S3's ``PUT /{Bucket}/{Key+}``) are told apart by their required query and header
        members: the route whose required members are all present, and most of them, wins.
        """
        path = request.raw_path.strip("/")
        parts = path.split("/") if path else []
        query_keys = {k for k, _ in request.query_pairs()} if request.query_string else set()
        index = self._index.get(request.method)
        candidates = index.candidates(parts) if index is not None else ()
        # Unless some label could fail to decode (``MalformedEncoding``), the cheap literal-query check
        # goes first; otherwise every candidate's labels are decoded before its query is looked at,
        # as a plain scan does, so the same error comes out.
        decodes_safely = "%" not in path or _decodes(parts)
        best: tuple[tuple[tuple[int, int], bool, int], _Route, dict[str, str]] | None = None
        for route in candidates:
            if best is not None and route.score < best[1].score:
                break  # sorted by score: nothing later can win
            if decodes_safely:  # the cheap checks first: no label is decoded for a route that fails them
                if route.pick is not None and route.pick(parts) != route.picked:
                    continue
                if route.literal_query and not _has_literal_query(route, request, query_keys):
                    continue
                labels = self._match_route(route, parts, decode=False)  # decoded once it has won
            else:
                labels = self._match_route(route, parts)
                if labels is not None and route.literal_query and not _has_literal_query(route, request, query_keys):
                    continue
            if labels is None:
                continue
            present = all(
                (wire in query_keys) if location == "querystring" else (wire in request.headers)
                for location, wire in route.required
            )
            rank = (route.score, present, len(route.required) if present else 0)
            if best is None or rank > best[0]:
                best = (rank, route, labels)
        if best is None:
            raise UnknownOperationException(f"No operation matches {request.method} {request.raw_path}", status=404)
        labels = best[2]
        if decodes_safely:
            labels = {name: percent_decode(raw) for name, raw in labels.items()}
        return best[1].operation, labels

    @staticmethod
    def _match_route(route: _Route, parts: list[str], *, decode: bool = True) -> dict[str, str] | None:
        """The route's labels in ``parts`` (decoded, or raw with ``decode=False``), or ``None``."""
        segments = route.segments
        if route.greedy:
            if len(parts) < len(segments):
                return None
        elif len(parts) != len(segments):
            return None
        label_at = route.label_at
        labels: dict[str, str] = {}
        for index, segment in enumerate(segments):
            if index in label_at:
                name, is_greedy = label_at[index]
                raw = "/".join(parts[index:]) if is_greedy else parts[index]
                if not raw:
                    return None
                labels[name] = percent_decode(raw) if decode else raw
                if is_greedy:
                    break
            elif parts[index] != segment:
                return None
        return labels


def target_operation(model: ServiceModel, target: str | None) -> OperationModel:
    """The operation named by a json-protocol ``X-Amz-Target`` header."""
    prefix = model.metadata.get("targetPrefix", "")
    if target:
        service_prefix, _, name = target.rpartition(".")
        if service_prefix == prefix and name in model.operation_names:
            return model.operation_model(name)
    raise UnknownOperationException(f"Unrecognized operation {target!r}", status=400)
