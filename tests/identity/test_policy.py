"""IAM policy parsing and evaluation: AWS's decision logic, wildcards, conditions, errors."""

from __future__ import annotations

import json

import pytest

from trailpost.identity.policy import (
    Decision,
    MalformedPolicy,
    evaluate,
    parse_policy,
    principal_matches,
    wildcard_match,
)

ROOT = "arn:aws:iam::123456789012:root"
CLOUDTRAIL = "cloudtrail.amazonaws.com"
SITE = "arn:aws:outposts:us-east-1:123456789012:site/os-0123456789abcdef0"


def policy(*statements: dict, version: str = "2012-10-17") -> object:
    return parse_policy(json.dumps({"Version": version, "Statement": list(statements)}))


def allow(action: object, resource: object = "*", **extra: object) -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: object, resource: object = "*", **extra: object) -> dict:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def test_no_policy_is_implicit_deny() -> None:
    assert evaluate([], "outposts:CreateSite", "*") is Decision.IMPLICIT_DENY


def test_allow_and_explicit_deny_wins() -> None:
    p = policy(allow("outposts:*"))
    assert evaluate([p], "outposts:CreateSite", "*") is Decision.ALLOW
    d = policy(deny("outposts:Delete*"))
    assert evaluate([p, d], "outposts:DeleteSite", SITE) is Decision.EXPLICIT_DENY
    assert evaluate([p, d], "outposts:GetSite", SITE) is Decision.ALLOW


def test_action_matching_is_case_insensitive_resource_is_not() -> None:
    p = policy(allow("OUTPOSTS:getsite", "arn:aws:outposts:*:*:site/*"))
    assert evaluate([p], "outposts:GetSite", SITE) is Decision.ALLOW
    assert evaluate([p], "outposts:GetSite", SITE.upper()) is Decision.IMPLICIT_DENY


def test_question_mark_wildcard() -> None:
    assert wildcard_match("outposts:?etSite", "outposts:GetSite", ignore_case=True)
    assert not wildcard_match("outposts:?etSite", "outposts:GGetSite", ignore_case=True)


def test_not_action_and_not_resource() -> None:
    p = policy({"Effect": "Allow", "NotAction": "outposts:Delete*", "Resource": "*"})
    assert evaluate([p], "outposts:CreateSite", "*") is Decision.ALLOW
    assert evaluate([p], "outposts:DeleteSite", "*") is Decision.IMPLICIT_DENY
    q = policy({"Effect": "Allow", "Action": "*", "NotResource": "arn:aws:outposts:*:*:site/*"})
    assert evaluate([q], "outposts:GetSite", SITE) is Decision.IMPLICIT_DENY
    assert evaluate([q], "outposts:GetOutpost", "arn:aws:outposts:us-east-1:1:outpost/op-1") is Decision.ALLOW


def test_session_policies_intersect() -> None:
    identity = policy(allow("outposts:*"))
    session = policy(allow("outposts:Get*"))
    assert evaluate([identity], "outposts:CreateSite", "*", session_policies=[session]) is Decision.IMPLICIT_DENY
    assert evaluate([identity], "outposts:GetSite", "*", session_policies=[session]) is Decision.ALLOW
    assert evaluate([], "outposts:GetSite", "*", session_policies=[session]) is Decision.IMPLICIT_DENY


@pytest.mark.parametrize(
    ("operator", "value", "context", "expected"),
    [
        ("StringEquals", "us-east-1", {"aws:RequestedRegion": "us-east-1"}, True),
        ("StringEquals", "us-east-1", {"aws:RequestedRegion": "eu-west-1"}, False),
        ("StringNotEquals", "us-east-1", {}, True),
        ("StringLike", "us-*", {"aws:RequestedRegion": "us-west-2"}, True),
        ("StringEqualsIfExists", "x", {}, True),
        ("StringEquals", "x", {}, False),
        ("Bool", "true", {"aws:SecureTransport": "false"}, False),
        ("Bool", "true", {"aws:MultiFactorAuthPresent": True}, True),
        ("NumericLessThan", "3600", {"aws:MultiFactorAuthAge": "100"}, True),
        ("DateGreaterThan", "2020-01-01T00:00:00Z", {"aws:CurrentTime": "2026-11-24T00:00:00Z"}, True),
        ("IpAddress", "10.0.0.0/8", {"aws:SourceIp": "10.1.2.3"}, True),
        ("NotIpAddress", "10.0.0.0/8", {"aws:SourceIp": "10.1.2.3"}, False),
        ("Null", "true", {}, True),
        ("ArnLike", "arn:aws:iam::*:role/ops-*", {"aws:PrincipalArn": "arn:aws:iam::1:role/ops-a"}, True),
    ],
)
def test_conditions(operator: str, value: str, context: dict, expected: bool) -> None:
    key = next(iter(context), "aws:RequestedRegion")
    p = policy(allow("outposts:*", Condition={operator: {key: value}}))
    decision = evaluate([p], "outposts:GetSite", SITE, context=context)
    assert (decision is Decision.ALLOW) is expected


def test_set_qualifiers() -> None:
    any_value = policy(allow("*", Condition={"ForAnyValue:StringEquals": {"aws:TagKeys": ["env", "team"]}}))
    all_values = policy(allow("*", Condition={"ForAllValues:StringEquals": {"aws:TagKeys": ["env", "team"]}}))
    assert evaluate([any_value], "a:b", "*", context={"aws:TagKeys": ["env", "x"]}) is Decision.ALLOW
    assert evaluate([all_values], "a:b", "*", context={"aws:TagKeys": ["env", "x"]}) is Decision.IMPLICIT_DENY
    assert evaluate([all_values], "a:b", "*", context={"aws:TagKeys": ["env"]}) is Decision.ALLOW


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("not json", "Syntax errors in policy."),
        ('{"Version": "2012-10-17"}', "Syntax errors in policy."),
        ('{"Version": "2099-01-01", "Statement": []}', "legacy parsing"),
        ('{"Statement": {"Effect": "Maybe", "Action": "*", "Resource": "*"}}', "Effect"),
        ('{"Statement": {"Effect": "Allow", "Resource": "*"}}', "must contain actions"),
        ('{"Statement": {"Effect": "Allow", "Action": "*"}}', "must contain resources"),
        ('{"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*", "Principal": "*"}}', "principal"),
        ('{"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"Bogus": {}}}}', "Bogus"),
        ('{"Statement": {"Effect": "Allow", "Action": [], "Resource": "*"}}', "Action"),
    ],
)
def test_malformed_documents(document: str, message: str) -> None:
    with pytest.raises(MalformedPolicy, match=message):
        parse_policy(document)


def test_trust_policy_principals() -> None:
    trust = parse_policy(
        json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Principal": {"AWS": ROOT}, "Action": "sts:AssumeRole"},
                    {"Effect": "Allow", "Principal": {"Service": CLOUDTRAIL}, "Action": "sts:AssumeRole"},
                ],
            }
        ),
        trust=True,
    )
    account, service = trust.statements
    assert principal_matches(account, {"AWS": "arn:aws:iam::123456789012:user/alice", "account": "123456789012"})
    assert not principal_matches(account, {"AWS": "arn:aws:iam::999999999999:user/eve", "account": "999999999999"})
    assert principal_matches(service, {"Service": "cloudtrail.amazonaws.com"})
    with pytest.raises(MalformedPolicy, match="Principal"):
        parse_policy('{"Statement": {"Effect": "Allow", "Action": "sts:AssumeRole"}}', trust=True)
