"""OpenID Connect providers and the account summary."""

from __future__ import annotations

from typing import Any

import pytest

from tests.identity.support import ACCOUNT, client, fails, make_user, unique
from tests.support.server import ServerProcess

THUMBPRINT = "9e99a48a9960b14926bb7f3b02e22da2b0ab7280"


@pytest.fixture
def iam(server: ServerProcess) -> Any:
    return client(server, "iam")


def test_provider_lifecycle(iam: Any) -> None:
    host = f"{unique('idp')}.example.com/tenant"
    arn = iam.create_open_id_connect_provider(
        Url=f"https://{host}", ClientIDList=["app-1"], ThumbprintList=[THUMBPRINT]
    )["OpenIDConnectProviderArn"]
    assert arn == f"arn:aws:iam::{ACCOUNT}:oidc-provider/{host}"
    got = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    assert got["Url"] == host and got["ClientIDList"] == ["app-1"] and got["ThumbprintList"] == [THUMBPRINT]
    assert {"Arn": arn} in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]
    fails(
        lambda: iam.create_open_id_connect_provider(Url=f"https://{host}", ClientIDList=["x"]),
        "EntityAlreadyExists",
        409,
        f"Provider with url https://{host} already exists.",
    )
    iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    fails(
        lambda: iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn),
        "NoSuchEntity",
        404,
        f"OpenIDConnect Provider not found for arn {arn}",
    )
    fails(lambda: iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=arn), "NoSuchEntity", 404)


def test_provider_url_must_be_https(iam: Any) -> None:
    fails(
        lambda: iam.create_open_id_connect_provider(Url="http://plain.example.com", ClientIDList=["a"]),
        "InvalidInput",
        400,
    )


def test_account_summary_counts(iam: Any) -> None:
    before = iam.get_account_summary()["SummaryMap"]
    iam.create_user(UserName=unique("sum"))
    after = iam.get_account_summary()["SummaryMap"]
    assert after["UsersQuota"] == 5000 and after["AccessKeysPerUserQuota"] == 2
    assert after["AccountAccessKeysPresent"] == 1
    assert after["Users"] >= before["Users"] + 1


def test_reading_providers_and_the_summary_needs_permission(server: ServerProcess) -> None:
    user = make_user(server)
    fails(user.client(server, "iam").list_open_id_connect_providers, "AccessDenied", 403)
    fails(user.client(server, "iam").get_account_summary, "AccessDenied", 403)
