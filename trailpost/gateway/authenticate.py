"""The authenticate step: SigV4 -> a ``Principal``, and each failure as its protocol words it.

Order of checks (``authenticate``): the credential scope (terminator, service, region), the scope
date and the 15-minute clock skew (against the server clock, ``credentials.now``), the access key,
then the signature itself. Account and region of the call come only from the verified key and its
scope. Accounts live in the ``aws`` partition (``identity.partitions``): a scope naming a region of
another partition (``cn-north-1``, ``us-gov-west-1``) is an unknown key there. Keys:

* a long-term key (``AKIA…``) must be known and ``Active``; it stands for the root user or its IAM
  user. An unknown or deactivated key, and a session token sent with a long-term key, are all
  "The security token included in the request is invalid.";
* a temporary key (``ASIA…``) must come with its own session token and be unexpired
  (``credentials.check``: invalid, or "The security token included in the request is expired").
  IAM refuses credentials of GetFederationToken, and of GetSessionToken without MFA, the same way
  as an invalid token, as AWS does.

``unsigned_principal`` admits the one call AWS takes unsigned, STS AssumeRoleWithWebIdentity: its
caller is the ``WebIdentityUser`` its token names (``services.sts.web_identity``), recorded in the
account of the role it asks for, in us-east-1 (an unsigned request names no region).

AWS's JSON-protocol services (json, rest-json) answer ``MissingAuthenticationTokenException``
(403), ``IncompleteSignatureException`` (400), ``UnrecognizedClientException`` (403, unknown
key), ``InvalidSignatureException`` (403, bad or expired signature, wrong scope) and
``ExpiredTokenException``; the query protocol (IAM, STS) answers with its own codes, and S3
(rest-xml) with its own in its XML shape (``AccessDenied``, ``InvalidAccessKeyId``,
``SignatureDoesNotMatch``, ``RequestTimeTooSkewed``, ``AuthorizationHeaderMalformed``...). For
S3, ``services.s3.payload`` checks ``x-amz-content-sha256`` and decodes aws-chunked bodies right
after the signature is verified.
"""

from __future__ import annotations

from datetime import UTC, datetime

from trailpost.gateway.context import RequestContext
from trailpost.identity import credentials, partitions
from trailpost.identity.accounts import AccountRegistry
from trailpost.identity.principal import Principal
from trailpost.identity.sigv4 import AuthFailure, SignedRequest, check_freshness, check_scope, verify_signature
from trailpost.protocol import errors
from trailpost.protocol.errors import ServiceError
from trailpost.protocol.query import form_pairs, query_action

INVALID_TOKEN = credentials.INVALID_TOKEN
UNSIGNED_REGION = "us-east-1"


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
# S3 (rest-xml) answers in its XML error shape with its own codes; an expired presigned URL is
# AccessDenied "Request has expired".
AUTH_ERRORS["rest-xml"] = {
    "missing": _query_error("AccessDenied", 403),
    "incomplete": _query_error("AuthorizationHeaderMalformed", 400),
    "presigned_incomplete": _query_error("AuthorizationQueryParametersError", 400),
    "unknown_key": _query_error("InvalidAccessKeyId", 403),
    "signature": _query_error("SignatureDoesNotMatch", 403),
    "expired": _query_error("RequestTimeTooSkewed", 403),
    "request_expired": _query_error("AccessDenied", 403),
    "expired_token": _query_error("ExpiredToken", 400),
}
S3_MESSAGES = {
    "missing": "Access Denied",
    "unknown_key": "The AWS Access Key Id you provided does not exist in our records.",
    "signature": "The request signature we calculated does not match the signature you provided. "
    "Check your key and signing method.",
    "expired_token": "The provided token has expired.",
}


def auth_error(protocol: str, failure: AuthFailure) -> ServiceError:
    """``failure`` as the error the given protocol returns for it."""
    table = AUTH_ERRORS.get(protocol, AUTH_ERRORS["json"])
    reason = failure.reason
    if reason not in table:
        reason = {"presigned_incomplete": "incomplete", "request_expired": "expired"}.get(reason, "signature")
    message = failure.message
    if protocol == "rest-xml" and reason in S3_MESSAGES and not message.startswith("Credential should be scoped"):
        message = S3_MESSAGES[reason]
    return table[reason](message)


def authenticate(
    ctx: RequestContext, signed: SignedRequest, registry: AccountRegistry, now: datetime | None = None
) -> Principal:
    """Verify ``signed`` for ``ctx.service`` against the stored secret; the caller, or ``AuthFailure``."""
    assert ctx.service is not None, "authenticate runs after routing"
    check_scope(signed, ctx.service.signing_name)
    moment = now or datetime.fromtimestamp(credentials.now(ctx.settings), UTC)
    check_freshness(signed, moment)
    if not partitions.served(signed.region):
        # trailpost's accounts live in the aws partition: their keys do not exist in aws-cn, aws-us-gov...
        raise AuthFailure("unknown_key", INVALID_TOKEN)
    session = credentials.lookup(ctx.store, signed.access_key_id)
    if session is not None:
        principal = credentials.check(session, signed.security_token, moment.timestamp())
        if not ctx.request.verified:  # a reader process verified it already
            verify_signature(ctx.request, signed, session["secret_access_key"])
        _check_s3_payload(ctx, signed, session["secret_access_key"])
        if ctx.service.name == "iam" and not credentials.may_call_iam(session["grant"]):
            raise AuthFailure("unknown_key", INVALID_TOKEN)
        return principal
    found = registry.lookup_key(signed.access_key_id)
    if found is None or signed.security_token is not None:
        # Unknown, deactivated, deleted - or a long-term key presented with a session token.
        raise AuthFailure("unknown_key", INVALID_TOKEN)
    secret, principal = found
    if not ctx.request.verified:  # a reader process verified it already
        verify_signature(ctx.request, signed, secret)
    _check_s3_payload(ctx, signed, secret)
    return principal


def _check_s3_payload(ctx: RequestContext, signed: SignedRequest, secret: str) -> None:
    """S3: the signed payload hash must match the body; aws-chunked bodies are decoded here."""
    if signed.service != "s3" or ctx.service is None or ctx.service.protocol != "rest-xml":
        return
    from trailpost.services.s3.payload import check_payload  # the S3 package builds on the gateway

    check_payload(ctx.request, signed, secret, ctx.settings.max_object_bytes)


def unsigned_principal(ctx: RequestContext, failure: AuthFailure, registry: AccountRegistry) -> Principal | None:
    """The caller of an unsigned call AWS accepts unsigned, or ``None`` (the failure stands).

    Raises the operation's own error (``InvalidIdentityToken``, ``AccessDenied``...) when the call
    is of that kind but names no caller trailpost can tie to an account: such a call is answered
    and not recorded.
    """
    if failure.reason != "missing" or ctx.service is None or ctx.service.name != "sts":
        return None
    try:
        action = query_action(ctx.request)
    except ServiceError:
        return None
    if action != "AssumeRoleWithWebIdentity":
        return None
    from trailpost.services.sts.web_identity import unsigned_caller  # the STS package builds on the gateway

    ctx.region = UNSIGNED_REGION
    return unsigned_caller(ctx, form_pairs(ctx.request))
