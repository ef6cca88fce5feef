"""Quotes end to end through boto3: CreateQuote, GetQuote, ListQuotes, UpdateQuote, DeleteQuote.

Options are checked against the catalog the server publishes (ListCatalogItems) and prices against
the documented rate table (docs/decisions.md, "Outposts billing"), so a wrong configuration or a
wrong price fails. Orders come from CreateOrder and complete through the fast lifecycle.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest

from tests.support.errors import aws_error
from tests.support.outposts import ADDRESS, RACK_PROPERTIES
from trailpost.services.outposts.quotes import quote_status

RATES = {"m": 25.0, "c": 22.0, "r": 30.0, "x": 34.0, "i": 32.0, "d": 28.0, "g": 60.0, "p": 90.0}
DAY = 86400
MISSING_QUOTE = "oq-0123456789abcdef0"


def foreign_arns(arn: str) -> list[str]:
    """The same resource path in another account and another region."""
    parts = arn.split(":")
    return [":".join([*parts[:4], "111122223333", *parts[5:]]), ":".join([*parts[:3], "eu-west-1", *parts[4:]])]


def ec2(instance_type: str, count: float) -> dict[str, Any]:
    return {"QuoteCapacityType": "EC2", "Unit": instance_type, "Quantity": count}


def storage(kind: str, tib: float, unit: str = "TiB") -> dict[str, Any]:
    return {"QuoteCapacityType": kind, "Unit": unit, "Quantity": tib}


FULL_SITE = {"OperatingAddress": ADDRESS, "ShippingAddress": ADDRESS, "RackPhysicalProperties": RACK_PROPERTIES}


def make_outpost(client: Any, hardware: str = "RACK", site: dict[str, Any] | None = None) -> dict[str, Any]:
    """An outpost on a new site (by default with both addresses and rack physical properties)."""
    site_doc = client.create_site(Name=f"quotes-{uuid.uuid4().hex[:8]}", **(FULL_SITE if site is None else site))[
        "Site"
    ]
    return client.create_outpost(Name="q", SiteId=site_doc["SiteId"], SupportedHardwareType=hardware)["Outpost"]


def wait_completed(client: Any, order_id: str, timeout: float = 30.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        order = client.get_order(OrderId=order_id)["Order"]
        if order["Status"] == "COMPLETED" or time.monotonic() > deadline:
            assert order["Status"] == "COMPLETED", order
            return order
        time.sleep(0.1)


@pytest.fixture(scope="module")
def catalog(server: Any) -> dict[str, dict[str, Any]]:
    client = server.client("outposts")
    pages = client.get_paginator("list_catalog_items").paginate()
    return {item["CatalogItemId"]: item for page in pages for item in page["CatalogItems"]}


@pytest.fixture(scope="module")
def vcpus(server: Any) -> dict[str, int]:
    client = server.client("outposts")
    pages = client.get_paginator("list_orderable_instance_types").paginate()
    return {item["InstanceType"]: item["VCPUs"] for page in pages for item in page["InstanceTypes"]}


@pytest.fixture(scope="module")
def account_id(server: Any) -> str:
    return server.client("outposts").create_site(Name="quotes-account")["Site"]["AccountId"]


def list_price(item: dict[str, Any], vcpus: dict[str, int]) -> float:
    """The documented monthly list price of a catalog item (3-year term, no upfront)."""
    hosts = sum(
        int(c["Quantity"]) * vcpus[c["MaxSize"]] * RATES.get(c["Family"][0], 26.0) for c in item["EC2Capacities"]
    )
    return hosts + item["PowerKva"] * 150.0


def option_items(option: dict[str, Any], catalog: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The catalog items of an option's new racks or servers (matched by their capacities and power)."""
    found = []
    for spec in option["Specifications"]:
        details = spec.get("FinalRackSpecificationDetails") if spec["QuoteSpecificationType"] == "NEW_RACK" else None
        details = details or spec.get("ServerSpecificationDetails")
        if spec["QuoteSpecificationType"] == "EXISTING_RACK" or details is None:
            continue
        power = details.get("RackPowerDrawKva", details.get("ServerPowerDrawKva"))
        weight = details.get("RackWeightLbs", details.get("ServerWeightLbs"))
        matches = [
            item
            for item in catalog.values()
            if item["EC2Capacities"] == details["EC2Capacities"]
            and item["PowerKva"] == power
            and item["WeightLbs"] == weight
        ]
        assert matches, spec
        found.append(matches[0])
    return found


