"""AWS Signature Version 4: reading the ``Authorization`` header and checking the signature.

Checks, in the order the gateway applies them, each failing with an ``AuthFailure`` whose
protocol-neutral ``reason`` the gateway turns into the error code of the request's protocol:

1. ``read_authorization`` - a header is there (``missing``) and well formed: the
   ``AWS4-HMAC-SHA256`` scheme, ``key=value`` parameters, ``Credential``, ``SignedHeaders``,
   ``Signature``, a five-part credential scope and an ISO-8601 basic ``X-Amz-Date`` (or an HTTP
   ``Date``) (``incomplete``). Messages are AWS's. The header SDKs send (the three parameters in
   that order, values of visible ASCII) is read by one regular expression, any other by the general
   ``key=value`` reading; both read such a header the same (``tests/identity/test_sigv4_header.py``).
2. ``check_scope`` - the scope names the service the request reaches, a well-formed region and
   the ``aws4_request`` terminator (``signature``).
3. ``check_freshness`` - the scope date is the day of ``X-Amz-Date`` (``signature``), and the
   time is within 15 minutes of the server's clock (``expired``).
4. ``verify_signature`` - ``host`` is signed and the signature is the one the key's secret gives
   (``signature``).

The canonical request follows the SigV4 specification for every service but S3: the raw path
with dot segments and empty segments removed, percent-encoded once more (``%3A`` -> ``%253A``);
the query with pairs sorted; the signed headers with whitespace collapsed; the SHA-256 of the
exact body bytes (an ``X-Amz-Content-SHA256`` header is never trusted in its place). Two query
canonicalizations are accepted, both functions of the raw bytes that read ``+`` as a space: the
raw pairs sorted (what botocore computes) and the pairs decoded and re-encoded (what the
specification and SDKs that normalize compute). For botocore-encoded queries they coincide.

S3: the path is signed as sent (no normalization, no second encoding), and the payload hash is
the ``x-amz-content-sha256`` header as sent (``UNSIGNED-PAYLOAD``, ``STREAMING-...``, or a hex
digest, which ``services.s3.payload`` then checks against the body). Presigned URLs
(``read_presigned``) carry the parameters in the query (``X-Amz-Signature`` is left out of the
signed query), sign ``UNSIGNED-PAYLOAD`` and are valid from ``X-Amz-Date`` for ``X-Amz-Expires``
seconds (at most a week) instead of the 15-minute window (``request_expired``).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from functools import lru_cache
from urllib.parse import quote

from botocore.utils import normalize_url_path

from trailpost.http import HttpRequest, MalformedEncoding, percent_decode

ALGORITHM = "AWS4-HMAC-SHA256"
TERMINATOR = "aws4_request"
MAX_SKEW = timedelta(minutes=15)
AMZ_DATE = "%Y%m%dT%H%M%SZ"
_AMZ_DATE = re.compile(r"^\d{8}T\d{6}Z$", re.ASCII)
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$", re.ASCII)


class AuthFailure(Exception):
    """Authentication failed; ``reason`` is one of ``missing``, ``incomplete`` (``presigned_incomplete``
    for a presigned URL), ``request_expired`` (a presigned URL past its expiry), ``unknown_key``,
    ``signature``, ``expired``, ``expired_token``."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True, slots=True)
class SignedRequest:
    """What a request's ``Authorization`` header claims."""

    access_key_id: str
    date: str
    region: str
    service: str
    terminator: str
    signed_headers: tuple[str, ...]
    signature: str
    amz_date: str
    security_token: str | None
    # S3 (module docstring, "S3"): the payload hash the client signed, and presigned-URL facts.
    payload_hash: str | None = None
    presigned: bool = False
    expires: int | None = None

    @property
    def credential_scope(self) -> str:
        return f"{self.date}/{self.region}/{self.service}/{self.terminator}"


