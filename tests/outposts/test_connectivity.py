"""Connections and private connectivity end to end through boto3: StartConnection, GetConnection,
CreatePrivateConnectivityConfig, GetPrivateConnectivityConfig.

Server assets come from a server order (CreateOrder with a SERVER catalog item from ListCatalogItems)
that the fast lifecycle completes. Keys are real X25519 keys: the test derives the same WireGuard
shared secret from both ends.
"""

from __future__ import annotations

import base64
import ipaddress
import time
import uuid
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from tests.support.errors import aws_error
from tests.support.outposts import ADDRESS

MISSING_OUTPOST = "op-0123456789abcdef0"
VPC = {"VpcId": "vpc-0a1b2c3d4e5f60789", "SubnetIds": ["subnet-0123456789abcdef0"]}


def foreign_arns(arn: str) -> list[str]:
    """The same resource path in another account and another region."""
    parts = arn.split(":")
    return [":".join([*parts[:4], "111122223333", *parts[5:]]), ":".join([*parts[:3], "eu-west-1", *parts[4:]])]


def client_key() -> tuple[X25519PrivateKey, str]:
    private = X25519PrivateKey.generate()
    public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return private, base64.b64encode(public).decode()


def make_outpost(client: Any, hardware: str) -> dict[str, Any]:
    site = client.create_site(
        Name=f"conn-{uuid.uuid4().hex[:8]}",
        OperatingAddress=ADDRESS,
        ShippingAddress=ADDRESS,
        RackPhysicalProperties={"PowerDrawKva": "POWER_15_KVA", "UplinkGbps": "UPLINK_100G"},
    )["Site"]
    return client.create_outpost(Name="conn", SiteId=site["SiteId"], SupportedHardwareType=hardware)["Outpost"]


def install(client: Any, outpost: dict[str, Any], item_class: str) -> list[dict[str, Any]]:
    """Order one item of ``item_class`` that the outpost can take, wait for it, return its assets."""
    generation = outpost["Generation"] if item_class == "RACK" else None
    types = client.get_paginator("list_orderable_instance_types").paginate(
        **({"OutpostGenerationFilter": generation} if generation else {})
    )
    families = {
        t["InstanceType"].split(".")[0]
        for page in types
        for t in page["InstanceTypes"]
        if any(config["FormFactor"] == item_class for config in t["FormFactorConfigs"])
    }
    pages = client.get_paginator("list_catalog_items").paginate(ItemClassFilter=[item_class])
    item = next(
        item
        for page in pages
        for item in page["CatalogItems"]
        if item["ItemStatus"] == "AVAILABLE"
        and {c["Family"] for c in item["EC2Capacities"]} <= families
        and item["PowerKva"] <= 15
        and (item_class == "SERVER" or 100 in item["SupportedUplinkGbps"])
    )
    order = client.create_order(
        OutpostIdentifier=outpost["OutpostId"],
        LineItems=[{"CatalogItemId": item["CatalogItemId"], "Quantity": 1}],
        PaymentOption="NO_UPFRONT",
        PaymentTerm="THREE_YEARS",
    )["Order"]
    deadline = time.monotonic() + 30
    while client.get_order(OrderId=order["OrderId"])["Order"]["Status"] != "COMPLETED":
        assert time.monotonic() < deadline, "order did not complete"
        time.sleep(0.1)
    return client.list_assets(OutpostIdentifier=outpost["OutpostId"])["Assets"]


