"""SigV4 authentication end to end: every failure gets the code, status and message AWS's JSON
services return, a correct signature always passes, and the server keeps serving after each.

Requests are signed with botocore's own ``SigV4Auth`` (``rawhttp.sign``) and then altered byte by
byte; the boto3 tests show what an SDK user sees for an unknown key, a wrong secret and a clock
more than 15 minutes off.
"""

from __future__ import annotations

import json
import re
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import botocore.auth
import pytest
from botocore.exceptions import ClientError

from tests.gateway.rawhttp import AMZ_DATE, Reply, Request, send, sign
from tests.support.accounts import create_account
from tests.support.outposts import ADDRESS
from tests.support.server import ServerProcess
from trailpost.identity.accounts import AccountRegistry
from trailpost.store.sqlite import SqliteStateStore

INVALID_TOKEN = "The security token included in the request is invalid."
BAD_SIGNATURE = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
)
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def host(server: ServerProcess) -> str:
    return f"127.0.0.1:{server.port}"


def list_sites(**headers: str) -> Request:
    return Request("GET", "/sites", "MaxResults=1", dict(headers))


def expect_error(reply: Reply, code: str, status: int, message: str | None = None) -> str:
    """Check an AWS error reply as botocore reads it; return its message."""
    parsed = reply.parsed()
    assert reply.status == status, (reply.status, reply.body)
    assert parsed["Error"]["Code"] == code, parsed
    assert json.loads(reply.body)["__type"] == code
    assert reply.request_id and UUID.match(reply.request_id), reply.headers
    assert parsed["ResponseMetadata"]["RequestId"] == reply.request_id
    if message is not None:
        assert parsed["Error"]["Message"] == message
    return str(parsed["Error"]["Message"])


@pytest.fixture
def still_serving(outposts: Any) -> Any:
    """After the test, an ordinary boto3 call on the same server must still work."""
    yield outposts
    assert outposts.list_sites(MaxResults=1)["ResponseMetadata"]["HTTPStatusCode"] == 200


@pytest.fixture
def root(server: ServerProcess) -> tuple[str, str]:
    return server.root_credentials()


# -- correct signatures ------------------------------------------------------------------------


def test_a_correctly_signed_raw_request_passes(server: ServerProcess, root: tuple[str, str]) -> None:
    reply = send(server.port, sign(list_sites(), host(server), root))
    assert reply.status == 200, reply.body
    assert "Sites" in json.loads(reply.body)
    assert reply.request_id and UUID.match(reply.request_id)


def test_signed_fourteen_minutes_ago_still_passes(server: ServerProcess, root: tuple[str, str]) -> None:
    when = datetime.now(UTC) - timedelta(minutes=14)
    assert send(server.port, sign(list_sites(), host(server), root, when=when)).status == 200


def test_signed_headers_with_non_ascii_values_pass(server: ServerProcess, root: tuple[str, str]) -> None:
    request = sign(list_sites(**{"X-Amz-Meta-Note": "caf\xe9  au   lait "}), host(server), root)
    assert send(server.port, request).status == 200


def test_query_plus_is_a_space_and_2b_a_plus(server: ServerProcess, root: tuple[str, str], outposts: Any) -> None:
    """``+`` and ``%2B`` in a query are different characters, whichever way the client signed."""
    tag = uuid.uuid4().hex[:8]
    address = {**ADDRESS, "City": f"P+Q {tag}"}
    plus = outposts.create_site(Name="plus", OperatingAddress=address)["Site"]["SiteId"]
    space = outposts.create_site(Name="space", OperatingAddress={**address, "City": f"P Q {tag}"})["Site"]["SiteId"]

    def cities(query: str, signed_query: str | None = None) -> set[str]:
        request = sign(Request("GET", "/sites", query), host(server), root, signed_query=signed_query)
        reply = send(server.port, request)
        assert reply.status == 200, reply.body
        return {site["SiteId"] for site in json.loads(reply.body)["Sites"]}

    # botocore-style: the query signed exactly as sent.
    assert cities(f"OperatingAddressCityFilter=P%2BQ%20{tag}") == {plus}
    assert cities(f"OperatingAddressCityFilter=P+Q+{tag}") == {space}
    # A raw '+' signed in its normalized form '%20' (what SDKs that normalize the query sign).
    assert cities(f"OperatingAddressCityFilter=P+Q+{tag}", f"OperatingAddressCityFilter=P%20Q%20{tag}") == {space}
    for site_id in (plus, space):  # the shared server's site quota is shared by every test
        outposts.delete_site(SiteId=site_id)


