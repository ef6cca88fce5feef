"""IAM access keys: CreateAccessKey, ListAccessKeys, UpdateAccessKey, DeleteAccessKey, GetAccessKeyLastUsed.

Keys live with the root keys in the global ``identity.access_key`` documents (``identity.accounts``),
so authentication finds them by id alone; a user's document lists its key ids.

Rules (IAM's):
* without ``UserName`` an operation acts on the caller: the IAM user's keys, or the root user's
  own keys; role and federated sessions must name a user;
* at most ``MAX_KEYS`` keys per user and for the root user: "Cannot exceed quota for
  AccessKeysPerUser: 2" (``LimitExceeded``, 409);
* a key that is not the named user's (or is another account's) is "The Access Key with id <id>
  cannot be found." (``NoSuchEntity``); an ``Inactive`` key authenticates nothing until it is
  made ``Active`` again, a deleted one never again;
* the secret is returned once, by ``CreateAccessKey``, and never recorded;
* ``GetAccessKeyLastUsed`` answers for any key of the caller's account; a key never used has
  ``ServiceName`` and ``Region`` ``N/A`` and no ``LastUsedDate``.
"""

from __future__ import annotations

from typing import Any

from trailpost.gateway.context import RequestContext
from trailpost.identity import accounts
from trailpost.protocol.errors import ServiceError
from trailpost.services.iam.errors import LimitExceededException, NoSuchEntityException
from trailpost.services.iam.operations import ops
from trailpost.services.iam.resources import USER, get_user, page_items, put, target_user_name

MAX_KEYS = 2
ROOT_USER_NAME = "root"


def _not_found(key_id: str) -> ServiceError:
    return NoSuchEntityException(f"The Access Key with id {key_id} cannot be found.")


def _owned_key(ctx: RequestContext, key_id: str, user_name: str | None) -> dict[str, Any]:
    """The key ``key_id`` if it belongs to ``user_name`` (``None``: the account's root user)."""
    doc = ctx.store.get(accounts.ACCESS_KEY, "", key_id)
    if doc is None or doc["account_id"] != ctx.account_id:
        raise _not_found(key_id)
    if user_name is None:
        if doc["owner"] != "root":
            raise _not_found(key_id)
    elif doc["owner"] != "user" or doc["user_name"].lower() != user_name.lower():
        raise _not_found(key_id)
    return doc


def _metadata(doc: dict[str, Any]) -> dict[str, Any]:
    out = {"access_key_id": doc["access_key_id"], "status": doc["status"], "create_date": doc["created"]}
    if doc["owner"] == "user":
        out["user_name"] = doc["user_name"]
    return out


@ops("CreateAccessKey")
def create_access_key(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    name = target_user_name(ctx, params.get("user_name"))
    with ctx.store.transaction():
        if name is None:
            if len(accounts.root_keys(ctx.store, ctx.account_id)) >= MAX_KEYS:
                raise LimitExceededException(f"Cannot exceed quota for AccessKeysPerUser: {MAX_KEYS}")
            doc = accounts.add_key(ctx.store, ctx.account_id, created=ctx.received)
        else:
            user = get_user(ctx, name)
            if len(user["access_keys"]) >= MAX_KEYS:
                raise LimitExceededException(f"Cannot exceed quota for AccessKeysPerUser: {MAX_KEYS}")
            doc = accounts.add_key(ctx.store, ctx.account_id, created=ctx.received, user=user)
            user["access_keys"].append(doc["access_key_id"])
            put(ctx, USER, user["user_name"], user)
    return {"access_key": {**_metadata(doc), "secret_access_key": doc["secret_access_key"]}}


@ops("ListAccessKeys")
def list_access_keys(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    name = target_user_name(ctx, params.get("user_name"))
    if name is None:
        docs = accounts.root_keys(ctx.store, ctx.account_id)
        binding = "root"
    else:
        user = get_user(ctx, name)
        found = (ctx.store.get(accounts.ACCESS_KEY, "", key_id) for key_id in user["access_keys"])
        docs = [doc for doc in found if doc is not None]
        binding = user["user_id"]
    items, page = page_items(ctx, [_metadata(doc) for doc in docs], params, binding=binding)
    return {"access_key_metadata": items, **page}


@ops("UpdateAccessKey")
def update_access_key(ctx: RequestContext, params: dict[str, Any]) -> None:
    name = target_user_name(ctx, params.get("user_name"))
    with ctx.store.transaction():
        doc = _owned_key(ctx, params["access_key_id"], name)
        ctx.store.put(accounts.ACCESS_KEY, "", doc["access_key_id"], {**doc, "status": params["status"]})


@ops("DeleteAccessKey")
def delete_access_key(ctx: RequestContext, params: dict[str, Any]) -> None:
    name = target_user_name(ctx, params.get("user_name"))
    key_id = params["access_key_id"]
    with ctx.store.transaction():
        _owned_key(ctx, key_id, name)
        ctx.store.delete(accounts.ACCESS_KEY, "", key_id)
        if name is not None:
            user = get_user(ctx, name)
            user["access_keys"] = [k for k in user["access_keys"] if k != key_id]
            put(ctx, USER, user["user_name"], user)


@ops("GetAccessKeyLastUsed")
def get_access_key_last_used(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    key_id = params["access_key_id"]
    doc = ctx.store.get(accounts.ACCESS_KEY, "", key_id)
    if doc is None or doc["account_id"] != ctx.account_id:
        raise _not_found(key_id)
    used = doc.get("last_used")
    last: dict[str, Any] = {"service_name": "N/A", "region": "N/A"}
    if used:
        last = {"last_used_date": used["date"], "service_name": used["service"], "region": used["region"]}
    owner = doc["user_name"] if doc["owner"] == "user" else ROOT_USER_NAME
    return {"user_name": owner, "access_key_last_used": last}
