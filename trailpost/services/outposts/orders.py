"""Orders: CreateOrder, GetOrder, ListOrders, CancelOrder, and the order lifecycle step.

CreateOrder rules (AWS's, or chosen and written in docs/decisions.md):
* the outpost (ID or ARN) must exist in the caller's account and region (``NotFoundException``)
  and must not be ``RETIRING``/``RETIRED`` (``ConflictException``, resource OUTPOST);
* at most ``MAX_ACTIVE_ORDERS`` orders per outpost may be active (PREPARING, IN_PROGRESS or
  DELIVERED): more is ``ServiceQuotaExceededException``;
* either ``LineItems`` or a quote (``QuoteIdentifier``) must be given, not both
  (``ValidationException``). Each line item's catalog item must exist (``NotFoundException``), be
  ``AVAILABLE``, be of the outpost's ``SupportedHardwareType`` (RACK items for rack outposts, SERVER
  items for server outposts) and, for racks, of the outpost's generation; a rack must also fit the
  site's rack physical properties when the site declares them (power draw, maximum weight, uplink
  speed) (``ValidationException``);
* ``PaymentTerm`` defaults to ``THREE_YEARS``; new orders take ``THREE_YEARS`` or ``FIVE_YEARS`` for
  racks and ``THREE_YEARS`` for servers (``ONE_YEAR`` is a renewal term only; ``billing.ORDER_TERMS``);
* with a quote (ID or ARN): the quote must exist in the caller's account and region
  (``NotFoundException``), not be used by an order already (``ConflictException``, ORDER), be
  ``CREATED`` and not past its ``ExpirationDate``, name this outpost, and pass its ordering
  requirements as evaluated now (``quotes.ordering_requirements``); the option
  (``QuoteOptionIdentifier``, may be omitted when the quote has exactly one option) must be one of
  its options, and the order's payment option and term one it is priced for
  (``ValidationException``). The line items are the option's catalog items, checked as above. The
  quote becomes ``ORDER_SUBMITTED`` with ``SubmittedOrderId``.

Lifecycle (current model statuses only), one step per ``settings.lifecycle_seconds``, advanced by
the lifecycle worker (``advance``)::

    order        PREPARING  IN_PROGRESS  IN_PROGRESS  DELIVERED  DELIVERED   COMPLETED
    line items   PREPARING  BUILDING     SHIPPED      DELIVERED  INSTALLING  INSTALLED

Shipping adds ``ShipmentInformation`` (carrier and tracking number derived from the order and line
item: freight forwarders for racks, parcel carriers for servers); installing creates the assets
(``assets.install``) and lists them in each line item's ``AssetInformationList``; completion sets
``OrderFulfilledDate`` and makes the assets ACTIVE. ``CancelOrder`` is allowed only while the order
is ``PREPARING``; otherwise ``ConflictException`` (resource ORDER). A cancelled order's quote stays
``ORDER_SUBMITTED``.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from typing import Any

from trailpost.gateway.context import RequestContext
from trailpost.services.outposts import assets, catalog, ids, quotes
from trailpost.services.outposts.billing import ORDER_TERMS
from trailpost.services.outposts.errors import (
    NotFoundException,
    ServiceQuotaExceededException,
    ValidationException,
    conflict,
)
from trailpost.services.outposts.operations import ops
from trailpost.services.outposts.resources import ORDER, QUOTE, SITE, active_orders, get_outpost
from trailpost.services.outposts.validation import invalid_token
from trailpost.services.pagination import paginate_store
from trailpost.store.base import StateStore

MAX_ACTIVE_ORDERS = 5
DEFAULT_PAYMENT_TERM = "THREE_YEARS"
DEFAULT_GENERATION = "GENERATION_2"

# (order status, line item status) at each step of the lifecycle.
STEPS: list[tuple[str, str]] = [
    ("PREPARING", "PREPARING"),
    ("IN_PROGRESS", "BUILDING"),
    ("IN_PROGRESS", "SHIPPED"),
    ("DELIVERED", "DELIVERED"),
    ("DELIVERED", "INSTALLING"),
    ("COMPLETED", "INSTALLED"),
]
_POWER_KVA = {"POWER_5_KVA": 5.0, "POWER_10_KVA": 10.0, "POWER_15_KVA": 15.0, "POWER_30_KVA": 30.0}
_MAX_WEIGHT = {"MAX_1400_LBS": 1400, "MAX_1600_LBS": 1600, "MAX_1800_LBS": 1800, "MAX_2000_LBS": 2000}
_UPLINK = {"UPLINK_1G": 1, "UPLINK_10G": 10, "UPLINK_40G": 40, "UPLINK_100G": 100}


# -- line items ------------------------------------------------------------------------------------------


def _check_site_fit(entry: dict[str, Any], properties: dict[str, Any]) -> None:
    item_id = entry["catalog_item_id"]
    power = _POWER_KVA.get(properties.get("power_draw_kva") or "")
    if power is not None and entry["power_kva"] > power:
        raise ValidationException(
            f"Catalog item {item_id} draws {entry['power_kva']} kVA; the site supports {power} kVA per rack."
        )
    weight = _MAX_WEIGHT.get(properties.get("maximum_supported_weight_lbs") or "")
    if weight is not None and entry["weight_lbs"] > weight:
        raise ValidationException(
            f"Catalog item {item_id} weighs {entry['weight_lbs']} lbs; the site supports at most {weight} lbs."
        )
    uplink = _UPLINK.get(properties.get("uplink_gbps") or "")
    if uplink is not None and uplink not in entry["supported_uplink_gbps"]:
        raise ValidationException(
            f"Catalog item {item_id} supports uplinks of {entry['supported_uplink_gbps']} Gbps, "
            f"not the site's {uplink} Gbps."
        )


def _requested_line_items(ctx: RequestContext, outpost: dict[str, Any], requests: list[dict[str, Any]]) -> list:
    hardware = outpost["supported_hardware_type"]
    site = ctx.store.get(SITE, ctx.scope, outpost["site_id"]) or {}
    line_items = []
    for request in requests:
        entry = catalog.item(request["catalog_item_id"])
        if entry is None:
            raise NotFoundException(f"Catalog item {request['catalog_item_id']} not found.")
        if entry["item_status"] != "AVAILABLE":
            raise ValidationException(f"Catalog item {entry['catalog_item_id']} is {entry['item_status']}.")
        if entry["item_class"] != hardware:
            raise ValidationException(
                f"Catalog item {entry['catalog_item_id']} is a {entry['item_class']} item; outpost "
                f"{outpost['outpost_id']} supports {hardware} hardware."
            )
        if hardware == "RACK":
            generation = outpost.get("generation") or DEFAULT_GENERATION
            if entry["outpost_generation"] != generation:
                raise ValidationException(
                    f"Catalog item {entry['catalog_item_id']} is {entry['outpost_generation']} hardware; outpost "
                    f"{outpost['outpost_id']} is a {generation} Outpost."
                )
            _check_site_fit(entry, site.get("rack_physical_properties") or {})
        line_items.append(
            {
                "catalog_item_id": entry["catalog_item_id"],
                "line_item_id": ids.new_id("ooi"),
                "quantity": request["quantity"],
                "status": "PREPARING",
            }
        )
    return line_items


def _use_quote(ctx: RequestContext, outpost: dict[str, Any], params: dict[str, Any]) -> tuple[dict, dict]:
    identifier = params["quote_identifier"]
    quote_id = ids.resolve(ctx, identifier, "quote")
    quote = ctx.store.get(QUOTE, ctx.scope, quote_id) if quote_id else None
    if quote is None:
        raise NotFoundException(f"Quote {identifier} not found.")
    quote_id = quote["quote_id"]
    status = quotes.quote_status(quote, ctx.received)
    if status == "ORDER_SUBMITTED":
        order_id = quote.get("submitted_order_id") or quote_id
        raise conflict(f"Quote {quote_id} was already used by order {order_id}.", order_id, "ORDER")
    if status == "EXPIRED":
        raise ValidationException(f"Quote {quote_id} has expired. Create a new quote.")
    if not quote.get("outpost_arn"):
        raise ValidationException(f"Quote {quote_id} names no Outpost. Update the quote with the Outpost to order for.")
    if quote["outpost_arn"] != outpost["outpost_arn"]:
        raise ValidationException(f"Quote {quote_id} is for {quote['outpost_arn']}, not {outpost['outpost_arn']}.")
    failed = [r for r in quotes.ordering_requirements(ctx, quote) if r.get("status") == "FAIL"]
    if failed:
        names = ", ".join(r["ordering_requirement_type"] for r in failed)
        raise ValidationException(f"Quote {quote_id} fails ordering requirements: {names}.")
    options = quote.get("quote_options") or []
    option_id = params.get("quote_option_identifier")
    if option_id is None:
        if len(options) != 1:
            raise ValidationException(f"Quote {quote_id} has {len(options)} options; give QuoteOptionIdentifier.")
        option = options[0]
    else:
        option = next((o for o in options if o.get("quote_option_identifier") == option_id), None)
        if option is None:
            raise ValidationException(f"Quote option {option_id} is not an option of quote {quote_id}.")
    if not option.get("_line_items"):
        raise ValidationException(f"Quote option {option['quote_option_identifier']} has nothing to order.")
    return quote, option


def _check_pricing(option: dict[str, Any] | None, payment_option: str, payment_term: str) -> None:
    priced: list[tuple[str, str | None]] = []
    for pricing in (option or {}).get("pricing_options") or []:
        details = pricing.get("subscription_pricing_details") or {}
        if details.get("payment_option"):
            priced.append((details["payment_option"], details.get("payment_term")))
    if priced and (payment_option, payment_term) not in priced:
        raise ValidationException(
            f"The quote option is not priced for {payment_option} over {payment_term}; "
            f"it offers {', '.join(f'{o}/{t}' for o, t in priced)}."
        )


# -- operations ----------------------------------------------------------------------------------------------


@ops("CreateOrder")
def create_order(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    if bool(params.get("line_items")) == bool(params.get("quote_identifier")):
        raise ValidationException("Specify either LineItems or a QuoteIdentifier (with its QuoteOptionIdentifier).")
    if params.get("quote_option_identifier") and not params.get("quote_identifier"):
        raise ValidationException("QuoteOptionIdentifier requires QuoteIdentifier.")
    with ctx.store.transaction():
        outpost = get_outpost(ctx, params["outpost_identifier"])
        outpost_id = outpost["outpost_id"]
        if outpost["life_cycle_status"] in ("RETIRING", "RETIRED"):
            raise conflict(
                f"Outpost {outpost_id} is {outpost['life_cycle_status']}; it cannot take new orders.",
                outpost_id,
                "OUTPOST",
            )
        if len(active_orders(ctx, outpost_id)) >= MAX_ACTIVE_ORDERS:
            raise ServiceQuotaExceededException(
                f"Outpost {outpost_id} has reached the limit of {MAX_ACTIVE_ORDERS} active orders."
            )
        hardware = outpost["supported_hardware_type"]
        payment_option = params["payment_option"]
        payment_term = params.get("payment_term") or DEFAULT_PAYMENT_TERM
        if payment_term not in ORDER_TERMS[hardware]:
            raise ValidationException(
                f"PaymentTerm {payment_term} is not offered for new {hardware} orders; "
                f"choose {' or '.join(ORDER_TERMS[hardware])}."
            )
        quote = option = None
        if params.get("quote_identifier"):
            quote, option = _use_quote(ctx, outpost, params)
            _check_pricing(option, payment_option, payment_term)
        requests = option["_line_items"] if option is not None else params["line_items"]
        line_items = _requested_line_items(ctx, outpost, requests)
        order_id = ids.new_id("oo")
        order = {
            "order_id": order_id,
            "outpost_id": outpost_id,
            "quote_identifier": quote["quote_id"] if quote else None,
            "quote_option_identifier": option.get("quote_option_identifier") if option else None,
            "status": "PREPARING",
            "line_items": line_items,
            "payment_option": payment_option,
            "payment_term": payment_term,
            "order_submission_date": ctx.received,
            "order_type": "OUTPOST",
            "_status_since": ctx.received,
            "_step": 0,
        }
        ctx.store.put(ORDER, ctx.scope, order_id, order)
        if quote is not None:
            quote["quote_status"] = "ORDER_SUBMITTED"
            quote["submitted_order_id"] = order_id
            ctx.store.put(QUOTE, ctx.scope, quote["quote_id"], quote)
    return {"order": order}


def get_order(ctx: RequestContext, order_id: str) -> dict[str, Any]:
    order = ctx.store.get(ORDER, ctx.scope, order_id)
    if order is None:
        raise NotFoundException(f"Order {order_id} not found.")
    return order


@ops("GetOrder")
def get_order_op(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    return {"order": get_order(ctx, params["order_id"])}


def summary(order: dict[str, Any]) -> dict[str, Any]:
    """An order as ``OrderSummary``: line items counted by status."""
    counts = Counter(line_item["status"] for line_item in order.get("line_items") or [])
    return {
        "outpost_id": order["outpost_id"],
        "order_id": order["order_id"],
        "order_type": order.get("order_type"),
        "status": order["status"],
        "line_item_counts_by_status": dict(counts),
        "order_submission_date": order.get("order_submission_date"),
        "order_fulfilled_date": order.get("order_fulfilled_date"),
    }


@ops("ListOrders")
def list_orders(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    outpost_id = None
    if params.get("outpost_identifier_filter"):
        outpost_id = get_outpost(ctx, params["outpost_identifier_filter"])["outpost_id"]
    orders, token = paginate_store(
        ctx.store,
        ORDER,
        ctx.scope,
        token=params.get("next_token"),
        max_results=params.get("max_results"),
        binding=["ListOrders", ctx.scope, outpost_id],
        invalid=invalid_token,
        keep=lambda order: outpost_id is None or order["outpost_id"] == outpost_id,
    )
    return {"orders": [summary(order) for order in orders], "next_token": token}


@ops("CancelOrder")
def cancel_order(ctx: RequestContext, params: dict[str, Any]) -> None:
    with ctx.store.transaction():
        order = get_order(ctx, params["order_id"])
        order_id = order["order_id"]
        if order["status"] != "PREPARING":
            raise conflict(
                f"Order {order_id} is {order['status']}; only a PREPARING order can be cancelled.",
                order_id,
                "ORDER",
            )
        order["status"] = "CANCELLED"
        for line_item in order.get("line_items") or []:
            line_item["status"] = "CANCELLED"
        order["_status_since"] = ctx.received
        ctx.store.put(ORDER, ctx.scope, order_id, order)


# -- lifecycle ---------------------------------------------------------------------------------------------------


_FREIGHT = ("EXPEDITORS", "DBS")
_PARCEL = ("UPS", "FEDEX", "DHL")


def shipment(order: dict[str, Any], line_item: dict[str, Any]) -> dict[str, str]:
    """The carrier and tracking number of a line item, derived from its order and line item ids."""
    digest = hashlib.sha256(f"{order['order_id']}/{line_item['line_item_id']}".encode()).hexdigest()
    number = str(int(digest, 16))
    carriers = _FREIGHT if assets.line_item_class(line_item) == "RACK" else _PARCEL
    carrier = carriers[int(digest[:8], 16) % len(carriers)]
    if carrier == "UPS":
        tracking = "1Z" + digest[8:14].upper() + number[:10]
    elif carrier == "FEDEX":
        tracking = number[:12]
    elif carrier == "DHL":
        tracking = number[:10]
    elif carrier == "EXPEDITORS":
        tracking = "EI" + number[:10]
    else:
        tracking = "DBS" + number[:11]
    return {"shipment_carrier": carrier, "shipment_tracking_number": tracking}


def due(order: dict[str, Any], lifecycle_seconds: float, now: float) -> bool:
    """Whether an active order is due for its next lifecycle step."""
    if order["status"] not in ("PREPARING", "IN_PROGRESS", "DELIVERED"):
        return False
    return now - order.get("_status_since", now) >= lifecycle_seconds


def advance(store: StateStore, scope: str, order: dict[str, Any], now: float) -> None:
    """Move ``order`` one lifecycle step forward (caller holds a transaction and stores nothing)."""
    step = min(int(order.get("_step") or 0) + 1, len(STEPS) - 1)
    status, item_status = STEPS[step]
    for line_item in order.get("line_items") or []:
        line_item["status"] = item_status
        if item_status == "SHIPPED":
            line_item["shipment_information"] = shipment(order, line_item)
    if item_status == "INSTALLING":
        assets.install(store, scope, order)
    if status == "COMPLETED":
        order["order_fulfilled_date"] = now
        assets.set_order_assets_state(store, scope, order["order_id"], "ACTIVE")
    order["status"] = status
    order["_step"] = step
    order["_status_since"] = now
    store.put(ORDER, scope, order["order_id"], order)
