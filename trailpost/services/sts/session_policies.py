"""What a caller may attach to new temporary credentials: session policies and session tags.

Session policies (``Policy``, ``PolicyArns``) narrow the credentials to the intersection of the
identity's policies and themselves (``identity.authorize``). Rules (AWS's):

* ``Policy`` is a valid identity policy (``MalformedPolicyDocument``) of at most
  ``PLAINTEXT_LIMIT`` characters (the Coral length message, ``ValidationError``);
* ``PolicyArns`` names at most ``MAX_POLICY_ARNS`` managed policies, each visible from the
  account the credentials belong to ("Policy <arn> does not exist or is not attachable.",
  ``MalformedPolicyDocument``);
* the policy (minified), ARNs and tags are packed together (raw deflate); ``PackedPolicySize`` is the packed
  size as a percentage of the allotted ``PACKED_LIMIT`` bytes, rounded up; above 100 the call
  fails with ``PackedPolicyTooLarge`` "Packed policy consumes <n>% of allotted space, please use
  smaller policy." (a one-statement allow-all policy packs to 4%, as in the recorded
  GetFederationToken event);
* session tag keys are unique ignoring case ("Duplicate tag keys found. ..."), transitive keys
  must be among the tags ("The specified transitive tag key must be included in the requested
  tags.") and may not override a transitive tag of the calling session (``InvalidParameterValue``).
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass, field
from typing import Any

import orjson

from trailpost.gateway.context import RequestContext
from trailpost.protocol.errors import ServiceError
from trailpost.services.iam import managed
from trailpost.services.iam.documents import identity_policy
from trailpost.services.sts.errors import (
    InvalidParameterValue,
    MalformedPolicyDocumentException,
    PackedPolicyTooLargeException,
    ValidationError,
)

PLAINTEXT_LIMIT = 2048
PACKED_LIMIT = 2048
MAX_POLICY_ARNS = 10


@dataclass(frozen=True)
class SessionGrant:
    """The session policies and tags a request asks for, checked."""

    texts: list[str] = field(default_factory=list)
    arns: list[str] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)
    transitive: list[str] = field(default_factory=list)
    packed_size: int = 0

    @property
    def has_policies(self) -> bool:
        return bool(self.texts or self.arns)


def _coral(value: str, member: str, constraint: str) -> ServiceError:
    return ValidationError(
        f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: {constraint}"
    )


def read(
    ctx: RequestContext, params: dict[str, Any], account_id: str, inherited: dict[str, Any] | None = None
) -> SessionGrant:
    """The checked session policies and tags of ``params`` for credentials of ``account_id``;
    ``inherited`` is the calling session's grant (its transitive tags carry over)."""
    text = params.get("policy")
    texts = []
    if text is not None:
        if len(text) > PLAINTEXT_LIMIT:
            raise _coral(text, "policy", f"Member must have length less than or equal to {PLAINTEXT_LIMIT}")
        identity_policy(text, MalformedPolicyDocumentException)
        texts.append(text)
    arns = [item["arn"] for item in params.get("policy_arns") or [] if item.get("arn")]
    if len(arns) > MAX_POLICY_ARNS:
        raise _coral(str(arns), "policyArns", f"Member must have length less than or equal to {MAX_POLICY_ARNS}")
    for arn in arns:
        if managed.find_policy_in(ctx.store, account_id, arn) is None:
            raise MalformedPolicyDocumentException(f"Policy {arn} does not exist or is not attachable.")
    tags, transitive = _tags(params, inherited or {})
    packed = packed_size(text, arns, tags)
    if packed > 100:
        raise PackedPolicyTooLargeException(
            f"Packed policy consumes {packed}% of allotted space, please use smaller policy."
        )
    return SessionGrant(texts, arns, tags, transitive, packed)


def _tags(params: dict[str, Any], inherited: dict[str, Any]) -> tuple[dict[str, str], list[str]]:
    requested = [(tag["key"], tag["value"]) for tag in params.get("tags") or []]
    lowered = [key.lower() for key, _ in requested]
    if len(set(lowered)) != len(lowered):
        raise InvalidParameterValue("Duplicate tag keys found. Please note that Tag keys are case insensitive.")
    transitive = list(params.get("transitive_tag_keys") or [])
    if not {key.lower() for key in transitive} <= set(lowered):
        raise InvalidParameterValue("The specified transitive tag key must be included in the requested tags.")
    carried = {
        key: value for key, value in (inherited.get("tags") or {}).items() if key in inherited.get("transitive", [])
    }
    if {key.lower() for key in carried} & set(lowered):
        raise InvalidParameterValue(
            "One of the specified transitive tag keys can't be set because it conflicts with a transitive tag key "
            "from the calling session."
        )
    return {**carried, **dict(requested)}, [*carried, *transitive]


def packed_size(policy: str | None, arns: list[str], tags: dict[str, str]) -> int:
    """The packed size of a session's policies and tags, in percent of ``PACKED_LIMIT``."""
    parts = []
    if policy:
        parts.append(orjson.dumps(orjson.loads(policy)))
    parts += [arn.encode() for arn in arns]
    parts += [f"{key}={value}".encode() for key, value in tags.items()]
    if not parts:
        return 0
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)  # raw deflate: no header, no checksum
    packed = packer.compress(b"\n".join(parts)) + packer.flush()
    return math.ceil(len(packed) * 100 / PACKED_LIMIT)
