"""The gateway: one pipeline every request passes, and the ASGI callable that feeds it.

Steps, in order (``Gateway.handle``)::

    1 read          body with a size limit, client address          (ASGI ``__call__``)
    2 route         service from the SigV4 credential scope (the service the request's target
                    header, REST route or query ``Action`` addresses, when the scope names
                    another one)
    3 authenticate  SigV4 against the stored secret -> Principal; region from the scope (calls
                    AWS takes unsigned, such as AssumeRoleWithWebIdentity: the token's identity)
    ---- from here on the caller is known: the call is recorded whatever its outcome ----
    4 parse         wire -> params (model member names), validated against the model
    5 authorize     each of ``authorizers`` may refuse the call (IAM policies)
    6 dispatch      handler(ctx, snake_case params) -> result | ServiceError, under a savepoint
    7 record        the CloudTrail record of the call (``audit.record``), prepared for the event
                    store and staged in the batch (the committer thread inserts it just before
                    the commit); a data event (S3 object calls) only if ``wants_data_event(record)``
    8 respond       result or error serialized per protocol; x-amzn-RequestId on every response

Steps 4-7 run inside a group-commit batch (``store.commit``): the response leaves only after the
batch holding the call's state changes and its record is durable. A request that cannot be tied
to an account (no or bad credentials) is not an event, as in AWS; it goes to the server log.

Nothing here knows a service: routing, parsing and serializing are driven by each service's model.

Rules of the read step and the HTTP edge:

* A body larger than ``max_body_bytes`` (S3 requests: ``max_object_bytes`` plus aws-chunked
  framing; ``EntityTooLarge`` in S3's XML) is refused with 413 ``RequestEntityTooLargeException``:
  at once when ``Content-Length`` declares it (before ``100 Continue`` is sent), else as soon as
  the chunks read exceed it. Such a response closes the connection, so the unread rest of the body
  is never parsed as a next request.
* A client that disconnects before its body is complete gets nothing, and nothing is executed; one
  still sending when the server shuts down (after the graceful period) gets 503 ``ServiceUnavailable``.
* A request target with raw non-ASCII or control bytes is ``SerializationException`` (400).
* ``OPTIONS`` with ``Access-Control-Request-Method`` is a CORS preflight, answered 200 without
  authentication as AWS's endpoints answer it; any other request goes through authentication.
* An unexpected exception anywhere becomes the service's internal-error shape (or
  ``InternalFailure``) as JSON, and is logged, never sent; the server keeps serving.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import orjson
from botocore.model import OperationModel

from trailpost.audit.record import PENDING_EVENT_ID, build_record
from trailpost.audit.sharing import shared_records
from trailpost.config import Settings
from trailpost.gateway.authenticate import auth_error, authenticate, unsigned_principal
from trailpost.gateway.context import RequestContext, request_id
from trailpost.http import HttpRequest, HttpResponse, MalformedEncoding, check_request_target, read_headers
from trailpost.identity.accounts import AccountRegistry
from trailpost.identity.sigv4 import AuthFailure, read_authorization
from trailpost.protocol import errors
from trailpost.protocol.errors import ServiceError
from trailpost.protocol.naming import to_internal, to_wire
from trailpost.protocol.query import form_pairs, query_action
from trailpost.protocol.routing import target_operation
from trailpost.protocol.serializers import JsonResponseSerializer
from trailpost.protocol.validation import validate_input
from trailpost.services.base import ServiceBinding
from trailpost.store.base import DurabilityLost, ReadOnlyStoreError
from trailpost.store.commit import GroupCommit
from trailpost.store.events import SqliteEventStore, event_store
from trailpost.store.sqlite import SqliteStateStore
from trailpost.tls import TlsInfo

log = logging.getLogger("trailpost.gateway")

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

HEALTH_PATH = "/_trailpost/health"
JSON_CONTENT_TYPES = ("application/x-amz-json-1.1", "application/x-amz-json-1.0", "application/json")
CORS_METHODS = "GET, POST, PUT, PATCH, DELETE, HEAD"
CORS_EXPOSE = "x-amzn-RequestId, x-amzn-ErrorType, x-amzn-ErrorMessage, Date"
SHUTTING_DOWN = "The server is shutting down; the request body did not arrive in time."
_FALLBACK = JsonResponseSerializer()


class Gateway:
    """Routes, authenticates, parses, dispatches and serializes every API request."""

    def __init__(
        self,
        settings: Settings,
        store: SqliteStateStore,
        services: list[ServiceBinding],
        events: SqliteEventStore | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.events = events or event_store(store)  # the one event store of this database (one position counter)
        self.commits = GroupCommit(store)
        self.authorizers: list[Callable[[RequestContext], None]] = []
        self.accounts = AccountRegistry(store)
        self.services = {binding.signing_name: binding for binding in services}
        self._by_target = {
            binding.model.metadata["targetPrefix"]: binding
            for binding in services
            if binding.router is None and binding.model.metadata.get("targetPrefix")
        }
        self.console: Callable[[HttpRequest], Awaitable[HttpResponse]] | None = None  # the web console, if mounted
        # Data events (S3 object calls) are stored only when a trail wants them (``server`` sets this).
        self.wants_data_event: Callable[[dict], bool] = lambda record: False
        # In a reader process (``trailpost.readers``): the link to the writer, which answers what this
        # process may not (writes, the console) and makes this process's records durable.
        self.remote: Any = None
        self.process_name = "writer"  # in the health answer: which of the ``--workers`` processes answered
        self.on_startup: list[Callable[[], Any]] = []
        self.on_shutdown: list[Callable[[], Any]] = []
        # BENCHMARK ONLY (TRAILPOST_BENCH_AUDIT_OFF=1, see Settings.bench_audit_off): no record, no group commit.
        self.audit_off = bool(getattr(settings, "bench_audit_off", False))
        if self.audit_off:
            log.warning(
                "!!! TRAILPOST_BENCH_AUDIT_OFF is on: API calls are NOT recorded and NOT group-committed. "
                "This setting exists for benchmarks only (bench/api_throughput.py); never use it for real. !!!"
            )

    # -- the pipeline -------------------------------------------------------------------------

    async def handle(self, request: HttpRequest) -> HttpResponse:
        """Answer one API request; every call whose caller is known is recorded before the answer."""
        ctx = RequestContext(request=request, store=self.store, settings=self.settings, request_id=request_id())
        try:
            self._route_and_authenticate(ctx)
        except ServiceError as error:
            ctx.error = error
        except Exception:
            log.exception("internal error authenticating a request to %s", ctx.service and ctx.service.name)
            ctx.error = self._internal_error(ctx)
        if ctx.service is not None and ctx.service.protocol == "rest-xml":
            ctx.request_id = s3_request_id()  # S3's 16-character request ids
        if ctx.principal is None:
            # Not tied to an account: no event, as in AWS; the server log says why.
            log.info("unauthenticated request %s %s: %s", request.method, request.raw_path, ctx.error)
            return self._respond_safely(ctx)
        if self.audit_off:
            # BENCHMARK ONLY: skip the record step and the group commit; state changes commit on their own.
            return self._audited(ctx, audit=False)
        try:
            # _audited isolates the handler under its own savepoint and never raises but on a broken
            # record or store: then the whole batch fails (no state change survives without its event).
            if self.remote is not None:
                return await self.remote.run(lambda: self._audited(ctx))
            return await self.commits.run(lambda: self._audited(ctx), isolated=False)
        except ReadOnlyStoreError:
            # A reader process may not answer this call: the writer answers it (and records it),
            # without computing the signature this process has just verified.
            request.verified = ctx.principal is not None
            return await self.remote.forward(request)
        except DurabilityLost:
            # The store stopped committing (logged once, where the sync failed); the server is stopping.
            log.warning("%s not acknowledged: the state store lost durability", ctx.operation_name)
            ctx.error, ctx.result = self._internal_error(ctx), None
            return self._respond_safely(ctx)
        except Exception:
            # The event (or the batch it was in) could not be made durable: fail closed.
            log.exception("could not record %s; the call fails", ctx.operation_name)
            ctx.error, ctx.result = self._internal_error(ctx), None
            return self._respond_safely(ctx)

    def _audited(self, ctx: RequestContext, audit: bool = True) -> HttpResponse:
        """Parse, authorize and dispatch, then store the call's record; runs inside a commit batch."""
        try:
            self._route(ctx)
            if self.remote is not None and not self.remote.answers(ctx):
                # Before parsing: the writer parses and validates the call itself.
                raise ReadOnlyStoreError(f"{ctx.operation_name} is answered by the writer")
            self._parse(ctx)
            for step in self.authorizers:
                step(ctx)
            with self.store.transaction():  # a failing handler leaves no state behind
                self._dispatch(ctx)
        except ReadOnlyStoreError:
            raise  # a reader process hands the call to the writer (``handle``)
        except ServiceError as error:
            ctx.error, ctx.result = error, None
        except Exception:
            log.exception("internal error in %s %s", ctx.service and ctx.service.name, ctx.operation_name)
            ctx.error, ctx.result = self._internal_error(ctx), None
        response = self._respond_safely(ctx)
        if ctx.operation is not None and audit:  # audit=False only with the benchmark-only switch
            record = build_record(
                ctx,
                event_id=PENDING_EVENT_ID,  # the event store gives each stored record its id
                event_time=time.time(),
                response_bytes=len(response.body),
            )
            if record.get("eventCategory") == "Data" and not self.wants_data_event(record):
                return response  # no trail selects this data event: it is not kept (not in Event history)
            # Prepared here, inserted by the committer thread just before the batch commits.
            records = shared_records(record, ctx.recipients) if ctx.recipients else (record,)
            for each in records:  # a cross-account call: the resource owners get their own copies
                if self.remote is not None:
                    self.remote.keep(each)  # the writer gives it its position and commits it
                else:
                    self.commits.stage(self.events.insert, self.events.prepare(each))
        elif ctx.operation is None:
            log.info("request to no known operation of %s: %s", ctx.service and ctx.service.name, ctx.error)
        return response

    def _respond_safely(self, ctx: RequestContext) -> HttpResponse:
        try:
            return self._respond(ctx)
        except Exception:
            log.exception(
                "could not serialize the response of %s %s", ctx.service and ctx.service.name, ctx.operation_name
            )
            ctx.error, ctx.result = self._internal_error(ctx), None
            return self._respond(ctx)

    def _route_and_authenticate(self, ctx: RequestContext) -> None:
        request = ctx.request
        try:
            signed = read_authorization(request)
        except AuthFailure as failure:
            ctx.service = self.reached_service(request)
            # Calls AWS takes unsigned (STS AssumeRoleWithWebIdentity) carry their own proof of identity.
            ctx.principal = unsigned_principal(ctx, failure, self.accounts)
            if ctx.principal is not None:
                return
            raise auth_error(ctx.service.protocol if ctx.service else "json", failure) from None
        binding = self.services.get(signed.service)
        targeted = self._targeted_service(request)
        if binding is not None and targeted is None and not self._may_address(binding, request):
            # A json or query service the request cannot be for (no target header, no Action of its
            # model): the service the request's shape reaches, if any, decides the answer below.
            targeted = self.reached_service(request)
        if binding is None or (targeted is not None and targeted is not binding):
            # Signed for a service other than the one the request addresses: the scope check in
            # ``authenticate`` answers it as AWS does ("should be scoped to correct service").
            binding = targeted or self.reached_service(request)
            if binding is None:
                raise errors.UnknownOperationException(
                    f"No service at this endpoint matches the request (credential scope: '{signed.service}'; "
                    f"served: {', '.join(sorted(self.services))})",
                    status=404,
                )
        ctx.service = binding
        ctx.region = signed.region
        try:
            ctx.principal = authenticate(ctx, signed, self.accounts)
        except AuthFailure as failure:
            raise auth_error(binding.protocol, failure) from None

    @staticmethod
    def _may_address(binding: ServiceBinding, request: HttpRequest) -> bool:
        """Whether ``request`` can be for ``binding`` at all (REST services are left to their router)."""
        if binding.protocol == "query":
            return _query_operation_name(request) in binding.model.operation_names
        if binding.router is None:
            return "x-amz-target" in request.headers
        return True

    def _targeted_service(self, request: HttpRequest) -> ServiceBinding | None:
        target = request.headers.get("x-amz-target")
        return self._by_target.get(target.rpartition(".")[0]) if target else None

    def reached_service(self, request: HttpRequest) -> ServiceBinding | None:
        """The served service a request addresses by its shape (target header or REST route), if any."""
        targeted = self._targeted_service(request)
        if targeted is not None:
            return targeted
        for binding in self.services.values():
            if binding.protocol == "query" and _query_operation_name(request) in binding.model.operation_names:
                return binding  # query services (IAM, STS) are told apart by their Action names
            if binding.router is None:
                continue
            claims = getattr(binding.router, "claims", None)
            if claims is not None and not claims(request, self.store):
                continue  # S3 answers only requests that carry its marks (``services.s3.routing``)
            try:
                binding.router.match(request)
            except (ServiceError, MalformedEncoding):
                continue
            return binding
        return None

    def _route(self, ctx: RequestContext) -> None:
        """The operation the request names (``ctx.operation``) and its URI labels (``ctx.labels``)."""
        binding = ctx.service
        assert binding is not None
        request = ctx.request
        try:
            if binding.router is not None:
                ctx.operation, ctx.labels = binding.router.match(request)
            elif binding.protocol == "query":
                ctx.operation = _query_operation(binding, request)
            else:
                ctx.operation = target_operation(binding.model, request.headers.get("x-amz-target"))
        except (MalformedEncoding, UnicodeDecodeError) as exc:
            raise errors.SerializationException(f"Malformed request: {exc}") from None

    def _parse(self, ctx: RequestContext) -> None:
        """The routed operation's parameters, parsed and validated (``ctx.wire_params``, ``ctx.params``)."""
        binding, operation = ctx.service, ctx.operation
        assert binding is not None and operation is not None
        request = ctx.request
        try:
            if binding.protocol == "json":
                self._check_json_content_type(request)
            wire = binding.parser.parse(operation, request, ctx.labels)
        except (MalformedEncoding, UnicodeDecodeError) as exc:
            raise errors.SerializationException(f"Malformed request: {exc}") from None
        ctx.wire_params = wire
        if binding.check_input is not None:
            # The service's own input checks answer before the generic validation (CloudTrail's
            # modeled errors); the record shows the parameters as sent.
            binding.check_input(operation, wire)
        if binding.protocol == "rest-xml":
            # S3 checks its inputs itself, with its own codes (a wrong enum is not an error there).
            ctx.params = to_internal(operation.input_shape, wire) or {}
            return
        try:
            validate_input(operation.input_shape, wire, full_match=binding.protocol == "query")
        except errors.ValidationException as exc:
            raise errors.validation_error(binding.protocol, exc.message) from None
        ctx.params = to_internal(operation.input_shape, wire) or {}

    @staticmethod
    def _check_json_content_type(request: HttpRequest) -> None:
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type not in JSON_CONTENT_TYPES:
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
            response = serializer.serialize_error(binding.model if binding else None, ctx.error, ctx.request_id)
        else:
            assert binding is not None and ctx.operation is not None
            response = binding.serializer.serialize(ctx.operation, ctx.result or {}, ctx.request_id)
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
        try:
            response = await self._serve_http(scope, receive)
        except Exception:
            log.exception("internal error reading or answering %s %s", scope.get("method"), scope.get("path"))
            response = _error_response(errors.InternalFailure("An internal error occurred."), close=True)
        if response is None:
            return  # the client went away before its request was complete
        headers = response.wire_headers()
        if not any(name.lower() == b"content-length" for name, _ in headers):
            headers.append((b"content-length", str(len(response.body)).encode()))
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        await send({"type": "http.response.body", "body": response.body})

    async def _serve_http(self, scope: Scope, receive: Receive) -> HttpResponse | None:
        request = await self._read(scope, receive)
        if request is None or isinstance(request, HttpResponse):
            return request
        return await self.respond_to(request)

    async def respond_to(self, request: HttpRequest) -> HttpResponse:
        """The response to a request that has been read (from this process's connections or a reader's)."""
        if request.raw_path == "/console" or request.raw_path.startswith("/console/"):
            if self.remote is not None:
                return await self.remote.forward(request)  # the console's sessions live in the writer
            if self.console is not None:
                return await self.console(request)  # the web console (trailpost.console): its own headers, no CORS
        if request.raw_path == HEALTH_PATH and request.method in ("GET", "HEAD"):
            health: dict[str, Any] = {"status": "ok", "process": self.process_name}
            if self.remote is not None:  # a reader: what it answered itself and what it handed over
                health["recorded"], health["forwarded"] = self.remote.records_sent, self.remote.forwarded
            response = HttpResponse(200, {"Content-Type": "application/json"}, orjson.dumps(health))
        elif request.method == "OPTIONS" and "access-control-request-method" in request.headers:
            response = _preflight(request)
        else:
            response = await self.handle(request)
        if "origin" in request.headers:
            response.headers.setdefault("Access-Control-Allow-Origin", "*")
            response.headers.setdefault("Access-Control-Expose-Headers", CORS_EXPOSE)
        if "x-amzn-RequestId" not in response.headers:
            response.headers["x-amzn-RequestId"] = str(uuid.uuid4())
        return response

    async def _read(self, scope: Scope, receive: Receive) -> HttpRequest | HttpResponse | None:
        headers = read_headers(scope["headers"])
        s3 = _signed_for_s3(headers, scope.get("query_string", b""))
        limit = _s3_wire_limit(self.settings.max_object_bytes) if s3 else self.settings.max_body_bytes
        declared = headers.get("content-length", "").strip()
        if declared.isdigit() and int(declared) > limit:
            return _too_large(limit, s3=s3)
        chunks: list[bytes] = []
        size = 0
        while True:
            try:
                message = await receive()
            except asyncio.CancelledError:
                # uvicorn's graceful-shutdown timeout ended a request whose body never finished.
                return _error_response(ServiceError(SHUTTING_DOWN, code="ServiceUnavailable", status=503), close=True)
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return _too_large(limit, s3=s3)
            chunks.append(chunk)
            if not message.get("more_body"):
                break
        raw_path: bytes = scope.get("raw_path") or scope["path"].encode("utf-8")
        raw_query: bytes = scope.get("query_string", b"")
        try:
            check_request_target(raw_path, raw_query)
        except MalformedEncoding as exc:
            return _error_response(errors.SerializationException(f"Malformed request: {exc}"))
        client = scope.get("client") or ("", 0)
        return HttpRequest(
            method=scope["method"],
            raw_path=raw_path.decode("ascii").split("?", 1)[0],
            query_string=raw_query.decode("ascii"),
            headers=headers,
            body=b"".join(chunks),
            client_host=client[0] or "",
            client_port=client[1] or 0,
            scheme=scope.get("scheme", "http"),
            tls=TlsInfo.from_extension((scope.get("extensions") or {}).get("tls")),
        )

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