def read_authorization(request: HttpRequest) -> SignedRequest:
    """Parse the SigV4 ``Authorization`` header (or presigned query); ``AuthFailure`` if missing or garbled."""
    header = request.headers.get("authorization", "").strip()
    if not header and "X-Amz-Algorithm=" in request.query_string:
        return read_presigned(request)
    if not header:
        raise AuthFailure("missing", "Missing Authentication Token")
    usual = _USUAL_HEADER.fullmatch(header)
    params = _authorization_params(header) if usual is None else None  # its errors come first
    amz_date = _request_date(request)
    if usual is not None and amz_date is not None:
        credential, signed_headers, signature = usual.groups()
    else:
        if params is None:
            params = _authorization_params(header)
        problems = [
            f"Authorization header requires '{name}' parameter."
            for name in ("Credential", "Signature", "SignedHeaders")
            if not params.get(name)
        ]
        if amz_date is None:
            problems.append("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
        if problems:
            raise AuthFailure("incomplete", " ".join(problems) + f" Authorization={header}")
        assert amz_date is not None
        credential, signed_headers, signature = params["Credential"], params["SignedHeaders"], params["Signature"]
    if _parse_amz_date(amz_date) is None:  # None unless it matches ``_AMZ_DATE`` and is a real time
        raise AuthFailure(
            "incomplete",
            f"Date must be in ISO-8601 'basic format'. Got '{amz_date}'. See http://en.wikipedia.org/wiki/ISO_8601",
        )
    scope = credential.split("/")
    if len(scope) != 5:
        raise AuthFailure(
            "incomplete",
            "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, "
            f"got '{credential}'",
        )
    token = request.headers.get("x-amz-security-token", "").strip()
    return SignedRequest(
        access_key_id=scope[0],
        date=scope[1],
        region=scope[2],
        service=scope[3],
        terminator=scope[4],
        signed_headers=tuple(name.lower() for name in signed_headers.split(";")),
        signature=signature,
        amz_date=amz_date,
        security_token=token or None,
        payload_hash=request.headers.get("x-amz-content-sha256") if scope[3] == "s3" else None,
    )


# What SDKs send: the three parameters in this order, each a run of visible ASCII without a comma
# (so no whitespace ``str.split`` would cut at), after ``,`` or ``, ``. Such a header reads the same
# through ``_authorization_params``; any other is read by it.
_VALUE = r"([!-+\--~]+)"
_USUAL_HEADER = re.compile(rf"{ALGORITHM} Credential={_VALUE}, ?SignedHeaders={_VALUE}, ?Signature={_VALUE}", re.ASCII)


def _authorization_params(header: str) -> dict[str, str]:
    """The ``key=value`` parameters of an ``AWS4-HMAC-SHA256`` header (none for another scheme)."""
    scheme, _, rest = header.partition(" ")
    params: dict[str, str] = {}
    if scheme == ALGORITHM:
        for token in rest.replace(",", " ").split():  # key=value pairs between commas and whitespace
            name, eq, value = token.partition("=")
            if not eq:
                raise AuthFailure(
                    "incomplete",
                    f"'{token}' not a valid key=value pair (missing equal-sign) in Authorization header: '{header}'.",
                )
            params[name] = value
    return params


PRESIGNED_PARAMS = (
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-Expires",
    "X-Amz-SignedHeaders",
    "X-Amz-Signature",
)
MAX_PRESIGNED_EXPIRES = 604800


def read_presigned(request: HttpRequest) -> SignedRequest:
    """The SigV4 query parameters of a presigned URL; ``AuthFailure('incomplete')`` if garbled."""
    try:
        pairs = dict(request.query_pairs())
    except MalformedEncoding:
        raise AuthFailure(
            "presigned_incomplete", "Query-string authentication parameters are not encoded properly"
        ) from None
    if pairs.get("X-Amz-Algorithm") != ALGORITHM:
        raise AuthFailure("presigned_incomplete", f'X-Amz-Algorithm only supports "{ALGORITHM}"')
    missing = [name for name in PRESIGNED_PARAMS if not pairs.get(name)]
    if missing:
        raise AuthFailure(
            "presigned_incomplete",
            "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, "
            "X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.",
        )
    amz_date = pairs["X-Amz-Date"]
    if not _AMZ_DATE.match(amz_date) or _parse_amz_date(amz_date) is None:
        raise AuthFailure(
            "presigned_incomplete", "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\""
        )
    expires = pairs["X-Amz-Expires"]
    if not expires.isdigit():
        raise AuthFailure("presigned_incomplete", "X-Amz-Expires should be a number")
    if int(expires) > MAX_PRESIGNED_EXPIRES:
        raise AuthFailure("presigned_incomplete", "X-Amz-Expires must be less than a week (in seconds) that is 604800")
    scope = pairs["X-Amz-Credential"].split("/")
    if len(scope) != 5:
        raise AuthFailure(
            "presigned_incomplete",
            "Error parsing the X-Amz-Credential parameter; the Credential is mal-formed; "
            'expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".',
        )
    token = pairs.get("X-Amz-Security-Token", "").strip()
    return SignedRequest(
        access_key_id=scope[0],
        date=scope[1],
        region=scope[2],
        service=scope[3],
        terminator=scope[4],
        signed_headers=tuple(name.lower() for name in pairs["X-Amz-SignedHeaders"].split(";")),
        signature=pairs["X-Amz-Signature"],
        amz_date=amz_date,
        security_token=token or None,
        payload_hash=request.headers.get("x-amz-content-sha256", "UNSIGNED-PAYLOAD") if scope[3] == "s3" else None,
        presigned=True,
        expires=int(expires),
    )


def _request_date(request: HttpRequest) -> str | None:
    """``X-Amz-Date`` as sent, else an HTTP ``Date`` header in ISO-8601 basic form, else ``None``."""
    amz_date = request.headers.get("x-amz-date", "").strip()
    if amz_date:
        return amz_date
    date = request.headers.get("date", "").strip()
    if not date:
        return None
    try:
        parsed = parsedate_to_datetime(date)
    except (TypeError, ValueError, IndexError):
        return date  # reported as not ISO-8601
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).strftime(AMZ_DATE)


