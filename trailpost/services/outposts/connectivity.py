"""Connections and private connectivity: how an Outpost reaches its home Region.

Operations: StartConnection, GetConnection (the WireGuard tunnel AWS uses to install an Outpost
server), CreatePrivateConnectivityConfig, GetPrivateConnectivityConfig (the service link through
the customer's VPC). Rules (chosen and written in docs/decisions.md, "Outposts connections"):

* StartConnection needs a ``COMPUTE`` asset of the caller's account and region on an outpost of
  hardware type ``SERVER`` that is not retiring (others: ``ValidationException``; unknown asset:
  ``NotFoundException``); the client key must be a 32-byte X25519 key;
* a connection is one WireGuard peering: the server half is a real X25519 key pair kept with it;
  the id, the underlay address, the server endpoint and the tunnel addresses are derived from the
  asset, interface and client key, so a retried StartConnection returns the same connection and a
  new client key replaces the asset interface's previous connection;
* addresses: underlay ``10.x.y.z`` per asset interface, server endpoint ``203.0.113.n:51820``
  per region (RFC 5737 documentation range: trailpost runs no tunnel), tunnel a ``/30`` of
  169.254.0.0/16 outside 169.254.0/24, 169.254.169/24 and 169.254.255/24; ``AllowedIps`` is it;
* at most one private connectivity config per outpost, created before the outpost is installed
  and not while it retires (``ConflictException``); one subnet per VPC; ``RoleArn`` is the
  Outposts service-linked role of the outpost, ``ProvisioningRoleArn`` only with a VPC endpoint.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Any

from trailpost.gateway.context import RequestContext
from trailpost.services.outposts.errors import NotFoundException, ValidationException, conflict
from trailpost.services.outposts.operations import ops
from trailpost.services.outposts.resources import (
    ASSET,
    CONNECTION,
    OUTPOST,
    PRIVATE_CONNECTIVITY,
    assets_of,
    docs,
    get_outpost,
)

WIREGUARD_PORT = 51820
SERVICE_ROLE_PATH = "aws-service-role/outposts.amazonaws.com"


def _digest(*parts: str) -> bytes:
    return hashlib.sha256("/".join(parts).encode()).digest()


# -- connections --------------------------------------------------------------------------------


def _installable_asset(ctx: RequestContext, asset_id: str) -> dict[str, Any]:
    asset = ctx.store.get(ASSET, ctx.scope, asset_id)
    if asset is None:
        raise NotFoundException(f"Asset {asset_id} not found.")
    outpost = ctx.store.get(OUTPOST, ctx.scope, asset["outpost_id"])
    if outpost is None or outpost.get("supported_hardware_type") != "SERVER":
        raise ValidationException(f"Asset {asset_id} is not an Outpost server: connections install Outposts servers.")
    if asset.get("asset_type") != "COMPUTE":
        raise ValidationException(f"Asset {asset_id} is a {asset.get('asset_type')} asset, not a server.")
    state = (asset.get("compute_attributes") or {}).get("state")
    if state == "RETIRING" or outpost["life_cycle_status"] in ("RETIRING", "RETIRED"):
        raise ValidationException(f"Asset {asset_id} is being retired.")
    return asset


def _client_key(value: str) -> None:
    try:
        raw = base64.b64decode(value, validate=True)
    except binascii.Error:
        raw = b""
    if len(raw) != 32:
        raise ValidationException("ClientPublicKey must be a base64-encoded 32-byte WireGuard (X25519) public key.")


def _server_endpoint(region: str) -> str:
    return f"203.0.113.{1 + _digest(region)[0] % 254}:{WIREGUARD_PORT}"


def _underlay_ip(ctx: RequestContext, asset_id: str, device_index: int) -> str:
    h = _digest(ctx.scope, asset_id, str(device_index))
    return f"10.{h[0]}.{h[1]}.{1 + h[2] % 254}"


def _tunnel(connection_id: str) -> tuple[str, str, str]:
    """(network, server address, client address) of the connection's /30 in 169.254.0.0/16."""
    h = _digest("tunnel", connection_id)
    third = 1 + h[0] % 253
    if third == 169:
        third = 170
    fourth = (h[1] % 64) * 4
    prefix = f"169.254.{third}"
    return f"{prefix}.{fourth}/30", f"{prefix}.{fourth + 1}/30", f"{prefix}.{fourth + 2}/30"


def _new_server_key() -> tuple[str, str]:
    """A fresh X25519 key pair: (private, public), each base64 of 32 bytes (WireGuard's format)."""
    # cryptography on first use: reader processes never run this and never load it (~10 MiB each)
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

    private = X25519PrivateKey.generate()
    raw_private = private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    raw_public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return base64.b64encode(raw_private).decode(), base64.b64encode(raw_public).decode()