def _query_operation_name(request: HttpRequest) -> str | None:
    try:
        return query_action(request)
    except ServiceError:
        return None


def _query_operation(binding: ServiceBinding, request: HttpRequest) -> OperationModel:
    """The operation a query-protocol request names in its ``Action`` (and ``Version``) parameter."""
    pairs = form_pairs(request)
    action, version = pairs.get("Action"), pairs.get("Version")
    api_version = binding.model.api_version
    if not action:
        raise errors.MissingAction("Missing Action")
    if action not in binding.model.operation_names or (version and version != api_version):
        raise errors.InvalidAction(f"Could not find operation {action} for version {version or api_version}")
    return binding.model.operation_model(action)


def _error_response(error: ServiceError, *, close: bool = False) -> HttpResponse:
    """An error answered before any service is known, in the JSON form both protocols parse."""
    response = _FALLBACK.serialize_error(None, error)
    response.headers["x-amzn-RequestId"] = str(uuid.uuid4())
    if close:
        response.headers["Connection"] = "close"
    return response


def _too_large(limit: int, *, s3: bool = False) -> HttpResponse:
    if s3:  # S3's own error, in its XML shape
        from trailpost.protocol.restxml import RestXmlResponseSerializer

        error = ServiceError("Your proposed upload exceeds the maximum allowed size", code="EntityTooLarge", status=400)
        response = RestXmlResponseSerializer().serialize_error(None, error, s3_request_id())
        response.headers["Connection"] = "close"
        return response
    error = errors.RequestEntityTooLargeException(f"Request body exceeds the limit of {limit} bytes")
    return _error_response(error, close=True)


