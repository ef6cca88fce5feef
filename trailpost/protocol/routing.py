"""Which operation a request names: rest-json URI templates, or the json ``X-Amz-Target`` header.

REST routes are matched on the raw path split at ``/`` before any decoding (a percent-encoded ARN
is one segment), preferring templates with more literal segments; labels are decoded afterwards.
Literal query parts of a ``requestUri`` (``/path?versioning``) must be present to match. Templates
that tie are told apart by their required query-string and header members (S3's PutObject vs CopyObject).
"""

from __future__ import annotations

from dataclasses import dataclass

from botocore.model import OperationModel, ServiceModel

from trailpost.http import HttpRequest, percent_decode
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


def _compile(operation: OperationModel) -> _Route:
    uri = operation.http["requestUri"]
    path, _, query = uri.partition("?")
    segments = tuple(path.strip("/").split("/")) if path.strip("/") else ()
    labels = []
    for index, segment in enumerate(segments):
        if segment.startswith("{") and segment.endswith("}"):
            name = segment[1:-1]
            greedy = name.endswith("+")
            labels.append((index, name.rstrip("+"), greedy))
    literal_query: list[tuple[str, str | None]] = []
    for part in filter(None, query.split("&")):
        key, eq, value = part.partition("=")
        literal_query.append((key, value if eq else None))
    literals = len(segments) - len(labels)
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
        {index: (name, greedy) for index, name, greedy in labels},
        bool(labels and labels[-1][2]),
    )


class RestRouter:
    """Matches ``(method, raw path, query)`` to one operation of a REST-protocol model."""

    def __init__(self, model: ServiceModel) -> None:
        self._routes: dict[str, list[_Route]] = {}
        for name in model.operation_names:
            route = _compile(model.operation_model(name))
            self._routes.setdefault(route.operation.http["method"], []).append(route)
        for routes in self._routes.values():
            routes.sort(key=lambda r: r.score, reverse=True)

    def match(self, request: HttpRequest) -> tuple[OperationModel, dict[str, str]]:
        """The operation and its decoded URI labels, or ``UnknownOperationException``.

        Among routes matching method, path and literal query, the most specific template wins; templates
        that tie (S3's ``PUT /{Bucket}/{Key+}``) are told apart by their required query and header
        members: the route whose required members are all present, and most of them, wins.
        """
        path = request.raw_path.strip("/")
        parts = path.split("/") if path else []
        query_keys = {k for k, _ in request.query_pairs()} if request.query_string else set()
        best: tuple[tuple[tuple[int, int], bool, int], _Route, dict[str, str]] | None = None
        for route in self._routes.get(request.method, ()):
            if best is not None and route.score < best[1].score:
                break  # sorted by score: nothing later can win
            labels = self._match_route(route, parts)
            if labels is None:
                continue
            if any(
                key not in query_keys or (value is not None and value not in request.query_values(key))
                for key, value in route.literal_query
            ):
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
        return best[1].operation, best[2]

    @staticmethod
    def _match_route(route: _Route, parts: list[str]) -> dict[str, str] | None:
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
                labels[name] = percent_decode(raw)
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