def capacity(entries: list[dict[str, Any]], kind: str, unit: str | None = None) -> float:
    return sum(e["Quantity"] for e in entries if e["QuoteCapacityType"] == kind and unit in (None, e["Unit"]))


def requirement(quote: dict[str, Any], kind: str) -> dict[str, Any] | None:
    return next((r for r in quote["OrderingRequirements"] if r["OrderingRequirementType"] == kind), None)


# -- CreateQuote --------------------------------------------------------------------------------


def test_create_standalone_quote_prices_rack_options(
    outposts: Any, catalog: dict, vcpus: dict, account_id: str
) -> None:
    quote = outposts.create_quote(
        CountryCode="US",
        RequestedCapacities=[ec2("m7i.large", 100), storage("EBS", 30)],
        Description="lab expansion\nphase 1",
    )["Quote"]
    assert quote["QuoteId"].startswith("oq-") and len(quote["QuoteId"]) == 20
    assert quote["AccountId"] == account_id
    assert quote["QuoteStatus"] == "CREATED"
    assert quote["Description"] == "lab expansion\nphase 1"
    assert "OutpostArn" not in quote
    valid = quote["ExpirationDate"] - quote["CreatedDate"]
    assert valid.total_seconds() == pytest.approx(30 * DAY)
    assert requirement(quote, "OUTPOST_ID_MISSING_ON_QUOTE_ERROR")["Status"] == "FAIL"
    options = quote["QuoteOptions"]
    assert 1 <= len(options) <= 3
    prices = []
    for option in options:
        assert option["QuoteOptionIdentifier"].startswith("oqo-") and len(option["QuoteOptionIdentifier"]) == 21
        items = option_items(option, catalog)
        assert all(item["ItemStatus"] == "AVAILABLE" for item in items)
        # 100 m7i.large = 200 vCPUs = two m7i.48xlarge hosts; 30 TiB of EBS at 11 TiB per storage server.
        assert capacity(option["Capacities"], "EC2", "m7i.48xlarge") >= 2
        assert capacity(option["Capacities"], "EBS") >= 30
        summary = option["CapacitySummary"]
        assert capacity(summary["ExistingCapacities"], "EC2") == 0
        assert summary["FinalCapacities"] == summary["CapacityChange"]
        for spec in option["Specifications"]:
            assert spec["QuoteSpecificationType"] == "NEW_RACK"
            details = spec["FinalRackSpecificationDetails"]
            assert details["RackUnitHeight"] == "HEIGHT_42U" and details["RackUse"] == "COMPUTE"
            assert (details["RackHeightInches"], details["RackWidthInches"], details["RackDepthInches"]) == (80, 24, 48)
        monthly = sum(list_price(item, vcpus) for item in items)
        pricing = {
            (p["SubscriptionPricingDetails"]["PaymentOption"], p["SubscriptionPricingDetails"]["PaymentTerm"]): p
            for p in option["PricingOptions"]
        }
        # New racks are ordered for three or five years; every payment option is priced.
        assert {term for _, term in pricing} == {"THREE_YEARS", "FIVE_YEARS"} and len(pricing) == 6
        no_upfront = pricing["NO_UPFRONT", "THREE_YEARS"]["SubscriptionPricingDetails"]
        assert no_upfront["MonthlyRecurringPrice"] == pytest.approx(monthly, abs=0.01)
        assert no_upfront["UpfrontPrice"] == 0 and no_upfront["Currency"] == "USD"
        all_upfront = pricing["ALL_UPFRONT", "FIVE_YEARS"]["SubscriptionPricingDetails"]
        assert all_upfront["UpfrontPrice"] == pytest.approx(monthly * 0.85 * 60 * 0.9, abs=0.01)
        assert all_upfront["MonthlyRecurringPrice"] == 0
        partial = pricing["PARTIAL_UPFRONT", "THREE_YEARS"]["SubscriptionPricingDetails"]
        assert partial["UpfrontPrice"] + 36 * partial["MonthlyRecurringPrice"] == pytest.approx(
            monthly * 36 * 0.95, abs=1
        )
        prices.append(monthly)
    assert prices == sorted(prices)  # cheapest first without RACK_SPACE_CONSTRAINED