@lru_cache(maxsize=1024)
def _parse_amz_date(value: str) -> datetime | None:
    """``YYYYMMDDTHHMMSSZ`` (already matched by ``_AMZ_DATE``) by slicing: ``strptime`` costs a
    locale lookup per call. ``None`` for an impossible date or time. Cached: concurrent requests
    share their second."""
    if not _AMZ_DATE.match(value):
        return None
    try:
        return datetime(
            int(value[0:4]), int(value[4:6]), int(value[6:8]),
            int(value[9:11]), int(value[11:13]), int(value[13:15]), tzinfo=UTC,
        )  # fmt: skip
    except ValueError:
        return None


def check_scope(signed: SignedRequest, service: str) -> None:
    """The credential scope must name ``service``, a well-formed region and ``aws4_request``."""
    if signed.terminator != TERMINATOR:
        raise AuthFailure(
            "signature",
            f"Credential should be scoped with a valid terminator: '{TERMINATOR}', not '{signed.terminator}'.",
        )
    if signed.service != service:
        raise AuthFailure("signature", f"Credential should be scoped to correct service: '{service}'. ")
    if not _REGION.match(signed.region):
        raise AuthFailure("signature", f"Credential should be scoped to a valid region, not '{signed.region}'. ")


def check_freshness(signed: SignedRequest, now: datetime) -> None:
    """Reject a scope date other than the request's day, or a time more than 15 minutes off ``now``."""
    when = _parse_amz_date(signed.amz_date)
    assert when is not None, "read_authorization accepted a malformed date"
    if signed.amz_date[:8] != signed.date:
        raise AuthFailure(
            "signature",
            f"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
            f"'{signed.date}' != '{signed.amz_date[:8]}', from '{signed.amz_date}'.",
        )
    if signed.presigned:
        if when > now + MAX_SKEW:
            raise AuthFailure("request_expired", "Request is not valid yet")
        if now > when + timedelta(seconds=signed.expires or 0):
            raise AuthFailure("request_expired", "Request has expired")
        return
    stamp = ""
    if when < now - MAX_SKEW or when > now + MAX_SKEW:
        stamp = now.strftime(AMZ_DATE)
    if when < now - MAX_SKEW:
        limit = (now - MAX_SKEW).strftime(AMZ_DATE)
        raise AuthFailure(
            "expired", f"Signature expired: {signed.amz_date} is now earlier than {limit} ({stamp} - 15 min.)"
        )
    if when > now + MAX_SKEW:
        limit = (now + MAX_SKEW).strftime(AMZ_DATE)
        raise AuthFailure(
            "expired", f"Signature not yet current: {signed.amz_date} is still later than {limit} ({stamp} + 15 min.)"
        )


# -- the canonical request ----------------------------------------------------------------------