def test_a_plus_signed_as_2b_does_not_authenticate_a_space(
    server: ServerProcess, root: tuple[str, str], still_serving: Any
) -> None:
    """Signing ``%2B`` and sending ``+`` changes the meaning, so it must not verify."""
    request = sign(list_sites(), host(server), root, signed_query="MaxResults=1&x=a%2Bb")
    request.query = "MaxResults=1&x=a+b"
    expect_error(send(server.port, request), "InvalidSignatureException", 403, BAD_SIGNATURE)


# -- missing and garbled Authorization ---------------------------------------------------------


def test_no_authorization_header(server: ServerProcess, still_serving: Any) -> None:
    reply = send(server.port, Request("GET", "/sites", "", {"Host": host(server)}))
    expect_error(reply, "MissingAuthenticationTokenException", 403, "Missing Authentication Token")


@pytest.mark.parametrize(
    ("authorization", "fragment"),
    [
        ("Bearer abc.def", "Authorization header requires 'Credential' parameter. Authorization header "
         "requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. "
         "Authorization=Bearer abc.def"),
        ("AWS4-HMAC-SHA256", "Authorization header requires 'Credential' parameter."),
        ("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20200101/us-east-1/outposts/aws4_request, "
         "SignedHeaders=host;x-amz-date", "Authorization header requires 'Signature' parameter."),
        ("AWS4-HMAC-SHA256 Credential= AKIAIOSFODNN7EXAMPLE/20200101/us-east-1/outposts/aws4_request, "
         "SignedHeaders=host;x-amz-date, Signature=abc",
         "'AKIAIOSFODNN7EXAMPLE/20200101/us-east-1/outposts/aws4_request' not a valid key=value pair "
         "(missing equal-sign) in Authorization header"),
        ("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/us-east-1/outposts, SignedHeaders=host, Signature=abc",
         "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, "
         "got 'AKIAIOSFODNN7EXAMPLE/us-east-1/outposts'"),
        ("AWS4-HMAC-SHA256 Credential=AK/2\xff/\xe9/x, SignedHeaders=\xff, Signature=\xfe",
         "Credential must have exactly 5 slash-delimited elements"),
    ],
)  # fmt: skip
def test_garbled_authorization(
    server: ServerProcess, root: tuple[str, str], authorization: str, fragment: str, still_serving: Any
) -> None:
    request = sign(list_sites(), host(server), root)
    request.headers["Authorization"] = authorization
    message = expect_error(send(server.port, request), "IncompleteSignatureException", 400)
    assert fragment in message


def test_credential_with_six_elements(server: ServerProcess, root: tuple[str, str], still_serving: Any) -> None:
    request = sign(list_sites(), host(server), root)
    request.headers["Authorization"] = request.headers["Authorization"].replace("/aws4_request", "/aws4_request/x")
    message = expect_error(send(server.port, request), "IncompleteSignatureException", 400)
    assert message.startswith("Credential must have exactly 5 slash-delimited elements")


def test_missing_date(server: ServerProcess, root: tuple[str, str], still_serving: Any) -> None:
    request = sign(list_sites(), host(server), root)
    del request.headers["X-Amz-Date"]
    message = expect_error(send(server.port, request), "IncompleteSignatureException", 400)
    assert message.startswith("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")


@pytest.mark.parametrize("value", ["2024-01-01T00:00:00Z", "20241301T000000Z", "yesterday", "\xff\xfe"])
def test_date_not_iso8601_basic(server: ServerProcess, root: tuple[str, str], value: str, still_serving: Any) -> None:
    request = sign(list_sites(), host(server), root)
    request.headers["X-Amz-Date"] = value
    expect_error(
        send(server.port, request),
        "IncompleteSignatureException",
        400,
        f"Date must be in ISO-8601 'basic format'. Got '{value}'. See http://en.wikipedia.org/wiki/ISO_8601",
    )


def test_an_http_date_header_is_accepted_as_the_request_time(
    server: ServerProcess, root: tuple[str, str], still_serving: Any
) -> None:
    """Without X-Amz-Date the Date header is the request time: a stale one is reported as expired."""
    request = sign(list_sites(), host(server), root)
    del request.headers["X-Amz-Date"]
    request.headers["Date"] = "Mon, 01 Jan 2024 10:00:00 GMT"
    request.headers["Authorization"] = re.sub(r"/\d{8}/", "/20240101/", request.headers["Authorization"])
    message = expect_error(send(server.port, request), "InvalidSignatureException", 403)
    assert message.startswith("Signature expired: 20240101T100000Z is now earlier than ")


# -- keys, secrets and tokens ------------------------------------------------------------------


def test_unknown_access_key(server: ServerProcess, still_serving: Any) -> None:
    stranger = ("AKIA" + secrets.token_hex(8).upper(), secrets.token_urlsafe(30))
    reply = send(server.port, sign(list_sites(), host(server), stranger))
    expect_error(reply, "UnrecognizedClientException", 403, INVALID_TOKEN)