def _signed_for_s3(headers: dict[str, str], raw_query: bytes) -> bool:
    """Whether a request's SigV4 credential scope (header or presigned query) names ``s3``: its body
    may then be as large as ``max_object_bytes`` instead of ``max_body_bytes``."""
    if "/s3/aws4_request" in headers.get("authorization", ""):
        return True
    return b"%2Fs3%2Faws4_request" in raw_query or b"/s3/aws4_request" in raw_query


def _s3_wire_limit(max_object_bytes: int) -> int:
    """The wire bytes an S3 body of ``max_object_bytes`` may take (aws-chunked framing adds some)."""
    return max_object_bytes + max_object_bytes // 100 + 64 * 1024


def s3_request_id() -> str:
    """A request id as S3 writes them: 16 upper-case hex characters."""
    return uuid.uuid4().hex[:16].upper()


def _preflight(request: HttpRequest) -> HttpResponse:
    headers = {
        "Access-Control-Allow-Origin": request.headers.get("origin", "*") or "*",
        "Access-Control-Allow-Methods": CORS_METHODS,
        "Access-Control-Max-Age": "172800",
        "Vary": "Origin",
    }
    requested = request.headers.get("access-control-request-headers")
    if requested:
        headers["Access-Control-Allow-Headers"] = requested
    return HttpResponse(200, headers, b"")


async def _maybe_await(value: Any) -> None:
    if inspect.isawaitable(value):
        await value
