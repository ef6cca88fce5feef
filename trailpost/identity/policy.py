"""IAM policy documents: parsing with IAM's errors, and the evaluation that decides each call.

Evaluation follows AWS's logic for identity-based policies (and session policies):

1. an explicit ``Deny`` in any applicable statement denies;
2. otherwise an ``Allow`` that matches allows — when session policies are present, the call must
   also be allowed by one of them (the session's permissions are the intersection);
3. otherwise the call is implicitly denied.

``Action``/``NotAction`` match case-insensitively with ``*`` and ``?`` wildcards;
``Resource``/``NotResource`` match case-sensitively with the same wildcards. Conditions support
the common operators (String*, Arn*, Numeric*, Date*, Bool, Null, IpAddress, with ``IfExists``
and the ``ForAnyValue``/``ForAllValues`` set qualifiers); a statement with an operator trailpost
does not know never matches (so an unknown condition can neither grant access nor be relied on
to deny, and ``PutUserPolicy`` refuses such documents up front).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from functools import lru_cache
from typing import Any

import orjson

VERSIONS = ("2012-10-17", "2008-10-17")


class MalformedPolicy(ValueError):
    """A policy document IAM would refuse; the message is IAM's."""


class Decision(Enum):
    ALLOW = "allow"
    EXPLICIT_DENY = "explicit_deny"
    IMPLICIT_DENY = "implicit_deny"


@dataclass(frozen=True, slots=True)
class Statement:
    effect: str
    actions: tuple[str, ...]
    not_actions: tuple[str, ...]
    resources: tuple[str, ...]
    not_resources: tuple[str, ...]
    principals: dict[str, tuple[str, ...]] | None
    conditions: dict[str, dict[str, tuple[Any, ...]]]


@dataclass(frozen=True, slots=True)
class Policy:
    statements: tuple[Statement, ...]


