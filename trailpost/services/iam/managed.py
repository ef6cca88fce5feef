"""Managed policies as every IAM family sees them: AWS's (static data) and the account's own.

AWS managed policies (``data/aws_managed_policies.json``) have ARNs ``arn:aws:iam::aws:policy/
<name>``, one version ``v1`` and the same content in every account; they cannot be changed or
deleted. Customer managed policies are ``iam.policy`` documents (``resources``). Both are found
by ARN (``find_policy``); how often a policy is attached in an account is kept per ARN in
``iam.policy_use`` and changed only by attach and detach, so ``AttachmentCount`` never needs a
scan.

Rules: a ``PolicyArn`` that is not an IAM policy ARN is ``ValidationError`` "Invalid ARN:  Could
not be parsed!" (IAM's wording, two spaces included); one that names no policy the caller can
see is ``NoSuchEntity`` - "Policy <arn> does not exist or is not attachable." when attaching,
"Policy <arn> was not found." otherwise. Policies of other accounts are never visible.
"""

from __future__ import annotations

import hashlib
import json
from base64 import b32encode
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from trailpost.gateway.context import RequestContext
from trailpost.services.iam.errors import NoSuchEntityException, ValidationError
from trailpost.services.iam.resources import POLICY, POLICY_USE, name_key, parse_iam_arn
from trailpost.store.base import StateStore

DATA = Path(__file__).with_name("data") / "aws_managed_policies.json"
AWS_POLICY_PREFIX = "arn:aws:iam::aws:policy/"


def _derived_id(name: str) -> str:
    digest = b32encode(hashlib.sha256(f"aws-managed-policy/{name}".encode()).digest()).decode()
    return "ANPA" + digest[:17]


@cache
def aws_policies() -> dict[str, dict[str, Any]]:
    """AWS managed policies by lowercased name, in the layout of customer managed policies."""
    out = {}
    for item in json.loads(DATA.read_text())["policies"]:
        created = datetime.fromisoformat(item["create_date"].replace("Z", "+00:00")).timestamp()
        document = json.dumps(item["document"], indent=4)
        out[name_key(item["name"])] = {
            "policy_name": item["name"],
            "policy_id": item.get("id") or _derived_id(item["name"]),
            "arn": AWS_POLICY_PREFIX + item["name"],
            "path": "/",
            "description": item["description"],
            "create_date": created,
            "update_date": created,
            "default_version_id": "v1",
            "versions": [{"version_id": "v1", "document": document, "create_date": created}],
            "aws_managed": True,
        }
    return out


def find_policy_in(store: StateStore, account_id: str, arn: str) -> dict[str, Any] | None:
    """The managed policy ``arn`` names, as seen from ``account_id`` (``None`` if it sees none)."""
    parsed = parse_iam_arn(arn)
    if parsed is None or parsed[1] != "policy":
        return None
    owner, _, _, name = parsed
    if owner == "aws":
        policy = aws_policies().get(name_key(name))
    elif owner == account_id:
        policy = store.get(POLICY, account_id, name_key(name))
    else:
        return None
    return policy if policy is not None and policy["arn"] == arn else None


def check_arn(arn: str) -> None:
    parsed = parse_iam_arn(arn)
    if parsed is None or parsed[1] != "policy" or not parsed[3]:
        raise ValidationError("Invalid ARN:  Could not be parsed!")


def get_policy(ctx: RequestContext, arn: str, *, attaching: bool = False) -> dict[str, Any]:
    """The managed policy ``arn`` names, or IAM's error (module docstring)."""
    check_arn(arn)
    policy = find_policy_in(ctx.store, ctx.account_id, arn)
    if policy is None:
        if attaching:
            raise NoSuchEntityException(f"Policy {arn} does not exist or is not attachable.")
        raise NoSuchEntityException(f"Policy {arn} was not found.")
    return policy


def default_document(policy: dict[str, Any]) -> str:
    """The text of the policy's default version."""
    for version in policy["versions"]:
        if version["version_id"] == policy["default_version_id"]:
            return str(version["document"])
    raise KeyError(policy["default_version_id"])


def default_document_in(store: StateStore, account_id: str, arn: str) -> str | None:
    """The default version's text of the policy ``arn`` (``None`` if it no longer exists)."""
    policy = find_policy_in(store, account_id, arn)
    return default_document(policy) if policy is not None else None


def attachment_count(ctx: RequestContext, arn: str, field: str = "count") -> int:
    """How many users, roles and groups have ``arn`` attached (``field="boundaries"``: as their
    permissions boundary) in the caller's account."""
    use = ctx.store.get(POLICY_USE, ctx.account_id, arn) or {}
    return int(use.get(field, 0))


def change_use(ctx: RequestContext, arn: str, delta: int, field: str = "count") -> None:
    """Count one more (``delta=1``) or one fewer (``-1``) attachment (or boundary use) of ``arn``."""
    use = ctx.store.get(POLICY_USE, ctx.account_id, arn) or {"arn": arn}
    use[field] = int(use.get(field, 0)) + delta
    if use.get("count", 0) > 0 or use.get("boundaries", 0) > 0:
        ctx.store.put(POLICY_USE, ctx.account_id, arn, use)
    else:
        ctx.store.delete(POLICY_USE, ctx.account_id, arn)


def replace_boundary(ctx: RequestContext, entity: dict[str, Any], arn: str | None) -> None:
    """Set a user's or role's permissions boundary to the managed policy ``arn`` (``None``: remove
    it), keeping both policies' boundary use counts; IAM's error if ``arn`` names no policy. The
    caller stores ``entity``."""
    if arn is not None:
        get_policy(ctx, arn, attaching=True)
    old = entity.get("permissions_boundary")
    if old == arn:
        return
    if old:
        change_use(ctx, old, -1, "boundaries")
    if arn is not None:
        change_use(ctx, arn, 1, "boundaries")
    entity["permissions_boundary"] = arn


def describe(ctx: RequestContext, policy: dict[str, Any]) -> dict[str, Any]:
    """The ``Policy`` structure of a managed policy."""
    out = {
        "policy_name": policy["policy_name"],
        "policy_id": policy["policy_id"],
        "arn": policy["arn"],
        "path": policy["path"],
        "default_version_id": policy["default_version_id"],
        "attachment_count": attachment_count(ctx, policy["arn"]),
        "permissions_boundary_usage_count": attachment_count(ctx, policy["arn"], "boundaries"),
        "is_attachable": True,
        "create_date": policy["create_date"],
        "update_date": policy["update_date"],
    }
    if policy.get("description"):
        out["description"] = policy["description"]
    if policy.get("tags"):
        out["tags"] = policy["tags"]
    return out
