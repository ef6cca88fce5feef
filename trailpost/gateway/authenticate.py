"""The authenticate step: SigV4 -> a ``Principal``, and each failure as its protocol words it.

AWS's JSON-protocol services (json, rest-json) answer ``MissingAuthenticationTokenException``,
``IncompleteSignatureException``, ``UnrecognizedClientException`` (unknown key),
``InvalidSignatureException`` (bad or expired signature) and ``ExpiredTokenException``; the query
(IAM, STS) and rest-xml (S3) protocols will add their own rows to ``AUTH_ERRORS``.
"""

from __future__ import annotations

from datetime import UTC, datetime

from trailpost.gateway.context import RequestContext
from trailpost.identity.accounts import AccountRegistry
from trailpost.identity.principal import Principal
from trailpost.identity.sigv4 import AuthFailure, SignedRequest, check_freshness, verify_signature
from trailpost.protocol import errors
from trailpost.protocol.errors import ServiceError

AUTH_ERRORS: dict[str, dict[str, type[ServiceError]]] = {
    "json": {
        "missing": errors.MissingAuthenticationTokenException,
        "incomplete": errors.IncompleteSignatureException,
        "unknown_key": errors.UnrecognizedClientException,
        "signature": errors.InvalidSignatureException,
        "expired": errors.InvalidSignatureException,
        "expired_token": errors.ExpiredTokenException,
    },
}
AUTH_ERRORS["rest-json"] = AUTH_ERRORS["json"]


def auth_error(protocol: str, failure: AuthFailure) -> ServiceError:
    """``failure`` as the error the given protocol returns for it."""
    table = AUTH_ERRORS.get(protocol, AUTH_ERRORS["json"])
    return table[failure.reason](failure.message)


def authenticate(ctx: RequestContext, signed: SignedRequest, registry: AccountRegistry) -> Principal:
    """Verify ``signed`` against the stored secret; the caller's principal, or ``AuthFailure``."""
    check_freshness(signed, datetime.now(UTC))
    found = registry.lookup_key(signed.access_key_id)
    if found is None:
        raise AuthFailure("unknown_key", "The security token included in the request is invalid.")
    secret, principal = found
    verify_signature(ctx.request, signed, secret)
    return principal