def _strings(value: Any, field: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise MalformedPolicy(f"Syntax errors in policy. {field} must be a string or a non-empty list of strings.")


def _principals(value: Any) -> dict[str, tuple[str, ...]]:
    if value == "*":
        return {"AWS": ("*",)}
    if not isinstance(value, dict) or not value:
        raise MalformedPolicy("Invalid principal in policy.")
    out = {}
    for kind, ids in value.items():
        if kind not in ("AWS", "Service", "Federated", "CanonicalUser"):
            raise MalformedPolicy(f'Invalid principal in policy: "{kind}"')
        out[kind] = _strings(ids, "Principal")
    return out


def parse_policy(text: str, *, trust: bool = False) -> Policy:
    """Parse an identity policy (or a role trust policy with ``trust=True``) as IAM validates it."""
    try:
        document = orjson.loads(text)
    except orjson.JSONDecodeError:
        raise MalformedPolicy("Syntax errors in policy.") from None
    if not isinstance(document, dict):
        raise MalformedPolicy("Syntax errors in policy.")
    version = document.get("Version")
    if version is not None and version not in VERSIONS:
        raise MalformedPolicy("The policy failed legacy parsing")
    raw = document.get("Statement")
    if raw is None:
        raise MalformedPolicy("Syntax errors in policy.")
    raw_statements = raw if isinstance(raw, list) else [raw]
    statements = []
    for item in raw_statements:
        if not isinstance(item, dict):
            raise MalformedPolicy("Syntax errors in policy.")
        unknown = set(item) - {
            "Sid",
            "Effect",
            "Action",
            "NotAction",
            "Resource",
            "NotResource",
            "Principal",
            "NotPrincipal",
            "Condition",
        }
        if unknown:
            raise MalformedPolicy(f"Syntax errors in policy. Unknown field {sorted(unknown)[0]}")
        effect = item.get("Effect")
        if effect not in ("Allow", "Deny"):
            raise MalformedPolicy("Syntax errors in policy. Effect must be Allow or Deny.")
        if ("Action" in item) == ("NotAction" in item):
            raise MalformedPolicy("Policy statement must contain actions.")
        has_resource = "Resource" in item or "NotResource" in item
        if trust:
            if "Principal" not in item and "NotPrincipal" not in item:
                raise MalformedPolicy("Missing required field Principal")
            if has_resource:
                raise MalformedPolicy("Has prohibited field Resource")
        else:
            if "Principal" in item or "NotPrincipal" in item:
                raise MalformedPolicy("Policy document should not specify a principal.")
            if not has_resource:
                raise MalformedPolicy("Policy statement must contain resources.")
            if "Resource" in item and "NotResource" in item:
                raise MalformedPolicy("Syntax errors in policy.")
        conditions = _conditions(item.get("Condition"))
        statements.append(
            Statement(
                effect=effect,
                actions=_strings(item["Action"], "Action") if "Action" in item else (),
                not_actions=_strings(item["NotAction"], "NotAction") if "NotAction" in item else (),
                resources=_strings(item["Resource"], "Resource") if "Resource" in item else (),
                not_resources=_strings(item["NotResource"], "NotResource") if "NotResource" in item else (),
                principals=_principals(item["Principal"]) if "Principal" in item else None,
                conditions=conditions,
            )
        )
    return Policy(tuple(statements))


def _conditions(value: Any) -> dict[str, dict[str, tuple[Any, ...]]]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise MalformedPolicy("Syntax errors in policy. Condition must be an object.")
    out: dict[str, dict[str, tuple[Any, ...]]] = {}
    for operator, block in value.items():
        if _operator(operator) is None:
            raise MalformedPolicy(f"Invalid Condition type : {operator}.")
        if not isinstance(block, dict):
            raise MalformedPolicy("Syntax errors in policy. A condition block must be an object.")
        out[operator] = {key: tuple(v if isinstance(v, list) else [v]) for key, v in block.items()}
    return out


@lru_cache(maxsize=4096)
def _wildcard(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(f"^{regex}$", re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def wildcard_match(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    return bool(_wildcard(pattern, ignore_case).match(value))


# -- conditions ------------------------------------------------------------------------------------

_BASE_OPERATORS = {
    "StringEquals",
    "StringNotEquals",
    "StringEqualsIgnoreCase",
    "StringNotEqualsIgnoreCase",
    "StringLike",
    "StringNotLike",
    "ArnEquals",
    "ArnLike",
    "ArnNotEquals",
    "ArnNotLike",
    "NumericEquals",
    "NumericNotEquals",
    "NumericLessThan",
    "NumericLessThanEquals",
    "NumericGreaterThan",
    "NumericGreaterThanEquals",
    "DateEquals",
    "DateNotEquals",
    "DateLessThan",
    "DateLessThanEquals",
    "DateGreaterThan",
    "DateGreaterThanEquals",
    "Bool",
    "IpAddress",
    "NotIpAddress",
    "Null",
}


def _operator(name: str) -> tuple[str | None, str, bool] | None:
    """``(set qualifier, base operator, if-exists)`` or ``None`` for an unknown operator."""
    qualifier = None
    for prefix in ("ForAnyValue:", "ForAllValues:"):
        if name.startswith(prefix):
            qualifier, name = prefix[:-1], name[len(prefix) :]
    if_exists = name.endswith("IfExists") and name != "IfExists"
    base = name[: -len("IfExists")] if if_exists else name
    if base not in _BASE_OPERATORS or (base == "Null" and if_exists):
        return None
    return qualifier, base, if_exists


def _date(value: Any) -> float:
    if isinstance(value, (int, float)):
        return float(value)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()


def _compare(base: str, actual: Any, expected: Any) -> bool:
    try:
        if base.startswith("String"):
            a, e = str(actual), str(expected)
            if base in ("StringEquals", "StringNotEquals"):
                return a == e
            if base in ("StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase"):
                return a.lower() == e.lower()
            return wildcard_match(e, a)
        if base.startswith("Arn"):
            return wildcard_match(str(expected), str(actual)) if "Like" in base else str(actual) == str(expected)
        if base.startswith("Numeric"):
            a_num, e_num = float(actual), float(expected)
        elif base.startswith("Date"):
            a_num, e_num = _date(actual), _date(expected)
        elif base == "Bool":
            return str(actual).lower() == str(expected).lower()
        elif base in ("IpAddress", "NotIpAddress"):
            return ipaddress.ip_address(str(actual)) in ipaddress.ip_network(str(expected), strict=False)
        else:
            return False
    except (ValueError, TypeError):
        return False
    suffix = base.removeprefix("Numeric").removeprefix("Date")
    return {
        "Equals": a_num == e_num,
        "NotEquals": a_num == e_num,
        "LessThan": a_num < e_num,
        "LessThanEquals": a_num <= e_num,
        "GreaterThan": a_num > e_num,
        "GreaterThanEquals": a_num >= e_num,
    }[suffix]


_NEGATED = {
    "StringNotEquals",
    "StringNotEqualsIgnoreCase",
    "StringNotLike",
    "ArnNotEquals",
    "ArnNotLike",
    "NumericNotEquals",
    "DateNotEquals",
    "NotIpAddress",
}


def _condition_holds(operator: str, key: str, expected: tuple[Any, ...], context: dict[str, Any]) -> bool:
    parsed = _operator(operator)
    if parsed is None:
        return False
    qualifier, base, if_exists = parsed
    present = key in context or key.lower() in {k.lower() for k in context}
    actual = context.get(key)
    if actual is None:
        actual = next((v for k, v in context.items() if k.lower() == key.lower()), None)
    if base == "Null":
        return (actual is None) == (str(expected[0]).lower() == "true")
    if not present or actual is None:
        return if_exists or (base in _NEGATED and qualifier != "ForAnyValue") or qualifier == "ForAllValues"
    values = actual if isinstance(actual, list) else [actual]
    negated = base in _NEGATED

    def one(value: Any) -> bool:
        hit = any(_compare(base, value, e) for e in expected)
        return not hit if negated else hit

    if qualifier == "ForAllValues":
        return all(one(v) for v in values)
    return any(one(v) for v in values)


# -- evaluation ------------------------------------------------------------------------------------


def _matches(statement: Statement, action: str, resource: str, context: dict[str, Any]) -> bool:
    if statement.actions:
        if not any(wildcard_match(p, action, ignore_case=True) for p in statement.actions):
            return False
    elif any(wildcard_match(p, action, ignore_case=True) for p in statement.not_actions):
        return False
    if statement.resources:
        if not any(wildcard_match(p, resource) for p in statement.resources):
            return False
    elif statement.not_resources and any(wildcard_match(p, resource) for p in statement.not_resources):
        return False
    return all(
        _condition_holds(operator, key, expected, context)
        for operator, block in statement.conditions.items()
        for key, expected in block.items()
    )


def decide(policies: list[Policy], action: str, resource: str, context: dict[str, Any] | None = None) -> Decision:
    """The decision of a set of policies alone (no session policies)."""
    context = context or {}
    allowed = False
    for policy in policies:
        for statement in policy.statements:
            if _matches(statement, action, resource, context):
                if statement.effect == "Deny":
                    return Decision.EXPLICIT_DENY
                allowed = True
    return Decision.ALLOW if allowed else Decision.IMPLICIT_DENY


def evaluate(
    identity_policies: list[Policy],
    action: str,
    resource: str,
    *,
    session_policies: list[Policy] | None = None,
    context: dict[str, Any] | None = None,
) -> Decision:
    """AWS's decision for an identity (with optional session policies) calling ``action`` on ``resource``."""
    decision = decide(identity_policies, action, resource, context)
    if decision is not Decision.ALLOW or session_policies is None:
        return decision
    session = decide(session_policies, action, resource, context)
    return Decision.ALLOW if session is Decision.ALLOW else session


def principal_matches(statement: Statement, principal: dict[str, str]) -> bool:
    """Whether a trust-policy statement names ``principal`` (``{"AWS": arn, "account": id}``,
    ``{"Service": name}`` or ``{"Federated": provider}``)."""
    if statement.principals is None:
        return False
    for kind, patterns in statement.principals.items():
        for pattern in patterns:
            if kind == "AWS":
                if pattern == "*":
                    return "AWS" in principal
                arn, account = principal.get("AWS", ""), principal.get("account", "")
                if pattern in (account, f"arn:aws:iam::{account}:root") and account:
                    return True
                if arn and wildcard_match(pattern, arn):
                    return True
            elif principal.get(kind) and wildcard_match(pattern, principal[kind]):
                return True
    return False
