"""Sites: where outposts are installed. Addresses, rack physical properties, list filters.

Rules (AWS's, or chosen and written in docs/decisions.md):
* at most ``MAX_SITES`` sites per account and region (``ServiceQuotaExceededException``);
* the site's ``OperatingAddress*`` summary members are derived from its operating address;
* ``DeleteSite`` is refused with ``ConflictException`` while any outpost is on the site;
* the shipping address and rack physical properties cannot change while an order for an outpost
  on the site is being built or shipped (``IN_PROGRESS``): hardware is made to those specs;
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
from trailpost.services.outposts.resources import ORDER, SITE, docs, get_site, outposts_of_site
from trailpost.services.outposts.validation import invalid_token
from trailpost.services.pagination import paginate_store

MAX_SITES = 100
ADDRESS_FIELDS = {"OPERATING_ADDRESS": "operating_address", "SHIPPING_ADDRESS": "shipping_address"}


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
        if len(docs(ctx, SITE)) >= MAX_SITES:
            raise ServiceQuotaExceededException(
                f"You have reached the limit of {MAX_SITES} sites in {ctx.region} for this account."
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


def _order_in_progress(ctx: RequestContext, site_id: str) -> dict[str, Any] | None:
    outpost_ids = {doc["outpost_id"] for doc in outposts_of_site(ctx, site_id)}
    for order in docs(ctx, ORDER):
        if order["outpost_id"] in outpost_ids and order["status"] == "IN_PROGRESS":
            return order
    return None


@ops("UpdateSiteAddress")
def update_site_address(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    address_type = params["address_type"]
    with ctx.store.transaction():
        site = get_site(ctx, params["site_id"])
        if address_type == "SHIPPING_ADDRESS":
            order = _order_in_progress(ctx, site["site_id"])
            if order is not None:
                raise conflict(
                    f"The shipping address of site {site['site_id']} cannot change while order "
                    f"{order['order_id']} is in progress.",
                    order["order_id"],
                    "ORDER",
                )
        site[ADDRESS_FIELDS[address_type]] = params["address"]
        _summarize(site)
        ctx.store.put(SITE, ctx.scope, site["site_id"], site)
    return {"address_type": address_type, "address": params["address"]}


@ops("UpdateSiteRackPhysicalProperties")
def update_site_rack_physical_properties(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    with ctx.store.transaction():
        site = get_site(ctx, params["site_id"])
        order = _order_in_progress(ctx, site["site_id"])
        if order is not None:
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
