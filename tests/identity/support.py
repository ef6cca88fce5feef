"""Shared helpers of the identity tests (IAM, STS, authorization, identity records).

Records are read back straight from the server's event store (``<data_dir>/state.db``, table
``events``, column ``record``): the server answers only after a call's record is committed, so a
record is read once, without polling.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from contextlib import closing
from dataclasses import dataclass
from typing import Any

import boto3
import botocore.config
import botocore.exceptions
import pytest

from tests.support.server import ServerProcess

ACCOUNT = "123456789012"
# One botocore session for every client: a fresh session per client reloads the service models
# (about a third of a second for IAM), which would dominate these tests' time.
_SESSION = boto3.session.Session()


def client(
    server: ServerProcess,
    service: str,
    region: str = "us-east-1",
    credentials: tuple[str, str] | tuple[str, str, str] | None = None,
) -> Any:
    """A boto3 client of ``server`` (root of the default account unless ``credentials`` are given)."""
    key, secret, *token = credentials or server.root_credentials()
    return _SESSION.client(
        service,
        endpoint_url=server.endpoint,
        region_name=region,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        aws_session_token=token[0] if token else None,
        config=botocore.config.Config(retries={"max_attempts": 1, "mode": "standard"}),
    )


def unique(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def document(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action: str | list[str], resource: str | list[str] = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: str | list[str], resource: str | list[str] = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def trust(principal: dict[str, Any] | str, action: str | list[str] = "sts:AssumeRole", **extra: Any) -> str:
    return document({"Effect": "Allow", "Principal": principal, "Action": action, **extra})


def request_id(result: dict[str, Any] | botocore.exceptions.ClientError) -> str:
    response = result.response if isinstance(result, botocore.exceptions.ClientError) else result
    return str(response["ResponseMetadata"]["RequestId"])


def record_of(server: ServerProcess, result: dict[str, Any] | botocore.exceptions.ClientError) -> dict[str, Any]:
    """The one stored record of the call that produced ``result`` (a response or a ClientError)."""
    wanted = request_id(result)
    uri = f"file:{server.data_dir / 'state.db'}?mode=ro"
    with closing(sqlite3.connect(uri, uri=True, timeout=10)) as db:
        rows = db.execute(
            "SELECT record FROM events WHERE CAST(record AS TEXT) LIKE ?", (f'%"requestID":"{wanted}"%',)
        ).fetchall()
    found = [r for r in (json.loads(row[0]) for row in rows) if r.get("requestID") == wanted]
    assert len(found) == 1, f"expected one record with requestID {wanted}, found {len(found)}"
    return found[0]


def no_record_of(server: ServerProcess, error: botocore.exceptions.ClientError) -> bool:
    wanted = request_id(error)
    uri = f"file:{server.data_dir / 'state.db'}?mode=ro"
    with closing(sqlite3.connect(uri, uri=True, timeout=10)) as db:
        rows = db.execute(
            "SELECT count(*) FROM events WHERE CAST(record AS TEXT) LIKE ?", (f'%"requestID":"{wanted}"%',)
        ).fetchone()
    return int(rows[0]) == 0


def fails(
    call: Any, code: str, status: int | None = None, message: str | None = None
) -> botocore.exceptions.ClientError:
    """Run ``call``; it must fail with ``code`` (and ``status``, ``message``); the error is returned."""
    with pytest.raises(botocore.exceptions.ClientError) as info:
        call()
    error = info.value.response["Error"]
    assert error["Code"] == code, info.value.response
    if status is not None:
        assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
    if message is not None:
        assert error["Message"] == message, error["Message"]
    return info.value


@dataclass
class User:
    """An IAM user of the default account with one access key."""

    name: str
    arn: str
    user_id: str
    key: tuple[str, str]

    def client(self, server: ServerProcess, service: str, region: str = "us-east-1") -> Any:
        return client(server, service, region, self.key)


def make_user(server: ServerProcess, *statements: dict[str, Any], name: str | None = None) -> User:
    """A new IAM user (with an inline policy of ``statements`` when given) and its access key."""
    iam = client(server, "iam")
    name = name or unique("user")
    created = iam.create_user(UserName=name)["User"]
    if statements:
        iam.put_user_policy(UserName=name, PolicyName="inline", PolicyDocument=document(*statements))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return User(name, created["Arn"], created["UserId"], (key["AccessKeyId"], key["SecretAccessKey"]))


def session_credentials(response: dict[str, Any]) -> tuple[str, str, str]:
    c = response["Credentials"]
    return c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"]


def make_role(
    server: ServerProcess, principal: dict[str, Any] | str, *statements: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    """A new role trusting ``principal`` for sts:AssumeRole, with an inline policy of ``statements``."""
    iam = client(server, "iam")
    name = unique("role")
    role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust(principal), **extra)["Role"]
    if statements:
        iam.put_role_policy(RoleName=name, PolicyName="inline", PolicyDocument=document(*statements))
    return role
