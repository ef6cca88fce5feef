"""Orders: CreateOrder rules, quotes, GetOrder, ListOrders, CancelOrder and the lifecycle to COMPLETED.

The helpers at the top are shared with the asset, capacity-task and simulation tests.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
from botocore.exceptions import ClientError

from tests.support.outposts import ADDRESS
from trailpost.services.outposts.resources import QUOTE
from trailpost.store.sqlite import SqliteStateStore

T = TypeVar("T")

# Catalog items of the seeded catalog (trailpost/services/outposts/data/catalog.json).
M7I_RACK_1 = "OR-NWRMELN"  # GENERATION_2 rack, 1 x m7i.48xlarge host, 5 kVA
M7I_RACK_2 = "OR-UGC216O"  # GENERATION_2 rack, 2 x m7i.48xlarge hosts, 10 kVA
C7I_R7I_RACK = "OR-7FOYRKV"  # GENERATION_2 rack, 1 x c7i.48xlarge + 1 x r7i.48xlarge, 10 kVA
M5_RACK = "OR-88A7AG6"  # GENERATION_1 rack: not orderable on the GENERATION_2 outposts trailpost creates
DISCONTINUED_RACK = "OR-8HM5WAM"
C6GD_SERVER = "OR-7DIJUXX"  # 1U Outposts server, 1 x c6gd.16xlarge
ORDER_STATUSES = ["PREPARING", "IN_PROGRESS", "DELIVERED", "COMPLETED"]
LINE_ITEM_STATUSES = ["PREPARING", "BUILDING", "SHIPPED", "DELIVERED", "INSTALLING", "INSTALLED"]


def error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    return exc.value.response["Error"]["Code"], exc.value.response["ResponseMetadata"]["HTTPStatusCode"]


def wait_for(read: Callable[[], T], done: Callable[[T], bool], timeout: float = 20.0) -> T:
    """Poll ``read`` until ``done`` holds (the shared server steps lifecycles every 0.3 s)."""
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting; last value: {value}")
        time.sleep(0.05)


def new_outpost(client: Any, hardware: str = "RACK", **site: Any) -> dict[str, Any]:
    site_id = client.create_site(Name=f"site-{uuid.uuid4().hex[:8]}", **site)["Site"]["SiteId"]
    return client.create_outpost(Name="op", SiteId=site_id, SupportedHardwareType=hardware)["Outpost"]


def create_order(client: Any, outpost_id: str, item: str = M7I_RACK_2, quantity: int = 1, **kw: Any) -> dict:
    kw.setdefault("PaymentOption", "ALL_UPFRONT")
    line_items = [{"CatalogItemId": item, "Quantity": quantity}]
    return client.create_order(OutpostIdentifier=outpost_id, LineItems=line_items, **kw)["Order"]


def wait_order(client: Any, order_id: str, status: str = "COMPLETED") -> dict[str, Any]:
    return wait_for(lambda: client.get_order(OrderId=order_id)["Order"], lambda o: o["Status"] == status)


def installed_outposts(client: Any, *items: str, hardware: str = "RACK") -> list[tuple[dict, dict]]:
    """One outpost per item, each with a COMPLETED order for it (ordered together, awaited together)."""
    made = []
    for item in items:
        outpost = new_outpost(client, hardware)
        made.append((outpost, create_order(client, outpost["OutpostId"], item)))
    return [(outpost, wait_order(client, order["OrderId"])) for outpost, order in made]


def sim(server: Any, *args: str) -> subprocess.CompletedProcess[str]:
    """``trailpost sim ...`` against the server's data directory."""
    command = [sys.executable, "-m", "trailpost", "sim", *args[:1], "--data-dir", str(server.data_dir), *args[1:]]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


def run_instances(server: Any, outpost_id: str, instance_type: str, count: int = 1, *extra: str) -> list[str]:
    args = ["--outpost-id", outpost_id, "--instance-type", instance_type, "--count", str(count), *extra]
    result = sim(server, "run-instances", *args)
    assert result.returncode == 0, result.stderr
    ids = re.findall(r'"InstanceId": "(i-[0-9a-f]+)"', result.stdout)
    assert len(ids) == count
    return ids


# -- CreateOrder ------------------------------------------------------------------------------------------


