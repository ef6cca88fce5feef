"""Billing: the rate table, subscriptions derived from orders and renewals, renewal pricing.

Operations: GetOutpostBillingInformation, GetRenewalPricing, CreateRenewal. Rules (chosen and
written in docs/decisions.md, "Outposts billing"):

* prices come from ``RATES``: a catalog item's monthly list price (3-year term, no upfront) is
  the vCPUs of its hosts times the family rate plus its power draw times ``KVA_RATE``; the term and
  the payment option scale it (``TERM_FACTOR``, ``OPTION_DISCOUNT``); renewals cost
  ``RENEWAL_FACTOR`` of the list price; all prices USD, rounded to the cent;
* every order that is not a replacement is a subscription: the first order not preceded by a live
  (not cancelled) order is ``ORIGINAL``, later ones ``CAPACITY_INCREASE``; an order bills from its
  fulfilment (``order_fulfilled_date``) for its payment term; status is derived at read time:
  ``PENDING`` until fulfilled (or until a renewal's begin date), ``ACTIVE`` during the term,
  ``INACTIVE`` after it (or for an order in ``ERROR``), ``CANCELLED`` for a cancelled order;
* the contract is the chain ORIGINAL -> RENEWAL...; ``ContractEndDate`` (``YYYY-MM-DD``, UTC),
  ``PaymentTerm`` and ``PaymentOption`` are those of the contract subscription in force (or the
  last one, once all have ended); absent before the first order is fulfilled;
* a renewal covers the hardware of every fulfilled order and starts when the contract ends (or
  now, if it has ended); nothing to renew (no fulfilled order, or the outpost is retiring) is
  ``UNABLE_TO_PRICE`` / ``ValidationException``; so is an item the catalog cannot price;
* one pending renewal at a time (another is ``ValidationException``); ``ClientToken`` makes
  CreateRenewal idempotent: the same token returns the same result, and reusing it with other
  parameters is ``ValidationException`` (AWS's IdempotentParameterMismatch is not modeled).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from trailpost.gateway.context import RequestContext
from trailpost.services.outposts.catalog import instance_type
from trailpost.services.outposts.catalog import item as catalog_item
from trailpost.services.outposts.errors import ValidationException
from trailpost.services.outposts.operations import ops
from trailpost.services.outposts.resources import RENEWAL, docs, get_outpost, orders_of
from trailpost.services.outposts.validation import invalid_token
from trailpost.services.pagination import paginate_entries
from trailpost.store.base import Entry

CURRENCY = "USD"
# USD per vCPU per month (3-year term, no upfront), by the leading letters of the EC2 family.
RATES = {"m": 25.0, "c": 22.0, "r": 30.0, "x": 34.0, "i": 32.0, "d": 28.0, "g": 60.0, "p": 90.0}
DEFAULT_RATE = 26.0
KVA_RATE = 150.0  # USD per kVA of rack or server power draw per month: facility, network, support
TERM_MONTHS = {"ONE_YEAR": 12, "THREE_YEARS": 36, "FIVE_YEARS": 60}
TERM_YEARS = {"ONE_YEAR": 1, "THREE_YEARS": 3, "FIVE_YEARS": 5}
TERM_FACTOR = {"ONE_YEAR": 1.3, "THREE_YEARS": 1.0, "FIVE_YEARS": 0.85}
# Share of the whole term's no-upfront total a payment option costs.
OPTION_DISCOUNT = {"NO_UPFRONT": 1.0, "PARTIAL_UPFRONT": 0.95, "ALL_UPFRONT": 0.9}
PAYMENT_OPTIONS = ("ALL_UPFRONT", "PARTIAL_UPFRONT", "NO_UPFRONT")
PAYMENT_TERMS = ("ONE_YEAR", "THREE_YEARS", "FIVE_YEARS")
# Terms a new order takes (ONE_YEAR is a renewal term), as CreateOrder enforces them.
ORDER_TERMS = {"RACK": ("THREE_YEARS", "FIVE_YEARS"), "SERVER": ("THREE_YEARS",)}
RENEWAL_FACTOR = 0.75
DEFAULT_TERM = "THREE_YEARS"

FULFILLED = frozenset({"COMPLETED", "FULFILLED"})


# -- prices -------------------------------------------------------------------------------------


def family_rate(family: str) -> float:
    """The USD per vCPU per month of an EC2 family (``RATES`` by its first letter)."""
    return RATES.get(family[:1], DEFAULT_RATE)


def hardware_monthly_price(hardware: dict[str, Any]) -> float | None:
    """The monthly list price (3-year term, no upfront) of a catalog-item-like document.

    ``hardware`` has ``ec2_capacities`` (family, max_size, quantity of hosts) and ``power_kva``;
    ``None`` when a host size is not in the catalog.
    """
    total = 0.0
    for capacity in hardware.get("ec2_capacities") or []:
        size = instance_type(str(capacity.get("max_size", "")))
        if size is None:
            return None
        total += float(capacity.get("quantity") or 0) * size["vcpus"] * family_rate(size["family"])
    total += float(hardware.get("power_kva") or 0) * KVA_RATE
    return total


def subscription_price(monthly: float, payment_option: str, payment_term: str) -> dict[str, Any]:
    """Upfront and monthly prices of a subscription whose 3-year, no-upfront list price is ``monthly``."""
    months = TERM_MONTHS[payment_term]
    total = monthly * TERM_FACTOR[payment_term] * months * OPTION_DISCOUNT[payment_option]
    if payment_option == "ALL_UPFRONT":
        upfront, recurring = total, 0.0
    elif payment_option == "PARTIAL_UPFRONT":
        upfront, recurring = total / 2, total / 2 / months
    else:
        upfront, recurring = 0.0, total / months
    return {
        "payment_option": payment_option,
        "payment_term": payment_term,
        "upfront_price": round(upfront, 2),
        "monthly_recurring_price": round(recurring, 2),
        "currency": CURRENCY,
    }


def pricing_options(monthly: float, options: list[str] | None, terms: list[str] | None) -> list[dict[str, Any]]:
    """``PricingOption`` (SUBSCRIPTION) per payment option x term; all of them when none is asked."""
    return [
        {"pricing_type": "SUBSCRIPTION", "subscription_pricing_details": subscription_price(monthly, option, term)}
        for option in (options or PAYMENT_OPTIONS)
        for term in (terms or PAYMENT_TERMS)
    ]


def line_items_monthly_price(line_items: list[dict[str, Any]]) -> float | None:
    """The monthly list price of order line items; ``None`` if the catalog cannot price one of them."""
    total = 0.0
    for line in line_items:
        if line.get("status") == "CANCELLED":
            continue
        item = catalog_item(line["catalog_item_id"]) if line.get("catalog_item_id") else None
        price = hardware_monthly_price(item) if item is not None else None
        if price is None:
            return None
        total += price * int(line.get("quantity") or 1)
    return total


# -- dates --------------------------------------------------------------------------------------


def add_years(epoch: float, years: int) -> float:
    """``epoch`` plus calendar years (29 February becomes 28 February)."""
    moment = datetime.fromtimestamp(epoch, UTC)
    try:
        later = moment.replace(year=moment.year + years)
    except ValueError:
        later = moment.replace(year=moment.year + years, day=28)
    return later.timestamp()


def _day(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d")


# -- subscriptions ------------------------------------------------------------------------------


def _subscription_id(ctx: RequestContext, *parts: str) -> str:
    """A 12-digit id derived from what the subscription bills (stable across calls)."""
    digest = hashlib.sha256("/".join((ctx.scope, *parts)).encode()).hexdigest()
    return str(int(digest, 16) % 10**12).zfill(12)


def _order_subscription(ctx: RequestContext, order: dict[str, Any], kind: str, now: float) -> dict[str, Any]:
    term = order.get("payment_term") or DEFAULT_TERM
    sub: dict[str, Any] = {
        "subscription_id": _subscription_id(ctx, order["order_id"]),
        "subscription_type": kind,
        "order_ids": [order["order_id"]],
        "currency": CURRENCY,
        "payment_option": order.get("payment_option"),
        "payment_term": term,
        "_created": order.get("order_submission_date") or 0,
    }
    monthly = line_items_monthly_price(order.get("line_items") or [])
    if monthly is not None and order.get("payment_option"):
        price = subscription_price(monthly, order["payment_option"], term)
        sub["upfront_price"] = price["upfront_price"]
        sub["monthly_recurring_price"] = price["monthly_recurring_price"]
    status = order["status"]
    fulfilled = order.get("order_fulfilled_date")
    if status in FULFILLED and fulfilled:
        sub["begin_date"] = fulfilled
        sub["end_date"] = add_years(fulfilled, TERM_YEARS[term])
        sub["subscription_status"] = "ACTIVE" if now < sub["end_date"] else "INACTIVE"
    elif status == "CANCELLED":
        sub["subscription_status"] = "CANCELLED"
    elif status == "ERROR":
        sub["subscription_status"] = "INACTIVE"
    else:
        sub["subscription_status"] = "PENDING"
    return sub


def _renewal_status(sub: dict[str, Any], now: float) -> str:
    if now < sub["begin_date"]:
        return "PENDING"
    return "ACTIVE" if now < sub["end_date"] else "INACTIVE"


def billable_orders(ctx: RequestContext, outpost_id: str) -> list[dict[str, Any]]:
    """The outpost's orders that bill (not replacements), in submission order."""
    orders = [order for order in orders_of(ctx, outpost_id) if order.get("order_type") != "REPLACEMENT"]
    return sorted(orders, key=lambda order: order.get("order_submission_date") or 0)


