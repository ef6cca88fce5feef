"""Where Outposts keeps its resources, and lookups every operation family shares.

Each resource is a snake_case document in the state store, scoped ``<account>/<region>``; member
names match the model's output shapes (so a document converts to the wire as it is) plus private
bookkeeping fields prefixed ``_`` that never reach the wire. Timestamps are epoch seconds.

==================  ==============  =====================================================
kind                key             document (besides the output-shape members)
==================  ==============  =====================================================
outposts.site       site id         ``operating_address``/``shipping_address`` (Address),
                                    ``_created``
outposts.outpost    outpost id      ``_created``, ``_decommission`` (None | REQUESTED |
                                    COMPLETED), ``_status_since``
outposts.order      order id        ``_status_since`` (epoch of the last status change),
                                    ``_step`` (lifecycle step), ``_capacity_plan`` (slots
                                    per host from a capacity task run before install)
outposts.asset      asset id        AssetInfo members + ``outpost_id``, ``order_id``,
                                    ``line_item_id``, ``_state``, ``_mac_addresses``;
                                    COMPUTE: ``_max_size``, ``_host_index``
outposts.instance   instance id     AssetInstance members + ``outpost_id``
outposts.capacity   task id         GetCapacityTaskOutput members, ``_status_since``,
                                    ``_waiting_since``, ``_blocking`` (BlockingInstances
                                    of a task failed by them)
outposts.quote      quote id        ``_outpost_id``, ``_snapshot``, ``_planning``; each of
                                    ``quote_options`` has ``_line_items`` (catalog_item_id,
                                    quantity) and ``_generations``; ``quote_status`` is
                                    stored CREATED | ORDER_SUBMITTED (EXPIRED and the
                                    requirements: ``quotes.view``)
outposts.connection connection id   ``asset_id``, ``connection_details``,
                                    ``underlay_ip_address``, ``_server_private_key``
outposts.private    outpost id      PrivateConnectivityConfig members
outposts.renewal    outpost id      ``subscriptions`` (RENEWAL Subscriptions + payment
                                    option/term, ``_client_token``, ``_result``)
==================  ==============  =====================================================
"""

from __future__ import annotations

from typing import Any

from trailpost.gateway.context import RequestContext
from trailpost.services.outposts import ids
from trailpost.services.outposts.errors import NotFoundException
from trailpost.store.base import iter_all

SITE = "outposts.site"
OUTPOST = "outposts.outpost"
ORDER = "outposts.order"
ASSET = "outposts.asset"
INSTANCE = "outposts.instance"
CAPACITY_TASK = "outposts.capacity"
QUOTE = "outposts.quote"
CONNECTION = "outposts.connection"
PRIVATE_CONNECTIVITY = "outposts.private"
RENEWAL = "outposts.renewal"

# Order statuses in which an order still holds its outpost (cannot delete, decommission blocks).
ACTIVE_ORDER_STATUSES = frozenset(
    {"RECEIVED", "PENDING", "PROCESSING", "INSTALLING", "PREPARING", "IN_PROGRESS", "DELIVERED"}
)
# Capacity task statuses that are not final.
ACTIVE_TASK_STATUSES = frozenset({"REQUESTED", "IN_PROGRESS", "WAITING_FOR_EVACUATION", "CANCELLATION_IN_PROGRESS"})


def public(doc: dict[str, Any]) -> dict[str, Any]:
    """A document without its private ``_`` fields."""
    return {k: v for k, v in doc.items() if not k.startswith("_")}


def get_site(ctx: RequestContext, site_id_or_arn: str) -> dict[str, Any]:
    """The caller's site named by id or ARN, or ``NotFoundException``."""
    site_id = ids.resolve(ctx, site_id_or_arn, "site")
    doc = ctx.store.get(SITE, ctx.scope, site_id) if site_id else None
    if doc is None:
        raise NotFoundException(f"Site {site_id_or_arn} not found.")
    return doc


def get_outpost(ctx: RequestContext, outpost_id_or_arn: str) -> dict[str, Any]:
    """The caller's outpost named by id or ARN, or ``NotFoundException``."""
    outpost_id = ids.resolve(ctx, outpost_id_or_arn, "outpost")
    doc = ctx.store.get(OUTPOST, ctx.scope, outpost_id) if outpost_id else None
    if doc is None:
        raise NotFoundException(f"Outpost {outpost_id_or_arn} not found.")
    return doc


def get_quote(ctx: RequestContext, quote_id_or_arn: str) -> dict[str, Any]:
    """The caller's quote named by id or ARN, or ``NotFoundException``."""
    quote_id = ids.resolve(ctx, quote_id_or_arn, "quote")
    doc = ctx.store.get(QUOTE, ctx.scope, quote_id) if quote_id else None
    if doc is None:
        raise NotFoundException(f"Quote {quote_id_or_arn} not found.")
    return doc


def docs(ctx: RequestContext, kind: str) -> list[dict[str, Any]]:
    """Every document of ``kind`` in the caller's account and region, oldest first."""
    return [entry.doc for entry in iter_all(ctx.store, kind, ctx.scope)]


def outposts_of_site(ctx: RequestContext, site_id: str) -> list[dict[str, Any]]:
    return [doc for doc in docs(ctx, OUTPOST) if doc["site_id"] == site_id]


def orders_of(ctx: RequestContext, outpost_id: str) -> list[dict[str, Any]]:
    return [doc for doc in docs(ctx, ORDER) if doc["outpost_id"] == outpost_id]


def active_orders(ctx: RequestContext, outpost_id: str) -> list[dict[str, Any]]:
    return [doc for doc in orders_of(ctx, outpost_id) if doc["status"] in ACTIVE_ORDER_STATUSES]


def active_capacity_tasks(ctx: RequestContext, outpost_id: str) -> list[dict[str, Any]]:
    return [
        doc
        for doc in docs(ctx, CAPACITY_TASK)
        if doc["outpost_id"] == outpost_id and doc["capacity_task_status"] in ACTIVE_TASK_STATUSES
    ]


def assets_of(ctx: RequestContext, outpost_id: str) -> list[dict[str, Any]]:
    return [doc for doc in docs(ctx, ASSET) if doc["outpost_id"] == outpost_id]


def instances_of(ctx: RequestContext, outpost_id: str) -> list[dict[str, Any]]:
    return [doc for doc in docs(ctx, INSTANCE) if doc["outpost_id"] == outpost_id]
