"""The seeded catalog: GetCatalogItem, ListCatalogItems (filters, pagination), ListOrderableInstanceTypes."""

from __future__ import annotations

import re
from typing import Any

import pytest
from botocore.exceptions import ClientError

SKU = re.compile(r"^OR-[A-Z0-9]{7}$")
FAMILY = re.compile(r"^[a-z0-9]+[a-z0-9-]*[a-z0-9]+$")


def error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    return exc.value.response["Error"]["Code"], exc.value.response["ResponseMetadata"]["HTTPStatusCode"]


def all_items(outposts: Any, **filters: Any) -> list[dict[str, Any]]:
    pages = outposts.get_paginator("list_catalog_items").paginate(**filters)
    return [item for page in pages for item in page["CatalogItems"]]


def families(item: dict[str, Any]) -> set[str]:
    return {capacity["Family"] for capacity in item["EC2Capacities"]}


def test_catalog_is_seeded_with_realistic_items(outposts: Any) -> None:
    items = all_items(outposts)
    assert 20 <= len(items) <= 30
    ids = [item["CatalogItemId"] for item in items]
    assert len(set(ids)) == len(ids) and all(SKU.match(i) for i in ids)
    statuses = {item["ItemStatus"] for item in items}
    assert statuses == {"AVAILABLE", "DISCONTINUED"}
    assert sum(item["ItemStatus"] == "DISCONTINUED" for item in items) >= 2
    for item in items:
        assert item["PowerKva"] > 0 and item["WeightLbs"] > 0 and item["SupportedUplinkGbps"]
        for capacity in item["EC2Capacities"]:
            assert FAMILY.match(capacity["Family"])
            assert capacity["MaxSize"].startswith(capacity["Family"] + ".")
            assert isinstance(capacity["Quantity"], str) and int(capacity["Quantity"]) >= 1
    seen = set().union(*(families(item) for item in items))
    assert {"m5", "c5", "r5", "g4dn", "i3en", "m6i", "c6i", "r6i", "m7i"} <= seen
    assert {item.get("RackScalingType") for item in items} >= {"SINGLE_RACK", "MULTI_RACK"}


def test_get_catalog_item(outposts: Any) -> None:
    listed = all_items(outposts, EC2FamilyFilter=["g4dn"])[0]
    got = outposts.get_catalog_item(CatalogItemId=listed["CatalogItemId"])["CatalogItem"]
    assert got == listed
    assert "g4dn" in families(got) and got["SupportedStorage"] == ["EBS"]


def test_get_catalog_item_unknown_is_not_found(outposts: Any) -> None:
    with pytest.raises(ClientError) as exc:
        outposts.get_catalog_item(CatalogItemId="OR-ZZZZZZZ")
    assert error(exc) == ("NotFoundException", 404)


def test_get_catalog_item_malformed_id_is_invalid(outposts: Any) -> None:
    with pytest.raises(ClientError) as exc:
        outposts.get_catalog_item(CatalogItemId="OR-lower12")
    assert error(exc) == ("ValidationException", 400)


def test_item_class_filter(outposts: Any) -> None:
    servers = all_items(outposts, ItemClassFilter=["SERVER"])
    racks = all_items(outposts, ItemClassFilter=["RACK"])
    both = all_items(outposts, ItemClassFilter=["RACK", "SERVER"])
    assert servers and racks
    assert len(servers) + len(racks) == len(both) == len(all_items(outposts))
    assert all(families(item) <= {"c6gd", "c6id"} and item["SupportedStorage"] == [] for item in servers)
    assert all(item["PowerKva"] >= 5 for item in racks)


def test_filters_or_within_and_across(outposts: Any) -> None:
    m5_or_c5 = all_items(outposts, EC2FamilyFilter=["m5", "c5"])
    assert m5_or_c5 and all(families(item) & {"m5", "c5"} for item in m5_or_c5)
    assert {"m5", "c5"} <= set().union(*(families(item) for item in m5_or_c5))
    with_s3 = all_items(outposts, EC2FamilyFilter=["m5", "c5"], SupportedStorageFilter=["S3"])
    assert with_s3 and all("S3" in item["SupportedStorage"] for item in with_s3)
    assert {i["CatalogItemId"] for i in with_s3} < {i["CatalogItemId"] for i in m5_or_c5}
    assert all_items(outposts, ItemClassFilter=["SERVER"], SupportedStorageFilter=["EBS"]) == []


def test_family_filter_must_be_lowercase(outposts: Any) -> None:
    # The docs say "for example, M5", but the model's Family pattern admits lowercase only.
    with pytest.raises(ClientError) as exc:
        outposts.list_catalog_items(EC2FamilyFilter=["M5"])
    assert error(exc) == ("ValidationException", 400)


def test_list_catalog_items_paginates(outposts: Any) -> None:
    everything = outposts.list_catalog_items()["CatalogItems"]
    pages = list(outposts.get_paginator("list_catalog_items").paginate(PaginationConfig={"PageSize": 4}))
    assert len(pages) == -(-len(everything) // 4)
    assert all(len(page["CatalogItems"]) <= 4 for page in pages)
    assert [item for page in pages for item in page["CatalogItems"]] == everything
    assert "NextToken" not in pages[-1]


def test_list_catalog_items_rejects_foreign_token(outposts: Any) -> None:
    token = outposts.list_catalog_items(MaxResults=2)["NextToken"]
    with pytest.raises(ClientError) as exc:
        outposts.list_catalog_items(MaxResults=2, NextToken=token, ItemClassFilter=["RACK"])
    assert error(exc) == ("ValidationException", 400)


def test_list_orderable_instance_types(outposts: Any) -> None:
    pages = outposts.get_paginator("list_orderable_instance_types").paginate(PaginationConfig={"PageSize": 25})
    types = {t["InstanceType"]: t for page in pages for t in page["InstanceTypes"]}
    m5 = types["m5.large"]
    assert (m5["VCPUs"], m5["MemoryInMib"], m5["NetworkPerformance"]) == (2, 8192, "Up to 10 Gigabit")
    assert m5["FormFactorConfigs"] == [{"FormFactor": "RACK", "OutpostGeneration": "GENERATION_1"}]
    assert types["r5.24xlarge"]["MemoryInMib"] == 768 * 1024
    assert types["g4dn.12xlarge"]["VCPUs"] == 48
    assert types["c6gd.medium"]["FormFactorConfigs"][0]["FormFactor"] == "SERVER"
    assert types["m7i.48xlarge"]["FormFactorConfigs"][0]["OutpostGeneration"] == "GENERATION_2"
    assert len(types) > 100


def test_orderable_instance_types_by_generation(outposts: Any) -> None:
    gen2 = outposts.list_orderable_instance_types(OutpostGenerationFilter="GENERATION_2", MaxResults=1000)
    names = [t["InstanceType"] for t in gen2["InstanceTypes"]]
    assert names and {name.split(".")[0] for name in names} == {"m7i", "c7i", "r7i"}
    gen1 = outposts.list_orderable_instance_types(OutpostGenerationFilter="GENERATION_1", MaxResults=1000)
    assert not {t["InstanceType"] for t in gen1["InstanceTypes"]} & set(names)


def test_orderable_instance_types_invalid_generation(outposts: Any) -> None:
    with pytest.raises(ClientError) as exc:
        outposts.list_orderable_instance_types(OutpostGenerationFilter="GENERATION_9")
    assert error(exc) == ("ValidationException", 400)
