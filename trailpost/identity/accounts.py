"""Accounts and their access keys, kept in the state store.

An account is ``("identity.account", "", <account id>)``; an access key is
``("identity.access_key", "", <key id>)`` holding its secret, owner and status. The default
account and its root key are made on first start (``ensure_default_account``), from settings when
they give them, else generated in AWS's formats.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from trailpost.identity.keys import new_access_key_id, new_account_id, new_secret_access_key
from trailpost.identity.principal import Principal
from trailpost.store.base import StateStore

ACCOUNT = "identity.account"
ACCESS_KEY = "identity.access_key"


@dataclass(frozen=True, slots=True)
class RootKey:
    """An account's root access key pair."""

    account_id: str
    access_key_id: str
    secret_access_key: str


class AccountRegistry:
    """Creates accounts and resolves access keys to principals."""

    def __init__(self, store: StateStore) -> None:
        self.store = store

    def accounts(self) -> list[dict[str, Any]]:
        return [entry.doc for entry in self.store.list(ACCOUNT, "")]

    def account(self, account_id: str) -> dict[str, Any] | None:
        return self.store.get(ACCOUNT, "", account_id)

    def create_account(
        self,
        name: str,
        *,
        account_id: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
    ) -> RootKey:
        """Create an account with a root key; raises ``ValueError`` if the id or key is taken."""
        with self.store.transaction():
            account_id = account_id or self._free_account_id()
            if self.store.get(ACCOUNT, "", account_id) is not None:
                raise ValueError(f"account {account_id} already exists")
            if any(entry.doc["name"] == name for entry in self.store.list(ACCOUNT, "")):
                raise ValueError(f"an account named {name!r} already exists")
            key = RootKey(
                account_id,
                access_key_id or new_access_key_id(),
                secret_access_key or new_secret_access_key(),
            )
            if self.store.get(ACCESS_KEY, "", key.access_key_id) is not None:
                raise ValueError(f"access key {key.access_key_id} already exists")
            now = time.time()
            self.store.put(ACCOUNT, "", account_id, {"account_id": account_id, "name": name, "created": now})
            self.store.put(
                ACCESS_KEY,
                "",
                key.access_key_id,
                {
                    "access_key_id": key.access_key_id,
                    "secret_access_key": key.secret_access_key,
                    "account_id": account_id,
                    "owner": "root",
                    "status": "Active",
                    "created": now,
                },
            )
        return key

    def _free_account_id(self) -> str:
        while True:
            candidate = new_account_id()
            if self.store.get(ACCOUNT, "", candidate) is None:
                return candidate

    def root_key(self, account_id: str) -> RootKey | None:
        """The first active root key of an account."""
        for entry in self.store.list(ACCESS_KEY, ""):
            doc = entry.doc
            if doc["account_id"] == account_id and doc["owner"] == "root" and doc["status"] == "Active":
                return RootKey(account_id, doc["access_key_id"], doc["secret_access_key"])
        return None

    def lookup_key(self, access_key_id: str) -> tuple[str, Principal] | None:
        """The secret and principal of an active access key, or ``None``."""
        doc = self.store.get(ACCESS_KEY, "", access_key_id)
        if doc is None or doc["status"] != "Active":
            return None
        account_id = doc["account_id"]
        principal = Principal(
            account_id=account_id,
            identity_type="Root",
            arn=f"arn:aws:iam::{account_id}:root",
            principal_id=account_id,
            access_key_id=access_key_id,
        )
        return doc["secret_access_key"], principal


def ensure_default_account(
    registry: AccountRegistry,
    account_id: str,
    access_key_id: str | None,
    secret_access_key: str | None,
) -> tuple[RootKey, bool]:
    """The default account's root key, creating both on first start. Returns (key, created)."""
    if registry.account(account_id) is None:
        key = registry.create_account(
            "default", account_id=account_id, access_key_id=access_key_id, secret_access_key=secret_access_key
        )
        return key, True
    key = registry.root_key(account_id)
    if key is None:
        raise RuntimeError(f"account {account_id} has no active root key")
    return key, False
