"""Quote options: requested capacity -> priced configurations of catalog items (see ``quotes``).

Rules (chosen and written in docs/decisions.md, "Outposts quotes"):

* capacities: EC2 ``Unit`` is an instance type of the catalog and ``Quantity`` a whole number of
  instances to *add*; EBS and S3 ``Unit`` is ``TiB`` and ``Quantity`` the *end-state* total; the
  form factor is the outpost's hardware type (``RACK`` for a quote without an outpost); anything
  else is ``ValidationException``; so are malformed constraint values and repeated constraints;
* hosts needed are packed first-fit-decreasing by vCPUs (and GPUs) into the family's host size;
  options are whole catalog items (one rack or server each) that cover the hosts and the missing
  storage (``EBS_TIB_PER_STORAGE_SERVER``, ``S3_TIB_PER_STORAGE_SERVER`` per storage server): the
  cheapest greedy cover, the densest greedy cover and one option per single item, within the
  constraints (``RACK_MAXIMUM`` counts installed racks too; power and weight apply per rack, and
  not to servers), ranked by price (by rack count first when ``RACK_SPACE_CONSTRAINED`` is true),
  at most ``MAX_OPTIONS``; a rack quote uses items of the outpost's generation (without an outpost:
  ``DEFAULT_GENERATION``, what CreateOutpost makes) when they can cover the request, else any
  generation; no option fits -> no options, and ``_planning`` says why;
* an option lists installed racks (``EXISTING_RACK``, their RackId) and the racks it adds
  (``NEW_RACK``, ``new-rack-N``), or the servers it adds (``SERVER``); its capacities count EC2 in
  hosts of the family's host size and storage in TiB; its id is derived from the quote and items;
  ``_line_items`` names its catalog items and quantities.
"""

from __future__ import annotations

import hashlib
import math
from typing import Any

from trailpost.gateway.context import RequestContext
from trailpost.services.outposts import billing, catalog
from trailpost.services.outposts.errors import ValidationException
from trailpost.services.outposts.resources import assets_of

MAX_OPTIONS = 3
MAX_SPECIFICATIONS = 100  # QuoteSpecificationList
DEFAULT_GENERATION = "GENERATION_2"
EBS_TIB_PER_STORAGE_SERVER = 11.0
S3_TIB_PER_STORAGE_SERVER = 12.0
RACK_INCHES = {"rack_height_inches": 80.0, "rack_width_inches": 24.0, "rack_depth_inches": 48.0}
SERVER_INCHES = {1: (1.75, 17.4, 24.0), 2: (3.5, 17.4, 30.0)}  # rack units -> height, width, depth
STORAGE = ("EBS", "S3")

Provision = dict[str, float]  # family -> hosts, "EBS"/"S3" -> TiB


# -- requests -----------------------------------------------------------------------------------


