"""Sites: where outposts are installed. Addresses, rack physical properties, list filters.

Rules (AWS's, or chosen and written in docs/decisions.md):
* at most 100 sites per account and region (``ServiceQuotaExceededException``): AWS's default
  quota, adjustable with ``--quotas outposts.sites=N``;
* the site's ``OperatingAddress*`` summary members are derived from its operating address;
* ``DeleteSite`` is refused with ``ConflictException`` while any outpost is on the site;
* no address of the site can change while an order for one of its outposts is in progress (any
  status of ``ACTIVE_ORDER_STATUSES``): "wait for the order to complete or cancel the order";
* the operating address can change only before an order is placed at the site, or once every
  outpost of the site that has (had) an order is ``RETIRED`` - the hardware is installed there;
* the rack physical properties cannot change while an order for an outpost on the site is
  ``IN_PROGRESS`` (the hardware is built to them);
* ``GetSiteAddress`` of an address type the site has no address for is ``NotFoundException``.
"""

from __future__ import annotations

from typing import Any

from trailpost.gateway.context import RequestContext
from trailpost.services.outposts import ids
from trailpost.services.outposts.errors import (
    NotFoundException,
    ServiceQuotaExceededException,
    conflict,
)
from trailpost.services.outposts.operations import ops
from trailpost.services.outposts.resources import (
    ACTIVE_ORDER_STATUSES,
    ORDER,
    SITE,
    docs,
    get_site,
    outposts_of_site,
)
from trailpost.services.outposts.validation import invalid_token
from trailpost.services.pagination import paginate_store

ADDRESS_FIELDS = {"OPERATING_ADDRESS": "operating_address", "SHIPPING_ADDRESS": "shipping_address"}
# Orders that never put hardware at the site.
UNPLACED_ORDER_STATUSES = frozenset({"CANCELLED", "ERROR"})
# Orders whose hardware is being built to the site's rack physical properties.
BUILDING_ORDER_STATUSES = frozenset({"IN_PROGRESS"})


def _summarize(site: dict[str, Any]) -> dict[str, Any]:
    address = site.get("operating_address") or {}
    for field in ("country_code", "state_or_region", "city"):
        key = f"operating_address_{field}"
        if address.get(field):
            site[key] = address[field]
        else:
            site.pop(key, None)
    return site


