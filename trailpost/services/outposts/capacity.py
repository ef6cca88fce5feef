"""Capacity tasks: StartCapacityTask, GetCapacityTask, ListCapacityTasks, CancelCapacityTask,
ListBlockingInstancesForCapacityTask, and the capacity-task lifecycle step.

A capacity task re-slots hosts: ``InstancePools`` is the wanted number of slots per instance type
across the hosts in scope: one asset (``AssetId``), one order's hardware (``OrderId``; before the
order is installed the plan is kept and applied when its hosts are installed), or every ACTIVE
host of the outpost. Only hosts of the families named in the pools are re-slotted; hosts of other
families keep their slots.

Slot arithmetic. A host offers the vCPUs (and GPUs) of its max size (``m5.24xlarge``: 96 vCPUs;
``g4dn.12xlarge``: 48 vCPUs, 4 GPUs). A slot of a size uses that size's vCPUs and GPUs on one host
of its family. The pools fit when every slot can be placed on a host of its family without any
host exceeding its vCPUs or GPUs (placed largest first, each on the host with the most free vCPUs).
Running instances stay on their host: a placement first keeps the instances that
``InstancesToExclude`` protects (by instance id, account or service), then as many other running
instances as still fit, in launch order; the running instances it cannot keep are the
**blocking instances**.

Rules:
* the outpost must exist and not be RETIRING/RETIRED (``ConflictException``, OUTPOST); an asset or
  order named must belong to it (``NotFoundException``); an asset must be a COMPUTE asset and, when
  both are given, installed by that order (``ValidationException``); a cancelled order cannot be
  re-slotted (``ConflictException``, ORDER);
* each pool's instance type must be known, appear once, be of a family of the hosts in scope and
  fit in one host (``ValidationException``);
* one active task (REQUESTED, IN_PROGRESS, WAITING_FOR_EVACUATION, CANCELLATION_IN_PROGRESS) per
  outpost (``ConflictException``, OUTPOST);
* pools that do not fit, or that cannot keep the excluded instances running, fail the task at once
  (``FAILED``, ``UNSUPPORTED_CAPACITY_CONFIGURATION``); an asset in scope that is not ACTIVE fails it
  with ``UNEXPECTED_ASSET_STATE``;
* ``DryRun`` validates and answers the status the task would reach (COMPLETED, FAILED or
  WAITING_FOR_EVACUATION) without storing anything: its id cannot be read back.

Lifecycle (one step per ``settings.lifecycle_seconds``): ``REQUESTED`` -> ``IN_PROGRESS`` ->
``COMPLETED`` (the hosts get the new slots). At each step the placement is recomputed against the
current instances: with blocking instances, ``WAIT_FOR_EVACUATION`` (the default) waits in
``WAITING_FOR_EVACUATION`` until they are gone (at most 48 hours, scaled by lifecycle_seconds/30),
``FAIL_TASK`` fails with ``BLOCKING_INSTANCES_NOT_EVACUATED``. ``CancelCapacityTask`` takes a
REQUESTED or WAITING_FOR_EVACUATION task through ``CANCELLATION_IN_PROGRESS`` to ``CANCELLED``;
cancelling a task in any other status is a ``ConflictException`` (OUTPOST).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from trailpost.gateway.context import RequestContext
from trailpost.services.outposts import assets, catalog, ids
from trailpost.services.outposts.assets import Host
from trailpost.services.outposts.errors import NotFoundException, ValidationException, conflict
from trailpost.services.outposts.operations import ops
from trailpost.services.outposts.resources import (
    ACTIVE_TASK_STATUSES,
    ASSET,
    CAPACITY_TASK,
    ORDER,
    active_capacity_tasks,
    get_outpost,
)
from trailpost.services.outposts.validation import invalid_token
from trailpost.services.pagination import paginate_entries, paginate_store
from trailpost.store.base import StateStore

EVACUATION_WINDOW_SECONDS = 48 * 3600.0
REFERENCE_LIFECYCLE_SECONDS = 30.0
CANCELLABLE = ("REQUESTED", "WAITING_FOR_EVACUATION")


@dataclass
class Evaluation:
    """The outcome of placing a task's pools on its hosts now."""

    hosts: list[Host] = field(default_factory=list)
    slots: list[dict[str, int]] = field(default_factory=list)
    blocking: list[dict[str, Any]] = field(default_factory=list)
    failure: tuple[str, str] | None = None


# -- slot arithmetic ------------------------------------------------------------------------------------


