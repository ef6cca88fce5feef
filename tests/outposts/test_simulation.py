"""``trailpost sim``: simulated EC2 instances written into a running server's data directory."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.outposts.test_orders import C6GD_SERVER, installed_outposts, run_instances, sim, wait_for


@pytest.fixture(scope="module")
def servers(server: Any) -> list[dict[str, Any]]:
    """Two server outposts with one c6gd.16xlarge host each (default slots: 8 medium, 8 large, 4 xlarge, 3 2xlarge)."""
    made = installed_outposts(server.client("outposts"), C6GD_SERVER, C6GD_SERVER, hardware="SERVER")
    return [outpost for outpost, _ in made]


def instance_ids(outposts: Any, outpost_id: str) -> set[str]:
    pages = outposts.get_paginator("list_asset_instances").paginate(OutpostIdentifier=outpost_id)
    return {instance["InstanceId"] for page in pages for instance in page["AssetInstances"]}


def test_run_instances_writes_asset_instances(outposts: Any, server: Any, servers: list) -> None:
    outpost = servers[0]
    result = sim(
        server, "run-instances", "--outpost-id", outpost["OutpostArn"], "--instance-type", "c6gd.large", "--count", "2"
    )
    assert result.returncode == 0, result.stderr
    launched = json.loads(result.stdout)["Instances"]
    [asset] = outposts.list_assets(OutpostIdentifier=outpost["OutpostId"])["Assets"]
    for instance in launched:
        assert instance["InstanceId"].startswith("i-") and len(instance["InstanceId"]) == 19
        assert (instance["InstanceType"], instance["AssetId"]) == ("c6gd.large", asset["AssetId"])
        assert (instance["AccountId"], instance["AwsServiceName"]) == ("123456789012", "EC2")
    listed = outposts.list_asset_instances(OutpostIdentifier=outpost["OutpostId"], InstanceTypeFilter=["c6gd.large"])
    assert {i["InstanceId"] for i in launched} <= {i["InstanceId"] for i in listed["AssetInstances"]}


def test_instances_must_fit_free_slots(outposts: Any, server: Any, servers: list) -> None:
    outpost_id = servers[0]["OutpostId"]
    before = instance_ids(outposts, outpost_id)
    run_instances(server, outpost_id, "c6gd.2xlarge", 2)
    too_many = sim(
        server, "run-instances", "--outpost-id", outpost_id, "--instance-type", "c6gd.2xlarge", "--count", "2"
    )
    assert too_many.returncode == 1 and "InsufficientInstanceCapacity" in too_many.stderr
    assert "1 free" in too_many.stderr
    assert len(instance_ids(outposts, outpost_id)) == len(before) + 2  # all or nothing
    run_instances(server, outpost_id, "c6gd.2xlarge", 1)
    unslotted = sim(server, "run-instances", "--outpost-id", outpost_id, "--instance-type", "c6gd.16xlarge")
    assert unslotted.returncode == 1 and "InsufficientInstanceCapacity" in unslotted.stderr
    unknown = sim(server, "run-instances", "--outpost-id", outpost_id, "--instance-type", "x9.huge")
    assert unknown.returncode == 1 and "InvalidParameterValue" in unknown.stderr


def test_run_instances_options(outposts: Any, server: Any, servers: list) -> None:
    outpost_id = servers[1]["OutpostId"]
    [asset] = outposts.list_assets(OutpostIdentifier=outpost_id)["Assets"]
    extra = (
        "--asset-id",
        asset["AssetId"],
        "--account-id",
        "111122223333",
        "--aws-service",
        "RDS",
        "--region",
        "us-east-1",
    )
    [rds] = run_instances(server, outpost_id, "c6gd.xlarge", 1, *extra)
    listed = outposts.list_asset_instances(OutpostIdentifier=outpost_id, AccountIdFilter=["111122223333"])
    assert [(i["InstanceId"], i["AwsServiceName"]) for i in listed["AssetInstances"]] == [(rds, "RDS")]
    args = ("--outpost-id", outpost_id, "--instance-type", "c6gd.xlarge")
    other_asset = sim(server, "run-instances", *args, "--asset-id", "0000000001")
    assert other_asset.returncode == 1 and "not an ACTIVE compute asset" in other_asset.stderr
    other_region = sim(server, "run-instances", *args, "--region", "eu-west-1")
    assert other_region.returncode == 1 and "InvalidOutpostID.NotFound" in other_region.stderr


def test_terminate_instances(outposts: Any, server: Any, servers: list) -> None:
    outpost_id = servers[1]["OutpostId"]
    first, second, third = run_instances(server, outpost_id, "c6gd.medium", 3)
    result = sim(server, "terminate-instances", "--instance-id", first, "--instance-id", second)
    assert result.returncode == 0, result.stderr
    assert sorted(json.loads(result.stdout)["TerminatedInstances"]) == sorted([first, second])
    remaining = instance_ids(outposts, outpost_id)
    assert third in remaining and not {first, second} & remaining
    unknown = sim(server, "terminate-instances", "--instance-id", third, "--instance-id", "i-0123456789abcdef0")
    assert unknown.returncode == 1 and "InvalidInstanceID.NotFound" in unknown.stderr
    assert third in instance_ids(outposts, outpost_id)  # nothing terminated
    everything = sim(server, "terminate-instances", "--outpost-id", outpost_id)
    assert everything.returncode == 0 and third in json.loads(everything.stdout)["TerminatedInstances"]
    assert instance_ids(outposts, outpost_id) == set()


def test_no_instances_on_a_retiring_outpost(outposts: Any, server: Any) -> None:
    [(outpost, _)] = installed_outposts(outposts, C6GD_SERVER, hardware="SERVER")
    outpost_id = outpost["OutpostId"]
    [instance] = run_instances(server, outpost_id, "c6gd.large", 1)
    blocked = outposts.start_outpost_decommission(OutpostIdentifier=outpost_id)
    assert (blocked["Status"], blocked["BlockingResourceTypes"]) == ("BLOCKED", ["EC2_INSTANCE"])
    assert sim(server, "terminate-instances", "--instance-id", instance).returncode == 0
    assert outposts.start_outpost_decommission(OutpostIdentifier=outpost_id)["Status"] == "REQUESTED"
    refused = sim(server, "run-instances", "--outpost-id", outpost_id, "--instance-type", "c6gd.large")
    assert refused.returncode == 1 and "IncorrectState" in refused.stderr
    wait_for(lambda: outposts.get_outpost(OutpostId=outpost_id)["Outpost"], lambda o: o["LifeCycleStatus"] == "RETIRED")


def test_sim_needs_a_data_dir(tmp_path: Any) -> None:
    class Missing:
        data_dir = tmp_path / "nothing-here"

    result = sim(Missing(), "run-instances", "--outpost-id", "op-0123456789abcdef0", "--instance-type", "m5.large")
    assert result.returncode == 1 and "no trailpost state store" in result.stderr
    assert not (tmp_path / "nothing-here").exists()
