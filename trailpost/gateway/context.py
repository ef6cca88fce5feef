"""The typed context one request carries through the gateway steps and into its handler.

``account_id`` and ``region`` (and so ``scope``) come only from verified credentials: the
principal of the access key and the region of its SigV4 credential scope.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from botocore.model import OperationModel

from trailpost.http import HttpRequest
from trailpost.identity.principal import Principal
from trailpost.protocol.errors import ServiceError

if TYPE_CHECKING:
    from trailpost.config import Settings
    from trailpost.services.base import ServiceBinding
    from trailpost.store.base import StateStore


@dataclass(slots=True)
class RequestContext:
    """One API call: its request, who made it, what it asked and how it ended.

    ``wire_params`` keeps the parsed input with the model's member names (what a CloudTrail
    record shows); handlers get the snake_case ``params``.
    """

    request: HttpRequest
    store: StateStore
    settings: Settings
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    received: float = field(default_factory=time.time)
    service: ServiceBinding | None = None
    operation: OperationModel | None = None
    principal: Principal | None = None
    region: str = ""
    wire_params: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    result: dict[str, Any] | None = None
    error: ServiceError | None = None
    tls_details: dict[str, str] | None = None

    @property
    def account_id(self) -> str:
        assert self.principal is not None, "handler called before authentication"
        return self.principal.account_id

    @property
    def scope(self) -> str:
        """The state-store scope of this call's regional resources: ``<account>/<region>``."""
        return f"{self.account_id}/{self.region}"

    @property
    def source_ip(self) -> str:
        """The client's address as the server saw it."""
        return self.request.client_host

    @property
    def user_agent(self) -> str:
        return self.request.user_agent

    @property
    def operation_name(self) -> str:
        return self.operation.name if self.operation is not None else ""