@ops("StartConnection")
def start_connection(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    asset_id = params["asset_id"]
    client_key = params["client_public_key"]
    index = params["network_interface_device_index"]
    _client_key(client_key)
    with ctx.store.transaction():
        _installable_asset(ctx, asset_id)
        connection_id = base64.b64encode(_digest(ctx.scope, asset_id, str(index), client_key)[:24]).decode()
        existing = ctx.store.get(CONNECTION, ctx.scope, connection_id)
        if existing is not None:
            return {"connection_id": connection_id, "underlay_ip_address": existing["underlay_ip_address"]}
        for old in docs(ctx, CONNECTION):
            if old["asset_id"] == asset_id and old["network_interface_device_index"] == index:
                ctx.store.delete(CONNECTION, ctx.scope, old["connection_id"])
        private_key, public_key = _new_server_key()
        network, server_address, client_address = _tunnel(connection_id)
        connection = {
            "connection_id": connection_id,
            "asset_id": asset_id,
            "network_interface_device_index": index,
            "underlay_ip_address": _underlay_ip(ctx, asset_id, index),
            "connection_details": {
                "client_public_key": client_key,
                "server_public_key": public_key,
                "server_endpoint": _server_endpoint(ctx.region),
                "client_tunnel_address": client_address,
                "server_tunnel_address": server_address,
                "allowed_ips": [network],
            },
            "_server_private_key": private_key,
            "_device_serial_number": params.get("device_serial_number"),
            "_created": ctx.received,
        }
        ctx.store.put(CONNECTION, ctx.scope, connection_id, connection)
    return {"connection_id": connection_id, "underlay_ip_address": connection["underlay_ip_address"]}


@ops("GetConnection")
def get_connection(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    connection = ctx.store.get(CONNECTION, ctx.scope, params["connection_id"])
    if connection is None:
        raise NotFoundException(f"Connection {params['connection_id']} not found.")
    return {"connection_id": connection["connection_id"], "connection_details": connection["connection_details"]}


# -- private connectivity -----------------------------------------------------------------------


def service_linked_role_arn(ctx: RequestContext, outpost_id: str) -> str:
    return f"arn:aws:iam::{ctx.account_id}:role/{SERVICE_ROLE_PATH}/AWSServiceRoleForOutposts_{outpost_id}"


def provisioning_role_arn(ctx: RequestContext, outpost_id: str) -> str:
    return f"arn:aws:iam::{ctx.account_id}:role/service-role/OutpostsProvisioningRole_{outpost_id}"


@ops("CreatePrivateConnectivityConfig")
def create_private_connectivity_config(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    vpcs = params["vpc_information_list"]
    for vpc in vpcs:
        if len(vpc.get("subnet_ids") or []) > 1:
            raise ValidationException("Only one subnet is supported for private connectivity.")
    with ctx.store.transaction():
        outpost = get_outpost(ctx, params["outpost_id"])
        outpost_id = outpost["outpost_id"]
        if ctx.store.get(PRIVATE_CONNECTIVITY, ctx.scope, outpost_id) is not None:
            raise conflict(
                f"Outpost {outpost_id} already has a private connectivity configuration.", outpost_id, "OUTPOST"
            )
        if outpost["life_cycle_status"] in ("RETIRING", "RETIRED"):
            raise conflict(f"Outpost {outpost_id} is {outpost['life_cycle_status']}.", outpost_id, "OUTPOST")
        if assets_of(ctx, outpost_id):
            raise conflict(
                f"Outpost {outpost_id} is already installed: private connectivity is configured before installation.",
                outpost_id,
                "OUTPOST",
            )
        config: dict[str, Any] = {
            "role_arn": service_linked_role_arn(ctx, outpost_id),
            "private_connectivity_status": "ENABLED",
            "vpc_information_list": vpcs,
            "_created": ctx.received,
        }
        if any(vpc.get("vpc_endpoint_id") for vpc in vpcs):
            config["provisioning_role_arn"] = provisioning_role_arn(ctx, outpost_id)
        ctx.store.put(PRIVATE_CONNECTIVITY, ctx.scope, outpost_id, config)
    return {"private_connectivity_config": config, "outpost_id": outpost_id}


@ops("GetPrivateConnectivityConfig")
def get_private_connectivity_config(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    outpost = get_outpost(ctx, params["outpost_id"])
    config = ctx.store.get(PRIVATE_CONNECTIVITY, ctx.scope, outpost["outpost_id"])
    if config is None:
        raise NotFoundException(f"Outpost {outpost['outpost_id']} has no private connectivity configuration.")
    return {"private_connectivity_config": config}
