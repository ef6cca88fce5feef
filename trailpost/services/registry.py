"""The list of services trailpost serves, in one place."""

from __future__ import annotations

from trailpost.services import outposts
from trailpost.services.base import ServiceBinding


def build_services() -> list[ServiceBinding]:
    """Every served service, bound to its model and ready for the gateway."""
    return [outposts.binding()]
