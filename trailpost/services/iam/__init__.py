"""AWS Identity and Access Management (query, 2010-05-08): users, access keys, roles, groups, policies.

IAM is global: entities belong to an account, not a region, and its calls are recorded in
us-east-1 with the event source ``iam.amazonaws.com``. Each module owns one family of operations
and registers its handlers in ``operations.ops``; importing this package imports them all.
"""

from __future__ import annotations

from trailpost.services.base import ServiceBinding, bind_service
from trailpost.services.iam import (  # noqa: F401 - importing registers the handlers
    access_keys,
    entity_policies,
    groups,
    managed_policies,
    oidc_providers,
    roles,
    tags_and_boundaries,
    users,
)
from trailpost.services.iam.operations import ops


def binding() -> ServiceBinding:
    return bind_service(ops)