def _size(name: str) -> tuple[int, int]:
    size = catalog.instance_type(name)
    assert size is not None, name
    return size["vcpus"], size["gpus"]


def _pack(hosts: list[Host], pools: dict[str, int], reserved: list[dict[str, int]]) -> list[dict[str, int]] | None:
    """Slots per host holding ``reserved`` plus the rest of ``pools``, or None when they do not fit."""
    free_vcpus, free_gpus = [], []
    for host, kept in zip(hosts, reserved, strict=True):
        vcpus = host.vcpus - sum(_size(name)[0] * count for name, count in kept.items())
        gpus = host.gpus - sum(_size(name)[1] * count for name, count in kept.items())
        if vcpus < 0 or gpus < 0:
            return None
        free_vcpus.append(vcpus)
        free_gpus.append(gpus)
    slots = [dict(kept) for kept in reserved]
    remaining = {name: count - sum(kept.get(name, 0) for kept in reserved) for name, count in pools.items()}
    if any(count < 0 for count in remaining.values()) or any(name not in pools for kept in reserved for name in kept):
        return None
    for name in sorted(remaining, key=lambda n: (-_size(n)[1], -_size(n)[0], n)):
        vcpus, gpus = _size(name)
        family = catalog.family_of(name)
        candidates = [i for i, host in enumerate(hosts) if host.family == family]
        if sum(free_vcpus[i] for i in candidates) < vcpus * remaining[name]:
            return None
        for _ in range(remaining[name]):
            fitting = [i for i in candidates if free_vcpus[i] >= vcpus and free_gpus[i] >= gpus]
            if not fitting:
                return None
            best = max(fitting, key=lambda i: (free_vcpus[i], -i))
            free_vcpus[best] -= vcpus
            free_gpus[best] -= gpus
            slots[best][name] = slots[best].get(name, 0) + 1
    return [{name: count for name, count in host_slots.items() if count > 0} for host_slots in slots]


def _excluded(instance: dict[str, Any], exclude: dict[str, Any]) -> bool:
    return (
        instance["instance_id"] in (exclude.get("instances") or [])
        or instance.get("account_id") in (exclude.get("account_ids") or [])
        or instance.get("aws_service_name") in (exclude.get("services") or [])
    )


def place(
    hosts: list[Host], pools: dict[str, int], instances: list[dict[str, Any]], exclude: dict[str, Any]
) -> Evaluation:
    """Place ``pools`` on the hosts of their families, keeping as many running instances as fit."""
    families = {catalog.family_of(name) for name in pools}
    targets = [i for i, host in enumerate(hosts) if host.family in families]
    sub = [hosts[i] for i in targets]
    position = {host.asset_id: k for k, host in enumerate(sub) if host.asset_id}
    running = [inst for inst in instances if inst.get("asset_id") in position]

    def reservation(kept: list[dict[str, Any]]) -> list[dict[str, int]]:
        reserved: list[dict[str, int]] = [{} for _ in sub]
        for inst in kept:
            host_slots = reserved[position[inst["asset_id"]]]
            host_slots[inst["instance_type"]] = host_slots.get(inst["instance_type"], 0) + 1
        return reserved

    result = Evaluation(hosts=hosts, slots=[dict(host.slots) for host in hosts])
    fit = _pack(sub, pools, [{} for _ in sub])
    if fit is None:
        wanted = sum(_size(name)[0] * count for name, count in pools.items())
        have = sum(host.vcpus for host in sub)
        reason = f"The instance pools need {wanted} vCPUs; the hosts in scope have {have} (or GPUs do not fit)."
        result.failure = ("UNSUPPORTED_CAPACITY_CONFIGURATION", reason)
        return result
    kept = [inst for inst in running if _excluded(inst, exclude)]
    fit = _pack(sub, pools, reservation(kept))
    if fit is None:
        reason = "The instances to exclude cannot keep running with the requested instance pools."
        result.failure = ("UNSUPPORTED_CAPACITY_CONFIGURATION", reason)
        return result
    for inst in running:
        if inst in kept:
            continue
        trial = _pack(sub, pools, reservation([*kept, inst]))
        if trial is not None:
            kept.append(inst)
            fit = trial
    result.blocking = [inst for inst in running if inst not in kept]
    for k, index in enumerate(targets):
        result.slots[index] = fit[k]
    return result


# -- a task's scope ---------------------------------------------------------------------------------------