def test_requested_payment_options_and_terms_limit_pricing(outposts: Any) -> None:
    quote = outposts.create_quote(
        CountryCode="US",
        RequestedCapacities=[ec2("c7i.large", 10)],
        RequestedPaymentOptions=["ALL_UPFRONT"],
        RequestedPaymentTerms=["FIVE_YEARS"],
    )["Quote"]
    assert quote["RequestedPaymentOptions"] == ["ALL_UPFRONT"]
    for option in quote["QuoteOptions"]:
        details = [p["SubscriptionPricingDetails"] for p in option["PricingOptions"]]
        assert [(d["PaymentOption"], d["PaymentTerm"]) for d in details] == [("ALL_UPFRONT", "FIVE_YEARS")]


def test_constraints_shape_the_options(outposts: Any, catalog: dict) -> None:
    wanted = [ec2("m7i.large", 100), storage("EBS", 30)]
    dense = outposts.create_quote(
        CountryCode="US",
        RequestedCapacities=wanted,
        RequestedConstraints=[{"QuoteConstraintType": "RACK_SPACE_CONSTRAINED", "Value": "true"}],
    )["Quote"]["QuoteOptions"]
    racks = [len(option["Specifications"]) for option in dense]
    assert racks == sorted(racks) and racks[0] == 1
    light = outposts.create_quote(
        CountryCode="US",
        RequestedCapacities=wanted,
        RequestedConstraints=[
            {"QuoteConstraintType": "RACK_MAX_POWER_KVA", "Value": "10"},
            {"QuoteConstraintType": "RACK_MAX_WEIGHT_LBS", "Value": "1500"},
        ],
    )["Quote"]["QuoteOptions"]
    assert light
    for option in light:
        for spec in option["Specifications"]:
            details = spec["FinalRackSpecificationDetails"]
            assert details["RackPowerDrawKva"] <= 10 and details["RackWeightLbs"] <= 1500
    one_rack = outposts.create_quote(
        CountryCode="US",
        RequestedCapacities=[ec2("c7i.48xlarge", 7)],
        RequestedConstraints=[{"QuoteConstraintType": "RACK_MAXIMUM", "Value": "1"}],
    )["Quote"]
    assert one_rack["QuoteOptions"] == []
    assert "No configuration" in one_rack["StatusMessage"]


def test_server_outpost_quote_lists_servers(outposts: Any, catalog: dict) -> None:
    outpost = make_outpost(outposts, "SERVER")
    quote = outposts.create_quote(
        CountryCode="US", OutpostIdentifier=outpost["OutpostArn"], RequestedCapacities=[ec2("c6gd.large", 40)]
    )["Quote"]
    assert quote["OutpostArn"] == outpost["OutpostArn"]
    option = quote["QuoteOptions"][0]
    # 40 x 2 vCPUs on 64-vCPU hosts: two servers.
    assert [spec["QuoteSpecificationType"] for spec in option["Specifications"]] == ["SERVER", "SERVER"]
    details = option["Specifications"][0]["ServerSpecificationDetails"]
    assert details["RackUnitHeight"] == "HEIGHT_1U" and details["ServerHeightInches"] == 1.75
    assert {p["SubscriptionPricingDetails"]["PaymentTerm"] for p in option["PricingOptions"]} == {"THREE_YEARS"}
    assert all(item["EC2Capacities"][0]["Family"] == "c6gd" for item in option_items(option, catalog))
    assert requirement(quote, "RACK_PHYSICAL_PROPERTIES_CHECK_ERROR") is None