def renewals(ctx: RequestContext, outpost_id: str) -> dict[str, Any]:
    """The outpost's renewal document (``subscriptions`` created by CreateRenewal)."""
    return ctx.store.get(RENEWAL, ctx.scope, outpost_id) or {"outpost_id": outpost_id, "subscriptions": []}


def subscriptions(ctx: RequestContext, outpost_id: str, now: float) -> list[dict[str, Any]]:
    """Every subscription of the outpost, oldest first, statuses as of ``now``."""
    subs: list[dict[str, Any]] = []
    live_seen = False
    for order in billable_orders(ctx, outpost_id):
        subs.append(_order_subscription(ctx, order, "CAPACITY_INCREASE" if live_seen else "ORIGINAL", now))
        live_seen = live_seen or order["status"] != "CANCELLED"
    for renewal in renewals(ctx, outpost_id)["subscriptions"]:
        subs.append({**renewal, "subscription_status": _renewal_status(renewal, now)})
    return sorted(subs, key=lambda sub: sub["_created"])


def contract(subs: list[dict[str, Any]], now: float) -> dict[str, Any] | None:
    """The contract subscription in force at ``now`` (or the last that ended), if any."""
    chain = [
        sub for sub in subs if sub["subscription_type"] in ("ORIGINAL", "RENEWAL") and sub.get("begin_date") is not None
    ]
    started = [sub for sub in chain if sub["begin_date"] <= now]
    for sub in started:
        if now < sub["end_date"]:
            return sub
    return max(started, key=lambda sub: sub["end_date"]) if started else None