@ops("CreateSite")
def create_site(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    with ctx.store.transaction():
        if ctx.store.count(SITE, ctx.scope) >= (limit := ctx.settings.quota("outposts.sites")):
            raise ServiceQuotaExceededException(
                f"You have reached the limit of {limit} sites in {ctx.region} for this account."
            )
        site_id = ids.new_id("os")
        site = {
            "site_id": site_id,
            "account_id": ctx.account_id,
            "site_arn": ids.arn(ctx, "site", site_id),
            "name": params["name"],
            "description": params.get("description"),
            "notes": params.get("notes"),
            "tags": params.get("tags") or {},
            "operating_address": params.get("operating_address"),
            "shipping_address": params.get("shipping_address"),
            "rack_physical_properties": params.get("rack_physical_properties") or {},
            "_created": ctx.received,
        }
        _summarize(site)
        ctx.store.put(SITE, ctx.scope, site_id, site)
    return {"site": site}


@ops("GetSite")
def get_site_op(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    return {"site": get_site(ctx, params["site_id"])}


def _matches(site: dict[str, Any], params: dict[str, Any]) -> bool:
    for field in ("country_code", "state_or_region", "city"):
        wanted = params.get(f"operating_address_{field}_filter")
        if wanted and site.get(f"operating_address_{field}") not in wanted:
            return False
    return True


@ops("ListSites")
def list_sites(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    filters = {k: v for k, v in params.items() if k.endswith("_filter")}
    sites, token = paginate_store(
        ctx.store,
        SITE,
        ctx.scope,
        token=params.get("next_token"),
        max_results=params.get("max_results"),
        binding=["ListSites", ctx.scope, filters],
        invalid=invalid_token,
        keep=lambda site: _matches(site, filters),
    )
    return {"sites": sites, "next_token": token}


@ops("UpdateSite")
def update_site(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    with ctx.store.transaction():
        site = get_site(ctx, params["site_id"])
        for field in ("name", "description", "notes"):
            if params.get(field) is not None:
                site[field] = params[field]
        ctx.store.put(SITE, ctx.scope, site["site_id"], site)
    return {"site": site}


@ops("DeleteSite")
def delete_site(ctx: RequestContext, params: dict[str, Any]) -> None:
    with ctx.store.transaction():
        site = get_site(ctx, params["site_id"])
        outposts = outposts_of_site(ctx, site["site_id"])
        if outposts:
            raise conflict(
                f"Site {site['site_id']} cannot be deleted: outpost {outposts[0]['outpost_id']} is on it. "
                "Delete its outposts first.",
                outposts[0]["outpost_id"],
                "OUTPOST",
            )
        ctx.store.delete(SITE, ctx.scope, site["site_id"])


@ops("GetSiteAddress")
def get_site_address(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    site = get_site(ctx, params["site_id"])
    address_type = params["address_type"]
    address = site.get(ADDRESS_FIELDS[address_type])
    if not address:
        raise NotFoundException(f"Site {site['site_id']} has no {address_type}.")
    return {"site_id": site["site_id"], "address_type": address_type, "address": address}


def _site_orders(ctx: RequestContext, site_id: str, statuses: frozenset[str]) -> list[dict[str, Any]]:
    """Orders in one of ``statuses`` for the outposts of the site, oldest first."""
    outpost_ids = {doc["outpost_id"] for doc in outposts_of_site(ctx, site_id)}
    return [order for order in docs(ctx, ORDER) if order["outpost_id"] in outpost_ids and order["status"] in statuses]


def _installed_outpost(ctx: RequestContext, site_id: str) -> dict[str, Any] | None:
    """An outpost of the site that has had an order placed and is not yet ``RETIRED``."""
    ordered = {order["outpost_id"] for order in docs(ctx, ORDER) if order["status"] not in UNPLACED_ORDER_STATUSES}
    for outpost in outposts_of_site(ctx, site_id):
        if outpost["outpost_id"] in ordered and outpost["life_cycle_status"] != "RETIRED":
            return outpost
    return None


def _check_address_change(ctx: RequestContext, site_id: str, address_type: str) -> None:
    active = _site_orders(ctx, site_id, ACTIVE_ORDER_STATUSES)
    if active:
        order_id = active[0]["order_id"]
        raise conflict(
            f"The {address_type} of site {site_id} cannot be updated while order {order_id} is in progress. "
            "Wait for the order to complete or cancel the order.",
            order_id,
            "ORDER",
        )
    if address_type == "OPERATING_ADDRESS":
        outpost = _installed_outpost(ctx, site_id)
        if outpost is not None:
            raise conflict(
                f"The OPERATING_ADDRESS of site {site_id} cannot be updated: outpost {outpost['outpost_id']} "
                "has been ordered for it and is not deactivated.",
                outpost["outpost_id"],
                "OUTPOST",
            )


@ops("UpdateSiteAddress")
def update_site_address(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    address_type = params["address_type"]
    with ctx.store.transaction():
        site = get_site(ctx, params["site_id"])
        _check_address_change(ctx, site["site_id"], address_type)
        site[ADDRESS_FIELDS[address_type]] = params["address"]
        _summarize(site)
        ctx.store.put(SITE, ctx.scope, site["site_id"], site)
    return {"address_type": address_type, "address": params["address"]}


@ops("UpdateSiteRackPhysicalProperties")
def update_site_rack_physical_properties(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    with ctx.store.transaction():
        site = get_site(ctx, params["site_id"])
        building = _site_orders(ctx, site["site_id"], BUILDING_ORDER_STATUSES)
        if building:
            order = building[0]
            raise conflict(
                f"The rack physical properties of site {site['site_id']} cannot change while order "
                f"{order['order_id']} is in progress.",
                order["order_id"],
                "ORDER",
            )
        properties = dict(site.get("rack_physical_properties") or {})
        properties.update({k: v for k, v in params.items() if k != "site_id" and v is not None})
        site["rack_physical_properties"] = properties
        ctx.store.put(SITE, ctx.scope, site["site_id"], site)
    return {"site": site}