def test_ordering_requirements_follow_the_site(outposts: Any) -> None:
    outpost = make_outpost(outposts)
    quote = outposts.create_quote(
        CountryCode="US", OutpostIdentifier=outpost["OutpostId"], RequestedCapacities=[ec2("m7i.xlarge", 4)]
    )["Quote"]
    assert {r["Status"] for r in quote["OrderingRequirements"]} == {"PASS"}, quote["OrderingRequirements"]
    kinds = {r["OrderingRequirementType"] for r in quote["OrderingRequirements"]}
    assert {
        "OUTPOST_ACTIVE_CHECK_ERROR",
        "COUNTRY_CODE_MISMATCH_CHECK_ERROR",
        "RACK_PHYSICAL_PROPERTIES_CHECK_ERROR",
    } <= kinds
    german = outposts.create_quote(
        CountryCode="DE", OutpostIdentifier=outpost["OutpostId"], RequestedCapacities=[ec2("m7i.xlarge", 4)]
    )["Quote"]
    assert requirement(german, "COUNTRY_CODE_MISMATCH_CHECK_ERROR")["Status"] == "FAIL"
    bare = make_outpost(outposts, site={})
    bare_quote = outposts.create_quote(
        CountryCode="US", OutpostIdentifier=bare["OutpostId"], RequestedCapacities=[ec2("m7i.xlarge", 4)]
    )
    checks = bare_quote["Quote"]["OrderingRequirements"]
    assert requirement(bare_quote["Quote"], "OPERATING_ADDRESS_EXISTENCE_CHECK_ERROR")["Status"] == "FAIL"
    assert requirement(bare_quote["Quote"], "SHIPPING_ADDRESS_EXISTENCE_CHECK_ERROR")["Status"] == "FAIL"
    assert requirement(bare_quote["Quote"], "COUNTRY_CODE_MISMATCH_CHECK_ERROR") is None, checks
    # A generation-1 family on a generation-2 outpost is quoted, but flagged.
    m5 = outposts.create_quote(
        CountryCode="US", OutpostIdentifier=outpost["OutpostId"], RequestedCapacities=[ec2("m5.large", 8)]
    )
    assert m5["Quote"]["QuoteOptions"]
    assert requirement(m5["Quote"], "OUTPOST_GENERATION_MISMATCH_ERROR")["Status"] == "FAIL"


def test_requirements_are_evaluated_when_read(outposts: Any) -> None:
    outpost = make_outpost(outposts)
    quote = outposts.create_quote(
        CountryCode="US", OutpostIdentifier=outpost["OutpostId"], RequestedCapacities=[ec2("m7i.xlarge", 4)]
    )["Quote"]
    assert requirement(quote, "OUTPOST_ACTIVE_CHECK_ERROR")["Status"] == "PASS"
    outposts.start_outpost_decommission(OutpostIdentifier=outpost["OutpostId"])
    later = outposts.get_quote(QuoteIdentifier=quote["QuoteId"])["Quote"]
    assert requirement(later, "OUTPOST_ACTIVE_CHECK_ERROR")["Status"] == "FAIL"
    assert requirement(later, "OUTPOST_STATE_CHANGED_ERROR")["Status"] == "FAIL"


