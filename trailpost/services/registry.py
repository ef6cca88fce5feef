"""The list of services trailpost serves, in one place."""

from __future__ import annotations

from trailpost.services import cloudtrail, iam, outposts, sts
from trailpost.services.base import ServiceBinding


def build_services() -> list[ServiceBinding]:
    """Every served service, bound to its model and ready for the gateway."""
    return [outposts.binding(), cloudtrail.binding(), iam.binding(), sts.binding()]
