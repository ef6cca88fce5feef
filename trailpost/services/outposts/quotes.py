"""Quotes: CreateQuote, GetQuote, ListQuotes, UpdateQuote, DeleteQuote.

A quote turns requested capacity into configurations of catalog items, each priced per payment
option and term (``quote_options`` builds them, ``billing`` prices them). Rules (chosen and
written in docs/decisions.md, "Outposts quotes"):

* a quote may name an outpost (ID or ARN, NotFound otherwise); its options then build on the
  outpost's installed hardware and hardware type; a quote without options says why in
  ``StatusMessage``;
* a quote is valid ``VALIDITY_DAYS`` from its creation, or from the last update that changed what
  it prices; ``QuoteStatus`` CREATED -> ORDER_SUBMITTED (CreateOrder) and EXPIRED is derived at
  read time (``quote_status``);
* ``OrderingRequirements`` are checks of the outpost and its site, each PASS or FAIL; checks whose
  subject is missing are left out (no outpost: only OUTPOST_ID_MISSING_ON_QUOTE_ERROR); the API
  shows them evaluated at read time (``ordering_requirements``), the document keeps them as of the
  last pricing;
* UpdateQuote and DeleteQuote are refused with ``ValidationException`` once an order was submitted
  (``ConflictException`` is not modeled for them); UpdateQuote also once the quote expired.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from typing import Any

from trailpost.gateway.context import RequestContext
from trailpost.services.outposts import billing, catalog, ids
from trailpost.services.outposts.errors import ValidationException
from trailpost.services.outposts.operations import ops
from trailpost.services.outposts.quote_options import DEFAULT_GENERATION, price_quote, snapshot
from trailpost.services.outposts.resources import OUTPOST, QUOTE, SITE, get_outpost, get_quote
from trailpost.services.outposts.validation import invalid_token
from trailpost.services.pagination import paginate_store

VALIDITY_DAYS = 30
SITE_POWER_KVA = {"POWER_5_KVA": 5.0, "POWER_10_KVA": 10.0, "POWER_15_KVA": 15.0, "POWER_30_KVA": 30.0}
SITE_WEIGHT_LBS = {"NO_LIMIT": math.inf, "MAX_1400_LBS": 1400.0, "MAX_1600_LBS": 1600.0}
SITE_WEIGHT_LBS.update({"MAX_1800_LBS": 1800.0, "MAX_2000_LBS": 2000.0})
SITE_UPLINK_GBPS = {"UPLINK_1G": 1, "UPLINK_10G": 10, "UPLINK_40G": 40, "UPLINK_100G": 100}
POSTAL_CODES = {
    "US": r"\d{5}(-\d{4})?",
    "CA": r"[A-Za-z]\d[A-Za-z] ?\d[A-Za-z]\d",
    "GB": r"[A-Za-z]{1,2}\d[A-Za-z\d]? ?\d[A-Za-z]{2}",
    "DE": r"\d{5}",
    "FR": r"\d{5}",
    "ES": r"\d{5}",
    "IT": r"\d{5}",
    "JP": r"\d{3}-?\d{4}",
    "AU": r"\d{4}",
    "IN": r"\d{6}",
    "BR": r"\d{5}-?\d{3}",
    "NL": r"\d{4} ?[A-Za-z]{2}",
}
_PRICED_FIELDS = (
    "outpost_identifier",
    "country_code",
    "requested_capacities",
    "requested_constraints",
    "requested_payment_options",
    "requested_payment_terms",
)


# -- status and requirements --------------------------------------------------------------------


def _day(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d")


def quote_status(quote: dict[str, Any], now: float) -> str:
    """CREATED, ORDER_SUBMITTED, or EXPIRED once a quote without an order is past its expiration."""
    if quote["quote_status"] == "CREATED" and now >= quote["expiration_date"]:
        return "EXPIRED"
    return quote["quote_status"]


def _status_message(quote: dict[str, Any], status: str) -> str:
    if status == "ORDER_SUBMITTED":
        return f"Order {quote.get('submitted_order_id')} was submitted for this quote."
    if status == "EXPIRED":
        return f"The quote expired on {_day(quote['expiration_date'])}. Create a new quote."
    if not quote["quote_options"]:
        return quote.get("_planning") or "The quote has no options."
    return f"The quote has {len(quote['quote_options'])} option(s) and is valid until {_day(quote['expiration_date'])}."


def _check(kind: str, ok: bool, passed: str, failed: str) -> dict[str, Any]:
    return {
        "ordering_requirement_type": kind,
        "status": "PASS" if ok else "FAIL",
        "status_message": passed if ok else failed,
    }


def ordering_requirements(ctx: RequestContext, quote: dict[str, Any]) -> list[dict[str, Any]]:
    """What an order for the quote needs, evaluated against the current resources."""
    outpost_id = quote.get("_outpost_id")
    checks = [
        _check(
            "OUTPOST_ID_MISSING_ON_QUOTE_ERROR",
            bool(outpost_id),
            "The quote names an outpost.",
            "Associate the quote with an outpost (UpdateQuote) before ordering.",
        )
    ]
    if not outpost_id:
        return checks
    outpost = ctx.store.get(OUTPOST, ctx.scope, outpost_id)
    checks.append(
        _check(
            "OUTPOST_NOT_FOUND_ERROR",
            outpost is not None,
            f"Outpost {outpost_id} exists.",
            f"Outpost {outpost_id} no longer exists.",
        )
    )
    if outpost is None:
        return checks
    status = outpost["life_cycle_status"]
    checks.append(
        _check(
            "OUTPOST_ACTIVE_CHECK_ERROR",
            status == "ACTIVE",
            "The outpost is ACTIVE.",
            f"The outpost is {status}, not ACTIVE.",
        )
    )
    checks.append(
        _check(
            "OUTPOST_STATE_CHANGED_ERROR",
            snapshot(ctx, outpost) == quote.get("_snapshot"),
            "The outpost is as it was when the quote was priced.",
            "The outpost changed since the quote was priced. Update the quote to price it again.",
        )
    )
    if outpost["supported_hardware_type"] == "RACK":
        generation = outpost.get("generation") or DEFAULT_GENERATION
        foreign = {g for option in quote["quote_options"] for g in option.get("_generations", []) if g != generation}
        checks.append(
            _check(
                "OUTPOST_GENERATION_MISMATCH_ERROR",
                not foreign,
                f"The options are {generation} hardware.",
                f"The options need {', '.join(sorted(foreign))} hardware; the outpost is {generation}.",
            )
        )
    site = ctx.store.get(SITE, ctx.scope, outpost["site_id"]) or {}
    operating, shipping = site.get("operating_address"), site.get("shipping_address")
    checks.append(
        _check(
            "OPERATING_ADDRESS_EXISTENCE_CHECK_ERROR",
            bool(operating),
            "The site has an operating address.",
            "The site has no operating address.",
        )
    )
    if operating:
        country = operating.get("country_code")
        checks.append(
            _check(
                "COUNTRY_CODE_MISMATCH_CHECK_ERROR",
                country == quote["country_code"],
                f"The site is in {country}.",
                f"The quote is for {quote['country_code']} but the site is in {country}.",
            )
        )
        pattern = POSTAL_CODES.get(country or "")
        valid = pattern is None or re.fullmatch(pattern, operating.get("postal_code") or "") is not None
        checks.append(
            _check(
                "VALID_ZIP_CODE_CHECK_ERROR",
                valid,
                "The postal code is valid.",
                f"{operating.get('postal_code')} is not a valid {country} postal code.",
            )
        )
    checks.append(
        _check(
            "SHIPPING_ADDRESS_EXISTENCE_CHECK_ERROR",
            bool(shipping),
            "The site has a shipping address.",
            "The site has no shipping address.",
        )
    )
    if outpost["supported_hardware_type"] == "RACK" and quote["quote_options"]:
        checks.append(_rack_fit(site.get("rack_physical_properties") or {}, quote["quote_options"]))
    subs = billing.subscriptions(ctx, outpost_id, ctx.received)
    current = billing.contract(subs, ctx.received)
    if current is not None:
        checks.append(
            _check(
                "OUTPOST_RENEWAL_REQUIRED_ERROR",
                ctx.received < current["end_date"],
                "The outpost's contract is in force.",
                "The outpost's contract has ended. Renew it (CreateRenewal) first.",
            )
        )
    return checks


def _rack_fits(item: dict[str, Any], properties: dict[str, Any]) -> bool:
    uplink = SITE_UPLINK_GBPS.get(properties.get("uplink_gbps") or "")
    return (
        item["power_kva"] <= SITE_POWER_KVA.get(properties.get("power_draw_kva") or "", math.inf)
        and item["weight_lbs"] <= SITE_WEIGHT_LBS.get(properties.get("maximum_supported_weight_lbs") or "", math.inf)
        and (uplink is None or uplink in item["supported_uplink_gbps"])
    )


def _rack_fit(properties: dict[str, Any], options: list[dict[str, Any]]) -> dict[str, Any]:
    fits = any(
        all(
            (item := catalog.item(line["catalog_item_id"])) is not None and _rack_fits(item, properties)
            for line in option["_line_items"]
        )
        for option in options
    )
    return _check(
        "RACK_PHYSICAL_PROPERTIES_CHECK_ERROR",
        fits,
        "The site can take the racks of an option.",
        "No option's racks fit the site's rack physical properties (power draw, supported weight, uplink speed).",
    )


def view(ctx: RequestContext, quote: dict[str, Any], requirements: bool = True) -> dict[str, Any]:
    """The quote as the API shows it: status, message and requirements as of now."""
    status = quote_status(quote, ctx.received)
    shown = {**quote, "quote_status": status, "status_message": _status_message(quote, status)}
    if requirements:
        shown["ordering_requirements"] = ordering_requirements(ctx, quote)
    return shown


# -- operations ---------------------------------------------------------------------------------


def _associate(ctx: RequestContext, quote: dict[str, Any], identifier: str | None) -> dict[str, Any] | None:
    if not identifier:
        quote["_outpost_id"], quote["outpost_arn"] = None, None
        return None
    outpost = get_outpost(ctx, identifier)
    quote["_outpost_id"], quote["outpost_arn"] = outpost["outpost_id"], outpost["outpost_arn"]
    return outpost


def _requests(quote: dict[str, Any], params: dict[str, Any]) -> None:
    for field in _PRICED_FIELDS[1:]:
        if params.get(field) is not None:
            quote[field] = params[field]
    for field in ("requested_payment_options", "requested_payment_terms"):
        quote[field] = list(dict.fromkeys(quote.get(field) or [])) or None


@ops("CreateQuote")
def create_quote(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    with ctx.store.transaction():
        quote_id = ids.new_id("oq")
        quote: dict[str, Any] = {
            "quote_id": quote_id,
            "account_id": ctx.account_id,
            "quote_status": "CREATED",
            "description": params.get("description"),
            "created_date": ctx.received,
            "expiration_date": ctx.received + VALIDITY_DAYS * 86400,
        }
        outpost = _associate(ctx, quote, params.get("outpost_identifier"))
        _requests(quote, params)
        price_quote(ctx, quote, outpost)
        quote["ordering_requirements"] = ordering_requirements(ctx, quote)
        ctx.store.put(QUOTE, ctx.scope, quote_id, quote)
    return {"quote": view(ctx, quote)}


@ops("GetQuote")
def get_quote_op(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    return {"quote": view(ctx, get_quote(ctx, params["quote_identifier"]))}


@ops("ListQuotes")
def list_quotes(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    quotes, token = paginate_store(
        ctx.store,
        QUOTE,
        ctx.scope,
        token=params.get("next_token"),
        max_results=params.get("max_results"),
        binding=["ListQuotes", ctx.scope],
        invalid=invalid_token,
    )
    return {"quotes": [view(ctx, quote, requirements=False) for quote in quotes], "next_token": token}


def _changeable(quote: dict[str, Any], now: float, action: str) -> None:
    status = quote_status(quote, now)
    if status == "ORDER_SUBMITTED":
        raise ValidationException(
            f"Quote {quote['quote_id']} cannot be {action}: "
            f"order {quote.get('submitted_order_id')} was submitted for it."
        )
    if status == "EXPIRED" and action == "updated":
        raise ValidationException(f"Quote {quote['quote_id']} has expired and cannot be updated. Create a new quote.")


@ops("UpdateQuote")
def update_quote(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    with ctx.store.transaction():
        quote = get_quote(ctx, params["quote_identifier"])
        _changeable(quote, ctx.received, "updated")
        if params.get("description") is not None:
            quote["description"] = params["description"]
        if any(params.get(field) is not None for field in _PRICED_FIELDS):
            outpost = (
                _associate(ctx, quote, params["outpost_identifier"])
                if params.get("outpost_identifier") is not None
                else (get_outpost(ctx, quote["_outpost_id"]) if quote.get("_outpost_id") else None)
            )
            _requests(quote, params)
            price_quote(ctx, quote, outpost)
            quote["expiration_date"] = ctx.received + VALIDITY_DAYS * 86400
            quote["ordering_requirements"] = ordering_requirements(ctx, quote)
        ctx.store.put(QUOTE, ctx.scope, quote["quote_id"], quote)
    return {"quote": view(ctx, quote)}


@ops("DeleteQuote")
def delete_quote(ctx: RequestContext, params: dict[str, Any]) -> None:
    with ctx.store.transaction():
        quote = get_quote(ctx, params["quote_identifier"])
        _changeable(quote, ctx.received, "deleted")
        ctx.store.delete(QUOTE, ctx.scope, quote["quote_id"])
