"""The gateway: one pipeline every request passes, and the ASGI callable that feeds it.

Steps, in order (``Gateway.handle``)::

    1 read          body with a size limit, client address          (ASGI ``__call__``)
    2 route         service from the SigV4 credential scope
    3 authenticate  SigV4 against the stored secret -> Principal; region from the scope
    4 parse         wire -> params (model member names), validated against the model
    5 dispatch      handler(ctx, snake_case params) -> result | ServiceError
    6 respond       result or error serialized per protocol; x-amzn-RequestId on every response

Nothing here knows a service: routing, parsing and serializing are driven by each service's model.
An unexpected exception becomes the service's internal-error shape and is logged, never sent.
"""

from __future__ import annotations

import inspect
import logging
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import orjson

from trailpost.config import Settings
from trailpost.gateway.authenticate import auth_error, authenticate
from trailpost.gateway.context import RequestContext
from trailpost.http import HttpRequest, HttpResponse, MalformedEncoding
from trailpost.identity.accounts import AccountRegistry
from trailpost.identity.sigv4 import AuthFailure, read_authorization
from trailpost.protocol import errors
from trailpost.protocol.errors import ServiceError
from trailpost.protocol.naming import to_internal, to_wire
from trailpost.protocol.routing import target_operation
from trailpost.protocol.serializers import JsonResponseSerializer
from trailpost.protocol.validation import validate_input
from trailpost.services.base import ServiceBinding
from trailpost.store.base import StateStore

log = logging.getLogger("trailpost.gateway")

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

HEALTH_PATH = "/_trailpost/health"
_FALLBACK = JsonResponseSerializer()


