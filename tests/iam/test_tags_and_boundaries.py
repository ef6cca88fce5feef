"""Tags of users and roles through boto3: the per-entity quota, paging and keys the entity lacks.

The basic Tag/Untag/List round trips are in ``test_users`` and ``test_roles``; boundaries in
``test_permissions_boundaries``. These cover the rules both entities share, for each of them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.identity.support import ACCOUNT, client, fails, trust, unique
from tests.support.server import ServerProcess

ACCOUNT_TRUST = trust({"AWS": f"arn:aws:iam::{ACCOUNT}:root"})


@pytest.fixture
def iam(server: ServerProcess) -> Any:
    return client(server, "iam")


def _user(iam: Any, tags: list[dict[str, str]]) -> dict[str, Any]:
    name = unique("tagged")
    iam.create_user(UserName=name, Tags=tags)
    return {"UserName": name}


def _role(iam: Any, tags: list[dict[str, str]]) -> dict[str, Any]:
    name = unique("tagged")
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=ACCOUNT_TRUST, Tags=tags)
    return {"RoleName": name}


# entity -> (make it with tags, its title in operation names and quota messages)
ENTITIES: dict[str, tuple[Callable[[Any, list[dict[str, str]]], dict[str, Any]], str]] = {
    "user": (_user, "User"),
    "role": (_role, "Role"),
}


def _tags(prefix: str, count: int) -> list[dict[str, str]]:
    return [{"Key": f"{prefix}{n:02d}", "Value": str(n)} for n in range(count)]


@pytest.mark.parametrize("entity", sorted(ENTITIES))
def test_fifty_tags_per_entity_whatever_the_calls(iam: Any, entity: str) -> None:
    make, title = ENTITIES[entity]
    named = make(iam, _tags("a", 30))
    tag = getattr(iam, f"tag_{entity}")
    tag(**named, Tags=_tags("b", 20))  # 50: at the quota
    fails(
        lambda: tag(**named, Tags=_tags("c", 1)),
        "LimitExceeded",
        409,
        f"Cannot exceed quota for TagsPer{title}: 50",
    )
    tag(**named, Tags=[{"Key": "a00", "Value": "new"}])  # a key it has: replaced, still 50
    listed = getattr(iam, f"list_{entity}_tags")(**named, MaxItems=100)["Tags"]
    assert len(listed) == 50
    assert listed[0] == {"Key": "a00", "Value": "new"}  # a replaced value keeps its key's place


@pytest.mark.parametrize("entity", sorted(ENTITIES))
def test_tags_page_in_the_order_first_set(iam: Any, entity: str) -> None:
    make, _ = ENTITIES[entity]
    named = make(iam, _tags("k", 5))
    list_tags = getattr(iam, f"list_{entity}_tags")
    first = list_tags(**named, MaxItems=2)
    assert first["IsTruncated"] is True and [t["Key"] for t in first["Tags"]] == ["k00", "k01"]
    rest = list_tags(**named, MaxItems=10, Marker=first["Marker"])
    assert rest["IsTruncated"] is False and [t["Key"] for t in rest["Tags"]] == ["k02", "k03", "k04"]


@pytest.mark.parametrize("entity", sorted(ENTITIES))
def test_untag_ignores_keys_the_entity_lacks(iam: Any, entity: str) -> None:
    make, _ = ENTITIES[entity]
    named = make(iam, _tags("k", 2))
    getattr(iam, f"untag_{entity}")(**named, TagKeys=["k01", "never-set"])
    assert getattr(iam, f"list_{entity}_tags")(**named)["Tags"] == [{"Key": "k00", "Value": "0"}]
