"""AWS Outposts (rest-json, 2019-12-03): sites, outposts, catalog, orders, assets, capacity, quotes...

Each module owns one family of operations and registers its handlers in ``operations.ops``;
importing this package imports them all. ``binding()`` returns the service ready to serve.
"""

from __future__ import annotations

from trailpost.services.base import ServiceBinding, bind_service
from trailpost.services.outposts import outpost, sites, tags  # noqa: F401 - registers handlers
from trailpost.services.outposts.operations import ops


def binding() -> ServiceBinding:
    return bind_service(ops)
