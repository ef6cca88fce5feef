"""AWS Signature Version 4: reading the ``Authorization`` header and checking the signature.

The canonical request is rebuilt by botocore's own ``SigV4Auth`` from the raw path and query (the
signer double-encodes the path, so ``%3A`` becomes ``%253A``), with exactly the headers the client
signed. Failures are ``AuthFailure`` with a protocol-neutral ``reason``; the gateway turns a reason
into the error code the request's protocol uses (``auth_errors``).
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from trailpost.http import HttpRequest

ALGORITHM = "AWS4-HMAC-SHA256"
MAX_SKEW = timedelta(minutes=15)
_PARAM = re.compile(r"(\w+)=([^,\s]*)")


class AuthFailure(Exception):
    """Authentication failed; ``reason`` is one of ``missing``, ``incomplete``, ``unknown_key``,
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
    signed_headers: tuple[str, ...]
    signature: str
    amz_date: str
    security_token: str | None


def read_authorization(request: HttpRequest) -> SignedRequest:
    """Parse the SigV4 ``Authorization`` header; ``AuthFailure`` if missing or garbled."""
    header = request.headers.get("authorization")
    if not header:
        raise AuthFailure("missing", "Request is missing Authentication Token")
    algorithm, _, rest = header.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise AuthFailure(
            "incomplete",
            f"Unsupported AWS 'algorithm': '{algorithm}'. Only {ALGORITHM} is supported.",
        )
    params = dict(_PARAM.findall(rest))
    missing = [name for name in ("Credential", "SignedHeaders", "Signature") if not params.get(name)]
    amz_date = request.headers.get("x-amz-date", "")
    problems = [f"Authorization header requires '{name}' parameter." for name in missing]
    if not amz_date:
        problems.append("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
    if problems:
        raise AuthFailure("incomplete", " ".join(problems) + f" Authorization={header}")
    scope = params["Credential"].split("/")
    if len(scope) != 5 or scope[4] != "aws4_request" or not scope[0]:
        raise AuthFailure(
            "incomplete",
            f"Credential should be scoped to a valid region. Credential={params['Credential']}",
        )
    return SignedRequest(
        access_key_id=scope[0],
        date=scope[1],
        region=scope[2],
        service=scope[3],
        signed_headers=tuple(params["SignedHeaders"].split(";")),
        signature=params["Signature"],
        amz_date=amz_date,
        security_token=request.headers.get("x-amz-security-token"),
    )


def _parse_amz_date(value: str) -> datetime:
    try:
        return datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        raise AuthFailure("incomplete", f"Invalid X-Amz-Date: {value}") from None


def check_freshness(signed: SignedRequest, now: datetime) -> None:
    """Reject a request signed more than 15 minutes away from ``now`` or with a mismatched scope date."""
    when = _parse_amz_date(signed.amz_date)
    if signed.amz_date[:8] != signed.date:
        raise AuthFailure(
            "signature",
            f"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
            f"'{signed.date}' != '{signed.amz_date[:8]}', from '{signed.amz_date}'.",
        )
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    if when < now - MAX_SKEW:
        limit = (now - MAX_SKEW).strftime("%Y%m%dT%H%M%SZ")
        raise AuthFailure(
            "expired", f"Signature expired: {signed.amz_date} is now earlier than {limit} ({stamp} - 15 min.)"
        )
    if when > now + MAX_SKEW:
        limit = (now + MAX_SKEW).strftime("%Y%m%dT%H%M%SZ")
        raise AuthFailure(
            "expired", f"Signature not yet current: {signed.amz_date} is still later than {limit} ({stamp} + 15 min.)"
        )


def expected_signature(request: HttpRequest, signed: SignedRequest, secret: str) -> str:
    """The signature the client should have sent, given the key's secret."""
    headers = {}
    for name in signed.signed_headers:
        value = request.headers.get(name)
        if value is not None:
            headers[name] = value
    url = f"{request.scheme}://{request.headers.get('host', '')}{request.raw_path}"
    if request.query_string:
        url += "?" + request.query_string
    aws_request = AWSRequest(method=request.method, url=url, data=request.body, headers=headers)
    aws_request.context["timestamp"] = signed.amz_date
    signer = SigV4Auth(Credentials(signed.access_key_id, secret, signed.security_token), signed.service, signed.region)
    canonical = signer.canonical_request(aws_request)
    return signer.signature(signer.string_to_sign(aws_request, canonical), aws_request)


def verify_signature(request: HttpRequest, signed: SignedRequest, secret: str) -> None:
    """``AuthFailure('signature')`` unless the request carries the right signature."""
    if "host" not in signed.signed_headers:
        raise AuthFailure("signature", "'Host' must be a 'SignedHeader' in the AWS Authorization.")
    expected = expected_signature(request, signed, secret)
    if not hmac.compare_digest(expected, signed.signature):
        raise AuthFailure(
            "signature",
            "The request signature we calculated does not match the signature you provided. "
            "Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
        )