def _hosts_needed(family: str, instances: list[tuple[dict[str, Any], int]]) -> int:
    """Hosts of ``family`` that first-fit-decreasing packing needs for ``(size, count)`` pairs."""
    found = catalog.family(family)
    assert found is not None  # the family of a size the catalog lists
    host = catalog.host_of(found["host"])
    free: list[list[int]] = []  # per host: free vCPUs, free GPUs
    for size, count in sorted(instances, key=lambda pair: (-pair[0]["vcpus"], -pair[0]["gpus"])):
        vcpus, gpus = size["vcpus"], size["gpus"]
        for slot in free:
            if count == 0:
                break
            fit = min(count, slot[0] // vcpus, slot[1] // gpus if gpus else count)
            slot[0] -= fit * vcpus
            slot[1] -= fit * gpus
            count -= fit
        per_host = min(host["vcpus"] // vcpus, host["gpus"] // gpus if gpus else host["vcpus"])
        while count > 0:
            fit = min(count, per_host)
            free.append([host["vcpus"] - fit * vcpus, host["gpus"] - fit * gpus])
            count -= fit
    return len(free)


def _number(capacity: dict[str, Any]) -> float:
    quantity = capacity.get("quantity")
    if quantity is None or quantity < 0 or math.isnan(quantity) or math.isinf(quantity):
        raise ValidationException("Each requested capacity needs a Quantity of 0 or more.")
    return float(quantity)


def demand(requested: list[dict[str, Any]], form_factor: str) -> tuple[Provision, Provision]:
    """(hosts to add per family, end-state TiB per storage type) of the requested capacities."""
    per_family: dict[str, list[tuple[dict[str, Any], int]]] = {}
    storage: Provision = {}
    for capacity in requested:
        kind, unit = capacity.get("quote_capacity_type"), capacity.get("unit")
        if kind is None or unit is None:
            raise ValidationException("Each requested capacity needs a QuoteCapacityType and a Unit.")
        quantity = _number(capacity)
        if kind == "EC2":
            size = catalog.instance_type(unit)
            if size is None:
                raise ValidationException(f"Unit {unit} is not an instance type Outposts offers.")
            found = catalog.family(size["family"])
            assert found is not None  # the catalog lists the family of each of its instance types
            offered = {config["form_factor"] for config in found["form_factors"]}
            if form_factor not in offered:
                raise ValidationException(f"Instance type {unit} is not available on Outposts {form_factor.lower()}s.")
            if quantity != int(quantity) or quantity < 1:
                raise ValidationException(
                    f"The EC2 Quantity for {unit} must be a whole number of instances, 1 or more."
                )
            per_family.setdefault(size["family"], []).append((size, int(quantity)))
        else:
            if form_factor == "SERVER":
                raise ValidationException(f"Outposts servers do not provide {kind} capacity.")
            if unit != "TiB":
                raise ValidationException(f"The Unit of {kind} capacity is TiB, not {unit}.")
            if kind in storage:
                raise ValidationException(f"{kind} capacity is requested more than once.")
            storage[kind] = quantity
    return {family: _hosts_needed(family, sizes) for family, sizes in per_family.items()}, storage


def constraints(requested: list[dict[str, Any]]) -> dict[str, Any]:
    """The requested constraints, parsed: ``RACK_MAXIMUM`` int, power/weight floats, space bool."""
    parsed: dict[str, Any] = {}
    for constraint in requested:
        kind, value = constraint.get("quote_constraint_type"), (constraint.get("value") or "").strip()
        if kind is None:
            raise ValidationException("Each requested constraint needs a QuoteConstraintType.")
        if kind in parsed:
            raise ValidationException(f"Constraint {kind} is given more than once.")
        try:
            if kind == "RACK_MAXIMUM":
                parsed[kind] = int(value)
            elif kind == "RACK_SPACE_CONSTRAINED":
                parsed[kind] = {"true": True, "false": False}[value.lower()]
            else:
                parsed[kind] = float(value)
        except (KeyError, ValueError):
            parsed[kind] = None
        if parsed[kind] is None or (not isinstance(parsed[kind], bool) and not parsed[kind] > 0):
            expected = "true or false" if kind == "RACK_SPACE_CONSTRAINED" else "a positive number"
            raise ValidationException(f"The value of constraint {kind} must be {expected}, not '{value}'.")
    return parsed


# -- hardware -----------------------------------------------------------------------------------


def provides(item: dict[str, Any]) -> Provision:
    """What one unit of a catalog item brings: hosts per family and TiB per storage type."""
    result: Provision = {}
    for capacity in item.get("ec2_capacities") or []:
        result[capacity["family"]] = result.get(capacity["family"], 0) + float(capacity["quantity"])
    servers = float(item.get("storage_servers") or 0)
    if "EBS" in (item.get("supported_storage") or []) and servers:
        result["EBS"] = servers * EBS_TIB_PER_STORAGE_SERVER
    if "S3" in (item.get("supported_storage") or []) and servers:
        result["S3"] = servers * S3_TIB_PER_STORAGE_SERVER
    return result


def _add(total: Provision, more: Provision, times: float = 1) -> Provision:
    out = dict(total)
    for key, value in more.items():
        out[key] = out.get(key, 0) + value * times
    return out


def installed(ctx: RequestContext, outpost_id: str) -> list[tuple[dict[str, Any], str | None, str]]:
    """Installed units of the outpost: (catalog item, rack id or None, line item id), oldest first."""
    units: list[tuple[dict[str, Any], str | None, str]] = []
    assets = assets_of(ctx, outpost_id)
    for order in billing.billable_orders(ctx, outpost_id):
        if order["status"] not in billing.FULFILLED:
            continue
        for line in order.get("line_items") or []:
            item = catalog.item(line["catalog_item_id"]) if line.get("catalog_item_id") else None
            if item is None or line.get("status") == "CANCELLED":
                continue
            racks = list(
                dict.fromkeys(
                    a["rack_id"] for a in assets if a.get("line_item_id") == line["line_item_id"] and a.get("rack_id")
                )
            )
            for unit in range(int(line.get("quantity") or 1)):
                units.append((item, racks[unit] if unit < len(racks) else None, line["line_item_id"]))
    return units


def snapshot(ctx: RequestContext, outpost: dict[str, Any] | None) -> list[Any] | None:
    """What the quote's existing capacity was computed from; a change fails OUTPOST_STATE_CHANGED."""
    if outpost is None:
        return None
    units = [[line_item_id, item["catalog_item_id"]] for item, _, line_item_id in installed(ctx, outpost["outpost_id"])]
    return [outpost["life_cycle_status"], outpost["supported_hardware_type"], outpost.get("generation"), units]


# -- options ------------------------------------------------------------------------------------


def _greedy(needs: Provision, candidates: list[dict[str, Any]], dense: bool, limit: int) -> list[dict[str, Any]] | None:
    """Items covering ``needs``, each step the best coverage per price (per rack when ``dense``)."""
    remaining = {k: v for k, v in needs.items() if v > 0}
    chosen: list[dict[str, Any]] = []
    while remaining:
        best, best_score = None, None
        for item in candidates:
            gives = provides(item)
            gain = sum(
                min(gives.get(k, 0), v) / (S3_TIB_PER_STORAGE_SERVER if k in STORAGE else 1)
                for k, v in remaining.items()
            )
            if gain <= 0:
                continue
            price = item["_price"]
            score = (gain, -price) if dense else (gain / price, 0.0)
            if best_score is None or score > best_score:
                best, best_score = item, score
        if best is None or len(chosen) >= limit:
            return None
        chosen.append(best)
        gives = provides(best)
        remaining = {k: v - gives.get(k, 0) for k, v in remaining.items() if v - gives.get(k, 0) > 1e-9}
    return chosen


def _single(needs: Provision, item: dict[str, Any], limit: int) -> list[dict[str, Any]] | None:
    gives = provides(item)
    wanted = {k: v for k, v in needs.items() if v > 0}
    if not wanted or any(gives.get(k, 0) <= 0 for k in wanted):
        return None
    count = max(math.ceil(v / gives[k] - 1e-9) for k, v in wanted.items())
    return [item] * count if count <= limit else None


def _candidates(form_factor: str, generation: str | None, limits: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for item in catalog.items():
        if item["item_status"] != "AVAILABLE" or item["item_class"] != form_factor:
            continue
        if generation and item.get("outpost_generation") != generation:
            continue
        if form_factor == "RACK" and (
            item["power_kva"] > limits.get("RACK_MAX_POWER_KVA", math.inf)
            or item["weight_lbs"] > limits.get("RACK_MAX_WEIGHT_LBS", math.inf)
        ):
            continue
        price = billing.hardware_monthly_price(item)
        if price:
            found.append({**item, "_price": price})
    return found


def _covers(items: list[dict[str, Any]], needs: Provision) -> bool:
    total: Provision = {}
    for item in items:
        total = _add(total, provides(item))
    return all(total.get(k, 0) >= v - 1e-9 for k, v in needs.items())


def plan(
    needs: Provision, form_factor: str, generation: str | None, limits: dict[str, Any], racks: int
) -> tuple[list[list[dict[str, Any]]], str]:
    """Up to ``MAX_OPTIONS`` item lists covering ``needs``, best first, or ([], why not)."""
    limit = MAX_SPECIFICATIONS - racks
    if form_factor == "RACK" and "RACK_MAXIMUM" in limits:
        limit = min(limit, limits["RACK_MAXIMUM"] - racks)
    candidates = _candidates(form_factor, generation, limits)
    found: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for option in [_greedy(needs, candidates, False, limit), _greedy(needs, candidates, True, limit)] + [
        _single(needs, item, limit) for item in candidates
    ]:
        if option and _covers(option, needs):
            found.setdefault(tuple(sorted(item["catalog_item_id"] for item in option)), option)
    dense = form_factor == "RACK" and limits.get("RACK_SPACE_CONSTRAINED", False)

    def rank(option: list[dict[str, Any]]) -> tuple[float, ...]:
        price = round(sum(item["_price"] for item in option), 2)
        return (len(option), price) if dense else (price, len(option))

    options = sorted(found.values(), key=lambda option: (rank(option), sorted(i["catalog_item_id"] for i in option)))
    if options:
        return options[:MAX_OPTIONS], ""
    if limit <= 0:
        return [], f"The outpost already has {racks} racks: no rack can be added within the constraints."
    return [], "No configuration of catalog items provides the requested capacity within the requested constraints."


def _capacities(total: Provision, keys: list[str]) -> list[dict[str, Any]]:
    out = []
    for key in keys:
        if key in STORAGE:
            out.append({"quote_capacity_type": key, "unit": "TiB", "quantity": round(total.get(key, 0), 2)})
        else:
            found = catalog.family(key)
            assert found is not None  # a provision's non-storage keys are catalog families
            host = found["host"]
            out.append({"quote_capacity_type": "EC2", "unit": host, "quantity": float(total.get(key, 0))})
    return out


def _rack_details(item: dict[str, Any], rack_id: str) -> dict[str, Any]:
    return {
        "rack_id": rack_id,
        "rack_use": "COMPUTE",
        "rack_power_draw_kva": float(item["power_kva"]),
        "rack_weight_lbs": float(item["weight_lbs"]),
        **RACK_INCHES,
        "rack_unit_height": "HEIGHT_42U",
        "ec2_capacities": item["ec2_capacities"],
    }


def _server_details(item: dict[str, Any]) -> dict[str, Any]:
    height, width, depth = SERVER_INCHES[int(item.get("rack_units") or 1)]
    return {
        "server_power_draw_kva": float(item["power_kva"]),
        "server_weight_lbs": float(item["weight_lbs"]),
        "server_height_inches": height,
        "server_width_inches": width,
        "server_depth_inches": depth,
        "rack_unit_height": f"HEIGHT_{int(item.get('rack_units') or 1)}U",
        "ec2_capacities": item["ec2_capacities"],
    }


def _option(
    quote: dict[str, Any],
    items: list[dict[str, Any]],
    existing: list[tuple[dict[str, Any], str | None, str]],
    form_factor: str,
    terms: list[str],
) -> dict[str, Any]:
    before: Provision = {}
    for item, _, _ in existing:
        before = _add(before, provides(item))
    added: Provision = {}
    for item in items:
        added = _add(added, provides(item))
    keys = sorted({*before, *added}, key=lambda k: (k in STORAGE, k))
    specs: list[dict[str, Any]] = []
    if form_factor == "RACK":
        for index, (item, rack_id, _) in enumerate(existing):
            details = _rack_details(item, rack_id or f"existing-rack-{index + 1}")
            specs.append(
                {
                    "quote_specification_type": "EXISTING_RACK",
                    "existing_rack_specification_details": details,
                    "final_rack_specification_details": details,
                }
            )
        for index, item in enumerate(items):
            specs.append(
                {
                    "quote_specification_type": "NEW_RACK",
                    "final_rack_specification_details": _rack_details(item, f"new-rack-{index + 1}"),
                }
            )
    else:
        specs = [
            {"quote_specification_type": "SERVER", "server_specification_details": _server_details(item)}
            for item in items
        ]
    counts: dict[str, int] = {}
    for item in items:
        counts[item["catalog_item_id"]] = counts.get(item["catalog_item_id"], 0) + 1
    signature = ",".join(f"{item_id}x{count}" for item_id, count in sorted(counts.items()))
    return {
        "quote_option_identifier": "oqo-"
        + hashlib.sha256(f"{quote['quote_id']}/{signature}".encode()).hexdigest()[:17],
        "capacities": _capacities(added, [k for k in keys if added.get(k)]),
        "capacity_summary": {
            "existing_capacities": _capacities(before, keys),
            "final_capacities": _capacities(_add(before, added), keys),
            "capacity_change": _capacities(added, keys),
        },
        "specifications": specs,
        "pricing_options": billing.pricing_options(
            sum(item["_price"] for item in items),
            quote.get("requested_payment_options"),
            terms,
        ),
        "_line_items": [{"catalog_item_id": item_id, "quantity": count} for item_id, count in counts.items()],
        "_generations": sorted({item.get("outpost_generation") for item in items}),
    }


def _terms(requested: list[str] | None, form_factor: str) -> list[str]:
    """The payment terms to price: the requested ones, which new orders of the form factor must take."""
    offered = billing.ORDER_TERMS[form_factor]
    for term in requested or []:
        if term not in offered:
            raise ValidationException(
                f"PaymentTerm {term} is not offered for new {form_factor} orders; choose {' or '.join(offered)}."
            )
    return list(requested or offered)


def price_quote(ctx: RequestContext, quote: dict[str, Any], outpost: dict[str, Any] | None) -> None:
    """Fill the quote's options (and why there are none) from its requests and the outpost."""
    form_factor = outpost["supported_hardware_type"] if outpost else "RACK"
    terms = _terms(quote.get("requested_payment_terms"), form_factor)
    hosts, storage = demand(quote["requested_capacities"], form_factor)
    limits = constraints(quote.get("requested_constraints") or [])
    existing = installed(ctx, outpost["outpost_id"]) if outpost else []
    have: Provision = {}
    for item, _, _ in existing:
        have = _add(have, provides(item))
    needs: Provision = {
        **hosts,
        **{kind: tib - have.get(kind, 0) for kind, tib in storage.items() if tib > have.get(kind, 0)},
    }
    needs = {k: v for k, v in needs.items() if v > 0}
    options: list[list[dict[str, Any]]] = []
    why = "The outpost already has the requested capacity." if not needs else ""
    if needs:
        racks = len(existing) if form_factor == "RACK" else 0
        generation = ((outpost or {}).get("generation") or DEFAULT_GENERATION) if form_factor == "RACK" else None
        options, why = plan(needs, form_factor, generation, limits, racks)
        if not options and generation:
            options, why = plan(needs, form_factor, None, limits, racks)
    quote["quote_options"] = [_option(quote, items, existing, form_factor, terms) for items in options]
    quote["_planning"] = why
    quote["_snapshot"] = snapshot(ctx, outpost)
