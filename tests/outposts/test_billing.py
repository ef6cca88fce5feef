"""Billing end to end through boto3: GetOutpostBillingInformation, GetRenewalPricing, CreateRenewal.

Subscriptions come from orders placed with CreateOrder (catalog items from ListCatalogItems) that
the fast lifecycle completes; prices are checked against the documented rate table
(docs/decisions.md, "Outposts billing"), recomputed here from the published catalog.
"""

from __future__ import annotations

import time
import uuid
from datetime import datetime
from typing import Any

import pytest

from tests.support.errors import aws_error
from tests.support.outposts import ADDRESS, RACK_PROPERTIES

RATES = {"m": 25.0, "c": 22.0, "r": 30.0, "x": 34.0, "i": 32.0, "d": 28.0, "g": 60.0, "p": 90.0}
MONTHS = {"ONE_YEAR": 12, "THREE_YEARS": 36, "FIVE_YEARS": 60}
TERM_FACTOR = {"ONE_YEAR": 1.3, "THREE_YEARS": 1.0, "FIVE_YEARS": 0.85}
DISCOUNT = {"NO_UPFRONT": 1.0, "PARTIAL_UPFRONT": 0.95, "ALL_UPFRONT": 0.9}
MISSING_OUTPOST = "op-0123456789abcdef0"


def foreign_arns(arn: str) -> list[str]:
    """The same resource path in another account and another region."""
    parts = arn.split(":")
    return [":".join([*parts[:4], "111122223333", *parts[5:]]), ":".join([*parts[:3], "eu-west-1", *parts[4:]])]


@pytest.fixture(scope="module")
def rack_item(server: Any) -> dict[str, Any]:
    """An orderable generation-2 rack that fits the test sites (15 kVA, 2000 lbs, 100G uplinks)."""
    client = server.client("outposts")
    types = client.get_paginator("list_orderable_instance_types").paginate(OutpostGenerationFilter="GENERATION_2")
    gen2 = {t["InstanceType"].split(".")[0] for page in types for t in page["InstanceTypes"]}
    pages = client.get_paginator("list_catalog_items").paginate(ItemClassFilter=["RACK"])
    items = [item for page in pages for item in page["CatalogItems"]]
    return next(
        item
        for item in items
        if item["ItemStatus"] == "AVAILABLE"
        and {c["Family"] for c in item["EC2Capacities"]} <= gen2
        and item["PowerKva"] <= 15
        and item["WeightLbs"] <= 2000
        and 100 in item["SupportedUplinkGbps"]
    )


@pytest.fixture(scope="module")
def vcpus(server: Any) -> dict[str, int]:
    client = server.client("outposts")
    pages = client.get_paginator("list_orderable_instance_types").paginate()
    return {item["InstanceType"]: item["VCPUs"] for page in pages for item in page["InstanceTypes"]}


def list_price(item: dict[str, Any], vcpus: dict[str, int]) -> float:
    """The documented monthly list price of a catalog item (3-year term, no upfront)."""
    hosts = sum(
        int(c["Quantity"]) * vcpus[c["MaxSize"]] * RATES.get(c["Family"][0], 26.0) for c in item["EC2Capacities"]
    )
    return hosts + item["PowerKva"] * 150.0


def expected_price(monthly: float, option: str, term: str) -> tuple[float, float]:
    """(upfront, monthly recurring) of the documented payment option and term factors."""
    total = monthly * TERM_FACTOR[term] * MONTHS[term] * DISCOUNT[option]
    if option == "ALL_UPFRONT":
        return round(total, 2), 0.0
    if option == "PARTIAL_UPFRONT":
        return round(total / 2, 2), round(total / 2 / MONTHS[term], 2)
    return 0.0, round(total / MONTHS[term], 2)


@pytest.fixture
def outpost(outposts: Any) -> dict[str, Any]:
    site = outposts.create_site(
        Name=f"billing-{uuid.uuid4().hex[:8]}",
        OperatingAddress=ADDRESS,
        ShippingAddress=ADDRESS,
        RackPhysicalProperties=RACK_PROPERTIES,
    )["Site"]
    return outposts.create_outpost(Name="billing", SiteId=site["SiteId"])["Outpost"]


def order(
    client: Any, outpost: dict[str, Any], item: dict[str, Any], option: str = "NO_UPFRONT", quantity: int = 1
) -> dict:
    return client.create_order(
        OutpostIdentifier=outpost["OutpostId"],
        LineItems=[{"CatalogItemId": item["CatalogItemId"], "Quantity": quantity}],
        PaymentOption=option,
        PaymentTerm="THREE_YEARS",
    )["Order"]


