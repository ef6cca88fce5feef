"""The ``userIdentity`` element: who made the request, per identity type, as CloudTrail writes it.

Root: ``principalId`` is the account id and there is no ``userName``. IAM users carry their
``AIDA…`` id and name. Temporary credentials (``AssumedRole``, ``FederatedUser``) carry a
``sessionContext`` with the issuer, ``attributes.mfaAuthenticated`` as a *string* and the
session's ``creationDate``. Calls trailpost makes on a user's behalf add ``invokedBy``.
"""

from __future__ import annotations

from typing import Any

from trailpost.identity.principal import Principal


def user_identity(principal: Principal, *, invoked_by: str | None = None) -> dict[str, Any]:
    """The ``userIdentity`` object of a record for ``principal``."""
    identity: dict[str, Any] = {
        "type": principal.identity_type,
        "principalId": principal.principal_id,
        "arn": principal.arn,
        "accountId": principal.account_id,
        "accessKeyId": principal.access_key_id,
    }
    if principal.identity_type == "IAMUser" and principal.user_name:
        identity["userName"] = principal.user_name
    session = principal.session
    if session is not None:
        context: dict[str, Any] = {}
        if session.issuer is not None:
            context["sessionIssuer"] = dict(session.issuer)
        if principal.identity_type == "AssumedRole":
            context["webIdFederationData"] = dict(session.web_identity or {})
        context["attributes"] = {
            "creationDate": session.creation_date,
            "mfaAuthenticated": "true" if session.mfa_authenticated else "false",
        }
        if session.source_identity:
            context["sourceIdentity"] = session.source_identity
        identity["sessionContext"] = context
    if invoked_by:
        identity["invokedBy"] = invoked_by
    return identity
