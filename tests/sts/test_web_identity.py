"""AssumeRoleWithWebIdentity: real RS256 tokens of a configured issuer, verified; the unsigned call
recorded as a WebIdentityUser, and the session it opens recorded with its provider."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from typing import Any

import botocore
import botocore.config
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from tests.identity.support import ACCOUNT, allow, client, fails, no_record_of, record_of, session_credentials, unique
from tests.support.server import ServerProcess

ISSUER = "https://idp.example.com/tenant-1"
PROVIDER_ARN = f"arn:aws:iam::{ACCOUNT}:oidc-provider/idp.example.com/tenant-1"
AUDIENCE = "trailpost-app"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _int(value: int) -> str:
    return _b64(value.to_bytes((value.bit_length() + 7) // 8, "big"))


class Issuer:
    """An OpenID Connect issuer with its own RSA key: it signs ID tokens and publishes a JWKS."""

    def __init__(self, kid: str = "key-1") -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = kid

    def jwks(self) -> dict[str, Any]:
        numbers = self.key.public_key().public_numbers()
        return {"keys": [{"kty": "RSA", "kid": self.kid, "alg": "RS256", "n": _int(numbers.n), "e": _int(numbers.e)}]}

    def token(self, **claims: Any) -> str:
        body = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": "user-42",
            "iat": int(time.time()),
            "exp": int(time.time()) + 600,
        }
        body.update(claims)
        header = _b64(json.dumps({"alg": "RS256", "typ": "JWT", "kid": self.kid}).encode())
        payload = _b64(json.dumps(body).encode())
        signature = self.key.sign(f"{header}.{payload}".encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{header}.{payload}.{_b64(signature)}"


@pytest.fixture(scope="module")
def issuer() -> Issuer:
    return Issuer()


@pytest.fixture(scope="module")
def oidc_server(tmp_path_factory: pytest.TempPathFactory, issuer: Issuer) -> Iterator[ServerProcess]:
    """A server whose configured JWKS file holds the issuer's keys, with the issuer as IAM provider."""
    base = tmp_path_factory.mktemp("oidc")
    jwks = base / "jwks.json"
    jwks.write_text(json.dumps({ISSUER: issuer.jwks()}))
    server = ServerProcess(base / "data", env={"TRAILPOST_OIDC_JWKS_FILE": str(jwks)}).start()
    client(server, "iam").create_open_id_connect_provider(Url=ISSUER, ClientIDList=[AUDIENCE])
    yield server
    server.stop()


def _unsigned(server: ServerProcess) -> Any:
    return client(server, "sts", credentials=("AKIAUNUSEDUNUSEDUNUS", "unused"))


def _role(server: ServerProcess, *conditions: dict[str, Any]) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"Federated": PROVIDER_ARN},
        "Action": "sts:AssumeRoleWithWebIdentity",
    }
    if conditions:
        statement["Condition"] = conditions[0]
    iam = client(server, "iam")
    name = unique("web")
    role = iam.create_role(
        RoleName=name, AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [statement]})
    )
    iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=json.dumps({"Statement": [allow("outposts:*")]}))
    return role["Role"]


def test_a_verified_token_opens_a_role_session_and_both_are_recorded(
    oidc_server: ServerProcess, issuer: Issuer
) -> None:
    role = _role(oidc_server, {"StringEquals": {"idp.example.com/tenant-1:sub": "user-42"}})
    response = _unsigned(oidc_server).assume_role_with_web_identity(
        RoleArn=role["Arn"], RoleSessionName="web-1", WebIdentityToken=issuer.token(), DurationSeconds=900
    )
    assert response["SubjectFromWebIdentityToken"] == "user-42"
    assert response["Audience"] == AUDIENCE and response["Provider"] == PROVIDER_ARN
    assert response["AssumedRoleUser"]["AssumedRoleId"] == f"{role['RoleId']}:web-1"
    record = record_of(oidc_server, response)
    assert record["userIdentity"] == {
        "type": "WebIdentityUser",
        "principalId": f"{PROVIDER_ARN}:{AUDIENCE}:user-42",
        "userName": "user-42",
        "identityProvider": PROVIDER_ARN,
    }
    assert record["eventSource"] == "sts.amazonaws.com" and record["awsRegion"] == "us-east-1"
    assert record["recipientAccountId"] == ACCOUNT and record["readOnly"] is True
    assert "webIdentityToken" not in record["requestParameters"]
    elements = record["responseElements"]
    assert set(elements["credentials"]) == {"accessKeyId", "sessionToken", "expiration"}
    assert elements["provider"] == PROVIDER_ARN and elements["subjectFromWebIdentityToken"] == "user-42"
    session = client(oidc_server, "outposts", credentials=session_credentials(response))
    later = record_of(oidc_server, session.list_sites())
    assert later["userIdentity"]["type"] == "AssumedRole"
    assert later["userIdentity"]["sessionContext"]["webIdFederationData"] == {
        "federatedProvider": PROVIDER_ARN,
        "attributes": {},
    }


