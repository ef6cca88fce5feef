"""Background lifecycle of orders, capacity tasks and decommissions, advanced by the worker (TICKERS).

The worker calls every ticker as ``ticker(store, settings, now)`` about four times per
``settings.lifecycle_seconds``. Each ticker walks its kind in every scope and moves each due
resource exactly one step (a resource is due once ``lifecycle_seconds`` have passed since its last
status change, ``_status_since``), each resource in its own transaction so that one failure or a
concurrent API call cannot tear a step:

* orders: PREPARING -> IN_PROGRESS -> DELIVERED -> COMPLETED with their line items
  (``orders.advance``; installing creates the assets);
* capacity tasks: REQUESTED -> IN_PROGRESS -> COMPLETED, WAITING_FOR_EVACUATION while instances
  block, CANCELLATION_IN_PROGRESS -> CANCELLED (``capacity.step``);
* decommissions: an outpost that ``StartOutpostDecommission`` made ``RETIRING`` (``_decommission``
  REQUESTED) becomes ``RETIRED`` one step later (``_decommission`` COMPLETED) and its assets
  ``RETIRING`` (the hardware awaits pickup).
"""

from __future__ import annotations

import logging
from typing import Any

from trailpost.services.base import Ticker
from trailpost.services.outposts import assets, capacity, orders
from trailpost.services.outposts.resources import ACTIVE_TASK_STATUSES, CAPACITY_TASK, ORDER, OUTPOST
from trailpost.store.base import StateStore, iter_all

log = logging.getLogger("trailpost.outposts.lifecycle")


def _due_keys(store: StateStore, kind: str, scope: str, due: Any) -> list[str]:
    return [entry.key for entry in iter_all(store, kind, scope) if due(entry.doc)]


def tick_orders(store: StateStore, settings: Any, now: float) -> None:
    """Advance every due active order one step."""
    seconds = settings.lifecycle_seconds
    for scope in store.scopes(ORDER):
        for key in _due_keys(store, ORDER, scope, lambda doc: orders.due(doc, seconds, now)):
            with store.transaction():
                order = store.get(ORDER, scope, key)
                if order is not None and orders.due(order, seconds, now):
                    orders.advance(store, scope, order, now)


def _task_due(task: dict[str, Any], seconds: float, now: float) -> bool:
    return task["capacity_task_status"] in ACTIVE_TASK_STATUSES and (now - task.get("_status_since", now) >= seconds)


def tick_capacity_tasks(store: StateStore, settings: Any, now: float) -> None:
    """Advance every due capacity task one step."""
    seconds = settings.lifecycle_seconds
    for scope in store.scopes(CAPACITY_TASK):
        for key in _due_keys(store, CAPACITY_TASK, scope, lambda doc: _task_due(doc, seconds, now)):
            with store.transaction():
                task = store.get(CAPACITY_TASK, scope, key)
                if task is not None and capacity.step(store, scope, task, seconds, now):
                    store.put(CAPACITY_TASK, scope, key, task)


def _decommission_due(outpost: dict[str, Any], seconds: float, now: float) -> bool:
    return (
        outpost.get("life_cycle_status") == "RETIRING"
        and outpost.get("_decommission") == "REQUESTED"
        and now - outpost.get("_status_since", now) >= seconds
    )


def tick_decommissions(store: StateStore, settings: Any, now: float) -> None:
    """Retire every outpost whose decommission request is one step old."""
    seconds = settings.lifecycle_seconds
    for scope in store.scopes(OUTPOST):
        for key in _due_keys(store, OUTPOST, scope, lambda doc: _decommission_due(doc, seconds, now)):
            with store.transaction():
                outpost = store.get(OUTPOST, scope, key)
                if outpost is None or not _decommission_due(outpost, seconds, now):
                    continue
                outpost["life_cycle_status"] = "RETIRED"
                outpost["_decommission"] = "COMPLETED"
                outpost["_status_since"] = now
                store.put(OUTPOST, scope, key, outpost)
                assets.set_outpost_assets_state(store, scope, key, "RETIRING")


TICKERS: list[Ticker] = [tick_orders, tick_capacity_tasks, tick_decommissions]