def test_create_order_by_arn(outposts: Any) -> None:
    outpost = new_outpost(outposts)
    order = create_order(outposts, outpost["OutpostArn"], M7I_RACK_2, 2, PaymentOption="PARTIAL_UPFRONT")
    assert re.fullmatch(r"oo-[a-f0-9]{17}", order["OrderId"])
    assert order["OutpostId"] == outpost["OutpostId"]
    assert (order["Status"], order["OrderType"], order["PaymentOption"]) == ("PREPARING", "OUTPOST", "PARTIAL_UPFRONT")
    assert order["PaymentTerm"] == "THREE_YEARS"
    [line] = order["LineItems"]
    assert (line["CatalogItemId"], line["Quantity"], line["Status"]) == (M7I_RACK_2, 2, "PREPARING")
    assert re.fullmatch(r"ooi-[a-f0-9]{17}", line["LineItemId"])
    assert "OrderFulfilledDate" not in order and "ShipmentInformation" not in line
    assert outposts.get_order(OrderId=order["OrderId"])["Order"] == order


def test_create_order_unknown_outpost(outposts: Any) -> None:
    with pytest.raises(ClientError) as exc:
        create_order(outposts, "op-0123456789abcdef0")
    assert error(exc) == ("NotFoundException", 404)


def test_create_order_outpost_of_another_region(outposts: Any, server: Any) -> None:
    outpost = new_outpost(server.client("outposts", region="eu-west-1"))
    with pytest.raises(ClientError) as exc:
        create_order(outposts, outpost["OutpostArn"])
    assert error(exc) == ("NotFoundException", 404)


@pytest.mark.parametrize(
    ("item", "hardware", "code", "status", "words"),
    [
        ("OR-ZZZZZZZ", "RACK", "NotFoundException", 404, "not found"),
        (DISCONTINUED_RACK, "RACK", "ValidationException", 400, "DISCONTINUED"),
        (C6GD_SERVER, "RACK", "ValidationException", 400, "SERVER item"),
        (M7I_RACK_1, "SERVER", "ValidationException", 400, "RACK item"),
        (M5_RACK, "RACK", "ValidationException", 400, "GENERATION_1"),
    ],
)
def test_create_order_line_item_rules(
    outposts: Any, item: str, hardware: str, code: str, status: int, words: str
) -> None:
    outpost = new_outpost(outposts, hardware)
    with pytest.raises(ClientError) as exc:
        create_order(outposts, outpost["OutpostId"], item)
    assert error(exc) == (code, status)
    assert words in exc.value.response["Error"]["Message"]
    assert outposts.list_orders(OutpostIdentifierFilter=outpost["OutpostId"])["Orders"] == []


def test_create_order_needs_line_items_or_quote(outposts: Any) -> None:
    outpost = new_outpost(outposts)
    with pytest.raises(ClientError) as exc:
        outposts.create_order(OutpostIdentifier=outpost["OutpostId"], PaymentOption="NO_UPFRONT")
    assert error(exc) == ("ValidationException", 400)


@pytest.mark.parametrize(
    ("hardware", "item", "term"), [("RACK", M7I_RACK_1, "ONE_YEAR"), ("SERVER", C6GD_SERVER, "FIVE_YEARS")]
)
def test_create_order_payment_terms(outposts: Any, hardware: str, item: str, term: str) -> None:
    outpost = new_outpost(outposts, hardware)
    with pytest.raises(ClientError) as exc:
        create_order(outposts, outpost["OutpostId"], item, PaymentTerm=term)
    assert error(exc) == ("ValidationException", 400)
    if hardware == "RACK":
        assert (
            create_order(outposts, outpost["OutpostId"], item, PaymentTerm="FIVE_YEARS")["PaymentTerm"] == "FIVE_YEARS"
        )


def test_create_order_checks_site_rack_properties(outposts: Any) -> None:
    outpost = new_outpost(outposts, RackPhysicalProperties={"PowerDrawKva": "POWER_5_KVA", "UplinkGbps": "UPLINK_10G"})
    with pytest.raises(ClientError) as exc:
        create_order(outposts, outpost["OutpostId"], M7I_RACK_2)  # a 10 kVA rack
    assert error(exc) == ("ValidationException", 400)
    assert "kVA" in exc.value.response["Error"]["Message"]
    assert create_order(outposts, outpost["OutpostId"], M7I_RACK_1)["Status"] == "PREPARING"  # 5 kVA fits


