"""The authenticate step: SigV4 -> a ``Principal``, and each failure as its protocol words it.

Order of checks (``authenticate``): the credential scope (terminator, service, region), the scope
date and the 15-minute clock skew, the access key (unknown or deactivated keys, and a session
token sent with a long-term key, are all "The security token included in the request is
invalid."), then the signature itself. Account and region of the call come only from the
verified key and its scope.

AWS's JSON-protocol services (json, rest-json) answer ``MissingAuthenticationTokenException``
(403), ``IncompleteSignatureException`` (400), ``UnrecognizedClientException`` (403, unknown
key), ``InvalidSignatureException`` (403, bad or expired signature, wrong scope) and
``ExpiredTokenException``; the query protocol (IAM, STS) answers with its own codes.
"""

from __future__ import annotations

from datetime import UTC, datetime

from trailpost.gateway.context import RequestContext
from trailpost.identity.accounts import AccountRegistry
from trailpost.identity.principal import Principal
from trailpost.identity.sigv4 import AuthFailure, SignedRequest, check_freshness, check_scope, verify_signature
from trailpost.protocol import errors
from trailpost.protocol.errors import ServiceError

INVALID_TOKEN = "The security token included in the request is invalid."


def _query_error(code: str, status: int) -> type[ServiceError]:
    return type(code, (ServiceError,), {"code": code, "status": status, "sender_fault": True})


AUTH_ERRORS: dict[str, dict[str, type[ServiceError]]] = {
    "json": {
        "missing": errors.MissingAuthenticationTokenException,
        "incomplete": errors.IncompleteSignatureException,
        "unknown_key": errors.UnrecognizedClientException,
        "signature": errors.InvalidSignatureException,
        "expired": errors.InvalidSignatureException,
        "expired_token": errors.ExpiredTokenException,
    },
    "query": {
        "missing": _query_error("MissingAuthenticationToken", 403),
        "incomplete": _query_error("IncompleteSignature", 400),
        "unknown_key": _query_error("InvalidClientTokenId", 403),
        "signature": _query_error("SignatureDoesNotMatch", 403),
        "expired": _query_error("SignatureDoesNotMatch", 403),
        "expired_token": _query_error("ExpiredToken", 403),
    },
}
AUTH_ERRORS["rest-json"] = AUTH_ERRORS["json"]


def auth_error(protocol: str, failure: AuthFailure) -> ServiceError:
    """``failure`` as the error the given protocol returns for it."""
    table = AUTH_ERRORS.get(protocol, AUTH_ERRORS["json"])
    return table[failure.reason](failure.message)


def authenticate(
    ctx: RequestContext, signed: SignedRequest, registry: AccountRegistry, now: datetime | None = None
) -> Principal:
    """Verify ``signed`` for ``ctx.service`` against the stored secret; the caller, or ``AuthFailure``."""
    assert ctx.service is not None, "authenticate runs after routing"
    check_scope(signed, ctx.service.signing_name)
    check_freshness(signed, now or datetime.now(UTC))
    found = registry.lookup_key(signed.access_key_id)
    if found is None:
        raise AuthFailure("unknown_key", INVALID_TOKEN)
    if signed.security_token is not None:
        # Every key in the registry is long-term; temporary (STS) keys will be looked up by their
        # own registry together with their session token.
        raise AuthFailure("unknown_key", INVALID_TOKEN)
    secret, principal = found
    verify_signature(ctx.request, signed, secret)
    return principal
