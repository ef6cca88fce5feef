"""Installed hardware and its capacity: ListAssets, ListAssetInstances, GetOutpostInstanceTypes,
GetOutpostSupportedInstanceTypes, and the installation of an order's hardware.

What an order installs (``install``, run by the order lifecycle when its line items reach
``INSTALLING``; ``activate`` makes the hardware ``ACTIVE`` when the order completes):

* per rack (one per unit of a ``RACK`` line item), one ``RackId`` shared by its assets: a ``COMPUTE``
  asset per host of the catalog item's ``EC2Capacities``, ``STORAGE`` assets (EBS/S3 servers, per the
  catalog), two ``SWITCH`` assets (the Outpost network devices) and two ``POWERSHELF`` assets, each
  at its ``RackElevation`` (power shelves at the bottom, switches at the top);
* per Outposts server (one per unit of a ``SERVER`` line item), one ``COMPUTE`` asset, without a
  RackId or location: it sits in the customer's own rack;
* a ``COMPUTE`` asset has ``ComputeAttributes``: a Dedicated Host id (``h-`` + 17 hex), its ``State``,
  its one instance family, ``MaxVcpus`` (the vCPUs of the host's max size) and
  ``InstanceTypeCapacities``, the slots it is configured with: the family's default slotting, or the
  plan of a capacity task run on the order before it was installed;
* asset ids are 10 digits; each asset's MAC addresses (two for servers, one for switches and power
  shelves) are derived from its id and listed in the line item's ``AssetInformationList``.

Listing rules: ``StatusFilter`` matches the compute state, and for assets without compute
attributes their private state (the same lifecycle: INSTALLING, ACTIVE, RETIRING); filters AND, their
values OR. ``GetOutpostInstanceTypes`` lists the instance types the outpost's active hosts are
slotted for; ``GetOutpostSupportedInstanceTypes`` lists every size the hosts in scope (one asset,
one order's hardware, or the whole outpost: installed hosts plus hosts on orders not cancelled)
could be slotted with.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from typing import Any

from trailpost.gateway.context import RequestContext
from trailpost.services.outposts import catalog, ids
from trailpost.services.outposts.errors import NotFoundException
from trailpost.services.outposts.operations import ops
from trailpost.services.outposts.resources import ASSET, INSTANCE, ORDER, get_outpost
from trailpost.services.outposts.validation import invalid_token
from trailpost.services.pagination import paginate_entries, paginate_store
from trailpost.store.base import StateStore, iter_all

SWITCHES_PER_RACK = 2
POWER_SHELVES_PER_RACK = 2


@dataclass
class Host:
    """One compute host: installed (``asset_id`` set) or still on order (``asset_id`` None)."""

    family: str
    max_size: str
    vcpus: int
    gpus: int
    slots: dict[str, int] = field(default_factory=dict)
    asset_id: str | None = None
    state: str = "ACTIVE"


def asset_state(asset: dict[str, Any]) -> str:
    """The state of any asset: its compute state, or the private one of non-compute assets."""
    compute = asset.get("compute_attributes")
    return compute["state"] if compute else asset.get("_state", "ACTIVE")


def set_asset_state(asset: dict[str, Any], state: str) -> None:
    asset["_state"] = state
    if asset.get("compute_attributes"):
        asset["compute_attributes"]["state"] = state


def capacities_to_slots(capacities: list[dict[str, Any]]) -> dict[str, int]:
    return {entry["instance_type"]: int(entry["count"]) for entry in capacities if int(entry["count"]) > 0}


def slots_to_capacities(slots: dict[str, int]) -> list[dict[str, Any]]:
    def order(name: str) -> tuple[str, int]:
        size = catalog.instance_type(name)
        return catalog.family_of(name), size["vcpus"] if size else 0

    return [
        {"instance_type": name, "count": count} for name, count in sorted(slots.items(), key=lambda kv: order(kv[0]))
    ]


def host_from_asset(asset: dict[str, Any]) -> Host:
    compute = asset["compute_attributes"]
    spec = catalog.host_of(asset["_max_size"])
    return Host(
        family=spec["family"],
        max_size=spec["max_size"],
        vcpus=spec["vcpus"],
        gpus=spec["gpus"],
        slots=capacities_to_slots(compute.get("instance_type_capacities") or []),
        asset_id=asset["asset_id"],
        state=compute["state"],
    )


# -- what an order brings ---------------------------------------------------------------------------


def line_item_capacities(line_item: dict[str, Any]) -> list[dict[str, Any]]:
    """The EC2 capacities one unit of a line item brings: its catalog item's."""
    entry = catalog.item(line_item["catalog_item_id"])
    return entry["ec2_capacities"] if entry else []


