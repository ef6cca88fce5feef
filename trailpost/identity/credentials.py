"""Temporary security credentials (STS): issuing them, storing them and checking them on later calls.

A session is ``("identity.session", "", <access key id>)``:

* ``access_key_id`` ``ASIA`` + 16 characters of ``A-Z2-7``; ``secret_access_key`` 40 characters;
* ``token_digest`` - the SHA-256 of the session token. The token itself (``IQoJb3JpZ2luX2Vj``
  followed by base64 of 560 random bytes, ~770 characters: opaque, unguessable, shaped like
  AWS's) is handed to the caller once and recorded in CloudTrail, as AWS records it, but never
  stored; a stolen state database cannot replay it;
* ``created`` and ``expiration`` (epoch seconds of the server clock, ``now``);
* ``principal`` - the caller as records show it (type, ARN, principal id, session context);
* ``grant`` - what the credentials may do: ``kind`` (``role``, ``user``, ``root``,
  ``federated``), the role's or user's name and id, ``session_policies`` (document texts),
  ``tags``, ``mfa``, ``via`` (the STS operation that issued them).

Rules, applied by ``check`` when a request is signed with a temporary key: the request must carry
the session token of that very key (``X-Amz-Security-Token``); a missing, altered or foreign token
is "The security token included in the request is invalid." (``InvalidClientTokenId`` /
``UnrecognizedClientException``); a session at or past its expiration is "The security token
included in the request is expired" (``ExpiredToken`` / ``ExpiredTokenException``), whatever the
signature. Expired sessions are kept, so an old token keeps getting the expired answer.

Time: ``now`` is the host clock plus the ``clock_offset_seconds`` setting - the one clock that
issues, expires and (through the SigV4 window) authenticates credentials.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from trailpost.identity.keys import new_access_key_id, new_secret_access_key
from trailpost.identity.principal import Principal, SessionContext
from trailpost.identity.sigv4 import AuthFailure
from trailpost.protocol.timestamps import iso8601_epoch
from trailpost.store.base import StateStore

if TYPE_CHECKING:
    from trailpost.config import Settings

SESSION = "identity.session"
TEMPORARY_PREFIX = "ASIA"
TOKEN_PREFIX = b"!\n\torigin_ec"  # base64: "IQoJb3JpZ2luX2Vj", how AWS's current tokens begin
TOKEN_RANDOM_BYTES = 560
INVALID_TOKEN = "The security token included in the request is invalid."
EXPIRED_TOKEN = "The security token included in the request is expired"


@dataclass(frozen=True, slots=True)
class Issued:
    """Credentials just issued: the only moment the secret and the token are known in full."""

    access_key_id: str
    secret_access_key: str
    session_token: str
    created: float
    expiration: float

    def as_result(self) -> dict[str, Any]:
        """The ``Credentials`` structure of STS responses."""
        return {
            "access_key_id": self.access_key_id,
            "secret_access_key": self.secret_access_key,
            "session_token": self.session_token,
            "expiration": self.expiration,
        }


def now(settings: Settings) -> float:
    """The server's clock: the host clock plus ``clock_offset_seconds``."""
    return time.time() + settings.clock_offset_seconds


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_session_token() -> str:
    return base64.b64encode(TOKEN_PREFIX + secrets.token_bytes(TOKEN_RANDOM_BYTES)).decode()


def issue(
    store: StateStore,
    *,
    principal: dict[str, Any],
    grant: dict[str, Any],
    created: float,
    duration: int,
) -> Issued:
    """Store a new session for ``principal`` with ``grant``, valid ``duration`` seconds from ``created``."""
    while True:
        key_id = new_access_key_id(TEMPORARY_PREFIX)
        if store.get(SESSION, "", key_id) is None:
            break
    issued = Issued(key_id, new_secret_access_key(), new_session_token(), created, created + duration)
    store.put(
        SESSION,
        "",
        key_id,
        {
            "access_key_id": key_id,
            "secret_access_key": issued.secret_access_key,
            "token_digest": _digest(issued.session_token),
            "account_id": principal["account_id"],
            "created": created,
            "expiration": issued.expiration,
            "principal": principal,
            "grant": grant,
        },
    )
    return issued


def lookup(store: StateStore, access_key_id: str) -> dict[str, Any] | None:
    """The session of a temporary key, or ``None`` (not a temporary key trailpost issued)."""
    if not access_key_id.startswith(TEMPORARY_PREFIX):
        return None
    return store.get(SESSION, "", access_key_id)


def check(session: dict[str, Any], token: str | None, at: float) -> Principal:
    """The caller of a request signed with ``session``'s key and carrying ``token`` at time ``at``."""
    if not token or not hmac.compare_digest(_digest(token), session["token_digest"]):
        raise AuthFailure("unknown_key", INVALID_TOKEN)
    if at >= session["expiration"]:
        raise AuthFailure("expired_token", EXPIRED_TOKEN)
    return principal_of(session)


def principal_of(session: dict[str, Any]) -> Principal:
    data = session["principal"]
    context = data["session"]
    return Principal(
        account_id=data["account_id"],
        identity_type=data["identity_type"],
        arn=data["arn"],
        principal_id=data["principal_id"],
        access_key_id=session["access_key_id"],
        user_name=data.get("user_name"),
        session=SessionContext(
            creation_date=context["creation_date"],
            issuer=context.get("issuer"),
            mfa_authenticated=bool(context.get("mfa_authenticated")),
            source_identity=context.get("source_identity"),
            web_identity=context.get("web_identity"),
        ),
        grant=dict(session["grant"]),
    )


def session_principal(
    *,
    account_id: str,
    identity_type: str,
    arn: str,
    principal_id: str,
    created: float,
    issuer: dict[str, Any],
    mfa: bool = False,
    user_name: str | None = None,
    source_identity: str | None = None,
    web_identity: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The stored form of a temporary caller (``credentials.principal_of`` reads it back)."""
    return {
        "account_id": account_id,
        "identity_type": identity_type,
        "arn": arn,
        "principal_id": principal_id,
        "user_name": user_name,
        "session": {
            "creation_date": iso8601_epoch(created),
            "issuer": issuer,
            "mfa_authenticated": mfa,
            "source_identity": source_identity,
            "web_identity": web_identity,
        },
    }


def may_call_iam(grant: dict[str, Any]) -> bool:
    """IAM answers credentials of GetFederationToken, and of GetSessionToken without MFA, as if
    their token were invalid (AWS: such credentials "cannot call IAM API operations")."""
    if grant.get("via") == "GetFederationToken":
        return False
    return not (grant.get("via") == "GetSessionToken" and not grant.get("mfa"))
