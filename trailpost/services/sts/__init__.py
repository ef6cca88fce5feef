"""AWS Security Token Service (query, 2011-06-15): temporary credentials and the caller's identity.

STS calls are recorded in the region the request was signed for (us-east-1 for the unsigned
AssumeRoleWithWebIdentity) with the event source ``sts.amazonaws.com``. ``sessions`` owns the
calls made with keys, ``web_identity`` the one made with an OpenID Connect token; ``trust`` and
``session_policies`` are what they share.
"""

from __future__ import annotations

from trailpost.services.base import ServiceBinding, bind_service
from trailpost.services.sts import sessions, web_identity  # noqa: F401 - importing registers the handlers
from trailpost.services.sts.operations import ops


def binding() -> ServiceBinding:
    return bind_service(ops)