def _task_hosts(store: StateStore, scope: str, task: dict[str, Any]) -> tuple[list[Host], tuple[str, str] | None]:
    outpost_id = task["outpost_id"]
    if task.get("asset_id"):
        asset = store.get(ASSET, scope, task["asset_id"])
        if asset is None or asset["outpost_id"] != outpost_id or not asset.get("compute_attributes"):
            return [], ("RESOURCE_NOT_FOUND", f"Asset {task['asset_id']} is not a compute asset of {outpost_id}.")
        if assets.asset_state(asset) != "ACTIVE":
            return [], ("UNEXPECTED_ASSET_STATE", f"Asset {asset['asset_id']} is {assets.asset_state(asset)}.")
        return [assets.host_from_asset(asset)], None
    if task.get("order_id"):
        order = store.get(ORDER, scope, task["order_id"])
        if order is None or order["status"] in ("CANCELLED", "ERROR"):
            return [], ("RESOURCE_NOT_FOUND", f"Order {task['order_id']} is not an active or completed order.")
        hosts = assets.order_hosts(store, scope, order)
        unusable = [h for h in hosts if h.state not in ("ACTIVE", "INSTALLING")]
        if unusable:
            return [], ("UNEXPECTED_ASSET_STATE", f"Asset {unusable[0].asset_id} is {unusable[0].state}.")
        return hosts, None
    hosts = assets.outpost_hosts(store, scope, outpost_id)
    if not hosts:
        return [], ("UNEXPECTED_ASSET_STATE", f"Outpost {outpost_id} has no ACTIVE compute assets.")
    return hosts, None


def pools_of(task: dict[str, Any]) -> dict[str, int]:
    return {pool["instance_type"]: int(pool["count"]) for pool in task["requested_instance_pools"]}


def evaluate(store: StateStore, scope: str, task: dict[str, Any]) -> Evaluation:
    """Place the task's pools on its hosts against the instances running now."""
    hosts, failure = _task_hosts(store, scope, task)
    if failure is not None:
        return Evaluation(failure=failure)
    instances = assets.outpost_instances(store, scope, task["outpost_id"])
    return place(hosts, pools_of(task), instances, task.get("instances_to_exclude") or {})


def _apply(store: StateStore, scope: str, task: dict[str, Any], result: Evaluation) -> None:
    planned = []
    for host, slots in zip(result.hosts, result.slots, strict=True):
        planned.append(slots)
        if host.asset_id is None:
            continue
        asset = store.get(ASSET, scope, host.asset_id)
        if asset is not None:
            asset["compute_attributes"]["instance_type_capacities"] = assets.slots_to_capacities(slots)
            store.put(ASSET, scope, host.asset_id, asset)
    if task.get("order_id") and any(host.asset_id is None for host in result.hosts):
        order = store.get(ORDER, scope, task["order_id"])
        if order is not None:
            order["_capacity_plan"] = planned
            store.put(ORDER, scope, order["order_id"], order)


# -- operations ----------------------------------------------------------------------------------------------


def _check_pools(pools: list[dict[str, Any]], hosts: list[Host], scope_name: str) -> dict[str, int]:
    wanted: dict[str, int] = {}
    families = {host.family for host in hosts}
    for pool in pools:
        name = pool["instance_type"]
        if name in wanted:
            raise ValidationException(f"Instance type {name} appears more than once in InstancePools.")
        size = catalog.instance_type(name)
        if size is None:
            raise ValidationException(f"Instance type {name} is not supported on AWS Outposts.")
        if size["family"] not in families:
            raise ValidationException(
                f"Instance type {name} is not supported by {scope_name}: its hosts are of "
                f"{', '.join(sorted(families)) or 'no'} families."
            )
        largest = max((h for h in hosts if h.family == size["family"]), key=lambda h: h.vcpus)
        if size["vcpus"] > largest.vcpus or size["gpus"] > largest.gpus:
            raise ValidationException(f"Instance type {name} does not fit in one {largest.max_size} host.")
        wanted[name] = int(pool["count"])
    return wanted


