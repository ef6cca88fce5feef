"""Installed hardware: ListAssets, ListAssetInstances, GetOutpostInstanceTypes, GetOutpostSupportedInstanceTypes."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.outposts.test_orders import (
    C6GD_SERVER,
    C7I_R7I_RACK,
    M7I_RACK_2,
    create_order,
    error,
    installed_outposts,
    new_outpost,
    run_instances,
    wait_for,
)

UNKNOWN_OUTPOST = "op-0123456789abcdef0"


@pytest.fixture(scope="module")
def installed(server: Any) -> dict[str, tuple[dict, dict]]:
    """A rack outpost with two racks of 2 x m7i.48xlarge, and a server outpost with one c6gd server."""
    client = server.client("outposts")
    outpost = new_outpost(client)
    racks = create_order(client, outpost["OutpostId"], M7I_RACK_2, 2)
    [(server_outpost, server_order)] = installed_outposts(client, C6GD_SERVER, hardware="SERVER")
    racks = wait_for(lambda: client.get_order(OrderId=racks["OrderId"])["Order"], lambda o: o["Status"] == "COMPLETED")
    return {"rack": (outpost, racks), "server": (server_outpost, server_order)}


def assets_of(outposts: Any, outpost_id: str, **filters: Any) -> list[dict[str, Any]]:
    pages = outposts.get_paginator("list_assets").paginate(OutpostIdentifier=outpost_id, **filters)
    return [asset for page in pages for asset in page["Assets"]]


def test_list_assets_of_installed_racks(outposts: Any, installed: dict) -> None:
    outpost, order = installed["rack"]
    assets = assets_of(outposts, outpost["OutpostArn"])
    types = Counter(asset["AssetType"] for asset in assets)
    assert types["COMPUTE"] == 4 and types["SWITCH"] == 4 and types["POWERSHELF"] == 4
    assert set(types) <= {"COMPUTE", "STORAGE", "SWITCH", "POWERSHELF", "NETWORKING"}
    racks = Counter(asset["RackId"] for asset in assets)
    assert len(racks) == 2 and len(set(racks.values())) == 1
    assert all(5 <= len(rack) <= 20 for rack in racks)
    for asset in assets:
        assert re.fullmatch(r"\d{10}", asset["AssetId"])
        assert 0 <= asset["AssetLocation"]["RackElevation"] <= 99
    host = next(asset for asset in assets if asset["AssetType"] == "COMPUTE")["ComputeAttributes"]
    assert re.fullmatch(r"h-[0-9a-f]{17}", host["HostId"])
    assert (host["State"], host["InstanceFamilies"], host["MaxVcpus"]) == ("ACTIVE", ["m7i"], 192)
    used = {"m7i.large": 2, "m7i.xlarge": 4, "m7i.2xlarge": 8, "m7i.4xlarge": 16}
    assert sum(used[c["InstanceType"]] * c["Count"] for c in host["InstanceTypeCapacities"]) <= 192
    listed = {a["AssetId"] for line in order["LineItems"] for a in line["AssetInformationList"]}
    assert listed == {asset["AssetId"] for asset in assets}


def test_list_assets_of_a_server(outposts: Any, installed: dict) -> None:
    outpost, _ = installed["server"]
    [asset] = assets_of(outposts, outpost["OutpostId"])
    assert asset["AssetType"] == "COMPUTE" and "RackId" not in asset
    assert asset["ComputeAttributes"]["InstanceFamilies"] == ["c6gd"]
    assert asset["ComputeAttributes"]["MaxVcpus"] == 64


def test_list_assets_filters(outposts: Any, installed: dict) -> None:
    outpost_id = installed["rack"][0]["OutpostId"]
    compute = assets_of(outposts, outpost_id, AssetTypeFilter=["COMPUTE"])
    assert len(compute) == 4
    both = assets_of(outposts, outpost_id, AssetTypeFilter=["COMPUTE", "SWITCH"])
    assert len(both) == 8
    host_id = compute[1]["ComputeAttributes"]["HostId"]
    assert assets_of(outposts, outpost_id, HostIdFilter=[host_id]) == [compute[1]]
    assert len(assets_of(outposts, outpost_id, StatusFilter=["ACTIVE"], AssetTypeFilter=["COMPUTE"])) == 4
    assert assets_of(outposts, outpost_id, StatusFilter=["RETIRING", "ISOLATED"]) == []
    assert assets_of(outposts, outpost_id, HostIdFilter=[host_id], AssetTypeFilter=["SWITCH"]) == []


def test_list_assets_paginates(outposts: Any, installed: dict) -> None:
    outpost_id = installed["rack"][0]["OutpostId"]
    everything = outposts.list_assets(OutpostIdentifier=outpost_id)["Assets"]
    pages = list(
        outposts.get_paginator("list_assets").paginate(OutpostIdentifier=outpost_id, PaginationConfig={"PageSize": 5})
    )
    assert len(pages) == -(-len(everything) // 5)
    assert [asset for page in pages for asset in page["Assets"]] == everything


def test_list_assets_errors(outposts: Any, installed: dict) -> None:
    with pytest.raises(ClientError) as exc:
        outposts.list_assets(OutpostIdentifier=UNKNOWN_OUTPOST)
    assert error(exc) == ("NotFoundException", 404)
    token = outposts.list_assets(OutpostIdentifier=installed["rack"][0]["OutpostId"], MaxResults=1)["NextToken"]
    with pytest.raises(ClientError) as exc:  # a token is bound to its outpost
        outposts.list_assets(OutpostIdentifier=installed["server"][0]["OutpostId"], NextToken=token)
    assert error(exc) == ("ValidationException", 400)


def test_list_asset_instances(outposts: Any, server: Any, installed: dict) -> None:
    outpost_id = installed["rack"][0]["OutpostId"]
    mine = run_instances(server, outpost_id, "m7i.large", 3)
    shared = run_instances(server, outpost_id, "m7i.xlarge", 2, "--account-id", "210987654321", "--aws-service", "ELB")
    instances = [
        instance
        for page in outposts.get_paginator("list_asset_instances").paginate(
            OutpostIdentifier=outpost_id, PaginationConfig={"PageSize": 2}
        )
        for instance in page["AssetInstances"]
    ]
    by_id = {instance["InstanceId"]: instance for instance in instances}
    assert set(mine + shared) <= set(by_id)
    assert by_id[mine[0]]["InstanceType"] == "m7i.large" and by_id[mine[0]]["AwsServiceName"] == "EC2"
    assert by_id[shared[0]]["AccountId"] == "210987654321" and by_id[shared[0]]["AwsServiceName"] == "ELB"
    compute = {a["AssetId"] for a in assets_of(outposts, outpost_id, AssetTypeFilter=["COMPUTE"])}
    assert all(instance["AssetId"] in compute for instance in instances)

    def ids(**filters: Any) -> set[str]:
        response = outposts.list_asset_instances(OutpostIdentifier=outpost_id, **filters)
        return {i["InstanceId"] for i in response["AssetInstances"]}

    assert ids(AccountIdFilter=["210987654321"]) == set(shared)
    assert ids(AwsServiceFilter=["ELB", "RDS"]) == set(shared)
    assert ids(InstanceTypeFilter=["m7i.large"], AwsServiceFilter=["EC2"]) >= set(mine)
    assert ids(InstanceTypeFilter=["m7i.large"], AwsServiceFilter=["ELB"]) == set()
    asset = by_id[mine[0]]["AssetId"]
    assert mine[0] in ids(AssetIdFilter=[asset]) and all(
        by_id[i]["AssetId"] == asset for i in ids(AssetIdFilter=[asset])
    )


def test_list_asset_instances_errors(outposts: Any, server: Any) -> None:
    with pytest.raises(ClientError) as exc:
        outposts.list_asset_instances(OutpostIdentifier=UNKNOWN_OUTPOST)
    assert error(exc) == ("NotFoundException", 404)
    outpost = new_outpost(server.client("outposts", region="eu-west-1"))
    with pytest.raises(ClientError) as exc:
        outposts.list_asset_instances(OutpostIdentifier=outpost["OutpostArn"])
    assert error(exc) == ("NotFoundException", 404)


def test_get_outpost_instance_types(outposts: Any, installed: dict) -> None:
    outpost, _ = installed["rack"]
    response = outposts.get_outpost_instance_types(OutpostId=outpost["OutpostArn"])
    assert (response["OutpostId"], response["OutpostArn"]) == (outpost["OutpostId"], outpost["OutpostArn"])
    types = {t["InstanceType"]: t["VCPUs"] for t in response["InstanceTypes"]}
    host = assets_of(outposts, outpost["OutpostId"], AssetTypeFilter=["COMPUTE"])[0]["ComputeAttributes"]
    assert set(types) == {c["InstanceType"] for c in host["InstanceTypeCapacities"]}
    assert types["m7i.large"] == 2 and types["m7i.4xlarge"] == 16
    paged = list(
        outposts.get_paginator("get_outpost_instance_types").paginate(
            OutpostId=outpost["OutpostId"], PaginationConfig={"PageSize": 1}
        )
    )
    assert [t for page in paged for t in page["InstanceTypes"]] == response["InstanceTypes"]


def test_get_outpost_instance_types_without_hardware(outposts: Any) -> None:
    outpost = new_outpost(outposts)
    assert outposts.get_outpost_instance_types(OutpostId=outpost["OutpostId"])["InstanceTypes"] == []
    with pytest.raises(ClientError) as exc:
        outposts.get_outpost_instance_types(OutpostId=UNKNOWN_OUTPOST)
    assert error(exc) == ("NotFoundException", 404)


def test_get_outpost_supported_instance_types(outposts: Any, installed: dict) -> None:
    outpost, order = installed["rack"]
    supported = outposts.get_outpost_supported_instance_types(OutpostIdentifier=outpost["OutpostId"])
    names = {t["InstanceType"] for t in supported["InstanceTypes"]}
    assert "m7i.48xlarge" in names and "m7i.24xlarge" in names and {n.split(".")[0] for n in names} == {"m7i"}
    by_order = outposts.get_outpost_supported_instance_types(
        OutpostIdentifier=outpost["OutpostId"], OrderId=order["OrderId"]
    )
    assert by_order["InstanceTypes"] == supported["InstanceTypes"]
    asset_id = order["LineItems"][0]["AssetInformationList"][0]["AssetId"]
    compute = assets_of(outposts, outpost["OutpostId"], AssetTypeFilter=["COMPUTE"])[0]["AssetId"]
    by_asset = outposts.get_outpost_supported_instance_types(OutpostIdentifier=outpost["OutpostId"], AssetId=compute)
    assert by_asset["InstanceTypes"] == supported["InstanceTypes"]
    switch = assets_of(outposts, outpost["OutpostId"], AssetTypeFilter=["SWITCH"])[0]["AssetId"]
    none = outposts.get_outpost_supported_instance_types(OutpostIdentifier=outpost["OutpostId"], AssetId=switch)
    assert none["InstanceTypes"] == [] and asset_id


def test_supported_instance_types_of_an_order_not_yet_installed(outposts: Any) -> None:
    outpost = new_outpost(outposts)
    order = create_order(outposts, outpost["OutpostId"], C7I_R7I_RACK)
    response = outposts.get_outpost_supported_instance_types(
        OutpostIdentifier=outpost["OutpostId"], OrderId=order["OrderId"], MaxResults=5
    )
    assert len(response["InstanceTypes"]) == 5 and "NextToken" in response
    pages = outposts.get_paginator("get_outpost_supported_instance_types").paginate(
        OutpostIdentifier=outpost["OutpostId"], OrderId=order["OrderId"]
    )
    names = {t["InstanceType"] for page in pages for t in page["InstanceTypes"]}
    assert {n.split(".")[0] for n in names} == {"c7i", "r7i"} and "r7i.48xlarge" in names
    whole = outposts.get_outpost_supported_instance_types(OutpostIdentifier=outpost["OutpostId"])
    assert {t["InstanceType"] for t in whole["InstanceTypes"]} == names


def test_get_outpost_supported_instance_types_errors(outposts: Any, installed: dict) -> None:
    rack, order = installed["rack"]
    server_outpost = installed["server"][0]
    cases = [
        {"OutpostIdentifier": UNKNOWN_OUTPOST},
        {"OutpostIdentifier": rack["OutpostId"], "OrderId": "oo-0123456789abcdef0"},
        {"OutpostIdentifier": server_outpost["OutpostId"], "OrderId": order["OrderId"]},  # another outpost's order
        {"OutpostIdentifier": rack["OutpostId"], "AssetId": "0000000001"},
    ]
    for params in cases:
        with pytest.raises(ClientError) as exc:
            outposts.get_outpost_supported_instance_types(**params)
        assert error(exc) == ("NotFoundException", 404), params
    with pytest.raises(ClientError) as exc:
        outposts.get_outpost_supported_instance_types(OutpostIdentifier=rack["OutpostId"], AssetId="123456789x")
    assert error(exc) == ("ValidationException", 400)


def test_decommission_retires_outpost_and_assets(outposts: Any) -> None:
    [(outpost, _)] = installed_outposts(outposts, C6GD_SERVER, hardware="SERVER")
    assert outposts.start_outpost_decommission(OutpostIdentifier=outpost["OutpostId"])["Status"] == "REQUESTED"
    assert outposts.get_outpost(OutpostId=outpost["OutpostId"])["Outpost"]["LifeCycleStatus"] == "RETIRING"
    wait_for(
        lambda: outposts.get_outpost(OutpostId=outpost["OutpostId"])["Outpost"],
        lambda o: o["LifeCycleStatus"] == "RETIRED",
    )
    [asset] = assets_of(outposts, outpost["OutpostId"])
    assert asset["ComputeAttributes"]["State"] == "RETIRING"
    assert assets_of(outposts, outpost["OutpostId"], StatusFilter=["RETIRING"]) == [asset]
    assert outposts.get_outpost_instance_types(OutpostId=outpost["OutpostId"])["InstanceTypes"] == []