def line_item_class(line_item: dict[str, Any]) -> str:
    entry = catalog.item(line_item["catalog_item_id"])
    return entry["item_class"] if entry else "RACK"


def order_host_sizes(order: dict[str, Any]) -> list[tuple[str, str]]:
    """``(line item id, max size)`` of every host an order brings, in installation order."""
    sizes: list[tuple[str, str]] = []
    for line_item in order.get("line_items") or []:
        for _unit in range(int(line_item.get("quantity") or 1)):
            for capacity in line_item_capacities(line_item):
                for _host in range(int(capacity["quantity"])):
                    sizes.append((line_item["line_item_id"], capacity["max_size"]))
    return sizes


def order_assets(store: StateStore, scope: str, order_id: str) -> list[dict[str, Any]]:
    return [entry.doc for entry in iter_all(store, ASSET, scope) if entry.doc.get("order_id") == order_id]


def order_hosts(store: StateStore, scope: str, order: dict[str, Any]) -> list[Host]:
    """The hosts of an order: its installed compute assets, or (before installation) the planned ones."""
    installed = [asset for asset in order_assets(store, scope, order["order_id"]) if asset.get("compute_attributes")]
    if installed:
        return [host_from_asset(asset) for asset in sorted(installed, key=lambda a: a["_host_index"])]
    plan = order.get("_capacity_plan")
    hosts = []
    for index, (_line_item_id, max_size) in enumerate(order_host_sizes(order)):
        spec = catalog.host_of(max_size)
        slots = dict(plan[index]) if plan and index < len(plan) else spec["default_slots"]
        hosts.append(Host(spec["family"], max_size, spec["vcpus"], spec["gpus"], slots, None, "INSTALLING"))
    return hosts


def outpost_assets(store: StateStore, scope: str, outpost_id: str) -> list[dict[str, Any]]:
    return [entry.doc for entry in iter_all(store, ASSET, scope) if entry.doc.get("outpost_id") == outpost_id]


def outpost_hosts(store: StateStore, scope: str, outpost_id: str, states: tuple[str, ...] = ("ACTIVE",)) -> list[Host]:
    return [
        host_from_asset(asset)
        for asset in outpost_assets(store, scope, outpost_id)
        if asset.get("compute_attributes") and asset_state(asset) in states
    ]


def outpost_instances(store: StateStore, scope: str, outpost_id: str) -> list[dict[str, Any]]:
    return [entry.doc for entry in iter_all(store, INSTANCE, scope) if entry.doc.get("outpost_id") == outpost_id]


# -- installation -------------------------------------------------------------------------------------


def _mac_addresses(asset_id: str, count: int) -> list[str]:
    macs = []
    for index in range(count):
        raw = bytearray(hashlib.sha256(f"{asset_id}/{index}".encode()).digest()[:6])
        raw[0] = (raw[0] & 0xFC) | 0x02  # locally administered, unicast
        macs.append(":".join(f"{byte:02x}" for byte in raw))
    return macs


def _rack_id() -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(12))


def _new_asset(store: StateStore, scope: str, order: dict[str, Any], line_item_id: str, kind: str, macs: int) -> dict:
    asset_id = ids.new_asset_id()
    while store.get(ASSET, scope, asset_id) is not None:
        asset_id = ids.new_asset_id()
    return {
        "asset_id": asset_id,
        "asset_type": kind,
        "outpost_id": order["outpost_id"],
        "order_id": order["order_id"],
        "line_item_id": line_item_id,
        "_state": "INSTALLING",
        "_mac_addresses": _mac_addresses(asset_id, macs),
    }


def _make_compute(asset: dict[str, Any], max_size: str, slots: dict[str, int], index: int) -> dict[str, Any]:
    spec = catalog.host_of(max_size)
    asset["compute_attributes"] = {
        "host_id": ids.new_id("h"),
        "state": "INSTALLING",
        "instance_families": [spec["family"]],
        "instance_type_capacities": slots_to_capacities(slots),
        "max_vcpus": spec["vcpus"],
    }
    asset.update(_max_size=max_size, _host_index=index)
    return asset