@lru_cache(maxsize=4096)
def canonical_uri(raw_path: str) -> str:
    """The path as SigV4 signs it outside S3: normalized, then percent-encoded once more."""
    return quote(normalize_url_path(raw_path), safe="/~")


def canonical_queries(query: str) -> list[str]:
    """The accepted canonical forms of a raw query string (see the module docstring)."""
    if not query:
        return [""]
    parts = [part.partition("=") for part in query.split("&")] if query else []
    raw = "&".join(f"{key}={value}" for key, value in sorted((key, value) for key, _, value in parts))
    forms = [raw]
    try:
        encoded = sorted(
            (_encode(percent_decode(key, plus_is_space=True)), _encode(percent_decode(value, plus_is_space=True)))
            for key, _, value in parts
            if key or value
        )
    except MalformedEncoding:
        return forms
    normalized = "&".join(f"{key}={value}" for key, value in encoded)
    if normalized != raw:
        forms.append(normalized)
    return forms


def _encode(text: str) -> str:
    return quote(text, safe="-_.~")


def canonical_headers(request: HttpRequest, names: tuple[str, ...]) -> str:
    """``name:value`` lines of the signed headers, values trimmed with inner whitespace collapsed."""
    headers = request.headers
    return "".join([f"{name}:{' '.join(headers.get(name, '').split())}\n" for name in names])


EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def string_to_sign(request: HttpRequest, signed: SignedRequest, query: str) -> str:
    s3 = signed.service == "s3"
    canonical = "\n".join(
        (
            request.method,
            request.raw_path if s3 else canonical_uri(request.raw_path),
            query,
            canonical_headers(request, signed.signed_headers),
            ";".join(signed.signed_headers),
            signed.payload_hash
            if s3 and signed.payload_hash
            else (hashlib.sha256(request.body).hexdigest() if request.body else EMPTY_SHA256),
        )
    )
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    return f"{ALGORITHM}\n{signed.amz_date}\n{signed.credential_scope}\n{digest}"


@lru_cache(maxsize=512)
def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    """``kSigning`` of the SigV4 key derivation (cached: it changes once a day per key and scope)."""
    key = ("AWS4" + secret).encode("utf-8")
    for part in (date, region, service, TERMINATOR):
        key = hmac.new(key, part.encode("utf-8"), hashlib.sha256).digest()
    return key


@lru_cache(maxsize=512)
def _signer(secret: str, date: str, region: str, service: str) -> hmac.HMAC:
    """An HMAC-SHA256 of ``signing_key`` that has absorbed the key, to be copied per request.

    A copy of a keyed HMAC skips what ``hmac.digest(key, msg, "sha256")`` does on every call with
    OpenSSL 3 (fetching the HMAC and SHA-256 implementations, hashing the key's pads): 2.3-4.3 µs
    against 1.6 µs measured (docs/decisions.md, "SigV4: a keyed HMAC copied per request")."""
    return hmac.new(signing_key(secret, date, region, service), digestmod=hashlib.sha256)


def expected_signatures(request: HttpRequest, signed: SignedRequest, secret: str) -> list[str]:
    """The signatures a client holding ``secret`` may have sent, one per accepted query form."""
    keyed = _signer(secret, signed.date, signed.region, signed.service)
    query_string = _without_signature(request.query_string) if signed.presigned else request.query_string
    signatures = []
    for query in canonical_queries(query_string):
        mac = keyed.copy()
        mac.update(string_to_sign(request, signed, query).encode("utf-8"))
        signatures.append(mac.hexdigest())
    return signatures


def _without_signature(query: str) -> str:
    """A presigned URL's query without its ``X-Amz-Signature`` (what was signed)."""
    return "&".join(part for part in query.split("&") if not part.startswith("X-Amz-Signature="))


def verify_signature(request: HttpRequest, signed: SignedRequest, secret: str) -> None:
    """``AuthFailure('signature')`` unless the request carries the right signature."""
    if "host" not in signed.signed_headers:
        raise AuthFailure("signature", "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")
    given = signed.signature.encode("utf-8")
    matches = [
        hmac.compare_digest(expected.encode("ascii"), given)
        for expected in expected_signatures(request, signed, secret)
    ]
    if not any(matches):
        raise AuthFailure(
            "signature",
            "The request signature we calculated does not match the signature you provided. "
            "Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
        )
