"""The indexed ``RestRouter`` against a plain scan of every route, over every served REST model.

``LinearRouter`` keeps the router as it was before its index: every route of the method, best score
first, each route's labels decoded before its literal query is looked at. Both routers must give the
same operation and labels, or the same error (type and message), for paths built from every
``requestUri`` of Outposts, CloudTrail and S3 (through ``S3Router``): labels filled with plain,
percent-encoded, empty, malformed and slash-holding values, the literal segments of other templates,
one segment more or less, with and without literal and required query parts and headers.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from botocore.model import OperationModel, ServiceModel

from trailpost.http import HttpRequest
from trailpost.protocol.errors import UnknownOperationException
from trailpost.protocol.routing import RestRouter, _Route
from trailpost.protocol.specs import load_service_model
from trailpost.services.s3.routing import S3Router

MODELS = {name: load_service_model(name) for name in ("outposts", "cloudtrail", "s3")}
FILLINGS = ("v1", "os-0123", "a%20b", "a%2Fb", "sites", "%ZZ", "%C3", "k/e/y", "dir/", "", "%E2%82%AC")
EXTRA_METHODS = ("OPTIONS",)
MIN_CHECKED = {
    "outposts": 10_000,
    "cloudtrail": 40,
    "s3": 10_000,
    "s3-generic": 10_000,
}  # CloudTrail (json): every route is POST /


class LinearRouter(RestRouter):
    """The router without its index: the scan every request made before (the reference)."""

    def match(self, request: HttpRequest) -> tuple[OperationModel, dict[str, str]]:
        path = request.raw_path.strip("/")
        parts = path.split("/") if path else []
        query_keys = {k for k, _ in request.query_pairs()} if request.query_string else set()
        best: tuple[tuple[tuple[int, int], bool, int], _Route, dict[str, str]] | None = None
        for route in self._routes.get(request.method, ()):
            if best is not None and route.score < best[1].score:
                break
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


class LinearS3Router(S3Router, LinearRouter):
    """``S3Router`` over the linear scan (its ``super().match`` is ``LinearRouter.match``)."""


def routers(name: str) -> tuple[RestRouter, RestRouter]:
    """The indexed router and the reference; ``s3-generic`` is the plain ``RestRouter`` over the S3
    model (``S3Router``'s 405 check decodes every route's labels, which hides the order of errors)."""
    if name == "s3":
        return S3Router(MODELS[name]), LinearS3Router(MODELS[name])
    model = MODELS[name.removesuffix("-generic")]
    return RestRouter(model), LinearRouter(model)


def paths(model: ServiceModel) -> set[str]:
    """Sample raw paths from every ``requestUri`` of ``model`` (module docstring)."""
    templates = {model.operation_model(name).http["requestUri"].partition("?")[0] for name in model.operation_names}
    literals = {seg for t in templates for seg in t.strip("/").split("/") if seg and not seg.startswith("{")}
    found = {"", "/", "//", "/x", "/x/y/z/w/v/u"}
    for template in templates:
        segments = template.strip("/").split("/") if template.strip("/") else []
        labelled = [i for i, seg in enumerate(segments) if seg.startswith("{")]
        fillings: list[tuple[str, ...]] = [(value,) * len(labelled) for value in FILLINGS]
        fillings += [("v1",) * (len(labelled) - 1) + (value,) for value in FILLINGS if labelled]
        fillings += [(literal,) * len(labelled) for literal in literals]
        for filling in fillings:
            filled = list(segments)
            for i, value in zip(labelled, filling, strict=True):
                filled[i] = value
            path = "/" + "/".join(filled)
            found |= {path, path + "/", path + "/extra", path.rsplit("/", 1)[0] or "/"}
        for i in range(len(segments)):  # one literal swapped for another template's
            for literal in literals:
                if not segments[i].startswith("{"):
                    found.add("/" + "/".join([*segments[:i], literal, *segments[i + 1 :]]).replace("{", "x{"))
    return found


def queries(router: RestRouter) -> set[str]:
    """Query strings: none, every literal query, each with and without required query members."""
    routes = [route for method_routes in router._routes.values() for route in method_routes]
    required = sorted({wire for route in routes for location, wire in route.required if location == "querystring"})
    found = {"", "a=%ZZ", "select&select-type=3", "list-type=1"}
    for route in routes:
        literal = "&".join(key if value is None else f"{key}={value}" for key, value in route.literal_query)
        own = "&".join(f"{wire}=1" for location, wire in route.required if location == "querystring")
        found |= {literal, own, "&".join(filter(None, (literal, own)))}
    found |= {f"{wire}=1" for wire in required}
    return found


def headers(router: RestRouter) -> list[dict[str, str]]:
    routes = [route for method_routes in router._routes.values() for route in method_routes]
    required = sorted({wire for route in routes for location, wire in route.required if location == "header"})
    return [{}, dict.fromkeys(required, "1"), {"host": "bucket.s3.localhost"}]


def outcome(router: RestRouter, request: HttpRequest) -> tuple[Any, ...]:
    try:
        operation, labels = router.match(request)
    except Exception as error:  # noqa: BLE001 - the error itself is compared
        return ("error", type(error).__name__, str(error), getattr(error, "fields", None))
    return ("ok", operation.name, labels)


@pytest.mark.parametrize("name", sorted(MIN_CHECKED))
def test_indexed_router_matches_the_linear_scan(name: str) -> None:
    indexed, linear = routers(name)
    methods = sorted(indexed._routes) + list(EXTRA_METHODS)
    sample_paths = sorted(paths(MODELS[name.removesuffix("-generic")]))
    sample_queries = sorted(queries(indexed))
    sample_headers = headers(indexed) if name.startswith("s3") else [{}]
    checked = matched = 0
    for method, path, header_set in itertools.product(methods, sample_paths, sample_headers):
        # Every query with the plain filling; the others with a few queries (the query and the path
        # are looked at independently of each other).
        query_set = sample_queries if "%" not in path and "x{" not in path else ["", sample_queries[-1]]
        for query in query_set:
            request = HttpRequest(method, path, query, dict(header_set))
            expected = outcome(linear, HttpRequest(method, path, query, dict(header_set)))
            assert outcome(indexed, request) == expected, (method, path, query, header_set)
            checked += 1
            matched += expected[0] == "ok"
    assert checked > MIN_CHECKED[name] and matched > MIN_CHECKED[name] // 10, (checked, matched)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_operation_is_reached_by_its_own_sample(name: str) -> None:
    """Each operation's template filled plainly, with its literal query and required members, routes
    to that operation (or to the operation the linear scan also picks for the same request)."""
    indexed, linear = routers(name)
    reached = set()
    for op_name in MODELS[name].operation_names:
        operation = MODELS[name].operation_model(op_name)
        template, _, literal = operation.http["requestUri"].partition("?")
        path = "/".join("v1" if seg.startswith("{") else seg for seg in template.split("/")) or "/"
        route = next(r for r in indexed._routes[operation.http["method"]] if r.operation.name == op_name)
        query = "&".join(filter(None, [literal, *(f"{w}=1" for loc, w in route.required if loc == "querystring")]))
        head = {w: "1" for loc, w in route.required if loc == "header"}
        request = HttpRequest(operation.http["method"], path, query, head)
        result = outcome(indexed, request)
        assert result == outcome(linear, HttpRequest(operation.http["method"], path, query, dict(head)))
        if result[0] == "ok":
            reached.add(result[1])
    templates = {
        (op.http["method"], op.http["requestUri"])
        for op in map(MODELS[name].operation_model, MODELS[name].operation_names)
    }
    assert len(reached) >= len(templates), sorted(set(MODELS[name].operation_names) - reached)