def _place_in_rack(assets: list[dict[str, Any]]) -> None:
    """One RackId for a rack's assets; power shelves (3U) from the bottom, then servers (2U), switches on top."""
    rack_id = _rack_id()
    elevation, top = 1.0, 42.0
    for asset in assets:
        asset["rack_id"] = rack_id
        if asset["asset_type"] == "SWITCH":
            asset["asset_location"] = {"rack_elevation": top}
            top -= 1.0
        else:
            asset["asset_location"] = {"rack_elevation": elevation}
            elevation += 3.0 if asset["asset_type"] == "POWERSHELF" else 2.0


def install(store: StateStore, scope: str, order: dict[str, Any]) -> None:
    """Create the assets of every line item of ``order`` (state INSTALLING) and list them on the line items."""
    if order_assets(store, scope, order["order_id"]):
        return
    plan = order.get("_capacity_plan") or []
    host_index = 0
    for line_item in order.get("line_items") or []:
        entry = catalog.item(line_item["catalog_item_id"]) or {"item_class": "RACK", "ec2_capacities": []}
        rack = entry["item_class"] == "RACK"

        def new(kind: str, macs: int, line_item_id: str = line_item["line_item_id"]) -> dict[str, Any]:
            return _new_asset(store, scope, order, line_item_id, kind, macs)

        created: list[dict[str, Any]] = []
        for _unit in range(int(line_item.get("quantity") or 1)):
            unit: list[dict[str, Any]] = []
            if rack:
                unit += [new("POWERSHELF", 1) for _ in range(POWER_SHELVES_PER_RACK)]
                unit += [new("STORAGE", 2) for _ in range(int(entry.get("storage_servers") or 0))]
            for capacity in entry["ec2_capacities"]:
                for _host in range(int(capacity["quantity"])):
                    max_size = capacity["max_size"]
                    slots = plan[host_index] if host_index < len(plan) else catalog.host_of(max_size)["default_slots"]
                    unit.append(_make_compute(new("COMPUTE", 2), max_size, slots, host_index))
                    host_index += 1
            if rack:
                unit += [new("SWITCH", 1) for _ in range(SWITCHES_PER_RACK)]
                _place_in_rack(unit)
            for asset in unit:
                store.put(ASSET, scope, asset["asset_id"], asset)
            created.extend(unit)
        line_item["asset_information_list"] = [
            {"asset_id": asset["asset_id"], "mac_address_list": asset["_mac_addresses"]} for asset in created
        ]


def set_order_assets_state(store: StateStore, scope: str, order_id: str, state: str) -> None:
    for asset in order_assets(store, scope, order_id):
        set_asset_state(asset, state)
        store.put(ASSET, scope, asset["asset_id"], asset)


def set_outpost_assets_state(store: StateStore, scope: str, outpost_id: str, state: str) -> None:
    for asset in outpost_assets(store, scope, outpost_id):
        set_asset_state(asset, state)
        store.put(ASSET, scope, asset["asset_id"], asset)


def get_asset(ctx: RequestContext, outpost_id: str, asset_id: str) -> dict[str, Any]:
    """The asset ``asset_id`` of the caller's outpost ``outpost_id``, or ``NotFoundException``."""
    asset = ctx.store.get(ASSET, ctx.scope, asset_id)
    if asset is None or asset["outpost_id"] != outpost_id:
        raise NotFoundException(f"Asset {asset_id} not found on outpost {outpost_id}.")
    return asset


def get_order_of_outpost(ctx: RequestContext, outpost_id: str, order_id: str) -> dict[str, Any]:
    order = ctx.store.get(ORDER, ctx.scope, order_id)
    if order is None or order["outpost_id"] != outpost_id:
        raise NotFoundException(f"Order {order_id} not found for outpost {outpost_id}.")
    return order


# -- operations -------------------------------------------------------------------------------------------


