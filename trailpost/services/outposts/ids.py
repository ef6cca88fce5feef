"""Outposts identifiers and ARNs: making them, and resolving "ID or ARN" inputs.

IDs are a prefix and 17 hex digits (``op-``, ``os-``, ``oo-``, ``ooi-``, ``oq-``, ``oqo-``,
``cap-``); ARNs are ``arn:aws:outposts:<region>:<account>:<type>/<id>``. An ARN naming another
account or region resolves to nothing, so the caller answers NotFound as AWS does.
"""

from __future__ import annotations

import re
import secrets

from trailpost.gateway.context import RequestContext

_ARN = re.compile(r"^arn:(aws[a-z-]*):outposts:([a-z\d-]+):(\d{12}):([a-z\d-]+)/(.+)$")


def new_id(prefix: str) -> str:
    """``prefix-`` and 17 random lowercase hex digits."""
    return f"{prefix}-{secrets.token_hex(9)[:17]}"


def new_asset_id() -> str:
    """A 10-digit asset id, as Outposts' ``AssetIdInput`` requires."""
    return str(secrets.randbelow(9 * 10**9) + 10**9)


def arn(ctx: RequestContext, resource_type: str, resource_id: str) -> str:
    return f"arn:aws:outposts:{ctx.region}:{ctx.account_id}:{resource_type}/{resource_id}"


def parse_arn(value: str) -> tuple[str, str, str, str] | None:
    """``(region, account, resource type, id)`` of an Outposts ARN, or ``None``."""
    match = _ARN.match(value)
    if not match:
        return None
    return match.group(2), match.group(3), match.group(4), match.group(5)


def resolve(ctx: RequestContext, value: str, resource_type: str) -> str | None:
    """The bare id that an "ID or ARN" input names in the caller's account and region.

    ``None`` when the ARN is of another partition, account, region or resource type.
    """
    if not value.startswith("arn:"):
        return value
    parsed = parse_arn(value)
    if parsed is None or not value.startswith("arn:aws:"):  # another partition (aws-cn, aws-us-gov)
        return None
    region, account, kind, resource_id = parsed
    if region != ctx.region or account != ctx.account_id or kind != resource_type:
        return None
    return resource_id