@pytest.fixture(scope="module")
def installed_server(server: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """A server outpost and the COMPUTE asset of its installed Outposts server."""
    client = server.client("outposts")
    outpost = make_outpost(client, "SERVER")
    assets = install(client, outpost, "SERVER")
    return outpost, next(asset for asset in assets if asset["AssetType"] == "COMPUTE")


@pytest.fixture
def server_asset(installed_server: tuple[dict[str, Any], dict[str, Any]]) -> dict[str, Any]:
    return installed_server[1]


@pytest.fixture(scope="module")
def rack_assets(server: Any) -> list[dict[str, Any]]:
    client = server.client("outposts")
    return install(client, make_outpost(client, "RACK"), "RACK")


# -- StartConnection / GetConnection ------------------------------------------------------------


def test_start_and_get_connection(outposts: Any, server_asset: dict[str, Any], server: Any) -> None:
    private, public = client_key()
    started = outposts.start_connection(
        DeviceSerialNumber="DONGLE123",
        AssetId=server_asset["AssetId"],
        ClientPublicKey=public,
        NetworkInterfaceDeviceIndex=0,
    )
    connection_id = started["ConnectionId"]
    ipaddress.IPv4Address(started["UnderlayIpAddress"])
    got = outposts.get_connection(ConnectionId=connection_id)
    assert got["ConnectionId"] == connection_id
    details = got["ConnectionDetails"]
    assert details["ClientPublicKey"] == public
    server_key = details["ServerPublicKey"]
    assert len(server_key) == 44 and server_key.endswith("=") and server_key != public
    # A real WireGuard (X25519) peer key: both ends derive the same shared secret.
    peer = X25519PublicKey.from_public_bytes(base64.b64decode(server_key))
    assert len(private.exchange(peer)) == 32
    host, port = details["ServerEndpoint"].split(":")
    ipaddress.IPv4Address(host)
    assert int(port) == 51820
    client_if = ipaddress.IPv4Interface(details["ClientTunnelAddress"])
    server_if = ipaddress.IPv4Interface(details["ServerTunnelAddress"])
    assert client_if.network == server_if.network and client_if.ip != server_if.ip
    assert details["AllowedIps"] == [str(client_if.network)]
    assert outposts.get_connection(ConnectionId=connection_id)["ConnectionDetails"] == details
    # In another region the connection does not exist.
    aws_error(
        "NotFoundException",
        404,
        server.client("outposts", region="eu-west-1").get_connection,
        ConnectionId=connection_id,
    )


def test_connection_ids_with_any_base64_character_route(outposts: Any, server_asset: dict[str, Any]) -> None:
    ids = []
    for _ in range(12):
        _, public = client_key()
        started = outposts.start_connection(
            AssetId=server_asset["AssetId"], ClientPublicKey=public, NetworkInterfaceDeviceIndex=0
        )
        assert (
            outposts.get_connection(ConnectionId=started["ConnectionId"])["ConnectionDetails"]["ClientPublicKey"]
            == public
        )
        ids.append(started["ConnectionId"])
    assert all(len(i) == 32 for i in ids) and len(set(ids)) == 12


def test_start_connection_is_idempotent_per_key_and_rekeys(outposts: Any, server_asset: dict[str, Any]) -> None:
    _, public = client_key()
    request = {"AssetId": server_asset["AssetId"], "ClientPublicKey": public, "NetworkInterfaceDeviceIndex": 1}
    first = outposts.start_connection(**request)
    again = outposts.start_connection(**request)
    assert (again["ConnectionId"], again["UnderlayIpAddress"]) == (first["ConnectionId"], first["UnderlayIpAddress"])
    details = outposts.get_connection(ConnectionId=first["ConnectionId"])["ConnectionDetails"]

    _, other = client_key()
    rekeyed = outposts.start_connection(**{**request, "ClientPublicKey": other})
    assert rekeyed["ConnectionId"] != first["ConnectionId"]
    assert rekeyed["UnderlayIpAddress"] == first["UnderlayIpAddress"]
    new_details = outposts.get_connection(ConnectionId=rekeyed["ConnectionId"])["ConnectionDetails"]
    assert new_details["ClientPublicKey"] == other and new_details["ServerPublicKey"] != details["ServerPublicKey"]
    aws_error("NotFoundException", 404, outposts.get_connection, ConnectionId=first["ConnectionId"])

    other_interface = outposts.start_connection(**{**request, "NetworkInterfaceDeviceIndex": 0})
    assert other_interface["UnderlayIpAddress"] != first["UnderlayIpAddress"]


def test_start_connection_errors(outposts: Any, rack_assets: list[dict[str, Any]]) -> None:
    _, public = client_key()
    aws_error(
        "NotFoundException",
        404,
        outposts.start_connection,
        AssetId="1234567890",
        ClientPublicKey=public,
        NetworkInterfaceDeviceIndex=0,
    )
    rack_host = next(asset for asset in rack_assets if asset["AssetType"] == "COMPUTE")
    response = aws_error(
        "ValidationException",
        400,
        outposts.start_connection,
        AssetId=rack_host["AssetId"],
        ClientPublicKey=public,
        NetworkInterfaceDeviceIndex=0,
    )
    assert "server" in response["Error"]["Message"]
    aws_error(
        "ValidationException",
        400,
        outposts.start_connection,
        AssetId=rack_host["AssetId"],
        ClientPublicKey="not-a-key-" * 4 + "abc=",
        NetworkInterfaceDeviceIndex=0,
    )


def test_get_connection_not_found(outposts: Any) -> None:
    for missing in ["bm90LWEtY29ubmVjdGlvbg==", "ab/cd+ef/gh==", "/+/+"]:
        aws_error("NotFoundException", 404, outposts.get_connection, ConnectionId=missing)
    aws_error("ValidationException", 400, outposts.get_connection, ConnectionId="not_valid!")


# -- private connectivity -----------------------------------------------------------------------


def test_create_and_get_private_connectivity_config(outposts: Any) -> None:
    outpost = make_outpost(outposts, "RACK")
    created = outposts.create_private_connectivity_config(OutpostId=outpost["OutpostId"], VpcInformationList=[VPC])
    assert created["OutpostId"] == outpost["OutpostId"]
    config = created["PrivateConnectivityConfig"]
    account = outpost["OwnerId"]
    assert config["RoleArn"] == (
        f"arn:aws:iam::{account}:role/aws-service-role/outposts.amazonaws.com/AWSServiceRoleForOutposts_{outpost['OutpostId']}"
    )
    assert config["PrivateConnectivityStatus"] == "ENABLED"
    assert config["VpcInformationList"] == [VPC]
    assert "ProvisioningRoleArn" not in config
    got = outposts.get_private_connectivity_config(OutpostId=outpost["OutpostArn"])["PrivateConnectivityConfig"]
    assert got == config


def test_vpc_endpoint_adds_a_provisioning_role(outposts: Any) -> None:
    outpost = make_outpost(outposts, "RACK")
    vpc = {**VPC, "VpcEndpointId": "vpce-0123456789abcdef0"}
    config = outposts.create_private_connectivity_config(OutpostId=outpost["OutpostArn"], VpcInformationList=[vpc])
    role = config["PrivateConnectivityConfig"]["ProvisioningRoleArn"]
    assert role.startswith(f"arn:aws:iam::{outpost['OwnerId']}:role/") and outpost["OutpostId"] in role
    assert config["PrivateConnectivityConfig"]["VpcInformationList"] == [vpc]


def test_one_private_connectivity_config_per_outpost(outposts: Any) -> None:
    outpost = make_outpost(outposts, "RACK")
    outposts.create_private_connectivity_config(OutpostId=outpost["OutpostId"], VpcInformationList=[VPC])
    response = aws_error(
        "ConflictException",
        409,
        outposts.create_private_connectivity_config,
        OutpostId=outpost["OutpostArn"],
        VpcInformationList=[{**VPC, "VpcId": "vpc-other"}],
    )
    assert (response["ResourceId"], response["ResourceType"]) == (outpost["OutpostId"], "OUTPOST")
    got = outposts.get_private_connectivity_config(OutpostId=outpost["OutpostId"])["PrivateConnectivityConfig"]
    assert got["VpcInformationList"] == [VPC]


def test_private_connectivity_is_set_up_before_installation(outposts: Any, installed_server: tuple) -> None:
    installed, _ = installed_server
    aws_error(
        "ConflictException",
        409,
        outposts.create_private_connectivity_config,
        OutpostId=installed["OutpostId"],
        VpcInformationList=[VPC],
    )
    retiring = make_outpost(outposts, "RACK")
    outposts.start_outpost_decommission(OutpostIdentifier=retiring["OutpostId"])
    aws_error(
        "ConflictException",
        409,
        outposts.create_private_connectivity_config,
        OutpostId=retiring["OutpostId"],
        VpcInformationList=[VPC],
    )


def test_private_connectivity_errors(outposts: Any) -> None:
    outpost = make_outpost(outposts, "RACK")
    aws_error(
        "ValidationException",
        400,
        outposts.create_private_connectivity_config,
        OutpostId=outpost["OutpostId"],
        VpcInformationList=[{**VPC, "SubnetIds": ["subnet-1", "subnet-2"]}],
    )
    aws_error("NotFoundException", 404, outposts.get_private_connectivity_config, OutpostId=outpost["OutpostId"])
    for identifier in [MISSING_OUTPOST, *foreign_arns(outpost["OutpostArn"])]:
        aws_error(
            "NotFoundException",
            404,
            outposts.create_private_connectivity_config,
            OutpostId=identifier,
            VpcInformationList=[VPC],
        )
        aws_error("NotFoundException", 404, outposts.get_private_connectivity_config, OutpostId=identifier)
