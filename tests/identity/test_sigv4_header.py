"""``read_authorization``'s shortcut for the usual header against the general reading of any header.

``reference`` is the reading every header went through before the shortcut (``key=value`` tokens
between commas and whitespace). Both must give the same ``SignedRequest`` or the same
``AuthFailure`` (reason and message) for the header SDKs send and for headers around it: other
separators and orders, missing, empty or repeated parameters, ``=`` inside values, whitespace that
``str.split`` cuts at (tabs, non-breaking spaces, ASCII separators), another scheme, no date.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest

from trailpost.http import HttpRequest
from trailpost.identity.sigv4 import (
    ALGORITHM,
    AuthFailure,
    SignedRequest,
    _parse_amz_date,
    _request_date,
    read_authorization,
)

CREDENTIAL = "AKIAEXAMPLE/20261124/us-east-1/outposts/aws4_request"
SIGNED = "host;x-amz-date"
SIGNATURE = "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"


def reference(request: HttpRequest) -> SignedRequest:
    """The general reading (as before the shortcut), for headers only."""
    header = request.headers.get("authorization", "").strip()
    if not header:
        raise AuthFailure("missing", "Missing Authentication Token")
    scheme, _, rest = header.partition(" ")
    params: dict[str, str] = {}
    if scheme == ALGORITHM:
        for token in rest.replace(",", " ").split():
            name, eq, value = token.partition("=")
            if not eq:
                raise AuthFailure(
                    "incomplete",
                    f"'{token}' not a valid key=value pair (missing equal-sign) in Authorization header: '{header}'.",
                )
            params[name] = value
    amz_date = _request_date(request)
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
    if _parse_amz_date(amz_date) is None:
        raise AuthFailure(
            "incomplete",
            f"Date must be in ISO-8601 'basic format'. Got '{amz_date}'. See http://en.wikipedia.org/wiki/ISO_8601",
        )
    credential = params["Credential"]
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
        signed_headers=tuple(name.lower() for name in params["SignedHeaders"].split(";")),
        signature=params["Signature"],
        amz_date=amz_date,
        security_token=token or None,
        payload_hash=request.headers.get("x-amz-content-sha256") if scope[3] == "s3" else None,
    )


def outcome(read: Callable[[HttpRequest], SignedRequest], request: HttpRequest) -> object:
    try:
        return read(request)
    except AuthFailure as failure:
        return ("failure", failure.reason, failure.message)


CREDENTIALS = (CREDENTIAL, "AKIAEXAMPLE/20261124/us-east-1/s3/aws4_request", "AKIA=X/20261124/us-east-1", "a/b/c/d/e/f")
SIGNED_HEADERS = (SIGNED, "Host;X-Amz-Date;Content-Type", "host", "host;x-amz-date\x1fx", "host;\xa0x")
SIGNATURES = (SIGNATURE, "abc=def", "x\ty")
SEPARATORS = (", ", ",", ",  ", " ,", ",\t", " ", ",,")
DATES = (
    {"x-amz-date": "20261124T120000Z"},
    {},
    {"x-amz-date": "20261124T126000Z"},
    {"date": "Tue, 24 Nov 2026 12:00:00 GMT"},
)


def headers() -> list[str]:
    found = []
    for credential, signed, signature, sep in itertools.product(CREDENTIALS, SIGNED_HEADERS, SIGNATURES, SEPARATORS):
        parts = [f"Credential={credential}", f"SignedHeaders={signed}", f"Signature={signature}"]
        found.append(f"{ALGORITHM} " + sep.join(parts))
        found.append(f"{ALGORITHM} " + sep.join(reversed(parts)))
    usual = f"{ALGORITHM} Credential={CREDENTIAL}, SignedHeaders={SIGNED}, Signature={SIGNATURE}"
    found += [
        usual,
        usual + " ",
        usual + ",",
        usual + ", Signature=",
        usual + ", Extra",
        usual.replace("Signature=", "Signature"),
        usual.replace("SignedHeaders=", "SignedHeaders=,"),
        usual.replace(ALGORITHM, "AWS4-HMAC-SHA1"),
        usual.replace(ALGORITHM, ALGORITHM.lower()),
        usual.replace(ALGORITHM + " ", ALGORITHM + "  "),
        usual.replace(ALGORITHM + " ", ALGORITHM + "\t"),
        f"{ALGORITHM} Credential={CREDENTIAL}, Signature={SIGNATURE}",
        f"{ALGORITHM} Credential={CREDENTIAL}, SignedHeaders={SIGNED}, Signature={SIGNATURE}, Signature=other",
        f"{ALGORITHM} Credential={CREDENTIAL}, SignedHeaders={SIGNED}, Signature={SIGNATURE}, Credential=a/b/c/d/e",
        f"{ALGORITHM} Credential=, SignedHeaders={SIGNED}, Signature={SIGNATURE}",
        "Bearer token",
        "",
    ]
    return found


@pytest.mark.parametrize("dates", DATES)
def test_shortcut_reads_every_header_as_the_general_reading(dates: dict[str, str]) -> None:
    usual_read = 0
    for header in headers():
        for token in ({}, {"x-amz-security-token": " tok "}):
            fields = {"authorization": header, **dates, **token, "x-amz-content-sha256": "UNSIGNED-PAYLOAD"}
            request = HttpRequest("GET", "/", "", fields)
            expected = outcome(reference, HttpRequest("GET", "/", "", dict(fields)))
            assert outcome(read_authorization, request) == expected, header
            usual_read += isinstance(expected, SignedRequest)
    assert usual_read > 100 if dates and "T126" not in str(dates) else usual_read == 0


def test_the_usual_header_reads_its_parts() -> None:
    header = f"{ALGORITHM} Credential={CREDENTIAL}, SignedHeaders=Host;X-Amz-Date, Signature={SIGNATURE}"
    request = HttpRequest("GET", "/", "", {"authorization": header, "x-amz-date": "20261124T120000Z"})
    signed = read_authorization(request)
    assert (signed.access_key_id, signed.date, signed.region, signed.service, signed.terminator) == (
        "AKIAEXAMPLE",
        "20261124",
        "us-east-1",
        "outposts",
        "aws4_request",
    )
    assert signed.signed_headers == ("host", "x-amz-date") and signed.signature == SIGNATURE
