"""Outposts themselves: create on a site, list with filters, update, delete, decommission.

Lifecycle (``LifeCycleStatus`` is a free string in the model; these are trailpost's values, see
docs/decisions.md): ``ACTIVE`` from creation; ``StartOutpostDecommission`` moves it to
``RETIRING`` and the lifecycle worker to ``RETIRED``. Rules:
* the site must exist in the caller's account and region (``NotFoundException``);
* the zone must be one of the region's; name and id, when both given, must agree;
* at most 100 outposts per account and region (AWS's default quota, adjustable: ``--quotas outposts.outposts=N``);
* ``SupportedHardwareType`` cannot change once the outpost has an order that is not cancelled
  (``ConflictException``): the hardware was ordered for the old type;
* ``DeleteOutpost`` is refused while an order is active or a capacity task runs, and while
  installed hardware has not been decommissioned.
"""

from __future__ import annotations

from typing import Any

from trailpost.gateway.context import RequestContext
from trailpost.services.outposts import ids
from trailpost.services.outposts.errors import (
    ServiceQuotaExceededException,
    ValidationException,
    conflict,
)
from trailpost.services.outposts.operations import ops
from trailpost.services.outposts.resources import (
    OUTPOST,
    active_capacity_tasks,
    active_orders,
    assets_of,
    get_outpost,
    get_site,
    instances_of,
    orders_of,
)
from trailpost.services.outposts.validation import invalid_token
from trailpost.services.outposts.zones import availability_zones
from trailpost.services.pagination import paginate_store


def _zone(ctx: RequestContext, name: str | None, zone_id: str | None) -> tuple[str, str]:
    zones = availability_zones(ctx.region)
    if name is None and zone_id is None:
        return zones[0]
    for zone_name, zone_identifier in zones:
        if (name is None or name == zone_name) and (zone_id is None or zone_id == zone_identifier):
            return zone_name, zone_identifier
    if name is not None and name not in {z[0] for z in zones}:
        raise ValidationException(f"Availability Zone {name} is not a zone of {ctx.region}.")
    if zone_id is not None and zone_id not in {z[1] for z in zones}:
        raise ValidationException(f"Availability Zone ID {zone_id} is not a zone of {ctx.region}.")
    raise ValidationException(f"Availability Zone {name} does not have the ID {zone_id}.")


