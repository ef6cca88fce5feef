"""Bad input on the query protocol (IAM, STS): hand-made requests answered with AWS's query errors.

Nothing here reaches a handler with nonsense, and nothing crashes the server: after every reply
the server still answers a well-formed call.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.gateway.rawhttp import Reply, Request, send, sign
from tests.identity.support import client, record_of
from tests.support.server import ServerProcess

FORM = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}


def _post(server: ServerProcess, body: str, service: str = "iam", signed: bool = True) -> Reply:
    request = Request("POST", "/", headers=dict(FORM), body=body.encode())
    host = f"127.0.0.1:{server.port}"
    if signed:
        request = sign(request, host, server.root_credentials(), service=service)
    else:
        request.headers["Host"] = host
    return send(server.port, request)


def _error(reply: Reply) -> dict[str, Any]:
    return reply.parsed("query")["Error"]


@pytest.fixture(autouse=True)
def still_serving(server: ServerProcess) -> Any:
    yield
    assert client(server, "sts").get_caller_identity()["Account"]


@pytest.mark.parametrize(
    ("body", "status", "code", "message"),
    [
        ("Version=2010-05-08", 400, "MissingAction", "Missing Action"),
        (
            "Action=FlyToTheMoon&Version=2010-05-08",
            400,
            "InvalidAction",
            "Could not find operation FlyToTheMoon for version 2010-05-08",
        ),
        (
            "Action=ListUsers&Version=1999-01-01",
            400,
            "InvalidAction",
            "Could not find operation ListUsers for version 1999-01-01",
        ),
        ("Action=GetUser&Version=2010-05-08&UserName=", 400, "ValidationError", None),
        ("Action=ListUsers&Version=2010-05-08&MaxItems=lots", 400, "SerializationException", None),
    ],
)
def test_malformed_iam_requests(server: ServerProcess, body: str, status: int, code: str, message: str | None) -> None:
    reply = _post(server, body)
    assert reply.status == status and reply.headers["Content-Type"] == "text/xml"
    error = _error(reply)
    assert error["Code"] == code
    if message is not None:
        assert error["Message"] == message


def test_validation_errors_are_recorded_with_their_query_code(server: ServerProcess) -> None:
    reply = _post(server, "Action=CreateUser&Version=2010-05-08&UserName=" + "x" * 65)
    assert _error(reply)["Code"] == "ValidationError"
    record = record_of(server, {"ResponseMetadata": {"RequestId": reply.headers["x-amzn-RequestId"]}})
    assert record["errorCode"] == "ValidationError" and record["eventName"] == "CreateUser"
    assert "Member must have length less than or equal to 64" in record["errorMessage"]


def test_unsigned_iam_is_missing_authentication(server: ServerProcess) -> None:
    reply = _post(server, "Action=ListUsers&Version=2010-05-08", signed=False)
    assert reply.status == 403 and _error(reply)["Code"] == "MissingAuthenticationToken"


def test_unsigned_web_identity_calls_with_nonsense(server: ServerProcess) -> None:
    for body, code in (
        ("Action=AssumeRoleWithWebIdentity&Version=2011-06-15", "ValidationError"),
        ("Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=junk&WebIdentityToken=x.y.z", "ValidationError"),
        (
            "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fr"
            "&RoleSessionName=s1&WebIdentityToken=%25%25%25.%25.%25",
            "InvalidIdentityToken",
        ),
    ):
        reply = _post(server, body, service="sts", signed=False)
        assert reply.status == 400 and _error(reply)["Code"] == code, reply.body


def test_iam_signed_for_sts_is_scoped_wrongly(server: ServerProcess) -> None:
    reply = _post(server, "Action=ListUsers&Version=2010-05-08", service="sts")
    assert reply.status == 403 and _error(reply)["Code"] == "SignatureDoesNotMatch"
    assert "Credential should be scoped to correct service: 'iam'" in _error(reply)["Message"]
