"""Capacity tasks: start (slot arithmetic, dry run, scopes), lifecycle, blocking instances, cancel, list."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.outposts.test_orders import (
    M7I_RACK_1,
    M7I_RACK_2,
    create_order,
    error,
    installed_outposts,
    new_outpost,
    run_instances,
    sim,
    wait_for,
    wait_order,
)

FINISHED = {"COMPLETED", "FAILED", "CANCELLED"}


@pytest.fixture(scope="module")
def fleet(server: Any) -> dict[str, dict[str, Any]]:
    """Outposts with installed m7i racks (m7i.48xlarge hosts: 192 vCPUs each), one per test that needs one."""
    names = {
        "dry": M7I_RACK_1,
        "lifecycle": M7I_RACK_2,
        "evacuate": M7I_RACK_1,
        "fail": M7I_RACK_1,
        "exclude": M7I_RACK_1,
        "asset": M7I_RACK_2,
        "errors": M7I_RACK_1,
    }
    made = installed_outposts(server.client("outposts"), *names.values())
    return {name: outpost for name, (outpost, _) in zip(names, made, strict=True)}


def task_of(outposts: Any, outpost_id: str, task_id: str) -> dict[str, Any]:
    return outposts.get_capacity_task(OutpostIdentifier=outpost_id, CapacityTaskId=task_id)


def wait_task(outposts: Any, outpost_id: str, task_id: str, status: str) -> dict[str, Any]:
    return wait_for(lambda: task_of(outposts, outpost_id, task_id), lambda t: t["CapacityTaskStatus"] == status)


def hosts(outposts: Any, outpost_id: str) -> list[dict[str, Any]]:
    assets = outposts.list_assets(OutpostIdentifier=outpost_id, AssetTypeFilter=["COMPUTE"])["Assets"]
    return assets


def slots(host: dict[str, Any]) -> dict[str, int]:
    return {c["InstanceType"]: c["Count"] for c in host["ComputeAttributes"]["InstanceTypeCapacities"]}


def blocking(outposts: Any, outpost_id: str, task_id: str) -> list[str]:
    pages = outposts.get_paginator("list_blocking_instances_for_capacity_task").paginate(
        OutpostIdentifier=outpost_id, CapacityTaskId=task_id, PaginationConfig={"PageSize": 2}
    )
    return [instance["InstanceId"] for page in pages for instance in page["BlockingInstances"]]


def test_dry_run_validates_without_storing(outposts: Any, fleet: dict) -> None:
    outpost_id = fleet["dry"]["OutpostId"]
    before = hosts(outposts, outpost_id)
    fits = outposts.start_capacity_task(
        OutpostIdentifier=outpost_id, InstancePools=[{"InstanceType": "m7i.24xlarge", "Count": 2}], DryRun=True
    )
    assert (fits["DryRun"], fits["CapacityTaskStatus"]) == (True, "COMPLETED")
    assert re.fullmatch(r"cap-[a-f0-9]{17}", fits["CapacityTaskId"])
    too_big = outposts.start_capacity_task(
        OutpostIdentifier=outpost_id, InstancePools=[{"InstanceType": "m7i.24xlarge", "Count": 3}], DryRun=True
    )
    assert too_big["CapacityTaskStatus"] == "FAILED"
    assert too_big["Failed"]["Type"] == "UNSUPPORTED_CAPACITY_CONFIGURATION"
    assert "288 vCPUs" in too_big["Failed"]["Reason"] and "192" in too_big["Failed"]["Reason"]
    with pytest.raises(ClientError) as exc:
        task_of(outposts, outpost_id, fits["CapacityTaskId"])
    assert error(exc) == ("NotFoundException", 404)
    assert outposts.list_capacity_tasks(OutpostIdentifierFilter=outpost_id)["CapacityTasks"] == []
    assert hosts(outposts, outpost_id) == before


def test_capacity_task_lifecycle_reslots_hosts(outposts: Any, fleet: dict) -> None:
    outpost = fleet["lifecycle"]
    pools = [{"InstanceType": "m7i.24xlarge", "Count": 2}, {"InstanceType": "m7i.12xlarge", "Count": 4}]
    task = outposts.start_capacity_task(OutpostIdentifier=outpost["OutpostArn"], InstancePools=pools)
    assert (task["CapacityTaskStatus"], task["OutpostId"], task["DryRun"]) == ("REQUESTED", outpost["OutpostId"], False)
    assert task["TaskActionOnBlockingInstances"] == "WAIT_FOR_EVACUATION"
    assert task["RequestedInstancePools"] == pools and "CompletionDate" not in task
    seen = []

    def read() -> dict[str, Any]:
        current = task_of(outposts, outpost["OutpostId"], task["CapacityTaskId"])
        if not seen or seen[-1] != current["CapacityTaskStatus"]:
            seen.append(current["CapacityTaskStatus"])
        return current

    done = wait_for(read, lambda t: t["CapacityTaskStatus"] == "COMPLETED")
    assert seen in (["REQUESTED", "IN_PROGRESS", "COMPLETED"], ["IN_PROGRESS", "COMPLETED"])
    assert done["CompletionDate"] >= done["CreationDate"] and done["LastModifiedDate"] == done["CompletionDate"]
    total: Counter[str] = Counter()
    for host in hosts(outposts, outpost["OutpostId"]):
        total.update(slots(host))
        assert sum(n * {"m7i.24xlarge": 96, "m7i.12xlarge": 48}[t] for t, n in slots(host).items()) <= 192
    assert total == {"m7i.24xlarge": 2, "m7i.12xlarge": 4}
    types = outposts.get_outpost_instance_types(OutpostId=outpost["OutpostId"])["InstanceTypes"]
    assert {t["InstanceType"] for t in types} == {"m7i.24xlarge", "m7i.12xlarge"}
    with pytest.raises(ClientError) as exc:  # a finished task cannot be cancelled
        outposts.cancel_capacity_task(OutpostIdentifier=outpost["OutpostId"], CapacityTaskId=task["CapacityTaskId"])
    assert error(exc) == ("ConflictException", 409)
    assert exc.value.response["ResourceType"] == "OUTPOST"


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"InstancePools": [{"InstanceType": "m7i.96xlarge", "Count": 1}]}, ("ValidationException", 400)),
        ({"InstancePools": [{"InstanceType": "c7i.large", "Count": 1}]}, ("ValidationException", 400)),
        ({"InstancePools": [{"InstanceType": "m7i.large", "Count": 1}] * 2}, ("ValidationException", 400)),
        ({"AssetId": "0000000001"}, ("NotFoundException", 404)),
        ({"OrderId": "oo-0123456789abcdef0"}, ("NotFoundException", 404)),
        ({"OutpostIdentifier": "op-0123456789abcdef0"}, ("NotFoundException", 404)),
    ],
)
def test_start_capacity_task_errors(outposts: Any, fleet: dict, params: dict, expected: tuple) -> None:
    request = {
        "OutpostIdentifier": fleet["errors"]["OutpostId"],
        "InstancePools": [{"InstanceType": "m7i.large", "Count": 2}],
    }
    with pytest.raises(ClientError) as exc:
        outposts.start_capacity_task(**{**request, **params})
    assert error(exc) == expected


def test_start_capacity_task_needs_compute(outposts: Any, fleet: dict) -> None:
    pools = [{"InstanceType": "m7i.large", "Count": 2}]
    with pytest.raises(ClientError) as exc:  # nothing installed
        outposts.start_capacity_task(OutpostIdentifier=new_outpost(outposts)["OutpostId"], InstancePools=pools)
    assert error(exc) == ("ValidationException", 400)
    outpost_id = fleet["errors"]["OutpostId"]
    switch = outposts.list_assets(OutpostIdentifier=outpost_id, AssetTypeFilter=["SWITCH"])["Assets"][0]
    with pytest.raises(ClientError) as exc:
        outposts.start_capacity_task(OutpostIdentifier=outpost_id, AssetId=switch["AssetId"], InstancePools=pools)
    assert error(exc) == ("ValidationException", 400)


def test_one_active_task_per_outpost(outposts: Any, fleet: dict) -> None:
    outpost_id = fleet["errors"]["OutpostId"]
    pools = [{"InstanceType": "m7i.large", "Count": 2}]
    first = outposts.start_capacity_task(OutpostIdentifier=outpost_id, InstancePools=pools)
    with pytest.raises(ClientError) as exc:
        outposts.start_capacity_task(OutpostIdentifier=outpost_id, InstancePools=pools, DryRun=True)
    assert error(exc) == ("ConflictException", 409)
    assert (exc.value.response["ResourceType"], exc.value.response["ResourceId"]) == ("OUTPOST", outpost_id)
    assert first["CapacityTaskId"] in exc.value.response["Error"]["Message"]
    wait_task(outposts, outpost_id, first["CapacityTaskId"], "COMPLETED")
    over = outposts.start_capacity_task(
        OutpostIdentifier=outpost_id, InstancePools=[{"InstanceType": "m7i.48xlarge", "Count": 2}]
    )
    assert over["CapacityTaskStatus"] == "FAILED" and over["Failed"]["Type"] == "UNSUPPORTED_CAPACITY_CONFIGURATION"
    assert task_of(outposts, outpost_id, over["CapacityTaskId"])["CapacityTaskStatus"] == "FAILED"
    again = outposts.start_capacity_task(
        OutpostIdentifier=outpost_id, InstancePools=pools
    )  # a failed task is not active
    wait_task(outposts, outpost_id, again["CapacityTaskId"], "COMPLETED")


def test_wait_for_evacuation_then_complete(outposts: Any, server: Any, fleet: dict) -> None:
    outpost_id = fleet["evacuate"]["OutpostId"]
    instances = run_instances(server, outpost_id, "m7i.large", 3)
    task = outposts.start_capacity_task(
        OutpostIdentifier=outpost_id, InstancePools=[{"InstanceType": "m7i.48xlarge", "Count": 1}]
    )
    assert sorted(blocking(outposts, outpost_id, task["CapacityTaskId"])) == sorted(instances)
    wait_task(outposts, outpost_id, task["CapacityTaskId"], "WAITING_FOR_EVACUATION")
    assert sorted(blocking(outposts, outpost_id, task["CapacityTaskId"])) == sorted(instances)
    listed = outposts.list_blocking_instances_for_capacity_task(
        OutpostIdentifier=outpost_id, CapacityTaskId=task["CapacityTaskId"]
    )
    assert {(b["AccountId"], b["AwsServiceName"]) for b in listed["BlockingInstances"]} == {("123456789012", "EC2")}
    terminate = ["terminate-instances", *[arg for i in instances for arg in ("--instance-id", i)]]
    assert sim(server, *terminate).returncode == 0
    done = wait_task(outposts, outpost_id, task["CapacityTaskId"], "COMPLETED")
    assert done["CompletionDate"]
    [host] = hosts(outposts, outpost_id)
    assert slots(host) == {"m7i.48xlarge": 1}
    assert blocking(outposts, outpost_id, task["CapacityTaskId"]) == []


def test_fail_task_on_blocking_instances(outposts: Any, server: Any, fleet: dict) -> None:
    outpost_id = fleet["fail"]["OutpostId"]
    instances = run_instances(server, outpost_id, "m7i.xlarge", 2)
    before = hosts(outposts, outpost_id)
    task = outposts.start_capacity_task(
        OutpostIdentifier=outpost_id,
        InstancePools=[{"InstanceType": "m7i.48xlarge", "Count": 1}],
        TaskActionOnBlockingInstances="FAIL_TASK",
    )
    failed = wait_task(outposts, outpost_id, task["CapacityTaskId"], "FAILED")
    assert failed["Failed"]["Type"] == "BLOCKING_INSTANCES_NOT_EVACUATED"
    assert sorted(blocking(outposts, outpost_id, task["CapacityTaskId"])) == sorted(instances)
    assert hosts(outposts, outpost_id) == before


def test_instances_to_exclude_and_cancel(outposts: Any, server: Any, fleet: dict) -> None:
    outpost_id = fleet["exclude"]["OutpostId"]
    first, second = run_instances(server, outpost_id, "m7i.large", 2)
    [balancer] = run_instances(server, outpost_id, "m7i.2xlarge", 1, "--aws-service", "ELB")
    pools = [
        {"InstanceType": "m7i.large", "Count": 1},
        {"InstanceType": "m7i.2xlarge", "Count": 1},
        {"InstanceType": "m7i.24xlarge", "Count": 1},
    ]
    impossible = outposts.start_capacity_task(
        OutpostIdentifier=outpost_id, InstancePools=pools, InstancesToExclude={"Instances": [first, second]}
    )
    assert impossible["CapacityTaskStatus"] == "FAILED"
    assert impossible["Failed"]["Type"] == "UNSUPPORTED_CAPACITY_CONFIGURATION"
    task = outposts.start_capacity_task(
        OutpostIdentifier=outpost_id,
        InstancePools=pools,
        InstancesToExclude={"Instances": [second], "Services": ["ELB"]},
    )
    assert task["InstancesToExclude"] == {"Instances": [second], "Services": ["ELB"]}
    assert blocking(outposts, outpost_id, task["CapacityTaskId"]) == [first]
    assert balancer not in blocking(outposts, outpost_id, task["CapacityTaskId"])
    wait_task(outposts, outpost_id, task["CapacityTaskId"], "WAITING_FOR_EVACUATION")
    outposts.cancel_capacity_task(OutpostIdentifier=outpost_id, CapacityTaskId=task["CapacityTaskId"])
    cancelling = task_of(outposts, outpost_id, task["CapacityTaskId"])
    assert cancelling["CapacityTaskStatus"] in ("CANCELLATION_IN_PROGRESS", "CANCELLED")
    wait_task(outposts, outpost_id, task["CapacityTaskId"], "CANCELLED")
    assert slots(hosts(outposts, outpost_id)[0]) == {
        "m7i.large": 16,
        "m7i.xlarge": 16,
        "m7i.2xlarge": 4,
        "m7i.4xlarge": 4,
    }


def test_cancel_capacity_task_errors(outposts: Any, fleet: dict) -> None:
    outpost_id = fleet["errors"]["OutpostId"]
    with pytest.raises(ClientError) as exc:
        outposts.cancel_capacity_task(OutpostIdentifier=outpost_id, CapacityTaskId="cap-0123456789abcdef0")
    assert error(exc) == ("NotFoundException", 404)


def test_get_capacity_task_of_another_outpost(outposts: Any, fleet: dict) -> None:
    outpost_id = fleet["dry"]["OutpostId"]
    task = outposts.start_capacity_task(
        OutpostIdentifier=outpost_id, InstancePools=[{"InstanceType": "m7i.large", "Count": 1}]
    )
    assert task_of(outposts, outpost_id, task["CapacityTaskId"])["CapacityTaskId"] == task["CapacityTaskId"]
    for other in (fleet["errors"]["OutpostId"], "op-0123456789abcdef0"):
        with pytest.raises(ClientError) as exc:
            task_of(outposts, other, task["CapacityTaskId"])
        assert error(exc) == ("NotFoundException", 404)
        with pytest.raises(ClientError) as exc:
            outposts.list_blocking_instances_for_capacity_task(
                OutpostIdentifier=other, CapacityTaskId=task["CapacityTaskId"]
            )
        assert error(exc) == ("NotFoundException", 404)
    wait_task(outposts, outpost_id, task["CapacityTaskId"], "COMPLETED")


def test_asset_scoped_task(outposts: Any, fleet: dict) -> None:
    outpost_id = fleet["asset"]["OutpostId"]
    first, second = hosts(outposts, outpost_id)
    task = outposts.start_capacity_task(
        OutpostIdentifier=outpost_id,
        AssetId=first["AssetId"],
        InstancePools=[{"InstanceType": "m7i.48xlarge", "Count": 1}],
    )
    assert task["AssetId"] == first["AssetId"]
    wait_task(outposts, outpost_id, task["CapacityTaskId"], "COMPLETED")
    after = {host["AssetId"]: host for host in hosts(outposts, outpost_id)}
    assert slots(after[first["AssetId"]]) == {"m7i.48xlarge": 1}
    assert after[second["AssetId"]] == second
    supported = outposts.get_outpost_supported_instance_types(OutpostIdentifier=outpost_id, AssetId=first["AssetId"])
    assert "m7i.large" in {t["InstanceType"] for t in supported["InstanceTypes"]}  # supportable, if not configured


def test_order_scoped_task_before_installation(outposts: Any) -> None:
    outpost = new_outpost(outposts)
    order = create_order(outposts, outpost["OutpostId"], M7I_RACK_1)
    pools = [{"InstanceType": "m7i.12xlarge", "Count": 4}]
    task = outposts.start_capacity_task(
        OutpostIdentifier=outpost["OutpostId"], OrderId=order["OrderId"], InstancePools=pools
    )
    assert task["OrderId"] == order["OrderId"]
    wait_task(outposts, outpost["OutpostId"], task["CapacityTaskId"], "COMPLETED")
    wait_order(outposts, order["OrderId"])
    [host] = hosts(outposts, outpost["OutpostId"])
    assert slots(host) == {"m7i.12xlarge": 4}


def test_list_capacity_tasks(outposts: Any, fleet: dict) -> None:
    outpost = new_outpost(outposts)
    order = create_order(outposts, outpost["OutpostId"], M7I_RACK_1)
    pools = [{"InstanceType": "m7i.large", "Count": 1}]
    made = []
    for count in (1, 2, 3):
        task = outposts.start_capacity_task(
            OutpostIdentifier=outpost["OutpostId"],
            OrderId=order["OrderId"],
            InstancePools=[{**pools[0], "Count": count}],
        )
        made.append(task["CapacityTaskId"])
        if count < 3:
            outposts.cancel_capacity_task(OutpostIdentifier=outpost["OutpostId"], CapacityTaskId=task["CapacityTaskId"])
            wait_task(outposts, outpost["OutpostId"], task["CapacityTaskId"], "CANCELLED")
    pages = list(
        outposts.get_paginator("list_capacity_tasks").paginate(
            OutpostIdentifierFilter=outpost["OutpostArn"], PaginationConfig={"PageSize": 1}
        )
    )
    assert len(pages) == 3
    listed = [task for page in pages for task in page["CapacityTasks"]]
    assert [task["CapacityTaskId"] for task in listed] == made
    assert all(task["OutpostId"] == outpost["OutpostId"] and task["OrderId"] == order["OrderId"] for task in listed)
    cancelled = outposts.list_capacity_tasks(
        OutpostIdentifierFilter=outpost["OutpostId"], CapacityTaskStatusFilter=["CANCELLED"]
    )
    assert [task["CapacityTaskId"] for task in cancelled["CapacityTasks"]] == made[:2]
    everywhere = outposts.list_capacity_tasks(CapacityTaskStatusFilter=["CANCELLED"], MaxResults=1000)["CapacityTasks"]
    assert set(made[:2]) <= {task["CapacityTaskId"] for task in everywhere}
    assert all(task["CapacityTaskStatus"] == "CANCELLED" for task in everywhere)
    wait_task(outposts, outpost["OutpostId"], made[2], "COMPLETED")


def test_list_capacity_tasks_errors(outposts: Any) -> None:
    with pytest.raises(ClientError) as exc:
        outposts.list_capacity_tasks(OutpostIdentifierFilter="op-0123456789abcdef0")
    assert error(exc) == ("NotFoundException", 404)
    with pytest.raises(ClientError) as exc:
        outposts.list_capacity_tasks(CapacityTaskStatusFilter=["RUNNING"])
    assert error(exc) == ("ValidationException", 400)


def test_list_blocking_instances_errors(outposts: Any, fleet: dict) -> None:
    with pytest.raises(ClientError) as exc:
        outposts.list_blocking_instances_for_capacity_task(
            OutpostIdentifier=fleet["errors"]["OutpostId"], CapacityTaskId="cap-0123456789abcdef0"
        )
    assert error(exc) == ("NotFoundException", 404)