def wait_completed(client: Any, order_id: str, timeout: float = 30.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        found = client.get_order(OrderId=order_id)["Order"]
        if found["Status"] == "COMPLETED" or time.monotonic() > deadline:
            assert found["Status"] == "COMPLETED", found
            return found
        time.sleep(0.1)


def years_later(moment: datetime, years: int) -> datetime:
    return moment.replace(year=moment.year + years)


def billing(client: Any, outpost: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    return client.get_outpost_billing_information(OutpostIdentifier=outpost["OutpostId"], **kwargs)


# -- GetOutpostBillingInformation ---------------------------------------------------------------


def test_billing_of_an_outpost_without_orders(outposts: Any, outpost: dict[str, Any]) -> None:
    info = outposts.get_outpost_billing_information(OutpostIdentifier=outpost["OutpostArn"])
    assert info["Subscriptions"] == []
    assert not {"ContractEndDate", "PaymentTerm", "PaymentOption", "NextToken"} & set(info)


def test_billing_not_found(outposts: Any, outpost: dict[str, Any], server: Any) -> None:
    for identifier in [MISSING_OUTPOST, *foreign_arns(outpost["OutpostArn"])]:
        aws_error("NotFoundException", 404, outposts.get_outpost_billing_information, OutpostIdentifier=identifier)
    other_region = server.client("outposts", region="eu-west-1")
    aws_error(
        "NotFoundException", 404, other_region.get_outpost_billing_information, OutpostIdentifier=outpost["OutpostId"]
    )


def test_an_order_bills_from_its_fulfilment(outposts: Any, outpost: dict, rack_item: dict, vcpus: dict) -> None:
    placed = order(outposts, outpost, rack_item, option="PARTIAL_UPFRONT", quantity=2)
    pending = billing(outposts, outpost)
    [sub] = pending["Subscriptions"]
    assert sub["SubscriptionType"] == "ORIGINAL" and sub["SubscriptionStatus"] == "PENDING"
    assert sub["OrderIds"] == [placed["OrderId"]]
    assert "BeginDate" not in sub and "ContractEndDate" not in pending
    upfront, monthly = expected_price(2 * list_price(rack_item, vcpus), "PARTIAL_UPFRONT", "THREE_YEARS")
    assert (sub["UpfrontPrice"], sub["MonthlyRecurringPrice"]) == pytest.approx((upfront, monthly), abs=0.01)

    done = wait_completed(outposts, placed["OrderId"])
    info = billing(outposts, outpost)
    [active] = info["Subscriptions"]
    assert active["SubscriptionId"] == sub["SubscriptionId"] and active["SubscriptionId"].isdigit()
    assert active["SubscriptionStatus"] == "ACTIVE" and active["Currency"] == "USD"
    assert active["BeginDate"] == done["OrderFulfilledDate"]
    assert active["EndDate"] == years_later(done["OrderFulfilledDate"], 3)
    assert info["ContractEndDate"] == active["EndDate"].strftime("%Y-%m-%d")
    assert (info["PaymentTerm"], info["PaymentOption"]) == ("THREE_YEARS", "PARTIAL_UPFRONT")
    repeat = billing(outposts, outpost)
    assert {k: v for k, v in repeat.items() if k != "ResponseMetadata"} == {
        k: v for k, v in info.items() if k != "ResponseMetadata"
    }


def test_later_orders_are_capacity_increases_and_pages(outposts: Any, outpost: dict, rack_item: dict) -> None:
    first = order(outposts, outpost, rack_item)
    wait_completed(outposts, first["OrderId"])
    second = order(outposts, outpost, rack_item, option="ALL_UPFRONT")
    third = order(outposts, outpost, rack_item)
    outposts.cancel_order(OrderId=third["OrderId"])
    pages = []
    token = None
    while True:
        page = billing(outposts, outpost, MaxResults=1, **({"NextToken": token} if token else {}))
        pages.append(page)
        token = page.get("NextToken")
        if not token:
            break
    assert [len(page["Subscriptions"]) for page in pages] == [1, 1, 1]
    subs = [page["Subscriptions"][0] for page in pages]
    assert [s["OrderIds"] for s in subs] == [[first["OrderId"]], [second["OrderId"]], [third["OrderId"]]]
    assert [s["SubscriptionType"] for s in subs] == ["ORIGINAL", "CAPACITY_INCREASE", "CAPACITY_INCREASE"]
    assert [s["SubscriptionStatus"] for s in subs] == ["ACTIVE", "PENDING", "CANCELLED"]
    assert subs[1]["MonthlyRecurringPrice"] == 0 and subs[1]["UpfrontPrice"] > 0
    assert all(page["ContractEndDate"] == pages[0]["ContractEndDate"] for page in pages)
    paginated = outposts.get_paginator("get_outpost_billing_information").paginate(
        OutpostIdentifier=outpost["OutpostId"], PaginationConfig={"PageSize": 2}
    )
    assert [s for page in paginated for s in page["Subscriptions"]] == subs
    aws_error(
        "ValidationException",
        400,
        outposts.get_outpost_billing_information,
        OutpostIdentifier=outpost["OutpostId"],
        NextToken="1##forged",
    )


# -- GetRenewalPricing and CreateRenewal ---------------------------------------------------------


def test_renewal_pricing_needs_installed_hardware(outposts: Any, outpost: dict, rack_item: dict, vcpus: dict) -> None:
    nothing = outposts.get_renewal_pricing(OutpostIdentifier=outpost["OutpostId"])
    assert nothing["PricingResult"] == "UNABLE_TO_PRICE" and nothing["PricingOptions"] == []
    placed = order(outposts, outpost, rack_item)
    assert outposts.get_renewal_pricing(OutpostIdentifier=outpost["OutpostId"])["PricingResult"] == "UNABLE_TO_PRICE"
    wait_completed(outposts, placed["OrderId"])
    priced = outposts.get_renewal_pricing(OutpostIdentifier=outpost["OutpostArn"])
    assert priced["PricingResult"] == "PRICED"
    details = [p["SubscriptionPricingDetails"] for p in priced["PricingOptions"]]
    assert all(p["PricingType"] == "SUBSCRIPTION" for p in priced["PricingOptions"])
    assert len({(d["PaymentOption"], d["PaymentTerm"]) for d in details}) == 9
    renewal_list = 0.75 * list_price(rack_item, vcpus)
    for d in details:
        expected = expected_price(renewal_list, d["PaymentOption"], d["PaymentTerm"])
        assert (d["UpfrontPrice"], d["MonthlyRecurringPrice"]) == pytest.approx(expected, abs=0.01), d
        assert d["Currency"] == "USD"


def test_renewal_pricing_not_found(outposts: Any, outpost: dict) -> None:
    for identifier in [MISSING_OUTPOST, *foreign_arns(outpost["OutpostArn"])]:
        aws_error("NotFoundException", 404, outposts.get_renewal_pricing, OutpostIdentifier=identifier)


def test_create_renewal(outposts: Any, outpost: dict, rack_item: dict) -> None:
    token = uuid.uuid4().hex
    request = {"OutpostIdentifier": outpost["OutpostId"], "PaymentOption": "ALL_UPFRONT", "PaymentTerm": "ONE_YEAR"}
    response = aws_error("ValidationException", 400, outposts.create_renewal, ClientToken=token, **request)
    assert "no installed capacity" in response["Error"]["Message"]
    placed = order(outposts, outpost, rack_item)
    wait_completed(outposts, placed["OrderId"])
    renewal = outposts.create_renewal(ClientToken=token, **request)
    quoted = next(
        p["SubscriptionPricingDetails"]
        for p in outposts.get_renewal_pricing(OutpostIdentifier=outpost["OutpostId"])["PricingOptions"]
        if (p["SubscriptionPricingDetails"]["PaymentOption"], p["SubscriptionPricingDetails"]["PaymentTerm"])
        == ("ALL_UPFRONT", "ONE_YEAR")
    )
    assert renewal["OutpostId"] == outpost["OutpostId"]
    assert (renewal["PaymentOption"], renewal["PaymentTerm"], renewal["Currency"]) == ("ALL_UPFRONT", "ONE_YEAR", "USD")
    assert (renewal["UpfrontPrice"], renewal["MonthlyRecurringPrice"]) == (
        quoted["UpfrontPrice"],
        quoted["MonthlyRecurringPrice"],
    )

    again = outposts.create_renewal(ClientToken=token, **{**request, "OutpostIdentifier": outpost["OutpostArn"]})
    assert {k: v for k, v in again.items() if k != "ResponseMetadata"} == {
        k: v for k, v in renewal.items() if k != "ResponseMetadata"
    }
    aws_error(
        "ValidationException",
        400,
        outposts.create_renewal,
        ClientToken=token,
        **{**request, "PaymentTerm": "FIVE_YEARS"},
    )
    aws_error("ValidationException", 400, outposts.create_renewal, ClientToken=uuid.uuid4().hex, **request)

    info = billing(outposts, outpost)
    original, renewed = info["Subscriptions"]
    assert renewed["SubscriptionType"] == "RENEWAL" and renewed["SubscriptionStatus"] == "PENDING"
    assert renewed["OrderIds"] == [placed["OrderId"]]
    assert renewed["BeginDate"] == original["EndDate"]
    assert renewed["EndDate"] == years_later(original["EndDate"], 1)
    assert renewed["UpfrontPrice"] == renewal["UpfrontPrice"]
    assert info["ContractEndDate"] == original["EndDate"].strftime("%Y-%m-%d")


def test_create_renewal_not_found(outposts: Any, outpost: dict) -> None:
    for identifier in [MISSING_OUTPOST, *foreign_arns(outpost["OutpostArn"])]:
        aws_error(
            "NotFoundException",
            404,
            outposts.create_renewal,
            OutpostIdentifier=identifier,
            PaymentOption="NO_UPFRONT",
            PaymentTerm="THREE_YEARS",
        )


def test_a_retiring_outpost_cannot_renew(outposts: Any, outpost: dict, rack_item: dict) -> None:
    placed = order(outposts, outpost, rack_item)
    wait_completed(outposts, placed["OrderId"])
    assert outposts.start_outpost_decommission(OutpostIdentifier=outpost["OutpostId"])["Status"] == "REQUESTED"
    assert outposts.get_renewal_pricing(OutpostIdentifier=outpost["OutpostId"])["PricingResult"] == "UNABLE_TO_PRICE"
    aws_error(
        "ValidationException",
        400,
        outposts.create_renewal,
        OutpostIdentifier=outpost["OutpostId"],
        PaymentOption="NO_UPFRONT",
        PaymentTerm="THREE_YEARS",
    )