class Gateway:
    """Routes, authenticates, parses, dispatches and serializes every API request."""

    def __init__(self, settings: Settings, store: StateStore, services: list[ServiceBinding]) -> None:
        self.settings = settings
        self.store = store
        self.accounts = AccountRegistry(store)
        self.services = {binding.signing_name: binding for binding in services}
        self.on_startup: list[Callable[[], Any]] = []
        self.on_shutdown: list[Callable[[], Any]] = []

    # -- the pipeline -------------------------------------------------------------------------

    def handle(self, request: HttpRequest) -> HttpResponse:
        ctx = RequestContext(request=request, store=self.store, settings=self.settings)
        try:
            self._route_and_authenticate(ctx)
            self._parse(ctx)
            self._dispatch(ctx)
        except ServiceError as error:
            ctx.error = error
        except Exception:
            log.exception("internal error in %s %s", ctx.service and ctx.service.name, ctx.operation_name)
            ctx.error = self._internal_error(ctx)
        return self._respond(ctx)

    def _route_and_authenticate(self, ctx: RequestContext) -> None:
        try:
            signed = read_authorization(ctx.request)
        except AuthFailure as failure:
            raise auth_error("json", failure) from None
        binding = self.services.get(signed.service)
        if binding is None:
            raise errors.UnknownOperationException(
                f"trailpost does not serve the '{signed.service}' service (served: {', '.join(sorted(self.services))})",
                status=400,
            )
        ctx.service = binding
        ctx.region = signed.region
        try:
            ctx.principal = authenticate(ctx, signed, self.accounts)
        except AuthFailure as failure:
            raise auth_error(binding.protocol, failure) from None

    def _parse(self, ctx: RequestContext) -> None:
        binding = ctx.service
        assert binding is not None
        request = ctx.request
        try:
            if binding.router is not None:
                operation, labels = binding.router.match(request)
            else:
                operation, labels = target_operation(binding.model, request.headers.get("x-amz-target")), {}
            ctx.operation = operation
            if binding.protocol == "json":
                self._check_json_content_type(request)
            wire = binding.parser.parse(operation, request, labels)
        except MalformedEncoding as exc:
            raise errors.SerializationException(f"Malformed request: {exc}") from None
        ctx.wire_params = wire
        validate_input(operation.input_shape, wire)
        ctx.params = to_internal(operation.input_shape, wire) or {}

    @staticmethod
    def _check_json_content_type(request: HttpRequest) -> None:
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type not in ("application/x-amz-json-1.1", "application/x-amz-json-1.0", "application/json"):
            raise errors.UnknownOperationException(
                f"Unsupported Content-Type '{content_type}' for an awsJson request", status=404
            )

    def _dispatch(self, ctx: RequestContext) -> None:
        binding, operation = ctx.service, ctx.operation
        assert binding is not None and operation is not None
        handler = binding.handlers.get(operation.name)
        if handler is None:
            raise errors.UnknownOperationException(
                f"{binding.name}:{operation.name} is not implemented by trailpost", status=501
            )
        result = handler(ctx, ctx.params)
        ctx.result = to_wire(operation.output_shape, result or {}) if operation.output_shape else {}

    def _respond(self, ctx: RequestContext) -> HttpResponse:
        binding = ctx.service
        if ctx.error is not None:
            serializer = binding.serializer if binding is not None else _FALLBACK
            response = serializer.serialize_error(binding.model if binding else None, ctx.error)
        else:
            assert binding is not None and ctx.operation is not None
            response = binding.serializer.serialize(ctx.operation, ctx.result or {})
        response.headers["x-amzn-RequestId"] = ctx.request_id
        return response

    @staticmethod
    def _internal_error(ctx: RequestContext) -> ServiceError:
        model = ctx.service.model if ctx.service else None
        if model is not None and "InternalServerException" in model.shape_names:
            return errors.InternalServerException("An internal error occurred.")
        return errors.InternalFailure("An internal error occurred.")

    # -- ASGI -----------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        request_or_response = await self._read(scope, receive)
        if isinstance(request_or_response, HttpResponse):
            response = request_or_response
        elif request_or_response.raw_path == HEALTH_PATH and request_or_response.method == "GET":
            response = HttpResponse(200, {"Content-Type": "application/json"}, orjson.dumps({"status": "ok"}))
        else:
            response = self.handle(request_or_response)
        response.headers.setdefault("x-amzn-RequestId", str(uuid.uuid4()))
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers.items()]
        headers.append((b"content-length", str(len(response.body)).encode()))
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        await send({"type": "http.response.body", "body": response.body})

    async def _read(self, scope: Scope, receive: Receive) -> HttpRequest | HttpResponse:
        limit = self.settings.max_body_bytes
        headers: dict[str, str] = {}
        for raw_name, raw_value in scope["headers"]:
            name = raw_name.decode("latin-1").lower()
            value = raw_value.decode("latin-1")
            headers[name] = f"{headers[name]},{value}" if name in headers else value
        declared = headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            return self._too_large(limit)
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return self._too_large(limit)
            chunks.append(chunk)
            if not message.get("more_body"):
                break
        raw_path = scope.get("raw_path") or scope["path"].encode()
        client = scope.get("client") or ("", 0)
        return HttpRequest(
            method=scope["method"],
            raw_path=raw_path.decode("latin-1").split("?", 1)[0],
            query_string=scope.get("query_string", b"").decode("latin-1"),
            headers=headers,
            body=b"".join(chunks),
            client_host=client[0] or "",
            client_port=client[1] or 0,
            scheme=scope.get("scheme", "http"),
        )

    @staticmethod
    def _too_large(limit: int) -> HttpResponse:
        error = errors.RequestEntityTooLargeException(f"Request body exceeds the limit of {limit} bytes")
        return _FALLBACK.serialize_error(None, error)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                for hook in self.on_startup:
                    await _maybe_await(hook())
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                for hook in self.on_shutdown:
                    await _maybe_await(hook())
                await send({"type": "lifespan.shutdown.complete"})
                return


async def _maybe_await(value: Any) -> None:
    if inspect.isawaitable(value):
        await value
