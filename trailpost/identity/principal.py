"""The verified caller of a request: account, identity type and the key that signed it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Principal:
    """A caller as authentication established it.

    ``identity_type`` follows CloudTrail's ``userIdentity.type`` (``Root``, ``IAMUser``...);
    ``arn`` is the caller's ARN and ``principal_id`` its unique id (the account id for root).
    """

    account_id: str
    identity_type: str
    arn: str
    principal_id: str
    access_key_id: str
    user_name: str | None = None

    @property
    def is_root(self) -> bool:
        return self.identity_type == "Root"
