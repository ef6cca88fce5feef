"""The seeded catalog (data/catalog.json): GetCatalogItem, ListCatalogItems, ListOrderableInstanceTypes.

The catalog is static data shipped with trailpost, the same for every account and region:

* **catalog items** are the orderable hardware SKUs (``OR-`` + 7 ``[A-Z0-9]``): Outposts racks
  (``RACK``, 42U, generation 1 or 2) and Outposts servers (``SERVER``, 1U/2U). An item's
  ``EC2Capacities`` name its hosts: ``{Family: m5, MaxSize: m5.24xlarge, Quantity: "3"}`` is three
  hosts, each able to run one ``m5.24xlarge`` or any mix of smaller m5 sizes. A couple of items are
  ``DISCONTINUED``: listed, but no longer orderable. ``item_class``, ``outpost_generation``,
  ``rack_units`` and ``storage_servers`` ride along in the documents but are not wire members.
* **instance families** give every size a host of the family can be slotted with (vCPUs, memory,
  network performance, GPUs) and the slotting a new host gets when it is installed.

``ListCatalogItems`` filters: ``ItemClassFilter``, ``SupportedStorageFilter`` and ``EC2FamilyFilter``
combine with AND; the values of one filter combine with OR (family names are lowercase: the docs
say "for example, M5", but the model's ``Family`` pattern admits lowercase only).
``ListOrderableInstanceTypes`` lists every size of every orderable family with the form factors and
generations it ships in; ``OutpostGenerationFilter`` keeps the sizes of one generation.

Other modules use ``item()``, ``instance_type()``, ``family()`` and ``host_of()``.
"""

from __future__ import annotations

import copy
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from trailpost.gateway.context import RequestContext
from trailpost.services.outposts.errors import NotFoundException
from trailpost.services.outposts.operations import ops
from trailpost.services.outposts.validation import invalid_token
from trailpost.services.pagination import paginate_entries
from trailpost.store.base import Entry

DATA_FILE = Path(__file__).parent / "data" / "catalog.json"


@lru_cache(maxsize=1)
def _data() -> dict[str, Any]:
    with DATA_FILE.open("rb") as handle:
        data = json.load(handle)
    sizes: dict[str, dict[str, Any]] = {}
    for family_name, family_doc in data["instance_families"].items():
        for size in family_doc["sizes"]:
            sizes[size["instance_type"]] = {**size, "family": family_name, "gpus": size.get("gpus", 0)}
    data["_sizes"] = sizes
    data["_items"] = {entry["catalog_item_id"]: entry for entry in data["catalog_items"]}
    return data


def items() -> list[dict[str, Any]]:
    """Every catalog item (snake_case CatalogItem plus the non-wire catalog fields), in catalog order."""
    return copy.deepcopy(_data()["catalog_items"])


def item(catalog_item_id: str) -> dict[str, Any] | None:
    """The catalog item with this id as a snake_case CatalogItem (plus ``item_class`` etc.), or None."""
    found = _data()["_items"].get(catalog_item_id)
    return copy.deepcopy(found) if found is not None else None


def instance_type(name: str) -> dict[str, Any] | None:
    """``{instance_type, vcpus, memory_in_mib, network_performance, gpus, family}`` of a size, or None."""
    found = _data()["_sizes"].get(name)
    return dict(found) if found is not None else None


def family(name: str) -> dict[str, Any] | None:
    """An instance family: ``host`` (max size), ``form_factors``, ``default_slots``, ``sizes``."""
    found = _data()["instance_families"].get(name)
    return copy.deepcopy(found) if found is not None else None


def family_of(instance_type_name: str) -> str:
    """``m5.large`` -> ``m5`` (the family prefix, whether or not trailpost knows the type)."""
    return instance_type_name.split(".", 1)[0]


def host_of(max_size: str) -> dict[str, Any]:
    """The capacity of one host whose max size is ``max_size``: vCPUs, GPUs and its default slots."""
    size = instance_type(max_size)
    if size is None:
        raise KeyError(f"unknown host size {max_size}")
    fam = _data()["instance_families"][size["family"]]
    return {
        "family": size["family"],
        "max_size": max_size,
        "vcpus": size["vcpus"],
        "gpus": size["gpus"],
        "default_slots": dict(fam["default_slots"]),
    }


def supported_sizes(max_size: str) -> list[dict[str, Any]]:
    """The sizes a host of ``max_size`` can be slotted with: its family's sizes that fit in one host."""
    host = host_of(max_size)
    fam = family(host["family"])
    assert fam is not None  # ``host_of`` found the family
    return [
        size
        for size in (instance_type(entry["instance_type"]) for entry in fam["sizes"])
        if size is not None and size["vcpus"] <= host["vcpus"] and size["gpus"] <= host["gpus"]
    ]


def item_families(entry: dict[str, Any]) -> list[str]:
    return [capacity["family"] for capacity in entry.get("ec2_capacities") or []]


def list_entries(docs: list[dict[str, Any]]) -> list[Entry]:
    """Computed results as store entries (position = index + 1), for ``paginate_entries``."""
    return [Entry("", "", str(index), index + 1, doc) for index, doc in enumerate(docs)]


@ops("GetCatalogItem")
def get_catalog_item(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    found = item(params["catalog_item_id"])
    if found is None:
        raise NotFoundException(f"Catalog item {params['catalog_item_id']} not found.")
    return {"catalog_item": found}


def _matches(entry: dict[str, Any], filters: dict[str, list[str]]) -> bool:
    classes = filters.get("item_class_filter")
    if classes and entry["item_class"] not in classes:
        return False
    storage = filters.get("supported_storage_filter")
    if storage and not set(storage) & set(entry.get("supported_storage") or []):
        return False
    families = filters.get("ec2_family_filter")
    return not families or bool(set(families) & set(item_families(entry)))


@ops("ListCatalogItems")
def list_catalog_items(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    filters = {key: params[key] for key in params if key.endswith("_filter") and params[key]}
    matching = [entry for entry in items() if _matches(entry, filters)]
    page, token = paginate_entries(
        list_entries(matching),
        token=params.get("next_token"),
        max_results=params.get("max_results"),
        binding=["ListCatalogItems", filters],
        invalid=invalid_token,
    )
    return {"catalog_items": [entry.doc for entry in page], "next_token": token}


def _orderable(generation: str | None) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = []
    for fam in _data()["instance_families"].values():
        configs = [dict(config) for config in fam["form_factors"]]
        if generation and not any(config["outpost_generation"] == generation for config in configs):
            continue
        host = instance_type(fam["host"])
        assert host is not None
        for size in fam["sizes"]:
            if size["vcpus"] > host["vcpus"] or size.get("gpus", 0) > host["gpus"]:
                continue
            result.append(
                {
                    "instance_type": size["instance_type"],
                    # ``VCPUs`` snake-cases to ``_vcpus`` (botocore's rule), so the wire name is used.
                    "VCPUs": size["vcpus"],
                    "memory_in_mib": size["memory_in_mib"],
                    "network_performance": size["network_performance"],
                    "form_factor_configs": configs,
                }
            )
    return result


@ops("ListOrderableInstanceTypes")
def list_orderable_instance_types(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    generation = params.get("outpost_generation_filter")
    page, token = paginate_entries(
        list_entries(_orderable(generation)),
        token=params.get("next_token"),
        max_results=params.get("max_results"),
        binding=["ListOrderableInstanceTypes", generation],
        invalid=invalid_token,
    )
    return {"instance_types": [entry.doc for entry in page], "next_token": token}
