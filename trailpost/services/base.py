"""What a served service is: its model and protocol machinery, plus its operation handlers.

A service package declares an ``OperationTable`` and decorates one function per operation::

    ops = OperationTable("outposts")

    @ops("CreateSite")
    def create_site(ctx: RequestContext, params: dict) -> dict: ...

Handlers take snake_case params and return a snake_case result (``None`` for an empty output);
they raise ``ServiceError`` subclasses for AWS errors. ``bind_service`` joins the table with the
model, parser, serializer and router of the service's protocol.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from botocore.model import OperationModel, ServiceModel

from trailpost.gateway.context import RequestContext
from trailpost.protocol.parsers import PARSERS, RequestParser
from trailpost.protocol.routing import RestRouter
from trailpost.protocol.serializers import SERIALIZERS, ResponseSerializer
from trailpost.protocol.specs import load_service_model, signing_name

Handler = Callable[[RequestContext, dict[str, Any]], "dict[str, Any] | None"]
Ticker = Callable[[Any, Any, float], None]


class OperationTable:
    """A service's operation handlers, filled by the ``@ops("Name")`` decorator."""

    def __init__(self, service: str) -> None:
        self.service = service
        self.handlers: dict[str, Handler] = {}

    def __call__(self, name: str) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            if name in self.handlers:
                raise ValueError(f"{self.service}:{name} registered twice")
            self.handlers[name] = handler
            return handler

        return register


@dataclass
class ServiceBinding:
    """A service ready to serve: model, wire machinery and handlers."""

    name: str
    model: ServiceModel
    parser: RequestParser
    serializer: ResponseSerializer
    router: RestRouter | None
    handlers: dict[str, Handler]
    tickers: list[Ticker] = field(default_factory=list)
    # The service's own input checks, run on the parsed input before the generic model validation
    # (they raise the service's modeled errors; CloudTrail's ``checks``).
    check_input: Callable[[OperationModel, dict[str, Any]], None] | None = None
    # The model's wire protocol ("rest-json", "json", "query", "rest-xml"), read once: the gateway
    # asks for it several times per call.
    protocol: str = field(init=False)

    def __post_init__(self) -> None:
        self.protocol = self.model.protocol

    @property
    def signing_name(self) -> str:
        return signing_name(self.model)


def bind_service(table: OperationTable, tickers: Sequence[Ticker] | None = None) -> ServiceBinding:
    """Join ``table`` with its model; every handler must name an operation of the model."""
    model = load_service_model(table.service)
    unknown = set(table.handlers) - set(model.operation_names)
    if unknown:
        raise ValueError(f"{table.service}: handlers for unknown operations {sorted(unknown)}")
    protocol = model.protocol
    router = RestRouter(model) if protocol.startswith("rest") else None
    return ServiceBinding(
        name=table.service,
        model=model,
        parser=PARSERS[protocol](),
        serializer=SERIALIZERS[protocol](),
        router=router,
        handlers=dict(table.handlers),
        tickers=list(tickers or []),
    )