@pytest.mark.parametrize(
    "capacities, constraints, terms",
    [
        ([ec2("z9.nonexistent", 1)], [], None),
        ([ec2("m7i.large", 1.5)], [], None),
        ([ec2("m7i.large", 0)], [], None),
        ([storage("EBS", 10, unit="GiB")], [], None),
        ([storage("EBS", 10), storage("EBS", 20)], [], None),
        ([{"QuoteCapacityType": "EC2", "Unit": "m7i.large"}], [], None),
        ([ec2("m7i.large", 1)], [{"QuoteConstraintType": "RACK_MAXIMUM", "Value": "two"}], None),
        ([ec2("m7i.large", 1)], [{"QuoteConstraintType": "RACK_SPACE_CONSTRAINED", "Value": "maybe"}], None),
        ([ec2("m7i.large", 1)], [{"QuoteConstraintType": "RACK_MAX_POWER_KVA", "Value": "-5"}], None),
        ([ec2("m7i.large", 1)], [{"QuoteConstraintType": "RACK_MAXIMUM", "Value": "1"}] * 2, None),
        ([ec2("m7i.large", 1)], [], ["ONE_YEAR"]),
        ([ec2("c6gd.large", 1)], [], None),
    ],
)
def test_create_quote_refuses_invalid_requests(outposts: Any, capacities: list, constraints: list, terms: Any) -> None:
    extra = {"RequestedPaymentTerms": terms} if terms else {}
    response = aws_error(
        "ValidationException",
        400,
        outposts.create_quote,
        CountryCode="US",
        RequestedCapacities=capacities,
        RequestedConstraints=constraints,
        **extra,
    )
    assert response["Error"]["Message"]


def test_server_outposts_have_no_ebs(outposts: Any) -> None:
    outpost = make_outpost(outposts, "SERVER")
    aws_error(
        "ValidationException",
        400,
        outposts.create_quote,
        CountryCode="US",
        OutpostIdentifier=outpost["OutpostId"],
        RequestedCapacities=[storage("EBS", 5)],
    )


def test_create_quote_for_unknown_or_foreign_outpost(outposts: Any) -> None:
    outpost = make_outpost(outposts)
    for identifier in ["op-0123456789abcdef0", *foreign_arns(outpost["OutpostArn"])]:
        aws_error(
            "NotFoundException",
            404,
            outposts.create_quote,
            CountryCode="US",
            OutpostIdentifier=identifier,
            RequestedCapacities=[ec2("m7i.large", 1)],
        )


# -- GetQuote / ListQuotes ----------------------------------------------------------------------


def quote_arn(quote: dict[str, Any]) -> str:
    return f"arn:aws:outposts:us-east-1:{quote['AccountId']}:quote/{quote['QuoteId']}"


def test_get_quote_by_id_or_arn(outposts: Any) -> None:
    created = outposts.create_quote(CountryCode="US", RequestedCapacities=[ec2("r7i.2xlarge", 6)], Description="x")[
        "Quote"
    ]
    by_id = outposts.get_quote(QuoteIdentifier=created["QuoteId"])["Quote"]
    by_arn = outposts.get_quote(QuoteIdentifier=quote_arn(created))["Quote"]
    assert by_id == by_arn == created


def test_get_quote_not_found(outposts: Any, server: Any) -> None:
    created = outposts.create_quote(CountryCode="US", RequestedCapacities=[ec2("r7i.2xlarge", 6)])["Quote"]
    for identifier in [
        MISSING_QUOTE,
        *foreign_arns(quote_arn(created)),
        created["QuoteId"].replace("oq-", "oq-f")[:20],
    ]:
        aws_error("NotFoundException", 404, outposts.get_quote, QuoteIdentifier=identifier)
    aws_error(
        "NotFoundException",
        404,
        server.client("outposts", region="eu-west-1").get_quote,
        QuoteIdentifier=created["QuoteId"],
    )
    aws_error("ValidationException", 400, outposts.get_quote, QuoteIdentifier="quote-1")


def test_list_quotes_pages_through_summaries(outposts: Any) -> None:
    mine = [
        outposts.create_quote(CountryCode="US", RequestedCapacities=[ec2("m7i.large", n + 1)])["Quote"]
        for n in range(3)
    ]
    seen: list[dict[str, Any]] = []
    token = None
    while True:
        page = outposts.list_quotes(MaxResults=2, **({"NextToken": token} if token else {}))
        assert len(page["Quotes"]) <= 2
        seen += page["Quotes"]
        token = page.get("NextToken")
        if not token:
            break
    ours = [q for q in seen if q["QuoteId"] in {m["QuoteId"] for m in mine}]
    assert [q["QuoteId"] for q in ours] == [m["QuoteId"] for m in mine]
    assert all("OrderingRequirements" not in q for q in ours)
    assert ours[1]["QuoteOptions"] == mine[1]["QuoteOptions"]
    assert ours[1]["QuoteStatus"] == "CREATED" and ours[1]["StatusMessage"]
    paged = [
        q["QuoteId"]
        for page in outposts.get_paginator("list_quotes").paginate(PaginationConfig={"PageSize": 1})
        for q in page["Quotes"]
    ]
    assert [m["QuoteId"] for m in mine] == [q for q in paged if q in {m["QuoteId"] for m in mine}]


