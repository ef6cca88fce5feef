"""The ``userIdentity`` element: who made the request, per identity type, as CloudTrail writes it.

* ``Root``: ``principalId`` is the account id; no ``userName``.
* ``IAMUser``: the user's ``AIDA…`` id and its ``userName``.
* ``AssumedRole``: ``principalId`` ``AROA…:<session>``, the ``assumed-role`` ARN, no ``userName``.
* ``FederatedUser``: ``principalId`` ``<account>:<name>``, the ``federated-user`` ARN.
* ``WebIdentityUser`` (the unsigned AssumeRoleWithWebIdentity call): ``principalId``
  ``<provider>:<audience>:<subject>``, ``userName`` the subject, ``identityProvider``; no ARN,
  account or key.

Temporary credentials (every type but ``WebIdentityUser`` can hold them) add ``sessionContext``
in CloudTrail's order: ``sessionIssuer`` (``{}`` for GetSessionToken credentials, the role or
federating user otherwise), ``webIdFederationData`` (``{}``, or the provider for web identity
sessions), ``attributes`` (``creationDate`` ``YYYY-MM-DDTHH:MM:SSZ`` then ``mfaAuthenticated``
as the *string* ``"true"``/``"false"``), then ``sourceIdentity`` when one was set - the shapes of
the recorded AWS events (``aws-recorded/identity-event-records.json``). Calls trailpost makes on
a user's behalf add ``invokedBy``.
"""

from __future__ import annotations

from typing import Any

from trailpost.identity.principal import Principal


def user_identity(principal: Principal, *, invoked_by: str | None = None) -> dict[str, Any]:
    """The ``userIdentity`` object of a record for ``principal``."""
    if principal.identity_type == "WebIdentityUser":
        return {
            "type": "WebIdentityUser",
            "principalId": principal.principal_id,
            "userName": principal.user_name,
            "identityProvider": principal.identity_provider,
        }
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
        context: dict[str, Any] = {
            "sessionIssuer": dict(session.issuer or {}),
            "webIdFederationData": dict(session.web_identity or {}),
            "attributes": {
                "creationDate": session.creation_date,
                "mfaAuthenticated": "true" if session.mfa_authenticated else "false",
            },
        }
        if session.source_identity:
            context["sourceIdentity"] = session.source_identity
        identity["sessionContext"] = context
    if invoked_by:
        identity["invokedBy"] = invoked_by
    return identity
