"""Outposts end to end through boto3: CreateOutpost, GetOutpost, ListOutposts, UpdateOutpost,
DeleteOutpost, StartOutpostDecommission.

The shared server holds other tests' outposts too, so list tests check that every returned item
satisfies the filters and that exactly the expected ones of this test's outposts are returned.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from tests.support.errors import aws_error

MISSING_OUTPOST = "op-0123456789abcdef0"
RETIRED_OR_RETIRING = {"RETIRING", "RETIRED"}


def foreign_arns(arn: str) -> list[str]:
    """The same resource path in another account, another region and another partition."""
    parts = arn.split(":")
    other_account = ":".join([*parts[:4], "111122223333", *parts[5:]])
    other_region = ":".join([*parts[:3], "eu-west-1", *parts[4:]])
    other_partition = ":".join([parts[0], "aws-cn", *parts[2:]])
    return [other_account, other_region, other_partition]


def all_outposts(client: Any, **filters: Any) -> list[dict[str, Any]]:
    return [o for page in client.get_paginator("list_outposts").paginate(**filters) for o in page["Outposts"]]


@pytest.fixture
def site(outposts: Any) -> dict[str, Any]:
    return outposts.create_site(Name=f"site-{uuid.uuid4().hex[:8]}")["Site"]


@pytest.fixture
def outpost(outposts: Any, site: dict[str, Any]) -> dict[str, Any]:
    return outposts.create_outpost(Name="rack-1", SiteId=site["SiteId"], AvailabilityZone="us-east-1a")["Outpost"]


def ref(outpost: dict[str, Any], form: str) -> str:
    return outpost["OutpostId"] if form == "id" else outpost["OutpostArn"]


# -- CreateOutpost ------------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["SiteId", "SiteArn"])
def test_create_outpost_returns_every_member(outposts: Any, site: dict[str, Any], form: str) -> None:
    created = outposts.create_outpost(
        Name="rack one",
        Description="first rack",
        SiteId=site[form],
        AvailabilityZone="us-east-1b",
        Tags={"env": "lab", "a:b/c": "d e"},
    )["Outpost"]
    account = site["AccountId"]
    assert created["OutpostId"].startswith("op-") and len(created["OutpostId"]) == 20
    assert created == {
        "OutpostId": created["OutpostId"],
        "OwnerId": account,
        "OutpostArn": f"arn:aws:outposts:us-east-1:{account}:outpost/{created['OutpostId']}",
        "SiteId": site["SiteId"],
        "SiteArn": site["SiteArn"],
        "Name": "rack one",
        "Description": "first rack",
        "LifeCycleStatus": "ACTIVE",
        "AvailabilityZone": "us-east-1b",
        "AvailabilityZoneId": "use1-az2",
        "Tags": {"env": "lab", "a:b/c": "d e"},
        "SupportedHardwareType": "RACK",
        "Generation": "GENERATION_2",
        "RackScalingType": "SINGLE_RACK",
    }
    assert outposts.get_outpost(OutpostId=created["OutpostId"])["Outpost"] == created


def test_create_server_outpost_with_empty_description(outposts: Any, site: dict[str, Any]) -> None:
    created = outposts.create_outpost(
        Name="srv", SiteId=site["SiteId"], Description="", SupportedHardwareType="SERVER"
    )["Outpost"]
    assert created["SupportedHardwareType"] == "SERVER"
    assert created.get("Description", "") == ""
    assert "RackScalingType" not in created


@pytest.mark.parametrize(
    ("zone", "zone_id", "expected"),
    [
        ("us-east-1c", None, ("us-east-1c", "use1-az3")),
        (None, "use1-az4", ("us-east-1d", "use1-az4")),
        ("us-east-1f", "use1-az6", ("us-east-1f", "use1-az6")),
        (None, None, ("us-east-1a", "use1-az1")),
    ],
)
def test_create_outpost_zone_by_name_id_or_both(
    outposts: Any, site: dict[str, Any], zone: str | None, zone_id: str | None, expected: tuple[str, str]
) -> None:
    args = {k: v for k, v in (("AvailabilityZone", zone), ("AvailabilityZoneId", zone_id)) if v}
    created = outposts.create_outpost(Name="z", SiteId=site["SiteId"], **args)["Outpost"]
    assert (created["AvailabilityZone"], created["AvailabilityZoneId"]) == expected


@pytest.mark.parametrize(
    ("zone", "zone_id", "named"),
    [
        ("us-east-1a", "use1-az2", "us-east-1a"),  # both given, but they disagree
        ("eu-west-1a", None, "eu-west-1a"),  # another region's zone
        (None, "euw1-az1", "euw1-az1"),  # another region's zone id
        ("us-east-1z", None, "us-east-1z"),  # no such zone
    ],
)
def test_create_outpost_bad_zone(
    outposts: Any, site: dict[str, Any], zone: str | None, zone_id: str | None, named: str
) -> None:
    args = {k: v for k, v in (("AvailabilityZone", zone), ("AvailabilityZoneId", zone_id)) if v}
    response = aws_error("ValidationException", 400, outposts.create_outpost, Name="z", SiteId=site["SiteId"], **args)
    assert named in response["Error"]["Message"]


def test_create_outpost_zones_of_another_region(server: Any) -> None:
    client = server.client("outposts", region="eu-west-1")
    site = client.create_site(Name="eu")["Site"]
    created = client.create_outpost(Name="eu", SiteId=site["SiteId"], AvailabilityZoneId="euw1-az3")["Outpost"]
    assert (created["AvailabilityZone"], created["AvailabilityZoneId"]) == ("eu-west-1c", "euw1-az3")
    assert created["OutpostArn"].startswith("arn:aws:outposts:eu-west-1:")
    aws_error(
        "ValidationException",
        400,
        client.create_outpost,
        Name="x",
        SiteId=site["SiteId"],
        AvailabilityZone="us-east-1a",
    )


@pytest.mark.parametrize(
    ("region", "zone_id", "zone"),
    [("ap-northeast-2", "apne2-az2", "ap-northeast-2b"), ("ca-west-1", "caw1-az3", "ca-west-1c")],
)
def test_zone_ids_follow_aws_region_codes(server: Any, region: str, zone_id: str, zone: str) -> None:
    client = server.client("outposts", region=region)
    site = client.create_site(Name="z")["Site"]
    created = client.create_outpost(Name="z", SiteId=site["SiteId"], AvailabilityZoneId=zone_id)["Outpost"]
    assert (created["AvailabilityZone"], created["AvailabilityZoneId"]) == (zone, zone_id)


def test_create_outpost_site_not_found(outposts: Any, site: dict[str, Any]) -> None:
    response = aws_error("NotFoundException", 404, outposts.create_outpost, Name="x", SiteId="os-0123456789abcdef0")
    assert "os-0123456789abcdef0" in response["Error"]["Message"]
    for arn in foreign_arns(site["SiteArn"]):
        aws_error("NotFoundException", 404, outposts.create_outpost, Name="x", SiteId=arn)


def test_create_outpost_validation(outposts: Any, site: dict[str, Any]) -> None:
    response = aws_error(
        "ValidationException",
        400,
        outposts.create_outpost,
        Name="n" * 256,
        SiteId=site["SiteId"],
        SupportedHardwareType="BLADE",
    )
    message = response["Error"]["Message"]
    assert message.startswith("2 validation errors detected: ")
    assert "at 'name' failed to satisfy constraint: Member must have length less than or equal to 255" in message
    assert (
        "Value 'BLADE' at 'supportedHardwareType' failed to satisfy constraint: "
        "Member must satisfy enum value set: [RACK, SERVER]" in message
    )
    response = aws_error(
        "ValidationException", 400, outposts.create_outpost, Name="x", SiteId=site["SiteId"], AvailabilityZoneId="az1"
    )
    assert response["Error"]["Message"] == (
        "1 validation error detected: Value 'az1' at 'availabilityZoneId' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: ^[a-zA-Z]+\\d-[a-zA-Z]+\\d$"
    )


def test_outpost_quota_is_100_per_account_and_region(make_server: Callable[..., Any]) -> None:
    proc = make_server()
    client = proc.client("outposts")
    sites = [client.create_site(Name=f"s{i}")["Site"]["SiteId"] for i in range(3)]
    made = [client.create_outpost(Name=f"o{i}", SiteId=sites[i % 3])["Outpost"] for i in range(100)]
    response = aws_error("ServiceQuotaExceededException", 402, client.create_outpost, Name="x", SiteId=sites[0])
    assert "100" in response["Error"]["Message"]
    assert len(all_outposts(client)) == 100
    west = proc.client("outposts", region="us-west-2")
    assert west.create_outpost(Name="w", SiteId=west.create_site(Name="w")["Site"]["SiteId"])["Outpost"]
    client.delete_outpost(OutpostId=made[50]["OutpostId"])
    client.create_outpost(Name="replacement", SiteId=sites[1])
    aws_error("ServiceQuotaExceededException", 402, client.create_outpost, Name="y", SiteId=sites[2])


# -- GetOutpost ---------------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["id", "arn"])
def test_get_outpost(outposts: Any, outpost: dict[str, Any], form: str) -> None:
    assert outposts.get_outpost(OutpostId=ref(outpost, form))["Outpost"] == outpost


def test_get_outpost_errors(outposts: Any, outpost: dict[str, Any]) -> None:
    response = aws_error("NotFoundException", 404, outposts.get_outpost, OutpostId=MISSING_OUTPOST)
    assert MISSING_OUTPOST in response["Error"]["Message"]
    for arn in foreign_arns(outpost["OutpostArn"]):
        aws_error("NotFoundException", 404, outposts.get_outpost, OutpostId=arn)
    response = aws_error("ValidationException", 400, outposts.get_outpost, OutpostId=outpost["SiteId"])
    assert (
        f"Value '{outpost['SiteId']}' at 'outpostId' failed to satisfy constraint: Member must satisfy regular"
        in (response["Error"]["Message"])
    )


# -- ListOutposts -------------------------------------------------------------------------------


def test_list_outposts_filters(outposts: Any, site: dict[str, Any]) -> None:
    def make(zone: str) -> str:
        return outposts.create_outpost(Name=zone, SiteId=site["SiteId"], AvailabilityZone=zone)["Outpost"]["OutpostId"]

    a, b, c, d = make("us-east-1a"), make("us-east-1b"), make("us-east-1b"), make("us-east-1e")
    assert outposts.start_outpost_decommission(OutpostIdentifier=c)["Status"] == "REQUESTED"
    mine = {a, b, c, d}

    def listed(**filters: Any) -> set[str]:
        found = all_outposts(outposts, **filters)
        for item in found:  # every result of the shared server satisfies the filters
            if "AvailabilityZoneFilter" in filters:
                assert item["AvailabilityZone"] in filters["AvailabilityZoneFilter"]
            if "AvailabilityZoneIdFilter" in filters:
                assert item["AvailabilityZoneId"] in filters["AvailabilityZoneIdFilter"]
            if "LifeCycleStatusFilter" in filters:
                assert item["LifeCycleStatus"] in filters["LifeCycleStatusFilter"]
        return {item["OutpostId"] for item in found} & mine

    assert listed() == mine
    assert listed(AvailabilityZoneFilter=["us-east-1b"]) == {b, c}
    assert listed(AvailabilityZoneFilter=["us-east-1a", "us-east-1e"]) == {a, d}
    assert listed(AvailabilityZoneIdFilter=["use1-az2", "use1-az5"]) == {b, c, d}
    assert listed(LifeCycleStatusFilter=["ACTIVE"]) == {a, b, d}
    assert listed(LifeCycleStatusFilter=sorted(RETIRED_OR_RETIRING)) == {c}
    assert listed(AvailabilityZoneFilter=["us-east-1b"], LifeCycleStatusFilter=["ACTIVE"]) == {b}
    assert listed(AvailabilityZoneFilter=["us-east-1a", "us-east-1b"], AvailabilityZoneIdFilter=["use1-az1"]) == {a}
    assert listed(AvailabilityZoneFilter=["us-east-1a"], AvailabilityZoneIdFilter=["use1-az2"]) == set()


def test_list_outposts_filter_validation(outposts: Any) -> None:
    zones = [f"us-east-1{letter}" for letter in "abcdef"]
    response = aws_error("ValidationException", 400, outposts.list_outposts, AvailabilityZoneFilter=zones)
    assert response["Error"]["Message"] == (
        f"1 validation error detected: Value '[{', '.join(zones)}]' at 'availabilityZoneFilter' failed to satisfy "
        "constraint: Member must have length less than or equal to 5"
    )
    response = aws_error("ValidationException", 400, outposts.list_outposts, LifeCycleStatusFilter=["ACTIVE_1"])
    assert (
        "Value 'ACTIVE_1' at 'lifeCycleStatusFilter.1.member' failed to satisfy constraint"
        in (response["Error"]["Message"])
    )


# -- UpdateOutpost ------------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["id", "arn"])
def test_update_outpost(outposts: Any, outpost: dict[str, Any], form: str) -> None:
    updated = outposts.update_outpost(OutpostId=ref(outpost, form), Name="renamed")["Outpost"]
    assert updated == {**outpost, "Name": "renamed"}
    updated = outposts.update_outpost(OutpostId=ref(outpost, form), Description="now described")["Outpost"]
    assert updated == {**outpost, "Name": "renamed", "Description": "now described"}
    updated = outposts.update_outpost(OutpostId=ref(outpost, form), SupportedHardwareType="SERVER")["Outpost"]
    assert updated["SupportedHardwareType"] == "SERVER"
    assert "RackScalingType" not in updated
    updated = outposts.update_outpost(OutpostId=ref(outpost, form), SupportedHardwareType="RACK")["Outpost"]
    assert updated == {**outpost, "Name": "renamed", "Description": "now described"}
    assert outposts.get_outpost(OutpostId=outpost["OutpostId"])["Outpost"] == updated


def test_update_outpost_errors(outposts: Any, outpost: dict[str, Any]) -> None:
    aws_error("NotFoundException", 404, outposts.update_outpost, OutpostId=MISSING_OUTPOST, Name="x")
    for arn in foreign_arns(outpost["OutpostArn"]):
        aws_error("NotFoundException", 404, outposts.update_outpost, OutpostId=arn, Name="x")
    response = aws_error(
        "ValidationException", 400, outposts.update_outpost, OutpostId=outpost["OutpostId"], Description="d" * 1001
    )
    assert (
        "at 'description' failed to satisfy constraint: Member must have length less than or equal to 1000"
        in (response["Error"]["Message"])
    )
    assert outposts.get_outpost(OutpostId=outpost["OutpostId"])["Outpost"] == outpost


# -- DeleteOutpost ------------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["id", "arn"])
def test_delete_outpost(outposts: Any, outpost: dict[str, Any], form: str) -> None:
    assert outposts.delete_outpost(OutpostId=ref(outpost, form))["ResponseMetadata"]["HTTPStatusCode"] == 200
    aws_error("NotFoundException", 404, outposts.get_outpost, OutpostId=outpost["OutpostId"])
    aws_error("NotFoundException", 404, outposts.delete_outpost, OutpostId=ref(outpost, form))
    assert outpost["OutpostId"] not in {o["OutpostId"] for o in all_outposts(outposts)}
    aws_error("NotFoundException", 404, outposts.list_tags_for_resource, ResourceArn=outpost["OutpostArn"])


def test_delete_outpost_errors(outposts: Any, outpost: dict[str, Any]) -> None:
    for arn in foreign_arns(outpost["OutpostArn"]):
        aws_error("NotFoundException", 404, outposts.delete_outpost, OutpostId=arn)
    response = aws_error("ValidationException", 400, outposts.delete_outpost, OutpostId="op-123")
    assert "Value 'op-123' at 'outpostId' failed to satisfy constraint" in response["Error"]["Message"]
    assert outposts.get_outpost(OutpostId=outpost["OutpostId"])["Outpost"] == outpost


# -- StartOutpostDecommission -------------------------------------------------------------------


@pytest.mark.parametrize("form", ["id", "arn"])
def test_decommission_validate_only_changes_nothing(outposts: Any, outpost: dict[str, Any], form: str) -> None:
    response = outposts.start_outpost_decommission(OutpostIdentifier=ref(outpost, form), ValidateOnly=True)
    assert response["Status"] == "SKIPPED"
    assert response["BlockingResourceTypes"] == []
    assert outposts.get_outpost(OutpostId=outpost["OutpostId"])["Outpost"] == outpost


@pytest.mark.parametrize("form", ["id", "arn"])
def test_decommission(outposts: Any, outpost: dict[str, Any], form: str) -> None:
    response = outposts.start_outpost_decommission(OutpostIdentifier=ref(outpost, form))
    assert (response["Status"], response["BlockingResourceTypes"]) == ("REQUESTED", [])
    status = outposts.get_outpost(OutpostId=outpost["OutpostId"])["Outpost"]["LifeCycleStatus"]
    assert status in RETIRED_OR_RETIRING
    for validate_only in (False, True):
        response = aws_error(
            "ConflictException",
            409,
            outposts.start_outpost_decommission,
            OutpostIdentifier=ref(outpost, form),
            ValidateOnly=validate_only,
        )
        assert response["ResourceId"] == outpost["OutpostId"]
        assert response["ResourceType"] == "OUTPOST"
    # an outpost without hardware can be deleted once decommissioned
    outposts.delete_outpost(OutpostId=outpost["OutpostId"])


def test_decommission_errors(outposts: Any, outpost: dict[str, Any]) -> None:
    aws_error("NotFoundException", 404, outposts.start_outpost_decommission, OutpostIdentifier=MISSING_OUTPOST)
    for arn in foreign_arns(outpost["OutpostArn"]):
        aws_error("NotFoundException", 404, outposts.start_outpost_decommission, OutpostIdentifier=arn)
    response = aws_error(
        "ValidationException", 400, outposts.start_outpost_decommission, OutpostIdentifier="op-0123456789ABCDEF0"
    )
    assert (
        "Value 'op-0123456789ABCDEF0' at 'outpostIdentifier' failed to satisfy constraint"
        in (response["Error"]["Message"])
    )
    assert outposts.get_outpost(OutpostId=outpost["OutpostId"])["Outpost"]["LifeCycleStatus"] == "ACTIVE"


# -- outposts with orders -------------------------------------------------------------------------
# A dedicated server whose lifecycle never advances on its own keeps orders PREPARING (active);
# the tests that need orders to move run a fast lifecycle and wait for the status they need.

STILL = ["--lifecycle-seconds", "3600"]


def place_order(client: Any, outpost_id: str) -> dict[str, Any]:
    """A one-rack order for the outpost, of the first catalog rack CreateOrder accepts for it."""
    pages = client.get_paginator("list_catalog_items").paginate(ItemClassFilter=["RACK"])
    items = [i for page in pages for i in page["CatalogItems"] if i["ItemStatus"] == "AVAILABLE"]
    for item in items:  # the outpost's generation and the site's rack properties rule some out
        try:
            return client.create_order(
                OutpostIdentifier=outpost_id,
                LineItems=[{"CatalogItemId": item["CatalogItemId"], "Quantity": 1}],
                PaymentOption="ALL_UPFRONT",
                PaymentTerm="THREE_YEARS",
            )["Order"]
        except client.exceptions.ValidationException:
            continue
    raise AssertionError(f"no catalog rack can be ordered for {outpost_id}")


def wait_for(probe: Callable[[], Any], wanted: Callable[[Any], bool], timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if wanted(value):
            return value
        assert time.monotonic() < deadline, f"gave up waiting; last value {value!r}"
        time.sleep(0.05)


def test_outpost_with_a_preparing_order(make_server: Callable[..., Any]) -> None:
    client = make_server(*STILL).client("outposts")
    site = client.create_site(Name="s")["Site"]
    outpost = client.create_outpost(Name="o", SiteId=site["SiteId"])["Outpost"]
    order = place_order(client, outpost["OutpostId"])
    oid = outpost["OutpostId"]

    response = aws_error("ConflictException", 409, client.delete_outpost, OutpostId=outpost["OutpostArn"])
    assert (response["ResourceId"], response["ResourceType"]) == (order["OrderId"], "ORDER")
    response = aws_error("ConflictException", 409, client.update_outpost, OutpostId=oid, SupportedHardwareType="SERVER")
    assert (response["ResourceId"], response["ResourceType"]) == (oid, "OUTPOST")
    assert client.update_outpost(OutpostId=oid, SupportedHardwareType="RACK", Name="same type")["Outpost"]["Name"] == (
        "same type"
    )
    for validate_only in (True, False):
        response = client.start_outpost_decommission(OutpostIdentifier=oid, ValidateOnly=validate_only)
        assert (response["Status"], response["BlockingResourceTypes"]) == ("BLOCKED", ["OUTPOST_ORDER_CANCELLABLE"])
    assert client.get_outpost(OutpostId=oid)["Outpost"]["LifeCycleStatus"] == "ACTIVE"

    # once the order is cancelled nothing holds the outpost
    client.cancel_order(OrderId=order["OrderId"])
    assert client.update_outpost(OutpostId=oid, SupportedHardwareType="SERVER")["Outpost"]["SupportedHardwareType"] == (
        "SERVER"
    )
    assert client.start_outpost_decommission(OutpostIdentifier=oid, ValidateOnly=True)["Status"] == "SKIPPED"
    client.delete_outpost(OutpostId=oid)
    client.delete_site(SiteId=site["SiteId"])


def test_outpost_with_an_order_in_progress(make_server: Callable[..., Any]) -> None:
    client = make_server("--lifecycle-seconds", "1.5").client("outposts")
    site = client.create_site(Name="s")["Site"]
    outpost = client.create_outpost(Name="o", SiteId=site["SiteId"])["Outpost"]
    order = place_order(client, outpost["OutpostId"])
    wait_for(lambda: client.get_order(OrderId=order["OrderId"])["Order"]["Status"], lambda s: s == "IN_PROGRESS")
    response = client.start_outpost_decommission(OutpostIdentifier=outpost["OutpostId"], ValidateOnly=True)
    assert (response["Status"], response["BlockingResourceTypes"]) == (
        "BLOCKED",
        ["OUTPOST_ORDER_INTERVENTION_REQUIRED"],
    )
    response = aws_error("ConflictException", 409, client.delete_outpost, OutpostId=outpost["OutpostId"])
    assert (response["ResourceId"], response["ResourceType"]) == (order["OrderId"], "ORDER")


def test_installed_outpost_must_be_decommissioned_before_deletion(make_server: Callable[..., Any]) -> None:
    client = make_server("--lifecycle-seconds", "0.2").client("outposts")
    site = client.create_site(Name="s")["Site"]
    outpost = client.create_outpost(Name="o", SiteId=site["SiteId"])["Outpost"]
    oid = outpost["OutpostId"]
    order = place_order(client, oid)
    wait_for(lambda: client.get_order(OrderId=order["OrderId"])["Order"]["Status"], lambda s: s == "COMPLETED")
    response = aws_error("ConflictException", 409, client.delete_outpost, OutpostId=oid)
    assert (response["ResourceId"], response["ResourceType"]) == (oid, "OUTPOST")
    response = aws_error("ConflictException", 409, client.update_outpost, OutpostId=oid, SupportedHardwareType="SERVER")
    assert (response["ResourceId"], response["ResourceType"]) == (oid, "OUTPOST")
    assert client.start_outpost_decommission(OutpostIdentifier=oid, ValidateOnly=True)["Status"] == "SKIPPED"
    assert client.start_outpost_decommission(OutpostIdentifier=oid)["Status"] == "REQUESTED"
    wait_for(lambda: client.get_outpost(OutpostId=oid)["Outpost"]["LifeCycleStatus"], lambda s: s == "RETIRED")
    assert [o["OutpostId"] for o in all_outposts(client, LifeCycleStatusFilter=["RETIRED"])] == [oid]
    client.delete_outpost(OutpostId=oid)
    client.delete_site(SiteId=site["SiteId"])
