"""The verified caller of a request: account, identity type and the key that signed it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class SessionContext:
    """What temporary credentials carry: who issued them, when, and how.

    ``issuer`` is CloudTrail's ``sessionIssuer`` object (``type``, ``principalId``, ``arn``,
    ``accountId``, ``userName``); ``creation_date`` is ``YYYY-MM-DDTHH:MM:SSZ``.
    """

    creation_date: str
    issuer: dict[str, Any] | None = None
    mfa_authenticated: bool = False
    source_identity: str | None = None
    web_identity: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Principal:
    """A caller as authentication established it.

    ``identity_type`` follows CloudTrail's ``userIdentity.type`` (``Root``, ``IAMUser``,
    ``AssumedRole``, ``FederatedUser``, and ``WebIdentityUser`` for the unsigned
    AssumeRoleWithWebIdentity call); ``arn`` is the caller's ARN and ``principal_id`` its unique
    id (the account id for root, ``AIDA…`` for users, ``AROA…:session`` for role sessions).
    ``identity_provider`` names a web identity caller's provider. ``grant`` is what temporary
    credentials may do (``identity.credentials``: the role, user or federation they came from and
    their session policies); ``None`` for long-term keys.
    """

    account_id: str
    identity_type: str
    arn: str
    principal_id: str
    access_key_id: str
    user_name: str | None = None
    session: SessionContext | None = None
    identity_provider: str | None = None
    grant: dict[str, Any] | None = field(default=None, compare=False)

    @property
    def is_root(self) -> bool:
        return self.identity_type == "Root"