def test_wrong_signature(server: ServerProcess, root: tuple[str, str], still_serving: Any) -> None:
    request = sign(list_sites(), host(server), root)
    authorization = request.headers["Authorization"]
    request.headers["Authorization"] = authorization[:-1] + ("0" if authorization[-1] != "0" else "1")
    expect_error(send(server.port, request), "InvalidSignatureException", 403, BAD_SIGNATURE)


def test_non_ascii_signature(server: ServerProcess, root: tuple[str, str], still_serving: Any) -> None:
    request = sign(list_sites(), host(server), root)
    request.headers["Authorization"] = request.headers["Authorization"][:-2] + "\xe9\xff"
    expect_error(send(server.port, request), "InvalidSignatureException", 403, BAD_SIGNATURE)


@pytest.mark.parametrize(
    "tamper",
    ["body", "path", "query", "signed header", "method"],
)
def test_anything_changed_after_signing_fails(
    server: ServerProcess, root: tuple[str, str], tamper: str, outposts: Any, still_serving: Any
) -> None:
    name = f"tamper-{uuid.uuid4().hex[:8]}"
    body = json.dumps({"Name": name}).encode()
    request = sign(Request("POST", "/sites", "", {"Content-Type": "application/json"}, body), host(server), root)
    if tamper == "body":
        request.body = json.dumps({"Name": name + "x"}).encode()
    elif tamper == "path":
        request.path = "/sites/"
    elif tamper == "query":
        request.query = "x=1"
    elif tamper == "signed header":
        request.headers["Content-Type"] = "application/json; charset=utf-8"
    else:
        request.method = "PUT"
    expect_error(send(server.port, request), "InvalidSignatureException", 403, BAD_SIGNATURE)
    names = {site["Name"] for page in outposts.get_paginator("list_sites").paginate() for site in page["Sites"]}
    assert name not in names and name + "x" not in names


def test_host_must_be_signed(server: ServerProcess, root: tuple[str, str], still_serving: Any) -> None:
    request = sign(list_sites(), host(server), root)
    request.headers["Authorization"] = request.headers["Authorization"].replace("SignedHeaders=host;", "SignedHeaders=")
    expect_error(
        send(server.port, request),
        "InvalidSignatureException",
        403,
        "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
    )


def test_session_token_with_a_long_term_key(server: ServerProcess, root: tuple[str, str], still_serving: Any) -> None:
    request = sign(list_sites(), host(server), (*root, "FwoGZXIvYXdzEBEaDNotARealToken"))
    expect_error(send(server.port, request), "UnrecognizedClientException", 403, INVALID_TOKEN)


def test_deactivated_key(make_server: Any) -> None:
    proc = make_server()
    _, key, secret = create_account(proc.data_dir, "deactivated")
    client = proc.client("outposts", credentials=(key, secret))
    client.list_sites()
    store = SqliteStateStore(proc.data_dir / "state.db")
    try:
        AccountRegistry(store).set_key_status(key, "Inactive")
        with pytest.raises(ClientError) as info:
            client.list_sites()
        assert info.value.response["Error"] == {"Code": "UnrecognizedClientException", "Message": INVALID_TOKEN}
        assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
        AccountRegistry(store).set_key_status(key, "Active")
    finally:
        store.close()
    client.list_sites()
    proc.client("outposts").list_sites()


# -- scope and time ----------------------------------------------------------------------------


def test_signature_expired(server: ServerProcess, root: tuple[str, str], still_serving: Any) -> None:
    when = datetime.now(UTC) - timedelta(minutes=20)
    reply = send(server.port, sign(list_sites(), host(server), root, when=when))
    message = expect_error(reply, "InvalidSignatureException", 403)
    found = re.fullmatch(r"Signature expired: (\S+) is now earlier than (\S+) \((\S+) - 15 min\.\)", message)
    assert found, message
    sent, limit, now = (datetime.strptime(x, AMZ_DATE).replace(tzinfo=UTC) for x in found.groups())
    assert sent == when.replace(microsecond=0)
    assert now - limit == timedelta(minutes=15)
    assert abs(now - datetime.now(UTC)) < timedelta(seconds=30)


def test_signature_not_yet_current(server: ServerProcess, root: tuple[str, str], still_serving: Any) -> None:
    when = datetime.now(UTC) + timedelta(minutes=20)
    message = expect_error(
        send(server.port, sign(list_sites(), host(server), root, when=when)), "InvalidSignatureException", 403
    )
    assert re.fullmatch(r"Signature not yet current: \S+ is still later than \S+ \(\S+ \+ 15 min\.\)", message)


