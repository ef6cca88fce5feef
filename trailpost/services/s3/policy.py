"""Bucket policies: S3's validation (``MalformedPolicy`` with AWS's messages) and their evaluation.

Rules:

* ``check_bucket_policy`` refuses what PutBucketPolicy refuses: not a JSON object ("Policies must
  be valid JSON and the first byte must be '{'"), no ``Statement`` ("Missing required field
  Statement"), a statement without ``Effect``/``Principal``/``Action``/``Resource`` ("Missing
  required field ..."), an effect other than Allow/Deny ("Invalid effect: ..."), an action that
  is not ``s3:...`` or ``*`` ("Policy has invalid action"), a resource outside the bucket ("Policy
  has invalid resource"), a bad principal ("Invalid principal in policy"), an unknown condition
  operator ("Invalid Condition type : ...") and an unknown version ("Invalid policy version").
* ``service_allowed`` (the shared contract): does the policy let the service principal
  ``service`` do ``action`` on ``resource`` under ``context``? Principal ``{"Service": ...}`` or
  ``"*"``; actions and resources with wildcards; conditions as IAM evaluates them
  (``identity.policy``); an explicit Deny wins; no policy = not allowed.
* ``bucket_policy_decision`` does the same for an AWS principal (account id / ARN) and answers
  ``Decision``: the embedded S3 uses it for callers from other accounts than the bucket owner.
"""

from __future__ import annotations

from typing import Any

import orjson

from trailpost.identity.policy import (
    Decision,
    MalformedPolicy,
    Policy,
    Statement,
    _conditions,
    _matches,
    principal_matches,
    wildcard_match,
)

VERSIONS = ("2012-10-17", "2008-10-17")
_FIELDS = {"Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Principal", "NotPrincipal", "Condition"}


class MalformedBucketPolicy(ValueError):
    """A bucket policy S3 refuses; the message is S3's."""


def _strings(value: Any, field: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise MalformedBucketPolicy(f"Invalid {field} in policy")


def _principal(value: Any) -> dict[str, tuple[str, ...]]:
    if value == "*":
        return {"AWS": ("*",)}
    if not isinstance(value, dict) or not value:
        raise MalformedBucketPolicy("Invalid principal in policy")
    out = {}
    for kind, ids in value.items():
        if kind not in ("AWS", "Service", "Federated", "CanonicalUser"):
            raise MalformedBucketPolicy("Invalid principal in policy")
        out[kind] = _strings(ids, "principal")
    return out


def _check_actions(actions: tuple[str, ...]) -> None:
    for action in actions:
        if action != "*" and not action.lower().startswith("s3:"):
            raise MalformedBucketPolicy("Policy has invalid action")


def _check_resources(resources: tuple[str, ...], bucket: str) -> None:
    for resource in resources:
        if resource == "*":
            continue
        if not resource.startswith("arn:aws:s3:::"):
            raise MalformedBucketPolicy("Policy has invalid resource")
        name = resource[len("arn:aws:s3:::") :].split("/", 1)[0]
        if not wildcard_match(name, bucket):
            raise MalformedBucketPolicy("Policy has invalid resource")


def parse_bucket_policy(text: str, bucket: str | None = None) -> Policy:
    """Parse a bucket policy as S3 validates it (``bucket`` given: resources must be inside it)."""
    if not text.lstrip().startswith("{"):
        raise MalformedBucketPolicy("Policies must be valid JSON and the first byte must be '{'")
    try:
        document = orjson.loads(text)
    except orjson.JSONDecodeError:
        raise MalformedBucketPolicy("This policy contains invalid Json") from None
    version = document.get("Version")
    if version is not None and version not in VERSIONS:
        raise MalformedBucketPolicy("Invalid policy version")
    raw = document.get("Statement")
    if raw is None:
        raise MalformedBucketPolicy("Missing required field Statement")
    items = raw if isinstance(raw, list) else [raw]
    if not items:
        raise MalformedBucketPolicy("Could not parse the policy: Statement is empty!")
    statements = []
    for item in items:
        if not isinstance(item, dict):
            raise MalformedBucketPolicy("This policy contains invalid Json")
        unknown = sorted(set(item) - _FIELDS)
        if unknown:
            raise MalformedBucketPolicy(f"Unknown field {unknown[0]}")
        if "Effect" not in item:
            raise MalformedBucketPolicy("Missing required field Effect")
        if item["Effect"] not in ("Allow", "Deny"):
            raise MalformedBucketPolicy(f"Invalid effect: {item['Effect']}")
        if "Principal" not in item and "NotPrincipal" not in item:
            raise MalformedBucketPolicy("Missing required field Principal")
        if "Action" not in item and "NotAction" not in item:
            raise MalformedBucketPolicy("Missing required field Action")
        if "Resource" not in item and "NotResource" not in item:
            raise MalformedBucketPolicy("Missing required field Resource")
        actions = _strings(item["Action"], "action") if "Action" in item else ()
        not_actions = _strings(item["NotAction"], "action") if "NotAction" in item else ()
        _check_actions(actions + not_actions)
        resources = _strings(item["Resource"], "resource") if "Resource" in item else ()
        not_resources = _strings(item["NotResource"], "resource") if "NotResource" in item else ()
        if bucket is not None:
            _check_resources(resources + not_resources, bucket)
        try:
            conditions = _conditions(item.get("Condition"))
        except MalformedPolicy as exc:
            raise MalformedBucketPolicy(str(exc).rstrip(".")) from None
        principal = item.get("Principal", item.get("NotPrincipal"))
        statements.append(
            Statement(
                effect=item["Effect"],
                actions=actions,
                not_actions=not_actions,
                resources=resources,
                not_resources=not_resources,
                principals=_principal(principal),
                conditions=conditions,
            )
        )
    return Policy(tuple(statements))


def check_bucket_policy(text: str, bucket: str) -> None:
    """``MalformedBucketPolicy`` unless S3 would accept ``text`` as the policy of ``bucket``."""
    parse_bucket_policy(text, bucket)


def _decide(
    policy: str | None, principal: dict[str, str], action: str, resource: str, context: dict[str, Any]
) -> Decision:
    if not policy:
        return Decision.IMPLICIT_DENY
    try:
        parsed = parse_bucket_policy(policy)
    except MalformedBucketPolicy:
        return Decision.IMPLICIT_DENY
    allowed = False
    for statement in parsed.statements:
        if not principal_matches(statement, principal):
            continue
        if _matches(statement, action, resource, context):
            if statement.effect == "Deny":
                return Decision.EXPLICIT_DENY
            allowed = True
    return Decision.ALLOW if allowed else Decision.IMPLICIT_DENY


def service_allowed(policy: str | None, *, service: str, action: str, resource: str, context: dict[str, str]) -> bool:
    """Whether the bucket policy lets service principal ``service`` do ``action`` on ``resource``."""
    return _decide(policy, {"Service": service, "AWS": ""}, action, resource, context) is Decision.ALLOW


def bucket_policy_decision(
    policy: str | None, *, account_id: str, arn: str, action: str, resource: str, context: dict[str, Any]
) -> Decision:
    """The bucket policy's decision for an AWS principal (``arn`` of account ``account_id``)."""
    return _decide(policy, {"AWS": arn, "account": account_id}, action, resource, context)