def _scope_for_start(ctx: RequestContext, outpost_id: str, params: dict[str, Any]) -> tuple[list[Host], str]:
    asset_id, order_id = params.get("asset_id"), params.get("order_id")
    if asset_id:
        asset = assets.get_asset(ctx, outpost_id, asset_id)
        if not asset.get("compute_attributes"):
            raise ValidationException(f"Asset {asset_id} is a {asset.get('asset_type')} asset, not a COMPUTE asset.")
        if order_id and asset["order_id"] != order_id:
            raise ValidationException(f"Asset {asset_id} was not installed by order {order_id}.")
        return [assets.host_from_asset(asset)], f"asset {asset_id}"
    if order_id:
        order = assets.get_order_of_outpost(ctx, outpost_id, order_id)
        if order["status"] in ("CANCELLED", "ERROR"):
            raise conflict(f"Order {order_id} is {order['status']}.", order_id, "ORDER")
        return assets.order_hosts(ctx.store, ctx.scope, order), f"order {order_id}"
    hosts = assets.outpost_hosts(ctx.store, ctx.scope, outpost_id)
    if not hosts:
        raise ValidationException(f"Outpost {outpost_id} has no installed ACTIVE compute capacity.")
    return hosts, f"outpost {outpost_id}"


def _settle(task: dict[str, Any], result: Evaluation) -> None:
    """Set the status a just-validated task reaches: FAILED, WAITING_FOR_EVACUATION, or as it is."""
    if result.failure is not None:
        task["capacity_task_status"] = "FAILED"
        task["failed"] = {"type": result.failure[0], "reason": result.failure[1][:128]}


