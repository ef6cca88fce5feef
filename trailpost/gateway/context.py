"""The typed context one request carries through the gateway steps and into its handler.

``account_id`` and ``region`` (and so ``scope``) come only from verified credentials: the
principal of the access key and the region of its SigV4 credential scope.

``source_ip`` is the address of the TCP peer. ``X-Forwarded-For`` counts only when that peer is
one of the configured ``trusted_proxies``: the header's addresses are then read from the right
(each was appended by the hop before it), trusted proxies are skipped, and the first address that
is not a trusted proxy is the client. If every address is a trusted proxy the left-most one is
the client. An entry that is not an IP address (``unknown``, garbage) ends the walk: the last hop
that could be believed is reported, never something a client wrote. Ports (``1.2.3.4:5678``,
``[::1]:80``) are dropped and IPv4-mapped IPv6 addresses are shown as IPv4.

``tls_details`` is what records show of a TLS connection: version, cipher suite and the ``Host``
header exactly as the client sent it (``clientProvidedHostHeader``); ``None`` over plain HTTP.
"""

from __future__ import annotations

import ipaddress
import os
import time
import uuid
from dataclasses import dataclass, field
from functools import lru_cache
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
    labels: dict[str, str] = field(default_factory=dict)  # the URI labels of a REST operation's route
    wire_params: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    result: dict[str, Any] | None = None
    error: ServiceError | None = None
    # Other accounts that receive a copy of this call's record (owners of a resource a cross-account
    # call acts on; ``audit.sharing``).
    recipients: list[str] = field(default_factory=list)

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
        """The client's address: the TCP peer, or what trusted proxies say it is (module docstring)."""
        forwarded = self.request.headers.get("x-forwarded-for")
        trusted = self.settings.trusted_proxies
        return client_address(self.request.client_host, forwarded if trusted else None, trusted)

    @property
    def tls_details(self) -> dict[str, str] | None:
        """The record's ``tlsDetails``: ``None`` unless the request came over TLS."""
        tls = self.request.tls
        if tls is None:
            return None
        details = {"tlsVersion": tls.version, "cipherSuite": tls.cipher_suite}
        host = self.request.headers.get("host")
        if host:
            details["clientProvidedHostHeader"] = host
        return {key: value for key, value in details.items() if value}

    @property
    def user_agent(self) -> str:
        return self.request.user_agent

    @property
    def operation_name(self) -> str:
        return self.operation.name if self.operation is not None else ""


_VARIANT = "89ab"


def request_id() -> str:
    """A random (version 4) UUID: the call's request id (its ``eventID`` is the event store's to give)."""
    return _uuid4_text(os.urandom(16).hex())


def _uuid4_text(hexits: str) -> str:
    """32 random hex digits as a version-4, RFC 4122 variant UUID (122 random bits, as ``uuid4``)."""
    variant = _VARIANT[int(hexits[16], 16) & 3]
    return f"{hexits[:8]}-{hexits[8:12]}-4{hexits[13:16]}-{variant}{hexits[17:20]}-{hexits[20:]}"


Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=4096)
def parse_address(text: str) -> Address | None:
    """An IP address from a peer or ``X-Forwarded-For`` entry (port and brackets dropped), or ``None``.

    Cached: a server sees the same few peers over and over, and ``ipaddress`` parsing is slow."""
    text = text.strip().strip('"')
    if text.startswith("["):  # [v6] or [v6]:port
        text = text[1 : text.find("]")] if "]" in text else ""
    elif text.count(":") == 1:  # v4:port
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text.partition("%")[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def client_address(peer: str, forwarded: str | None, trusted: tuple[Network, ...]) -> str:
    """The client's address given the TCP ``peer``, its ``X-Forwarded-For`` and the trusted proxies."""
    if not forwarded:
        return _peer_text(peer)
    current = parse_address(peer)
    if current is None:
        return peer
    if not _is_trusted(current, trusted):
        return str(current)
    for entry in reversed(forwarded.split(",")):
        hop = parse_address(entry)
        if hop is None:
            break  # not an address: believe nothing further left
        current = hop
        if not _is_trusted(hop, trusted):
            break
    return str(current)


@lru_cache(maxsize=4096)
def _peer_text(peer: str) -> str:
    """``client_address`` of a peer without ``X-Forwarded-For``: its address in canonical text."""
    address = parse_address(peer)
    return peer if address is None else str(address)


def _is_trusted(address: Address, trusted: tuple[Network, ...]) -> bool:
    return any(address.version == network.version and address in network for network in trusted)
