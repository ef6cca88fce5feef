"""OpenID Connect identity providers and the account summary.

Create/Get/List/DeleteOpenIDConnectProvider keep ``iam.oidc_provider`` documents keyed by the
provider URL without ``https://`` (lowercased): ``url`` (as given), ``arn``
(``arn:aws:iam::<account>:oidc-provider/<host and path>``), ``client_id_list`` (the audiences
AssumeRoleWithWebIdentity accepts), ``thumbprint_list``, ``create_date``, ``tags``. The keys
that verify the provider's tokens come from trailpost's configuration (``identity.oidc``).

Rules (IAM's): the URL must be ``https://``; one provider per URL ("Provider with url <url>
already exists.", ``EntityAlreadyExists``); at most 100 client ids and 5 thumbprints;
``GetOpenIDConnectProvider`` returns the URL without its scheme; an unknown ARN is
"OpenIDConnect Provider not found for arn <arn>" (``NoSuchEntity``).

``GetAccountSummary`` counts the account's entities and states IAM's default quotas, the ones
trailpost enforces.
"""

from __future__ import annotations

from typing import Any

from trailpost.gateway.context import RequestContext
from trailpost.identity import accounts
from trailpost.services.iam.errors import (
    EntityAlreadyExistsException,
    InvalidInputException,
    LimitExceededException,
    NoSuchEntityException,
)
from trailpost.services.iam.operations import ops
from trailpost.services.iam.resources import GROUP, OIDC_PROVIDER, POLICY, ROLE, USER, tags_of

MAX_CLIENT_IDS = 100
MAX_THUMBPRINTS = 5
MAX_PROVIDERS = 100


def provider_key(url: str) -> str:
    return url.removeprefix("https://").rstrip("/").lower()


def _get(ctx: RequestContext, arn: str) -> dict[str, Any]:
    prefix = f"arn:aws:iam::{ctx.account_id}:oidc-provider/"
    doc = ctx.store.get(OIDC_PROVIDER, ctx.account_id, arn[len(prefix) :].lower()) if arn.startswith(prefix) else None
    if doc is None or doc["arn"] != arn:
        raise NoSuchEntityException(f"OpenIDConnect Provider not found for arn {arn}")
    return doc


@ops("CreateOpenIDConnectProvider")
def create_provider(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    url = params["url"]
    if not url.startswith("https://") or len(url) <= len("https://"):
        raise InvalidInputException(f"Invalid URL: {url}. The URL must begin with https://")
    clients, thumbprints = params.get("client_id_list") or [], params.get("thumbprint_list") or []
    if len(clients) > MAX_CLIENT_IDS:
        raise LimitExceededException(f"Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: {MAX_CLIENT_IDS}")
    if len(thumbprints) > MAX_THUMBPRINTS:
        raise LimitExceededException(f"Cannot exceed quota for ThumbprintsPerOpenIdConnectProvider: {MAX_THUMBPRINTS}")
    key = provider_key(url)
    with ctx.store.transaction():
        if ctx.store.get(OIDC_PROVIDER, ctx.account_id, key) is not None:
            raise EntityAlreadyExistsException(f"Provider with url {url} already exists.")
        if len(ctx.store.list(OIDC_PROVIDER, ctx.account_id, limit=MAX_PROVIDERS)) >= MAX_PROVIDERS:
            raise LimitExceededException(f"Cannot exceed quota for OpenIdConnectProvidersPerAccount: {MAX_PROVIDERS}")
        doc = {
            "url": url.rstrip("/"),
            "arn": f"arn:aws:iam::{ctx.account_id}:oidc-provider/{url.removeprefix('https://').rstrip('/')}",
            "client_id_list": list(dict.fromkeys(clients)),
            "thumbprint_list": list(dict.fromkeys(thumbprints)),
            "create_date": ctx.received,
            "tags": tags_of(params),
        }
        ctx.store.put(OIDC_PROVIDER, ctx.account_id, key, doc)
    out: dict[str, Any] = {"open_id_connect_provider_arn": doc["arn"]}
    if doc["tags"]:
        out["tags"] = doc["tags"]
    return out


@ops("GetOpenIDConnectProvider")
def get_provider(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    doc = _get(ctx, params["open_id_connect_provider_arn"])
    out = {
        "url": doc["url"].removeprefix("https://"),
        "client_id_list": doc["client_id_list"],
        "thumbprint_list": doc["thumbprint_list"],
        "create_date": doc["create_date"],
    }
    if doc["tags"]:
        out["tags"] = doc["tags"]
    return out


@ops("ListOpenIDConnectProviders")
def list_providers(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    entries = ctx.store.list(OIDC_PROVIDER, ctx.account_id)
    return {"open_id_connect_provider_list": [{"arn": entry.doc["arn"]} for entry in entries]}


@ops("DeleteOpenIDConnectProvider")
def delete_provider(ctx: RequestContext, params: dict[str, Any]) -> None:
    with ctx.store.transaction():
        doc = _get(ctx, params["open_id_connect_provider_arn"])
        ctx.store.delete(OIDC_PROVIDER, ctx.account_id, provider_key(doc["url"]))


QUOTAS = {
    "UsersQuota": 5000,
    "GroupsQuota": 300,
    "RolesQuota": 1000,
    "PoliciesQuota": 1500,
    "AccessKeysPerUserQuota": 2,
    "GroupsPerUserQuota": 10,
    "AttachedPoliciesPerUserQuota": 10,
    "AttachedPoliciesPerRoleQuota": 10,
    "AttachedPoliciesPerGroupQuota": 10,
    "PolicySizeQuota": 6144,
    "UserPolicySizeQuota": 2048,
    "RolePolicySizeQuota": 10240,
    "GroupPolicySizeQuota": 5120,
    "AssumeRolePolicySizeQuota": 2048,
    "VersionsPerPolicyQuota": 5,
    "PolicyVersionsInUseQuota": 10000,
    "GlobalEndpointTokenVersion": 1,
}


@ops("GetAccountSummary")
def get_account_summary(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    def count(kind: str) -> int:
        return len(ctx.store.list(kind, ctx.account_id))

    in_use = sum(
        1
        for kind in (USER, ROLE, GROUP)
        for entry in ctx.store.list(kind, ctx.account_id)
        for _ in entry.doc["attached"]
    )
    summary = {
        **QUOTAS,
        "Users": count(USER),
        "Groups": count(GROUP),
        "Roles": count(ROLE),
        "Policies": count(POLICY),
        "PolicyVersionsInUse": in_use,
        "Providers": count(OIDC_PROVIDER),
        "AccountAccessKeysPresent": int(bool(accounts.root_keys(ctx.store, ctx.account_id))),
        "AccountMFAEnabled": 0,
        "AccountPasswordPresent": 0,
        "MFADevices": 0,
        "MFADevicesInUse": 0,
        "AccountSigningCertificatesPresent": 0,
        "ServerCertificates": 0,
        "ServerCertificatesQuota": 20,
        "InstanceProfiles": 0,
        "InstanceProfilesQuota": 1000,
        "SigningCertificatesPerUserQuota": 2,
    }
    return {"summary_map": summary}