@ops("StartCapacityTask")
def start_capacity_task(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    with ctx.store.transaction():
        outpost = get_outpost(ctx, params["outpost_identifier"])
        outpost_id = outpost["outpost_id"]
        if outpost["life_cycle_status"] in ("RETIRING", "RETIRED"):
            raise conflict(f"Outpost {outpost_id} is {outpost['life_cycle_status']}.", outpost_id, "OUTPOST")
        hosts, scope_name = _scope_for_start(ctx, outpost_id, params)
        _check_pools(params["instance_pools"], hosts, scope_name)
        running = active_capacity_tasks(ctx, outpost_id)
        if running:
            raise conflict(
                f"Outpost {outpost_id} already has capacity task {running[0]['capacity_task_id']} "
                f"({running[0]['capacity_task_status']}).",
                outpost_id,
                "OUTPOST",
            )
        task = {
            "capacity_task_id": ids.new_id("cap"),
            "outpost_id": outpost_id,
            "order_id": params.get("order_id"),
            "asset_id": params.get("asset_id"),
            "requested_instance_pools": params["instance_pools"],
            "instances_to_exclude": params.get("instances_to_exclude"),
            "dry_run": bool(params.get("dry_run")),
            "capacity_task_status": "REQUESTED",
            "creation_date": ctx.received,
            "last_modified_date": ctx.received,
            "task_action_on_blocking_instances": params.get("task_action_on_blocking_instances")
            or "WAIT_FOR_EVACUATION",
            "_status_since": ctx.received,
        }
        result = evaluate(ctx.store, ctx.scope, task)
        _settle(task, result)
        if task["dry_run"]:
            if task["capacity_task_status"] != "FAILED" and _after_evaluation(task, result, ctx.received):
                task["capacity_task_status"] = "COMPLETED"
            return task
        ctx.store.put(CAPACITY_TASK, ctx.scope, task["capacity_task_id"], task)
    return task


def get_task(ctx: RequestContext, outpost_identifier: str, task_id: str) -> dict[str, Any]:
    """The caller's capacity task of the named outpost, or ``NotFoundException``."""
    outpost_id = ids.resolve(ctx, outpost_identifier, "outpost")
    task = ctx.store.get(CAPACITY_TASK, ctx.scope, task_id)
    if task is None or task["outpost_id"] != outpost_id:
        raise NotFoundException(f"Capacity task {task_id} not found for outpost {outpost_identifier}.")
    return task


@ops("GetCapacityTask")
def get_capacity_task(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    return get_task(ctx, params["outpost_identifier"], params["capacity_task_id"])


@ops("ListCapacityTasks")
def list_capacity_tasks(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    outpost_id = None
    if params.get("outpost_identifier_filter"):
        outpost_id = get_outpost(ctx, params["outpost_identifier_filter"])["outpost_id"]
    statuses = sorted(set(params.get("capacity_task_status_filter") or []))

    def keep(task: dict[str, Any]) -> bool:
        if outpost_id is not None and task["outpost_id"] != outpost_id:
            return False
        return not statuses or task["capacity_task_status"] in statuses

    tasks, token = paginate_store(
        ctx.store,
        CAPACITY_TASK,
        ctx.scope,
        token=params.get("next_token"),
        max_results=params.get("max_results"),
        binding=["ListCapacityTasks", ctx.scope, outpost_id, statuses],
        invalid=invalid_token,
        keep=keep,
    )
    return {"capacity_tasks": tasks, "next_token": token}


@ops("CancelCapacityTask")
def cancel_capacity_task(ctx: RequestContext, params: dict[str, Any]) -> None:
    with ctx.store.transaction():
        task = get_task(ctx, params["outpost_identifier"], params["capacity_task_id"])
        status = task["capacity_task_status"]
        if status not in CANCELLABLE:
            raise conflict(
                f"Capacity task {task['capacity_task_id']} is {status}; only a REQUESTED or "
                "WAITING_FOR_EVACUATION task can be cancelled.",
                task["outpost_id"],
                "OUTPOST",
            )
        _set_status(task, "CANCELLATION_IN_PROGRESS", ctx.received)
        ctx.store.put(CAPACITY_TASK, ctx.scope, task["capacity_task_id"], task)


def _blocking_entries(instances: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "instance_id": inst["instance_id"],
            "account_id": inst.get("account_id"),
            "aws_service_name": inst.get("aws_service_name"),
        }
        for inst in instances
    ]


@ops("ListBlockingInstancesForCapacityTask")
def list_blocking_instances(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    task = get_task(ctx, params["outpost_identifier"], params["capacity_task_id"])
    if task["capacity_task_status"] in ("REQUESTED", "WAITING_FOR_EVACUATION", "IN_PROGRESS"):
        blocking = _blocking_entries(evaluate(ctx.store, ctx.scope, task).blocking)
    else:
        blocking = task.get("_blocking") or []
    page, token = paginate_entries(
        catalog.list_entries(blocking),
        token=params.get("next_token"),
        max_results=params.get("max_results"),
        binding=["ListBlockingInstancesForCapacityTask", ctx.scope, task["capacity_task_id"]],
        invalid=invalid_token,
    )
    return {"blocking_instances": [entry.doc for entry in page], "next_token": token}


# -- lifecycle ------------------------------------------------------------------------------------------------------


def _set_status(task: dict[str, Any], status: str, now: float) -> None:
    task["capacity_task_status"] = status
    task["last_modified_date"] = now
    task["_status_since"] = now


def _after_evaluation(task: dict[str, Any], result: Evaluation, now: float) -> bool:
    """Move a task past blocking instances (wait or fail); True when nothing blocks it."""
    if not result.blocking:
        return True
    if task.get("task_action_on_blocking_instances") == "FAIL_TASK":
        _set_status(task, "FAILED", now)
        task["failed"] = {
            "type": "BLOCKING_INSTANCES_NOT_EVACUATED",
            "reason": f"{len(result.blocking)} running instances block the capacity task.",
        }
        task["_blocking"] = _blocking_entries(result.blocking)
    elif task["capacity_task_status"] != "WAITING_FOR_EVACUATION":
        _set_status(task, "WAITING_FOR_EVACUATION", now)
        task["_waiting_since"] = now
    return False


def step(store: StateStore, scope: str, task: dict[str, Any], lifecycle_seconds: float, now: float) -> bool:
    """Advance a task one lifecycle step if it is due; True when the task changed (caller stores it)."""
    status = task["capacity_task_status"]
    if status not in ACTIVE_TASK_STATUSES or now - task.get("_status_since", now) < lifecycle_seconds:
        return False
    if status == "CANCELLATION_IN_PROGRESS":
        _set_status(task, "CANCELLED", now)
        return True
    result = evaluate(store, scope, task)
    if result.failure is not None:
        _set_status(task, "FAILED", now)
        task["failed"] = {"type": result.failure[0], "reason": result.failure[1][:128]}
        return True
    if not _after_evaluation(task, result, now):
        window = EVACUATION_WINDOW_SECONDS * lifecycle_seconds / REFERENCE_LIFECYCLE_SECONDS
        if task["capacity_task_status"] == "WAITING_FOR_EVACUATION" and now - task["_waiting_since"] >= window:
            _set_status(task, "FAILED", now)
            task["failed"] = {
                "type": "BLOCKING_INSTANCES_NOT_EVACUATED",
                "reason": "Blocking instances were not stopped within the evacuation window.",
            }
            task["_blocking"] = _blocking_entries(result.blocking)
        else:
            task["_status_since"] = now
        return True
    if status == "IN_PROGRESS":
        _apply(store, scope, task, result)
        _set_status(task, "COMPLETED", now)
        task["completion_date"] = now
    else:
        _set_status(task, "IN_PROGRESS", now)
    return True