@pytest.mark.parametrize(
    ("claims", "message"),
    [
        ({"aud": "someone-else"}, "Incorrect token audience"),
        ({"exp": 1_000_000_000}, None),
        (
            {"iss": "https://unknown.example.com"},
            "No OpenIDConnect provider found in your account for https://unknown.example.com",
        ),
    ],
)
def test_refused_tokens(
    oidc_server: ServerProcess, issuer: Issuer, claims: dict[str, Any], message: str | None
) -> None:
    role = _role(oidc_server)
    error = fails(
        lambda: _unsigned(oidc_server).assume_role_with_web_identity(
            RoleArn=role["Arn"], RoleSessionName="bad", WebIdentityToken=issuer.token(**claims)
        ),
        "InvalidIdentityToken",
        400,
        message,
    )
    if "exp" in claims:
        assert error.response["Error"]["Message"].startswith("Token expired: current date/time ")
    record = record_of(oidc_server, error)
    assert (
        record["errorCode"] == "InvalidIdentityTokenException" and record["userIdentity"]["type"] == "WebIdentityUser"
    )


def test_a_token_signed_by_another_key_is_refused(oidc_server: ServerProcess) -> None:
    role = _role(oidc_server)
    forger = Issuer()  # same kid, different key
    fails(
        lambda: _unsigned(oidc_server).assume_role_with_web_identity(
            RoleArn=role["Arn"], RoleSessionName="forged", WebIdentityToken=forger.token()
        ),
        "InvalidIdentityToken",
        400,
    )


def test_a_trust_condition_that_fails_is_access_denied(oidc_server: ServerProcess, issuer: Issuer) -> None:
    role = _role(oidc_server, {"StringEquals": {"idp.example.com/tenant-1:sub": "someone-else"}})
    error = fails(
        lambda: _unsigned(oidc_server).assume_role_with_web_identity(
            RoleArn=role["Arn"], RoleSessionName="denied", WebIdentityToken=issuer.token()
        ),
        "AccessDenied",
        403,
        "Not authorized to perform sts:AssumeRoleWithWebIdentity",
    )
    assert record_of(oidc_server, error)["requestParameters"] is None


def test_a_request_tied_to_no_account_is_not_recorded(oidc_server: ServerProcess, issuer: Issuer) -> None:
    role = _role(oidc_server)
    garbage = fails(
        lambda: _unsigned(oidc_server).assume_role_with_web_identity(
            RoleArn=role["Arn"], RoleSessionName="junk", WebIdentityToken="not-a-jwt"
        ),
        "InvalidIdentityToken",
        400,
    )
    assert no_record_of(oidc_server, garbage)
    elsewhere = fails(
        lambda: _unsigned(oidc_server).assume_role_with_web_identity(
            RoleArn="arn:aws:iam::999999999999:role/x", RoleSessionName="junk", WebIdentityToken=issuer.token()
        ),
        "AccessDenied",
        403,
    )
    assert no_record_of(oidc_server, elsewhere)


def test_unsigned_calls_are_only_accepted_for_web_identity(oidc_server: ServerProcess) -> None:
    unsigned = client(oidc_server, "sts")
    unsigned.meta.events.register("choose-signer.sts.GetCallerIdentity", lambda **_: botocore.UNSIGNED)
    fails(unsigned.get_caller_identity, "MissingAuthenticationToken", 403)
