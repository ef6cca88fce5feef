"""AWS Outposts (rest-json, 2019-12-03): sites, outposts, catalog, orders, assets, capacity, quotes...

Each module owns one family of operations and registers its handlers in ``operations.ops``;
importing this package imports them all. ``binding()`` returns the service ready to serve, with
the lifecycle tickers the background worker runs.
"""

from __future__ import annotations

from trailpost.services.base import ServiceBinding, bind_service
from trailpost.services.outposts import (  # noqa: F401 - importing registers the handlers
    assets,
    billing,
    capacity,
    catalog,
    connectivity,
    lifecycle,
    orders,
    outpost,
    quotes,
    simulation,
    sites,
    tags,
)
from trailpost.services.outposts.operations import ops


def binding() -> ServiceBinding:
    return bind_service(ops, tickers=lifecycle.TICKERS)