def test_list_quotes_refuses_forged_tokens(outposts: Any) -> None:
    aws_error("ValidationException", 400, outposts.list_quotes, NextToken="1##forged")


# -- UpdateQuote --------------------------------------------------------------------------------


def test_update_quote_reprices_and_restarts_validity(outposts: Any) -> None:
    quote = outposts.create_quote(CountryCode="US", RequestedCapacities=[ec2("m7i.large", 10)], Description="a")[
        "Quote"
    ]
    time.sleep(1.1)
    renamed = outposts.update_quote(QuoteIdentifier=quote["QuoteId"], Description="b")["Quote"]
    assert renamed["Description"] == "b"
    assert renamed["ExpirationDate"] == quote["ExpirationDate"]
    assert renamed["QuoteOptions"] == quote["QuoteOptions"]
    bigger = outposts.update_quote(QuoteIdentifier=quote_arn(quote), RequestedCapacities=[ec2("m7i.large", 200)])[
        "Quote"
    ]
    assert bigger["ExpirationDate"] > quote["ExpirationDate"]
    assert bigger["RequestedCapacities"] == [ec2("m7i.large", 200.0)]
    assert capacity(bigger["QuoteOptions"][0]["Capacities"], "EC2", "m7i.48xlarge") >= 3
    assert bigger["Description"] == "b"
    assert outposts.get_quote(QuoteIdentifier=quote["QuoteId"])["Quote"] == bigger


def test_update_quote_associates_and_dissociates_an_outpost(outposts: Any) -> None:
    outpost = make_outpost(outposts)
    quote = outposts.create_quote(CountryCode="US", RequestedCapacities=[ec2("m7i.large", 10)])["Quote"]
    linked = outposts.update_quote(QuoteIdentifier=quote["QuoteId"], OutpostIdentifier=outpost["OutpostArn"])["Quote"]
    assert linked["OutpostArn"] == outpost["OutpostArn"]
    assert requirement(linked, "OUTPOST_ID_MISSING_ON_QUOTE_ERROR")["Status"] == "PASS"
    unlinked = outposts.update_quote(QuoteIdentifier=quote["QuoteId"], OutpostIdentifier="")["Quote"]
    assert "OutpostArn" not in unlinked
    assert requirement(unlinked, "OUTPOST_ID_MISSING_ON_QUOTE_ERROR")["Status"] == "FAIL"


def test_update_quote_errors(outposts: Any) -> None:
    quote = outposts.create_quote(CountryCode="US", RequestedCapacities=[ec2("m7i.large", 10)])["Quote"]
    aws_error("NotFoundException", 404, outposts.update_quote, QuoteIdentifier=MISSING_QUOTE, Description="x")
    for arn in foreign_arns(quote_arn(quote)):
        aws_error("NotFoundException", 404, outposts.update_quote, QuoteIdentifier=arn, Description="x")
    aws_error(
        "NotFoundException",
        404,
        outposts.update_quote,
        QuoteIdentifier=quote["QuoteId"],
        OutpostIdentifier="op-0123456789abcdef0",
    )
    aws_error(
        "ValidationException",
        400,
        outposts.update_quote,
        QuoteIdentifier=quote["QuoteId"],
        RequestedCapacities=[ec2("nope.large", 1)],
    )
    assert outposts.get_quote(QuoteIdentifier=quote["QuoteId"])["Quote"] == quote


# -- DeleteQuote --------------------------------------------------------------------------------


