"""Sites end to end through boto3: CreateSite, GetSite, ListSites, UpdateSite, DeleteSite,
GetSiteAddress, UpdateSiteAddress, UpdateSiteRackPhysicalProperties.

Every "ID or ARN" input is exercised with both forms; ARNs of another account, region or
partition are NotFound; validation errors carry AWS's wording and name the member.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from tests.support.errors import aws_error

FULL_ADDRESS = {
    "ContactName": "Jane Doe",
    "ContactPhoneNumber": "+12065550100",
    "AddressLine1": "410 Terry Ave N",
    "AddressLine2": "Floor 3",
    "AddressLine3": "Loading dock B",
    "City": "Seattle",
    "StateOrRegion": "WA",
    "DistrictOrCounty": "King",
    "PostalCode": "98109",
    "CountryCode": "US",
    "Municipality": "Seattle",
}
ALL_RACK_PROPERTIES = {
    "PowerDrawKva": "POWER_15_KVA",
    "PowerPhase": "THREE_PHASE",
    "PowerConnector": "AH530P7W",
    "PowerFeedDrop": "BELOW_RACK",
    "UplinkGbps": "UPLINK_100G",
    "UplinkCount": "UPLINK_COUNT_4",
    "FiberOpticCableType": "SINGLE_MODE",
    "OpticalStandard": "OPTIC_100GBASE_LR4",
    "MaximumSupportedWeightLbs": "MAX_2000_LBS",
}


def address(**changes: str) -> dict[str, str]:
    required = ("ContactName", "ContactPhoneNumber", "AddressLine1", "City", "StateOrRegion", "PostalCode")
    return {**{k: FULL_ADDRESS[k] for k in required}, "CountryCode": "US", **changes}


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


def foreign_arns(arn: str) -> list[str]:
    """The same resource path in another account, another region and another partition."""
    parts = arn.split(":")
    other_account = ":".join([*parts[:4], "111122223333", *parts[5:]])
    other_region = ":".join([*parts[:3], "eu-west-1", *parts[4:]])
    other_partition = ":".join([parts[0], "aws-cn", *parts[2:]])
    return [other_account, other_region, other_partition]


@pytest.fixture
def site(outposts: Any) -> dict[str, Any]:
    return outposts.create_site(Name=unique("site-"))["Site"]


def ref(site: dict[str, Any], form: str) -> str:
    return site["SiteId"] if form == "id" else site["SiteArn"]


# -- CreateSite -----------------------------------------------------------------------------------


def test_create_site_returns_every_member(outposts: Any) -> None:
    name = unique("lab ")
    created = outposts.create_site(
        Name=name,
        Description="Main lab",
        Notes="Badge at the front desk.\nPPE required.",
        Tags={"team": "infra", "cost-center": "42"},
        OperatingAddress=FULL_ADDRESS,
        ShippingAddress=address(AddressLine1="1 Dock St"),
        RackPhysicalProperties={"PowerDrawKva": "POWER_10_KVA", "UplinkGbps": "UPLINK_10G"},
    )
    site = created["Site"]
    account = site["AccountId"]
    assert site["SiteId"].startswith("os-") and len(site["SiteId"]) == 20
    assert site["SiteArn"] == f"arn:aws:outposts:us-east-1:{account}:site/{site['SiteId']}"
    assert len(account) == 12 and account.isdigit()
    assert site["Name"] == name
    assert site["Description"] == "Main lab"
    assert site["Notes"] == "Badge at the front desk.\nPPE required."
    assert site["Tags"] == {"team": "infra", "cost-center": "42"}
    assert site["OperatingAddressCountryCode"] == "US"
    assert site["OperatingAddressStateOrRegion"] == "WA"
    assert site["OperatingAddressCity"] == "Seattle"
    assert site["RackPhysicalProperties"] == {"PowerDrawKva": "POWER_10_KVA", "UplinkGbps": "UPLINK_10G"}
    # the sensitive addresses never appear in a Site
    assert not {"OperatingAddress", "ShippingAddress", "Address"} & set(site)
    assert outposts.get_site(SiteId=site["SiteId"])["Site"] == site


def test_create_site_unicode_round_trip(outposts: Any) -> None:
    name, notes = "Zürich — 東京 🏔", "Zugang über Tor 3\n門は朝8時に開く"
    site = outposts.create_site(Name=name, Notes=notes, OperatingAddress=address(City="Zürich", CountryCode="CH"))
    site = site["Site"]
    assert (site["Name"], site["Notes"], site["OperatingAddressCity"]) == (name, notes, "Zürich")
    assert outposts.get_site(SiteId=site["SiteId"])["Site"] == site
    found = _all_sites(outposts, OperatingAddressCityFilter=["Zürich"], OperatingAddressCountryCodeFilter=["CH"])
    assert site in found


def test_create_site_with_name_only(outposts: Any) -> None:
    site = outposts.create_site(Name="n")["Site"]
    assert site["Name"] == "n"
    assert not {"Description", "Notes", "OperatingAddressCity", "OperatingAddressCountryCode"} & set(site)
    assert site.get("Tags", {}) == {}


def test_create_site_validation_names_members(outposts: Any) -> None:
    response = aws_error("ValidationException", 400, outposts.create_site, Name="x" * 1001)
    assert response["Error"]["Message"] == (
        f"1 validation error detected: Value '{'x' * 1001}' at 'name' failed to satisfy constraint: "
        "Member must have length less than or equal to 1000"
    )
    response = aws_error("ValidationException", 400, outposts.create_site, Name="a\tb", Notes="n" * 2001)
    message = response["Error"]["Message"]
    assert message.startswith("2 validation errors detected: ")
    assert "Value 'a\tb' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: " in (
        message
    )
    assert "at 'notes' failed to satisfy constraint: Member must have length less than or equal to 2000" in message


def test_create_site_address_validation_does_not_echo_sensitive_values(outposts: Any) -> None:
    response = aws_error(
        "ValidationException",
        400,
        outposts.create_site,
        Name="n",
        OperatingAddress=address(CountryCode="USA", ContactPhoneNumber="555-0100"),
    )
    message = response["Error"]["Message"]
    assert message.startswith("3 validation errors detected: ")  # USA: too long and not ^[A-Z]{2}$
    assert (
        "Value at 'operatingAddress.countryCode' failed to satisfy constraint: "
        "Member must have length less than or equal to 2" in message
    )
    assert "Value at 'operatingAddress.contactPhoneNumber' failed to satisfy constraint" in message
    assert "USA" not in message and "555-0100" not in message


def test_create_site_rack_property_enum(outposts: Any) -> None:
    response = aws_error(
        "ValidationException",
        400,
        outposts.create_site,
        Name="n",
        RackPhysicalProperties={"PowerDrawKva": "POWER_1_KVA"},
    )
    assert response["Error"]["Message"] == (
        "1 validation error detected: Value 'POWER_1_KVA' at 'rackPhysicalProperties.powerDrawKva' failed to "
        "satisfy constraint: Member must satisfy enum value set: [POWER_5_KVA, POWER_10_KVA, POWER_15_KVA, "
        "POWER_30_KVA]"
    )


def test_required_member_missing_is_refused_by_the_server(server: Any) -> None:
    raw = server.client("outposts", parameter_validation=False)
    response = aws_error("ValidationException", 400, raw.create_site, Description="no name")
    assert response["Error"]["Message"] == (
        "1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null"
    )


def test_site_quota_is_100_per_account_and_region(make_server: Callable[..., Any]) -> None:
    proc = make_server()
    client = proc.client("outposts")
    sites = [client.create_site(Name=f"s{i}")["Site"] for i in range(100)]
    response = aws_error("ServiceQuotaExceededException", 402, client.create_site, Name="one too many")
    assert "100" in response["Error"]["Message"]
    assert len(_all_sites(client)) == 100
    # another region of the same account has its own quota
    assert proc.client("outposts", region="eu-west-1").create_site(Name="elsewhere")["Site"]["SiteId"]
    # freeing one makes room for one
    client.delete_site(SiteId=sites[0]["SiteId"])
    client.create_site(Name="replacement")
    aws_error("ServiceQuotaExceededException", 402, client.create_site, Name="again too many")


def test_adjusted_quotas_apply_to_sites_and_outposts(make_server: Callable[..., Any]) -> None:
    client = make_server("--quotas", "outposts.sites=2,outposts.outposts=1").client("outposts")
    site = client.create_site(Name="one")["Site"]
    client.create_site(Name="two")
    response = aws_error("ServiceQuotaExceededException", 402, client.create_site, Name="three")
    assert response["Error"]["Message"] == "You have reached the limit of 2 sites in us-east-1 for this account."
    client.create_outpost(Name="rack", SiteId=site["SiteId"])
    response = aws_error("ServiceQuotaExceededException", 402, client.create_outpost, Name="r2", SiteId=site["SiteId"])
    assert "limit of 1 outposts" in response["Error"]["Message"]


def _all_sites(client: Any, **filters: Any) -> list[dict[str, Any]]:
    return [s for page in client.get_paginator("list_sites").paginate(**filters) for s in page["Sites"]]


# -- GetSite ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["id", "arn"])
def test_get_site_by_id_or_arn(outposts: Any, site: dict[str, Any], form: str) -> None:
    assert outposts.get_site(SiteId=ref(site, form))["Site"] == site


def test_get_site_not_found(outposts: Any, site: dict[str, Any]) -> None:
    missing = "os-0123456789abcdef0"
    response = aws_error("NotFoundException", 404, outposts.get_site, SiteId=missing)
    assert missing in response["Error"]["Message"]
    for arn in foreign_arns(site["SiteArn"]):
        aws_error("NotFoundException", 404, outposts.get_site, SiteId=arn)


def test_get_site_arn_of_another_resource_type_is_not_found(outposts: Any, site: dict[str, Any]) -> None:
    # the SiteId pattern only admits site ARNs, so a well-formed outpost ARN is a validation error
    outpost_arn = site["SiteArn"].replace(":site/os-", ":outpost/op-")
    aws_error("ValidationException", 400, outposts.get_site, SiteId=outpost_arn)


def test_get_site_malformed_id(outposts: Any) -> None:
    response = aws_error("ValidationException", 400, outposts.get_site, SiteId="os-XYZ")
    assert response["Error"]["Message"] == (
        "1 validation error detected: Value 'os-XYZ' at 'siteId' failed to satisfy constraint: Member must "
        "satisfy regular expression pattern: ^(arn:aws([a-z-]+)?:outposts:[a-z\\d-]+:\\d{12}:site/)?(os-[a-f0-9]{17})$"
    )


# -- ListSites --------------------------------------------------------------------------------------


def test_list_sites_contains_created_sites_in_creation_order(outposts: Any) -> None:
    created = [outposts.create_site(Name=unique("order-"))["Site"] for _ in range(3)]
    ids = [s["SiteId"] for s in _all_sites(outposts)]
    positions = [ids.index(s["SiteId"]) for s in created]
    assert positions == sorted(positions)
    listed = {s["SiteId"]: s for s in _all_sites(outposts)}
    for s in created:
        assert listed[s["SiteId"]] == s


def test_list_sites_filters_and_across_or_within(outposts: Any) -> None:
    # values with spaces, + & = % and non-ASCII letters travel percent-encoded in the query string
    city1, city2, state1, state2 = unique("A+B&C=D%E "), unique("San Jo sé "), unique("Île-de-"), unique("S")
    s1 = outposts.create_site(Name="f1", OperatingAddress=address(City=city1, StateOrRegion=state1))["Site"]
    s2 = outposts.create_site(Name="f2", OperatingAddress=address(City=city2, StateOrRegion=state1, CountryCode="CA"))[
        "Site"
    ]
    s3 = outposts.create_site(Name="f3", OperatingAddress=address(City=city1, StateOrRegion=state2))["Site"]
    outposts.create_site(Name="f4", ShippingAddress=address(City=city1, StateOrRegion=state1))  # no operating

    def ids(**filters: Any) -> set[str]:
        return {s["SiteId"] for s in _all_sites(outposts, **filters)}

    assert ids(OperatingAddressCityFilter=[city1]) == {s1["SiteId"], s3["SiteId"]}
    assert ids(OperatingAddressCityFilter=[city1, city2]) == {s1["SiteId"], s2["SiteId"], s3["SiteId"]}
    assert ids(OperatingAddressCityFilter=[city1, city2], OperatingAddressCountryCodeFilter=["US"]) == {
        s1["SiteId"],
        s3["SiteId"],
    }
    assert ids(OperatingAddressStateOrRegionFilter=[state1], OperatingAddressCountryCodeFilter=["CA"]) == {s2["SiteId"]}
    assert ids(
        OperatingAddressStateOrRegionFilter=[state1],
        OperatingAddressCityFilter=[city1],
        OperatingAddressCountryCodeFilter=["US", "MX"],
    ) == {s1["SiteId"]}
    assert ids(OperatingAddressCityFilter=[city1], OperatingAddressCountryCodeFilter=["CA"]) == set()


def test_list_sites_filter_follows_operating_address_updates(outposts: Any) -> None:
    before, after = unique("B"), unique("A")
    site = outposts.create_site(Name="moves", OperatingAddress=address(City=before))["Site"]
    outposts.update_site_address(SiteId=site["SiteId"], AddressType="OPERATING_ADDRESS", Address=address(City=after))
    assert _all_sites(outposts, OperatingAddressCityFilter=[before]) == []
    assert [s["SiteId"] for s in _all_sites(outposts, OperatingAddressCityFilter=[after])] == [site["SiteId"]]


def test_list_sites_filter_validation(outposts: Any) -> None:
    response = aws_error("ValidationException", 400, outposts.list_sites, OperatingAddressCountryCodeFilter=["us"])
    assert (
        "Value 'us' at 'operatingAddressCountryCodeFilter.1.member' failed to satisfy constraint"
        in (response["Error"]["Message"])
    )


# -- UpdateSite -------------------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["id", "arn"])
def test_update_site(outposts: Any, form: str) -> None:
    site = outposts.create_site(Name="old", Description="d0", Notes="n0", Tags={"k": "v"})["Site"]
    updated = outposts.update_site(SiteId=ref(site, form), Name="new name")["Site"]
    assert updated == {**site, "Name": "new name"}
    updated = outposts.update_site(SiteId=ref(site, form), Description="d1", Notes="line 1\nline 2")["Site"]
    assert updated == {**site, "Name": "new name", "Description": "d1", "Notes": "line 1\nline 2"}
    assert outposts.get_site(SiteId=site["SiteId"])["Site"] == updated


def test_update_site_errors(outposts: Any, site: dict[str, Any]) -> None:
    aws_error("NotFoundException", 404, outposts.update_site, SiteId="os-0123456789abcdef0", Name="x")
    for arn in foreign_arns(site["SiteArn"]):
        aws_error("NotFoundException", 404, outposts.update_site, SiteId=arn, Name="x")
    response = aws_error(
        "ValidationException", 400, outposts.update_site, SiteId=site["SiteId"], Description="d" * 1002
    )
    assert (
        "at 'description' failed to satisfy constraint: Member must have length less than or equal to 1001"
        in (response["Error"]["Message"])
    )
    assert outposts.get_site(SiteId=site["SiteId"])["Site"] == site


# -- DeleteSite -------------------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["id", "arn"])
def test_delete_site(outposts: Any, form: str) -> None:
    site = outposts.create_site(Name="doomed")["Site"]
    response = outposts.delete_site(SiteId=ref(site, form))
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200
    aws_error("NotFoundException", 404, outposts.get_site, SiteId=site["SiteId"])
    aws_error("NotFoundException", 404, outposts.delete_site, SiteId=ref(site, form))
    assert site["SiteId"] not in {s["SiteId"] for s in _all_sites(outposts)}


def test_delete_site_foreign_arn_is_not_found(outposts: Any, site: dict[str, Any]) -> None:
    for arn in foreign_arns(site["SiteArn"]):
        aws_error("NotFoundException", 404, outposts.delete_site, SiteId=arn)
    assert outposts.get_site(SiteId=site["SiteId"])["Site"] == site


def test_delete_site_refused_while_an_outpost_is_on_it(outposts: Any, site: dict[str, Any]) -> None:
    outpost = outposts.create_outpost(Name="o", SiteId=site["SiteId"])["Outpost"]
    response = aws_error("ConflictException", 409, outposts.delete_site, SiteId=site["SiteId"])
    assert response["ResourceId"] == outpost["OutpostId"]
    assert response["ResourceType"] == "OUTPOST"
    assert outposts.get_site(SiteId=site["SiteId"])["Site"] == site
    outposts.delete_outpost(OutpostId=outpost["OutpostId"])
    outposts.delete_site(SiteId=site["SiteId"])
    aws_error("NotFoundException", 404, outposts.get_site, SiteId=site["SiteId"])


# -- GetSiteAddress / UpdateSiteAddress -----------------------------------------------------------


@pytest.mark.parametrize("form", ["id", "arn"])
def test_address_round_trip(outposts: Any, form: str) -> None:
    shipping = address(AddressLine1="1 Dock St", PostalCode="98 109-AB", ContactName="Ship Desk")
    site = outposts.create_site(Name="addr", OperatingAddress=FULL_ADDRESS, ShippingAddress=shipping)["Site"]
    got = outposts.get_site_address(SiteId=ref(site, form), AddressType="OPERATING_ADDRESS")
    assert got["SiteId"] == site["SiteId"]
    assert got["AddressType"] == "OPERATING_ADDRESS"
    assert got["Address"] == FULL_ADDRESS
    got = outposts.get_site_address(SiteId=ref(site, form), AddressType="SHIPPING_ADDRESS")
    assert (got["SiteId"], got["AddressType"], got["Address"]) == (site["SiteId"], "SHIPPING_ADDRESS", shipping)


def test_get_site_address_of_a_missing_type(outposts: Any) -> None:
    site = outposts.create_site(Name="ship-only", ShippingAddress=address())["Site"]
    response = aws_error(
        "NotFoundException", 404, outposts.get_site_address, SiteId=site["SiteId"], AddressType="OPERATING_ADDRESS"
    )
    assert site["SiteId"] in response["Error"]["Message"]
    assert outposts.get_site_address(SiteId=site["SiteId"], AddressType="SHIPPING_ADDRESS")["Address"] == address()


def test_get_site_address_errors(outposts: Any, site: dict[str, Any]) -> None:
    aws_error(
        "NotFoundException",
        404,
        outposts.get_site_address,
        SiteId="os-0123456789abcdef0",
        AddressType="SHIPPING_ADDRESS",
    )
    for arn in foreign_arns(site["SiteArn"]):
        aws_error("NotFoundException", 404, outposts.get_site_address, SiteId=arn, AddressType="SHIPPING_ADDRESS")
    response = aws_error(
        "ValidationException", 400, outposts.get_site_address, SiteId=site["SiteId"], AddressType="HOME_ADDRESS"
    )
    assert response["Error"]["Message"] == (
        "1 validation error detected: Value 'HOME_ADDRESS' at 'addressType' failed to satisfy constraint: "
        "Member must satisfy enum value set: [SHIPPING_ADDRESS, OPERATING_ADDRESS]"
    )


@pytest.mark.parametrize("form", ["id", "arn"])
def test_update_site_address(outposts: Any, form: str) -> None:
    site = outposts.create_site(Name="upd", OperatingAddress=address())["Site"]
    shipping = address(AddressLine1="9 Warehouse Rd", City="Tacoma")
    out = outposts.update_site_address(SiteId=ref(site, form), AddressType="SHIPPING_ADDRESS", Address=shipping)
    assert (out["AddressType"], out["Address"]) == ("SHIPPING_ADDRESS", shipping)
    assert outposts.get_site_address(SiteId=site["SiteId"], AddressType="SHIPPING_ADDRESS")["Address"] == shipping
    # the shipping address does not feed the OperatingAddress* summary
    assert outposts.get_site(SiteId=site["SiteId"])["Site"]["OperatingAddressCity"] == "Seattle"

    operating = {**FULL_ADDRESS, "City": "Vancouver", "StateOrRegion": "BC", "CountryCode": "CA"}
    out = outposts.update_site_address(SiteId=ref(site, form), AddressType="OPERATING_ADDRESS", Address=operating)
    assert (out["AddressType"], out["Address"]) == ("OPERATING_ADDRESS", operating)
    got = outposts.get_site(SiteId=site["SiteId"])["Site"]
    assert (got["OperatingAddressCity"], got["OperatingAddressStateOrRegion"], got["OperatingAddressCountryCode"]) == (
        "Vancouver",
        "BC",
        "CA",
    )
    assert outposts.get_site_address(SiteId=site["SiteId"], AddressType="OPERATING_ADDRESS")["Address"] == operating
    # replacing the address drops members the new one does not have
    outposts.update_site_address(SiteId=site["SiteId"], AddressType="OPERATING_ADDRESS", Address=address())
    assert outposts.get_site_address(SiteId=site["SiteId"], AddressType="OPERATING_ADDRESS")["Address"] == address()


def test_update_site_address_errors(outposts: Any, site: dict[str, Any]) -> None:
    call = outposts.update_site_address
    aws_error(
        "NotFoundException", 404, call, SiteId="os-0123456789abcdef0", AddressType="SHIPPING_ADDRESS", Address=address()
    )
    for arn in foreign_arns(site["SiteArn"]):
        aws_error("NotFoundException", 404, call, SiteId=arn, AddressType="SHIPPING_ADDRESS", Address=address())
    response = aws_error(
        "ValidationException",
        400,
        call,
        SiteId=site["SiteId"],
        AddressType="SHIPPING_ADDRESS",
        Address=address(PostalCode="981#09", AddressLine2="x" * 61),
    )
    message = response["Error"]["Message"]
    assert message.startswith("2 validation errors detected: ")
    assert "Value at 'address.postalCode' failed to satisfy constraint: Member must satisfy regular expression" in (
        message
    )
    assert "Value at 'address.addressLine2' failed to satisfy constraint: Member must have length less than or " in (
        message
    )
    assert "981#09" not in message
    aws_error(
        "NotFoundException", 404, outposts.get_site_address, SiteId=site["SiteId"], AddressType="SHIPPING_ADDRESS"
    )


# -- UpdateSiteRackPhysicalProperties -------------------------------------------------------------


@pytest.mark.parametrize("form", ["id", "arn"])
def test_rack_physical_properties_partial_updates(outposts: Any, form: str) -> None:
    site = outposts.create_site(
        Name="rack", RackPhysicalProperties={"PowerDrawKva": "POWER_5_KVA", "UplinkGbps": "UPLINK_10G"}
    )["Site"]
    update = outposts.update_site_rack_physical_properties
    got = update(SiteId=ref(site, form), PowerPhase="SINGLE_PHASE")["Site"]
    assert got["RackPhysicalProperties"] == {
        "PowerDrawKva": "POWER_5_KVA",
        "UplinkGbps": "UPLINK_10G",
        "PowerPhase": "SINGLE_PHASE",
    }
    got = update(SiteId=ref(site, form), PowerDrawKva="POWER_30_KVA", UplinkCount="UPLINK_COUNT_2")["Site"]
    assert got["RackPhysicalProperties"] == {
        "PowerDrawKva": "POWER_30_KVA",
        "UplinkGbps": "UPLINK_10G",
        "PowerPhase": "SINGLE_PHASE",
        "UplinkCount": "UPLINK_COUNT_2",
    }
    assert {k: v for k, v in got.items() if k != "RackPhysicalProperties"} == {
        k: v for k, v in site.items() if k != "RackPhysicalProperties"
    }
    assert outposts.get_site(SiteId=site["SiteId"])["Site"] == got
    # nothing to change leaves the properties as they are
    assert update(SiteId=site["SiteId"])["Site"] == got


def test_rack_physical_properties_all_members(outposts: Any, site: dict[str, Any]) -> None:
    got = outposts.update_site_rack_physical_properties(SiteId=site["SiteId"], **ALL_RACK_PROPERTIES)["Site"]
    assert got["RackPhysicalProperties"] == ALL_RACK_PROPERTIES
    assert outposts.get_site(SiteId=site["SiteId"])["Site"]["RackPhysicalProperties"] == ALL_RACK_PROPERTIES


def test_rack_physical_properties_errors(outposts: Any, site: dict[str, Any]) -> None:
    update = outposts.update_site_rack_physical_properties
    aws_error("NotFoundException", 404, update, SiteId="os-0123456789abcdef0", PowerPhase="SINGLE_PHASE")
    for arn in foreign_arns(site["SiteArn"]):
        aws_error("NotFoundException", 404, update, SiteId=arn, PowerPhase="SINGLE_PHASE")
    response = aws_error(
        "ValidationException", 400, update, SiteId=site["SiteId"], UplinkCount="UPLINK_COUNT_9", PowerPhase="TWO"
    )
    message = response["Error"]["Message"]
    assert message.startswith("2 validation errors detected: ")
    assert "Value 'UPLINK_COUNT_9' at 'uplinkCount' failed to satisfy constraint: Member must satisfy enum" in message
    assert "Value 'TWO' at 'powerPhase' failed to satisfy constraint: Member must satisfy enum value set: " in message
    assert outposts.get_site(SiteId=site["SiteId"])["Site"] == site


# -- address and rack rules while hardware is ordered -------------------------------------------
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


def test_addresses_locked_while_an_order_is_active(make_server: Callable[..., Any]) -> None:
    client = make_server(*STILL).client("outposts")
    site = client.create_site(Name="ordered", OperatingAddress=address(), ShippingAddress=address())["Site"]
    outpost = client.create_outpost(Name="o", SiteId=site["SiteId"])["Outpost"]
    order = place_order(client, outpost["OutpostId"])
    assert order["Status"] == "PREPARING"
    moved = address(AddressLine1="2 Other St")
    for address_type in ("SHIPPING_ADDRESS", "OPERATING_ADDRESS"):
        response = aws_error(
            "ConflictException",
            409,
            client.update_site_address,
            SiteId=site["SiteArn"],
            AddressType=address_type,
            Address=moved,
        )
        assert (response["ResourceId"], response["ResourceType"]) == (order["OrderId"], "ORDER")
        assert client.get_site_address(SiteId=site["SiteId"], AddressType=address_type)["Address"] == address()
    # rack properties only lock once the hardware is being built (IN_PROGRESS)
    client.update_site_rack_physical_properties(SiteId=site["SiteId"], PowerFeedDrop="ABOVE_RACK")
    # a cancelled order never put hardware at the site: both addresses can change again
    client.cancel_order(OrderId=order["OrderId"])
    for address_type in ("SHIPPING_ADDRESS", "OPERATING_ADDRESS"):
        client.update_site_address(SiteId=site["SiteId"], AddressType=address_type, Address=moved)
        assert client.get_site_address(SiteId=site["SiteId"], AddressType=address_type)["Address"] == moved


def test_orders_of_other_sites_do_not_lock_a_site(make_server: Callable[..., Any]) -> None:
    client = make_server(*STILL).client("outposts")
    busy = client.create_site(Name="busy")["Site"]
    place_order(client, client.create_outpost(Name="o", SiteId=busy["SiteId"])["Outpost"]["OutpostId"])
    calm = client.create_site(Name="calm", OperatingAddress=address())["Site"]
    client.create_outpost(Name="idle", SiteId=calm["SiteId"])
    client.update_site_address(SiteId=calm["SiteId"], AddressType="OPERATING_ADDRESS", Address=address(City="Kent"))
    client.update_site_rack_physical_properties(SiteId=calm["SiteId"], PowerPhase="SINGLE_PHASE")


def test_rack_properties_locked_while_an_order_is_in_progress(make_server: Callable[..., Any]) -> None:
    client = make_server("--lifecycle-seconds", "1.5").client("outposts")
    site = client.create_site(Name="building", RackPhysicalProperties={"PowerPhase": "THREE_PHASE"})["Site"]
    outpost = client.create_outpost(Name="o", SiteId=site["SiteId"])["Outpost"]
    order = place_order(client, outpost["OutpostId"])
    wait_for(lambda: client.get_order(OrderId=order["OrderId"])["Order"]["Status"], lambda s: s == "IN_PROGRESS")
    response = aws_error(
        "ConflictException",
        409,
        client.update_site_rack_physical_properties,
        SiteId=site["SiteId"],
        PowerPhase="SINGLE_PHASE",
    )
    assert (response["ResourceId"], response["ResourceType"]) == (order["OrderId"], "ORDER")
    assert client.get_site(SiteId=site["SiteId"])["Site"]["RackPhysicalProperties"] == {"PowerPhase": "THREE_PHASE"}
    wait_for(lambda: client.get_order(OrderId=order["OrderId"])["Order"]["Status"], lambda s: s != "IN_PROGRESS")
    client.update_site_rack_physical_properties(SiteId=site["SiteId"], PowerPhase="SINGLE_PHASE")


def test_operating_address_locked_until_the_ordered_outposts_retire(make_server: Callable[..., Any]) -> None:
    client = make_server("--lifecycle-seconds", "0.2").client("outposts")
    site = client.create_site(Name="installed", OperatingAddress=address(), ShippingAddress=address())["Site"]
    outpost = client.create_outpost(Name="o", SiteId=site["SiteId"])["Outpost"]
    order = place_order(client, outpost["OutpostId"])
    wait_for(lambda: client.get_order(OrderId=order["OrderId"])["Order"]["Status"], lambda s: s == "COMPLETED")
    moved = address(AddressLine1="2 Other St")
    # the hardware is installed: the shipping address may change, the operating address may not
    client.update_site_address(SiteId=site["SiteId"], AddressType="SHIPPING_ADDRESS", Address=moved)
    response = aws_error(
        "ConflictException",
        409,
        client.update_site_address,
        SiteId=site["SiteId"],
        AddressType="OPERATING_ADDRESS",
        Address=moved,
    )
    assert (response["ResourceId"], response["ResourceType"]) == (outpost["OutpostId"], "OUTPOST")
    assert client.start_outpost_decommission(OutpostIdentifier=outpost["OutpostId"])["Status"] == "REQUESTED"
    wait_for(
        lambda: client.get_outpost(OutpostId=outpost["OutpostId"])["Outpost"]["LifeCycleStatus"],
        lambda s: s == "RETIRED",
    )
    client.update_site_address(SiteId=site["SiteId"], AddressType="OPERATING_ADDRESS", Address=moved)
    assert client.get_site(SiteId=site["SiteId"])["Site"]["OperatingAddressCity"] == "Seattle"