def _renewable(ctx: RequestContext, outpost: dict[str, Any]) -> tuple[list[dict[str, Any]], float | None, str]:
    """The fulfilled orders a renewal covers, their monthly list price, or why there is nothing."""
    if outpost["life_cycle_status"] in ("RETIRING", "RETIRED"):
        return [], None, f"Outpost {outpost['outpost_id']} is {outpost['life_cycle_status']}."
    orders = [order for order in billable_orders(ctx, outpost["outpost_id"]) if order["status"] in FULFILLED]
    if not orders:
        return [], None, f"Outpost {outpost['outpost_id']} has no installed capacity to renew."
    total = 0.0
    for order in orders:
        monthly = line_items_monthly_price(order.get("line_items") or [])
        if monthly is None:
            return orders, None, f"The hardware of order {order['order_id']} cannot be priced."
        total += monthly
    return orders, total * RENEWAL_FACTOR, ""


# -- operations ---------------------------------------------------------------------------------


@ops("GetOutpostBillingInformation")
def get_outpost_billing_information(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    outpost = get_outpost(ctx, params["outpost_identifier"])
    subs = subscriptions(ctx, outpost["outpost_id"], ctx.received)
    entries = [
        Entry("outposts.subscription", ctx.scope, sub["subscription_id"], i + 1, sub) for i, sub in enumerate(subs)
    ]
    page, token = paginate_entries(
        entries,
        token=params.get("next_token"),
        max_results=params.get("max_results"),
        binding=["GetOutpostBillingInformation", ctx.scope, outpost["outpost_id"]],
        invalid=invalid_token,
    )
    result: dict[str, Any] = {"subscriptions": [entry.doc for entry in page], "next_token": token}
    current = contract(subs, ctx.received)
    if current is not None:
        result["contract_end_date"] = _day(current["end_date"])
        result["payment_term"] = current["payment_term"]
        result["payment_option"] = current["payment_option"]
    return result


@ops("GetRenewalPricing")
def get_renewal_pricing(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    outpost = get_outpost(ctx, params["outpost_identifier"])
    _, monthly, _ = _renewable(ctx, outpost)
    if monthly is None:
        return {"pricing_result": "UNABLE_TO_PRICE", "pricing_options": []}
    return {"pricing_result": "PRICED", "pricing_options": pricing_options(monthly, None, None)}


def _replay(ctx: RequestContext, token: str, request: dict[str, Any]) -> dict[str, Any] | None:
    """The result of an earlier CreateRenewal with ``token``, or ``None`` if the token is new."""
    for doc in docs(ctx, RENEWAL):
        for sub in doc["subscriptions"]:
            if sub.get("_client_token") == token:
                if sub["_request"] != request:
                    raise ValidationException(
                        f"ClientToken {token} was already used for a CreateRenewal request with other parameters."
                    )
                return sub["_result"]
    return None


@ops("CreateRenewal")
def create_renewal(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    with ctx.store.transaction():
        outpost = get_outpost(ctx, params["outpost_identifier"])
        outpost_id = outpost["outpost_id"]
        request = {
            "outpost_id": outpost_id,
            "payment_option": params["payment_option"],
            "payment_term": params["payment_term"],
        }
        token = params.get("client_token")
        if token:
            earlier = _replay(ctx, token, request)
            if earlier is not None:
                return earlier
        orders, monthly, reason = _renewable(ctx, outpost)
        if monthly is None:
            raise ValidationException(f"Unable to renew: {reason}")
        now = ctx.received
        subs = subscriptions(ctx, outpost_id, now)
        pending = [
            sub for sub in subs if sub["subscription_type"] == "RENEWAL" and sub["subscription_status"] == "PENDING"
        ]
        if pending:
            raise ValidationException(
                f"Outpost {outpost_id} already has a pending renewal (subscription {pending[0]['subscription_id']})."
            )
        current = contract(subs, now)
        begin = max(current["end_date"], now) if current is not None else now
        price = subscription_price(monthly, params["payment_option"], params["payment_term"])
        result = {"outpost_id": outpost_id, **price}
        doc = renewals(ctx, outpost_id)
        doc["subscriptions"].append(
            {
                "subscription_id": _subscription_id(ctx, outpost_id, "renewal", str(len(doc["subscriptions"]))),
                "subscription_type": "RENEWAL",
                "order_ids": [order["order_id"] for order in orders],
                "begin_date": begin,
                "end_date": add_years(begin, TERM_YEARS[params["payment_term"]]),
                "currency": CURRENCY,
                "upfront_price": price["upfront_price"],
                "monthly_recurring_price": price["monthly_recurring_price"],
                "payment_option": params["payment_option"],
                "payment_term": params["payment_term"],
                "_created": now,
                "_client_token": token,
                "_request": request,
                "_result": result,
            }
        )
        ctx.store.put(RENEWAL, ctx.scope, outpost_id, doc)
    return result