@ops("ListAssets")
def list_assets(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    outpost = get_outpost(ctx, params["outpost_identifier"])
    outpost_id = outpost["outpost_id"]
    hosts = set(params.get("host_id_filter") or [])
    states = set(params.get("status_filter") or [])
    types = set(params.get("asset_type_filter") or [])

    def keep(asset: dict[str, Any]) -> bool:
        if asset.get("outpost_id") != outpost_id:
            return False
        if hosts and (asset.get("compute_attributes") or {}).get("host_id") not in hosts:
            return False
        if states and asset_state(asset) not in states:
            return False
        return not types or asset.get("asset_type") in types

    assets, token = paginate_store(
        ctx.store,
        ASSET,
        ctx.scope,
        token=params.get("next_token"),
        max_results=params.get("max_results"),
        binding=["ListAssets", ctx.scope, outpost_id, sorted(hosts), sorted(states), sorted(types)],
        invalid=invalid_token,
        keep=keep,
    )
    return {"assets": assets, "next_token": token}


_INSTANCE_FILTERS = {
    "asset_id_filter": "asset_id",
    "instance_type_filter": "instance_type",
    "account_id_filter": "account_id",
    "aws_service_filter": "aws_service_name",
}


@ops("ListAssetInstances")
def list_asset_instances(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    outpost = get_outpost(ctx, params["outpost_identifier"])
    outpost_id = outpost["outpost_id"]
    filters = {key: set(params[key]) for key in _INSTANCE_FILTERS if params.get(key)}

    def keep(instance: dict[str, Any]) -> bool:
        if instance.get("outpost_id") != outpost_id:
            return False
        return all(instance.get(_INSTANCE_FILTERS[key]) in values for key, values in filters.items())

    instances, token = paginate_store(
        ctx.store,
        INSTANCE,
        ctx.scope,
        token=params.get("next_token"),
        max_results=params.get("max_results"),
        binding=["ListAssetInstances", ctx.scope, outpost_id, {k: sorted(v) for k, v in filters.items()}],
        invalid=invalid_token,
        keep=keep,
    )
    return {"asset_instances": instances, "next_token": token}


def _type_items(names: set[str]) -> list[dict[str, Any]]:
    result = []
    for name in names:
        size = catalog.instance_type(name)
        if size is not None:
            result.append({"instance_type": name, "VCPUs": size["vcpus"], "_family": size["family"]})
    result.sort(key=lambda entry: (entry["_family"], entry["VCPUs"]))
    return result


def _page(items: list[dict[str, Any]], params: dict[str, Any], binding: list[Any]) -> tuple[list[Any], str | None]:
    page, token = paginate_entries(
        catalog.list_entries(items),
        token=params.get("next_token"),
        max_results=params.get("max_results"),
        binding=binding,
        invalid=invalid_token,
    )
    return [entry.doc for entry in page], token


@ops("GetOutpostInstanceTypes")
def get_outpost_instance_types(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    outpost = get_outpost(ctx, params["outpost_id"])
    outpost_id = outpost["outpost_id"]
    names = {
        name
        for host in outpost_hosts(ctx.store, ctx.scope, outpost_id)
        for name, count in host.slots.items()
        if count > 0
    }
    page, token = _page(_type_items(names), params, ["GetOutpostInstanceTypes", ctx.scope, outpost_id])
    return {
        "instance_types": page,
        "next_token": token,
        "outpost_id": outpost_id,
        "outpost_arn": outpost["outpost_arn"],
    }


def _scope_hosts(ctx: RequestContext, outpost_id: str, order_id: str | None, asset_id: str | None) -> list[Host]:
    if asset_id:
        asset = get_asset(ctx, outpost_id, asset_id)
        if order_id and asset["order_id"] != order_id:
            raise NotFoundException(f"Asset {asset_id} was not installed by order {order_id}.")
        return [host_from_asset(asset)] if asset.get("compute_attributes") else []
    if order_id:
        return order_hosts(ctx.store, ctx.scope, get_order_of_outpost(ctx, outpost_id, order_id))
    hosts = outpost_hosts(ctx.store, ctx.scope, outpost_id, states=("ACTIVE", "INSTALLING", "ISOLATED"))
    installed_orders = {asset.get("order_id") for asset in outpost_assets(ctx.store, ctx.scope, outpost_id)}
    for entry in iter_all(ctx.store, ORDER, ctx.scope):
        order = entry.doc
        active = order["outpost_id"] == outpost_id and order["status"] != "CANCELLED"
        if active and order["order_id"] not in installed_orders:
            hosts.extend(order_hosts(ctx.store, ctx.scope, order))
    return hosts


@ops("GetOutpostSupportedInstanceTypes")
def get_outpost_supported_instance_types(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    outpost = get_outpost(ctx, params["outpost_identifier"])
    outpost_id = outpost["outpost_id"]
    order_id, asset_id = params.get("order_id"), params.get("asset_id")
    hosts = _scope_hosts(ctx, outpost_id, order_id, asset_id)
    names = {
        size["instance_type"] for max_size in {h.max_size for h in hosts} for size in catalog.supported_sizes(max_size)
    }
    binding = ["GetOutpostSupportedInstanceTypes", ctx.scope, outpost_id, order_id, asset_id]
    page, token = _page(_type_items(names), params, binding)
    return {"instance_types": page, "next_token": token}
