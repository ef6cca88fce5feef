"""The list of services trailpost serves, in one place."""

from __future__ import annotations

from trailpost.services import cloudtrail, iam, outposts, s3, sts
from trailpost.services.base import ServiceBinding


def build_services() -> list[ServiceBinding]:
    """Every served service, bound to its model and ready for the gateway."""
    # S3 last: its routes (``/{Bucket}``) would catch unsigned requests meant for the others.
    return [outposts.binding(), cloudtrail.binding(), iam.binding(), sts.binding(), s3.binding()]