@ops("CreateOutpost")
def create_outpost(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    with ctx.store.transaction():
        site = get_site(ctx, params["site_id"])
        zone_name, zone_id = _zone(ctx, params.get("availability_zone"), params.get("availability_zone_id"))
        if ctx.store.count(OUTPOST, ctx.scope) >= (limit := ctx.settings.quota("outposts.outposts")):
            raise ServiceQuotaExceededException(
                f"You have reached the limit of {limit} outposts in {ctx.region} for this account."
            )
        hardware = params.get("supported_hardware_type") or "RACK"
        outpost_id = ids.new_id("op")
        outpost = {
            "outpost_id": outpost_id,
            "owner_id": ctx.account_id,
            "outpost_arn": ids.arn(ctx, "outpost", outpost_id),
            "site_id": site["site_id"],
            "site_arn": site["site_arn"],
            "name": params["name"],
            "description": params.get("description"),
            "life_cycle_status": "ACTIVE",
            "availability_zone": zone_name,
            "availability_zone_id": zone_id,
            "tags": params.get("tags") or {},
            "supported_hardware_type": hardware,
            "generation": "GENERATION_2",
            "rack_scaling_type": "SINGLE_RACK" if hardware == "RACK" else None,
            "_created": ctx.received,
            "_decommission": None,
        }
        ctx.store.put(OUTPOST, ctx.scope, outpost_id, outpost)
    return {"outpost": outpost}


@ops("GetOutpost")
def get_outpost_op(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    return {"outpost": get_outpost(ctx, params["outpost_id"])}


_FILTERS = {
    "life_cycle_status_filter": "life_cycle_status",
    "availability_zone_filter": "availability_zone",
    "availability_zone_id_filter": "availability_zone_id",
}


@ops("ListOutposts")
def list_outposts(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    filters = {k: params[k] for k in _FILTERS if params.get(k)}

    def keep(doc: dict[str, Any]) -> bool:
        return all(doc.get(_FILTERS[k]) in values for k, values in filters.items())

    outposts, token = paginate_store(
        ctx.store,
        OUTPOST,
        ctx.scope,
        token=params.get("next_token"),
        max_results=params.get("max_results"),
        binding=["ListOutposts", ctx.scope, filters],
        invalid=invalid_token,
        keep=keep,
    )
    return {"outposts": outposts, "next_token": token}


@ops("UpdateOutpost")
def update_outpost(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    with ctx.store.transaction():
        outpost = get_outpost(ctx, params["outpost_id"])
        hardware = params.get("supported_hardware_type")
        if hardware and hardware != outpost["supported_hardware_type"]:
            orders = [order for order in orders_of(ctx, outpost["outpost_id"]) if order["status"] != "CANCELLED"]
            if orders:
                raise conflict(
                    f"The hardware type of outpost {outpost['outpost_id']} cannot change: "
                    f"it has order {orders[0]['order_id']}.",
                    outpost["outpost_id"],
                    "OUTPOST",
                )
            outpost["supported_hardware_type"] = hardware
            outpost["rack_scaling_type"] = "SINGLE_RACK" if hardware == "RACK" else None
        for field in ("name", "description"):
            if params.get(field) is not None:
                outpost[field] = params[field]
        ctx.store.put(OUTPOST, ctx.scope, outpost["outpost_id"], outpost)
    return {"outpost": outpost}


@ops("DeleteOutpost")
def delete_outpost(ctx: RequestContext, params: dict[str, Any]) -> None:
    with ctx.store.transaction():
        outpost = get_outpost(ctx, params["outpost_id"])
        outpost_id = outpost["outpost_id"]
        orders = active_orders(ctx, outpost_id)
        if orders:
            raise conflict(
                f"Outpost {outpost_id} has active order {orders[0]['order_id']}. Cancel it or wait for it to complete.",
                orders[0]["order_id"],
                "ORDER",
            )
        if active_capacity_tasks(ctx, outpost_id):
            raise conflict(f"Outpost {outpost_id} has a capacity task in progress.", outpost_id, "OUTPOST")
        if assets_of(ctx, outpost_id) and outpost["life_cycle_status"] != "RETIRED":
            raise conflict(
                f"Outpost {outpost_id} has installed hardware. Decommission it first (StartOutpostDecommission).",
                outpost_id,
                "OUTPOST",
            )
        ctx.store.delete(OUTPOST, ctx.scope, outpost_id)


def _blocking_resource_types(ctx: RequestContext, outpost_id: str) -> list[str]:
    blocking: list[str] = []
    if instances_of(ctx, outpost_id):
        blocking.append("EC2_INSTANCE")
    orders = active_orders(ctx, outpost_id)
    if any(order["status"] == "PREPARING" for order in orders):
        blocking.append("OUTPOST_ORDER_CANCELLABLE")
    if any(order["status"] != "PREPARING" for order in orders):
        blocking.append("OUTPOST_ORDER_INTERVENTION_REQUIRED")
    return blocking


@ops("StartOutpostDecommission")
def start_outpost_decommission(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    with ctx.store.transaction():
        outpost = get_outpost(ctx, params["outpost_identifier"])
        outpost_id = outpost["outpost_id"]
        if outpost["life_cycle_status"] in ("RETIRING", "RETIRED"):
            raise conflict(f"Outpost {outpost_id} is already {outpost['life_cycle_status']}.", outpost_id, "OUTPOST")
        if active_capacity_tasks(ctx, outpost_id):
            raise conflict(f"Outpost {outpost_id} has a capacity task in progress.", outpost_id, "OUTPOST")
        blocking = _blocking_resource_types(ctx, outpost_id)
        if blocking:
            return {"status": "BLOCKED", "blocking_resource_types": blocking}
        if params.get("validate_only"):
            return {"status": "SKIPPED", "blocking_resource_types": []}
        outpost["life_cycle_status"] = "RETIRING"
        outpost["_decommission"] = "REQUESTED"
        outpost["_status_since"] = ctx.received
        ctx.store.put(OUTPOST, ctx.scope, outpost_id, outpost)
    return {"status": "REQUESTED", "blocking_resource_types": []}