def test_delete_quote(outposts: Any) -> None:
    quote = outposts.create_quote(CountryCode="US", RequestedCapacities=[ec2("m7i.large", 10)])["Quote"]
    for arn in foreign_arns(quote_arn(quote)):
        aws_error("NotFoundException", 404, outposts.delete_quote, QuoteIdentifier=arn)
    outposts.delete_quote(QuoteIdentifier=quote_arn(quote))
    aws_error("NotFoundException", 404, outposts.get_quote, QuoteIdentifier=quote["QuoteId"])
    aws_error("NotFoundException", 404, outposts.delete_quote, QuoteIdentifier=quote["QuoteId"])


# -- with orders --------------------------------------------------------------------------------


def test_ordered_quote_is_frozen_and_the_next_quote_builds_on_it(outposts: Any, catalog: dict) -> None:
    outpost = make_outpost(outposts)
    quote = outposts.create_quote(
        CountryCode="US", OutpostIdentifier=outpost["OutpostId"], RequestedCapacities=[ec2("m7i.xlarge", 40)]
    )["Quote"]
    option = quote["QuoteOptions"][0]
    order = outposts.create_order(
        OutpostIdentifier=outpost["OutpostId"],
        QuoteIdentifier=quote_arn(quote),
        QuoteOptionIdentifier=option["QuoteOptionIdentifier"],
        PaymentOption="PARTIAL_UPFRONT",
        PaymentTerm="THREE_YEARS",
    )["Order"]
    submitted = outposts.get_quote(QuoteIdentifier=quote["QuoteId"])["Quote"]
    assert submitted["QuoteStatus"] == "ORDER_SUBMITTED"
    assert submitted["SubmittedOrderId"] == order["OrderId"]
    assert order["OrderId"] in submitted["StatusMessage"]
    listed = [q for q in outposts.list_quotes()["Quotes"] if q["QuoteId"] == quote["QuoteId"]]
    assert listed and listed[0]["SubmittedOrderId"] == order["OrderId"]
    response = aws_error(
        "ValidationException", 400, outposts.update_quote, QuoteIdentifier=quote["QuoteId"], Description="x"
    )
    assert order["OrderId"] in response["Error"]["Message"]
    aws_error("ValidationException", 400, outposts.delete_quote, QuoteIdentifier=quote["QuoteId"])

    wait_completed(outposts, order["OrderId"])
    racks = sorted(
        {a["RackId"] for a in outposts.list_assets(OutpostIdentifier=outpost["OutpostId"])["Assets"] if a.get("RackId")}
    )
    again = outposts.create_quote(
        CountryCode="US", OutpostIdentifier=outpost["OutpostId"], RequestedCapacities=[ec2("m7i.xlarge", 40)]
    )["Quote"]
    assert requirement(again, "OUTPOST_STATE_CHANGED_ERROR")["Status"] == "PASS"
    new_option = again["QuoteOptions"][0]
    existing = [s for s in new_option["Specifications"] if s["QuoteSpecificationType"] == "EXISTING_RACK"]
    assert sorted(s["ExistingRackSpecificationDetails"]["RackId"] for s in existing) == racks
    installed_hosts = capacity(option["Capacities"], "EC2", "m7i.48xlarge")
    summary = new_option["CapacitySummary"]
    assert capacity(summary["ExistingCapacities"], "EC2", "m7i.48xlarge") == installed_hosts
    assert capacity(summary["FinalCapacities"], "EC2", "m7i.48xlarge") == installed_hosts + capacity(
        summary["CapacityChange"], "EC2", "m7i.48xlarge"
    )


def test_quote_status_expires_at_its_expiration_date() -> None:
    quote = {"quote_status": "CREATED", "expiration_date": 1000.0}
    assert quote_status(quote, 999.0) == "CREATED"
    assert quote_status(quote, 1000.0) == "EXPIRED"
    assert quote_status({**quote, "quote_status": "ORDER_SUBMITTED"}, 2000.0) == "ORDER_SUBMITTED"