def test_create_order_refused_while_retiring(outposts: Any) -> None:
    outpost = new_outpost(outposts)
    assert outposts.start_outpost_decommission(OutpostIdentifier=outpost["OutpostId"])["Status"] == "REQUESTED"
    with pytest.raises(ClientError) as exc:
        create_order(outposts, outpost["OutpostId"])
    assert error(exc) == ("ConflictException", 409)
    assert exc.value.response["ResourceType"] == "OUTPOST"
    assert exc.value.response["ResourceId"] == outpost["OutpostId"]
    retired = wait_for(
        lambda: outposts.get_outpost(OutpostId=outpost["OutpostId"])["Outpost"],
        lambda o: o["LifeCycleStatus"] == "RETIRED",
    )
    assert retired["LifeCycleStatus"] == "RETIRED"


def test_active_order_quota(outposts: Any) -> None:
    outpost = new_outpost(outposts)
    orders = [create_order(outposts, outpost["OutpostId"], M7I_RACK_1) for _ in range(5)]
    with pytest.raises(ClientError) as exc:
        create_order(outposts, outpost["OutpostId"], M7I_RACK_1)
    assert error(exc) == ("ServiceQuotaExceededException", 402)
    outposts.cancel_order(OrderId=orders[0]["OrderId"])
    assert create_order(outposts, outpost["OutpostId"], M7I_RACK_1)["Status"] == "PREPARING"


# -- quotes -----------------------------------------------------------------------------------------------------