def test_scope_date_other_than_request_date(server: ServerProcess, root: tuple[str, str], still_serving: Any) -> None:
    request = sign(list_sites(), host(server), root)
    stamp = request.headers["X-Amz-Date"]
    yesterday = (datetime.strptime(stamp, AMZ_DATE) - timedelta(days=1)).strftime("%Y%m%d")
    request.headers["Authorization"] = request.headers["Authorization"].replace(f"/{stamp[:8]}/", f"/{yesterday}/")
    expect_error(
        send(server.port, request),
        "InvalidSignatureException",
        403,
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
        f"'{yesterday}' != '{stamp[:8]}', from '{stamp}'.",
    )


@pytest.mark.parametrize("service", ["ec2", "cloudtrail", "execute-api"])
def test_signed_for_another_service(
    server: ServerProcess, root: tuple[str, str], service: str, still_serving: Any
) -> None:
    reply = send(server.port, sign(list_sites(), host(server), root, service=service))
    expect_error(
        reply, "InvalidSignatureException", 403, "Credential should be scoped to correct service: 'outposts'. "
    )


def test_signed_for_another_service_at_no_known_route(
    server: ServerProcess, root: tuple[str, str], still_serving: Any
) -> None:
    reply = send(server.port, sign(Request("GET", "/nowhere"), host(server), root, service="ec2"))
    expect_error(reply, "UnknownOperationException", 404)


@pytest.mark.parametrize("region", ["mars", "US-EAST-1", "us-east-1/../x"])
def test_invalid_region_in_scope(server: ServerProcess, root: tuple[str, str], region: str, still_serving: Any) -> None:
    reply = send(server.port, sign(list_sites(), host(server), root, region=region))
    if "/" in region:
        expect_error(reply, "IncompleteSignatureException", 400)
    else:
        expect_error(
            reply, "InvalidSignatureException", 403, f"Credential should be scoped to a valid region, not '{region}'. "
        )


def test_invalid_scope_terminator(server: ServerProcess, root: tuple[str, str], still_serving: Any) -> None:
    request = sign(list_sites(), host(server), root)
    request.headers["Authorization"] = request.headers["Authorization"].replace("/aws4_request,", "/aws5_request,")
    expect_error(
        send(server.port, request),
        "InvalidSignatureException",
        403,
        "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws5_request'.",
    )


# -- account and region come from the verified credentials -------------------------------------


def test_account_and_region_come_from_the_credentials(server: ServerProcess, outposts: Any) -> None:
    account_id, key, secret = create_account(server.data_dir, f"scope-{uuid.uuid4().hex[:8]}")
    other = server.client("outposts", region="eu-west-1", credentials=(key, secret))
    site = other.create_site(Name="elsewhere")["Site"]
    assert site["AccountId"] == account_id
    assert site["SiteArn"] == f"arn:aws:outposts:eu-west-1:{account_id}:site/{site['SiteId']}"
    assert site["SiteId"] not in {s["SiteId"] for s in outposts.list_sites()["Sites"]}
    same_key_other_region = server.client("outposts", region="us-east-1", credentials=(key, secret))
    assert site["SiteId"] not in {s["SiteId"] for s in same_key_other_region.list_sites()["Sites"]}
    assert other.get_site(SiteId=site["SiteId"])["Site"]["Name"] == "elsewhere"


# -- what a boto3 user sees --------------------------------------------------------------------


def boto3_error(client: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as info:
        client.list_sites()
    response: dict[str, Any] = info.value.response
    assert UUID.match(response["ResponseMetadata"]["RequestId"])
    return response


def test_boto3_unknown_key(server: ServerProcess, still_serving: Any) -> None:
    client = server.client("outposts", credentials=("AKIA" + secrets.token_hex(8).upper(), "x" * 40))
    response = boto3_error(client)
    assert response["Error"] == {"Code": "UnrecognizedClientException", "Message": INVALID_TOKEN}
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_boto3_wrong_secret(server: ServerProcess, root: tuple[str, str], still_serving: Any) -> None:
    client = server.client("outposts", credentials=(root[0], root[1][::-1]))
    response = boto3_error(client)
    assert response["Error"] == {"Code": "InvalidSignatureException", "Message": BAD_SIGNATURE}
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 403


@pytest.mark.parametrize("skew", [timedelta(minutes=-16), timedelta(minutes=16)])
def test_boto3_clock_skew(
    server: ServerProcess, monkeypatch: pytest.MonkeyPatch, skew: timedelta, still_serving: Any
) -> None:
    """A client whose clock is 16 minutes off: botocore signs with its own (wrong) time."""
    client = server.client("outposts")
    real = botocore.auth.get_current_datetime
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda *a, **k: real(*a, **k) + skew)
    response = boto3_error(client)
    monkeypatch.undo()
    assert response["Error"]["Code"] == "InvalidSignatureException"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 403
    prefix = "Signature expired: " if skew < timedelta(0) else "Signature not yet current: "
    assert response["Error"]["Message"].startswith(prefix)