def quoted_outpost(outposts: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    outpost = new_outpost(outposts, OperatingAddress=ADDRESS, ShippingAddress=ADDRESS)
    capacities = [{"QuoteCapacityType": "EC2", "Unit": "m7i.xlarge", "Quantity": 8}]
    quote = outposts.create_quote(
        OutpostIdentifier=outpost["OutpostId"], CountryCode="US", RequestedCapacities=capacities
    )
    return outpost, quote["Quote"]


def test_create_order_from_quote(outposts: Any) -> None:
    outpost, quote = quoted_outpost(outposts)
    option = quote["QuoteOptions"][0]
    order = outposts.create_order(
        OutpostIdentifier=outpost["OutpostId"],
        QuoteIdentifier=quote["QuoteId"],
        QuoteOptionIdentifier=option["QuoteOptionIdentifier"],
        PaymentOption="NO_UPFRONT",
        PaymentTerm="THREE_YEARS",
    )["Order"]
    assert (order["QuoteIdentifier"], order["QuoteOptionIdentifier"]) == (
        quote["QuoteId"],
        option["QuoteOptionIdentifier"],
    )
    assert order["LineItems"] and all(line["Status"] == "PREPARING" for line in order["LineItems"])
    after = outposts.get_quote(QuoteIdentifier=quote["QuoteId"])["Quote"]
    assert (after["QuoteStatus"], after["SubmittedOrderId"]) == ("ORDER_SUBMITTED", order["OrderId"])
    with pytest.raises(ClientError) as exc:  # a quote orders once
        outposts.create_order(
            OutpostIdentifier=outpost["OutpostId"], QuoteIdentifier=quote["QuoteId"], PaymentOption="NO_UPFRONT"
        )
    assert error(exc) == ("ConflictException", 409)
    assert (exc.value.response["ResourceType"], exc.value.response["ResourceId"]) == ("ORDER", order["OrderId"])


def test_create_order_quote_rules(outposts: Any, server: Any) -> None:
    outpost, quote = quoted_outpost(outposts)
    base = {"OutpostIdentifier": outpost["OutpostId"], "PaymentOption": "ALL_UPFRONT"}
    cases = [
        ({"QuoteIdentifier": "oq-0123456789abcdef0"}, ("NotFoundException", 404)),
        (
            {"QuoteIdentifier": quote["QuoteId"], "QuoteOptionIdentifier": "oqo-0123456789abcdef0"},
            ("ValidationException", 400),
        ),
        ({"QuoteIdentifier": quote["QuoteId"], "PaymentTerm": "ONE_YEAR"}, ("ValidationException", 400)),
        (
            {"QuoteIdentifier": quote["QuoteId"], "LineItems": [{"CatalogItemId": M7I_RACK_1, "Quantity": 1}]},
            ("ValidationException", 400),
        ),
    ]
    other = new_outpost(outposts)
    cases.append(
        ({"QuoteIdentifier": quote["QuoteId"], "OutpostIdentifier": other["OutpostId"]}, ("ValidationException", 400))
    )
    for extra, expected in cases:
        with pytest.raises(ClientError) as exc:
            outposts.create_order(**{**base, **extra})
        assert error(exc) == expected, extra
    store = SqliteStateStore(Path(server.data_dir) / "state.db")
    try:
        doc = store.get(QUOTE, f"{quote['AccountId']}/us-east-1", quote["QuoteId"])
        doc["expiration_date"] = time.time() - 1
        store.put(QUOTE, f"{quote['AccountId']}/us-east-1", quote["QuoteId"], doc)
    finally:
        store.close()
    option = quote["QuoteOptions"][0]["QuoteOptionIdentifier"]
    with pytest.raises(ClientError) as exc:
        outposts.create_order(**base, QuoteIdentifier=quote["QuoteId"], QuoteOptionIdentifier=option)
    assert error(exc) == ("ValidationException", 400)
    assert "expired" in exc.value.response["Error"]["Message"]


# -- GetOrder, ListOrders ---------------------------------------------------------------------------------------


def test_get_order_unknown(outposts: Any, server: Any) -> None:
    with pytest.raises(ClientError) as exc:
        outposts.get_order(OrderId="oo-0123456789abcdef0")
    assert error(exc) == ("NotFoundException", 404)
    order = create_order(outposts, new_outpost(outposts)["OutpostId"])
    with pytest.raises(ClientError) as exc:  # orders are regional
        server.client("outposts", region="eu-west-1").get_order(OrderId=order["OrderId"])
    assert error(exc) == ("NotFoundException", 404)


def test_list_orders_filter_and_paginate(outposts: Any) -> None:
    outpost = new_outpost(outposts)
    made = [create_order(outposts, outpost["OutpostId"], M7I_RACK_1, quantity=n) for n in (1, 2, 3)]
    create_order(outposts, new_outpost(outposts)["OutpostId"])
    outposts.cancel_order(OrderId=made[1]["OrderId"])
    pages = list(
        outposts.get_paginator("list_orders").paginate(
            OutpostIdentifierFilter=outpost["OutpostArn"], PaginationConfig={"PageSize": 1}
        )
    )
    assert len(pages) == 3 and all(len(page["Orders"]) == 1 for page in pages)
    orders = [order for page in pages for order in page["Orders"]]
    assert [order["OrderId"] for order in orders] == [order["OrderId"] for order in made]
    summary = orders[1]
    assert (summary["OutpostId"], summary["Status"], summary["OrderType"]) == (
        outpost["OutpostId"],
        "CANCELLED",
        "OUTPOST",
    )
    assert summary["LineItemCountsByStatus"] == {"CANCELLED": 1}
    assert orders[0]["LineItemCountsByStatus"] in ({"PREPARING": 1}, {"BUILDING": 1})
    everything = [o["OrderId"] for page in outposts.get_paginator("list_orders").paginate() for o in page["Orders"]]
    assert {order["OrderId"] for order in made} <= set(everything)


def test_list_orders_errors(outposts: Any) -> None:
    with pytest.raises(ClientError) as exc:
        outposts.list_orders(OutpostIdentifierFilter="op-0123456789abcdef0")
    assert error(exc) == ("NotFoundException", 404)
    with pytest.raises(ClientError) as exc:
        outposts.list_orders(NextToken="1##forged")
    assert error(exc) == ("ValidationException", 400)


# -- CancelOrder ----------------------------------------------------------------------------------------------------


def test_cancel_order_rules(outposts: Any) -> None:
    outpost = new_outpost(outposts)
    order = create_order(outposts, outpost["OutpostId"])
    outposts.cancel_order(OrderId=order["OrderId"])
    cancelled = outposts.get_order(OrderId=order["OrderId"])["Order"]
    assert cancelled["Status"] == "CANCELLED" and cancelled["LineItems"][0]["Status"] == "CANCELLED"
    with pytest.raises(ClientError) as exc:
        outposts.cancel_order(OrderId=order["OrderId"])
    assert error(exc) == ("ConflictException", 409)
    assert (exc.value.response["ResourceType"], exc.value.response["ResourceId"]) == ("ORDER", order["OrderId"])
    time.sleep(0.7)  # a cancelled order never moves on
    assert outposts.get_order(OrderId=order["OrderId"])["Order"]["Status"] == "CANCELLED"


def test_cancel_order_after_preparing_is_conflict(outposts: Any) -> None:
    order = create_order(outposts, new_outpost(outposts)["OutpostId"])
    wait_order(outposts, order["OrderId"], "IN_PROGRESS")
    with pytest.raises(ClientError) as exc:
        outposts.cancel_order(OrderId=order["OrderId"])
    assert error(exc) == ("ConflictException", 409)
    assert exc.value.response["ResourceType"] == "ORDER"


def test_cancel_order_unknown(outposts: Any) -> None:
    with pytest.raises(ClientError) as exc:
        outposts.cancel_order(OrderId="oo-0123456789abcdef0")
    assert error(exc) == ("NotFoundException", 404)


# -- lifecycle ----------------------------------------------------------------------------------------------------


def test_order_lifecycle_to_completed_installs_assets(outposts: Any) -> None:
    outpost = new_outpost(outposts)
    order = create_order(outposts, outpost["OutpostId"], C7I_R7I_RACK)
    seen: list[tuple[str, str]] = []

    def read() -> dict[str, Any]:
        current = outposts.get_order(OrderId=order["OrderId"])["Order"]
        state = (current["Status"], current["LineItems"][0]["Status"])
        if not seen or seen[-1] != state:
            seen.append(state)
        return current

    done = wait_for(read, lambda o: o["Status"] == "COMPLETED")
    statuses = [s for n, (s, _) in enumerate(seen) if n == 0 or seen[n - 1][0] != s]
    assert statuses == sorted(set(statuses), key=ORDER_STATUSES.index)  # forward only, deprecated never
    assert len(statuses) >= 3 and seen[-1] == ("COMPLETED", "INSTALLED")
    items = [i for _, i in seen]
    assert items == sorted(set(items), key=LINE_ITEM_STATUSES.index)
    for state in seen:  # line items move within their order's status
        assert (
            LINE_ITEM_STATUSES.index(state[1])
            in {
                "PREPARING": [0],
                "IN_PROGRESS": [1, 2],
                "DELIVERED": [3, 4],
                "COMPLETED": [5],
            }[state[0]]
        )
    assert done["OrderFulfilledDate"] >= done["OrderSubmissionDate"]
    line = done["LineItems"][0]
    shipment = line["ShipmentInformation"]
    assert shipment["ShipmentCarrier"] in ("EXPEDITORS", "DBS")  # racks travel by freight
    assert re.fullmatch(r"[a-zA-Z0-9]{6,42}", shipment["ShipmentTrackingNumber"])
    assets = {a["AssetId"]: a for a in outposts.list_assets(OutpostIdentifier=outpost["OutpostId"])["Assets"]}
    listed = {info["AssetId"]: info for info in line["AssetInformationList"]}
    assert set(listed) == set(assets)
    assert all(re.fullmatch(r"\d{10}", asset_id) for asset_id in listed)
    for info in listed.values():
        assert info["MacAddressList"]
        assert all(re.fullmatch(r"([0-9a-f]{2}:){5}[0-9a-f]{2}", mac) for mac in info["MacAddressList"])
    compute = [a for a in assets.values() if a["AssetType"] == "COMPUTE"]
    assert sorted(a["ComputeAttributes"]["InstanceFamilies"][0] for a in compute) == ["c7i", "r7i"]
    assert all(a["ComputeAttributes"]["State"] == "ACTIVE" for a in compute)
    summary = outposts.list_orders(OutpostIdentifierFilter=outpost["OutpostId"])["Orders"][0]
    assert summary["LineItemCountsByStatus"] == {"INSTALLED": 1}
    assert summary["OrderFulfilledDate"] == done["OrderFulfilledDate"]


def test_server_order_ships_by_parcel(outposts: Any) -> None:
    outpost = new_outpost(outposts, "SERVER")
    order = wait_order(outposts, create_order(outposts, outpost["OutpostId"], C6GD_SERVER, 2)["OrderId"])
    line = order["LineItems"][0]
    assert line["ShipmentInformation"]["ShipmentCarrier"] in ("UPS", "FEDEX", "DHL")
    assert len(line["AssetInformationList"]) == 2
    again = outposts.get_order(OrderId=order["OrderId"])["Order"]["LineItems"][0]
    assert again["ShipmentInformation"] == line["ShipmentInformation"]
