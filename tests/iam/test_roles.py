"""IAM roles: trust policies (validated, principals resolved), session limits, listing, deletion."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.identity.support import ACCOUNT, client, document, fails, make_user, trust, unique
from tests.support.server import ServerProcess

ACCOUNT_TRUST = trust({"AWS": f"arn:aws:iam::{ACCOUNT}:root"})


@pytest.fixture
def iam(server: ServerProcess) -> Any:
    return client(server, "iam")


def test_create_role_and_read_it_back(iam: Any) -> None:
    name = unique("role")
    text = (
        '{\n  "Version": "2012-10-17",\n  "Statement": [{"Effect": "Allow", '
        '"Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]\n}'
    )
    created = iam.create_role(RoleName=name, Path="/svc/", AssumeRolePolicyDocument=text, Description="d")["Role"]
    assert re.fullmatch(r"AROA[A-Z2-7]{17}", created["RoleId"])
    assert created["Arn"] == f"arn:aws:iam::{ACCOUNT}:role/svc/{name}"
    assert created["AssumeRolePolicyDocument"] == json.loads(text)  # sent URL-encoded, decoded by botocore
    assert "MaxSessionDuration" not in created and "RoleLastUsed" not in created
    got = iam.get_role(RoleName=name)["Role"]
    assert got["MaxSessionDuration"] == 3600 and got["RoleLastUsed"] == {} and got["Description"] == "d"
    listed = [r for r in iam.list_roles(PathPrefix="/svc/")["Roles"] if r["RoleName"] == name]
    assert listed and listed[0]["MaxSessionDuration"] == 3600 and "RoleLastUsed" not in listed[0]


def test_duplicate_role_is_a_conflict(iam: Any) -> None:
    name = unique("dup")
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=ACCOUNT_TRUST)
    fails(
        lambda: iam.create_role(RoleName=name.upper(), AssumeRolePolicyDocument=ACCOUNT_TRUST),
        "EntityAlreadyExists",
        409,
    )


def test_malformed_trust_policies(iam: Any) -> None:
    name = unique("bad")
    fails(
        lambda: iam.create_role(RoleName=name, AssumeRolePolicyDocument="{not json"),
        "MalformedPolicyDocument",
        400,
        "This policy contains invalid Json",
    )
    no_principal = document({"Effect": "Allow", "Action": "sts:AssumeRole"})
    fails(lambda: iam.create_role(RoleName=name, AssumeRolePolicyDocument=no_principal), "MalformedPolicyDocument", 400)
    with_resource = document({"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole", "Resource": "*"})
    fails(
        lambda: iam.create_role(RoleName=name, AssumeRolePolicyDocument=with_resource), "MalformedPolicyDocument", 400
    )
    fails(lambda: iam.get_role(RoleName=name), "NoSuchEntity", 404, f"The role with name {name} cannot be found.")


def test_unknown_principals_are_refused(server: ServerProcess, iam: Any) -> None:
    ghost = f"arn:aws:iam::{ACCOUNT}:user/{unique('nobody')}"
    fails(
        lambda: iam.create_role(RoleName=unique("r"), AssumeRolePolicyDocument=trust({"AWS": ghost})),
        "MalformedPolicyDocument",
        400,
        f'Invalid principal in policy: "AWS":"{ghost}"',
    )
    fails(
        lambda: iam.create_role(RoleName=unique("r"), AssumeRolePolicyDocument=trust({"AWS": "999999999999"})),
        "MalformedPolicyDocument",
        400,
    )
    fails(
        lambda: iam.create_role(RoleName=unique("r"), AssumeRolePolicyDocument=trust({"Service": "not a service"})),
        "MalformedPolicyDocument",
        400,
    )
    user = make_user(server)
    assert iam.create_role(RoleName=unique("r"), AssumeRolePolicyDocument=trust({"AWS": user.arn}))["Role"]


def test_update_assume_role_policy(server: ServerProcess, iam: Any) -> None:
    name = unique("upd")
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=ACCOUNT_TRUST)
    user = make_user(server)
    iam.update_assume_role_policy(RoleName=name, PolicyDocument=trust({"AWS": user.arn}))
    statement = iam.get_role(RoleName=name)["Role"]["AssumeRolePolicyDocument"]["Statement"][0]
    assert statement["Principal"] == {"AWS": user.arn}
    fails(lambda: iam.update_assume_role_policy(RoleName=name, PolicyDocument="[]"), "MalformedPolicyDocument", 400)
    fails(
        lambda: iam.update_assume_role_policy(RoleName=unique("ghost"), PolicyDocument=ACCOUNT_TRUST),
        "NoSuchEntity",
        404,
    )


def test_trust_policy_size_quota(iam: Any) -> None:
    big = document(
        *[{"Sid": f"S{i}", "Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"} for i in range(40)]
    )
    fails(
        lambda: iam.create_role(RoleName=unique("big"), AssumeRolePolicyDocument=big),
        "LimitExceeded",
        409,
        "Cannot exceed quota for ACLSizePerRole: 2048",
    )


def test_update_role_session_duration(iam: Any) -> None:
    name = unique("dur")
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=ACCOUNT_TRUST, MaxSessionDuration=7200)
    iam.update_role(RoleName=name, MaxSessionDuration=43200, Description="longer")
    role = iam.get_role(RoleName=name)["Role"]
    assert role["MaxSessionDuration"] == 43200 and role["Description"] == "longer"
    fails(lambda: iam.update_role(RoleName=name, MaxSessionDuration=50000), "ValidationError", 400)
    fails(lambda: iam.update_role(RoleName=unique("ghost"), Description="x"), "NoSuchEntity", 404)


def test_delete_role_refuses_while_policies_remain(iam: Any) -> None:
    name = unique("del")
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=ACCOUNT_TRUST)
    iam.attach_role_policy(RoleName=name, PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    fails(
        lambda: iam.delete_role(RoleName=name),
        "DeleteConflict",
        409,
        "Cannot delete entity, must detach all policies first.",
    )
    iam.detach_role_policy(RoleName=name, PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    iam.delete_role(RoleName=name)
    fails(lambda: iam.delete_role(RoleName=name), "NoSuchEntity", 404)


def test_role_tags(iam: Any) -> None:
    name = unique("tags")
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=ACCOUNT_TRUST, Tags=[{"Key": "team", "Value": "a"}])
    iam.tag_role(RoleName=name, Tags=[{"Key": "env", "Value": "b"}])
    assert iam.list_role_tags(RoleName=name)["Tags"] == [{"Key": "team", "Value": "a"}, {"Key": "env", "Value": "b"}]
    iam.untag_role(RoleName=name, TagKeys=["team"])
    assert iam.get_role(RoleName=name)["Role"]["Tags"] == [{"Key": "env", "Value": "b"}]
    fails(lambda: iam.tag_role(RoleName=unique("ghost"), Tags=[{"Key": "a", "Value": "b"}]), "NoSuchEntity", 404)
    fails(lambda: iam.untag_role(RoleName=unique("ghost"), TagKeys=["a"]), "NoSuchEntity", 404)
    fails(lambda: iam.list_role_tags(RoleName=unique("ghost")), "NoSuchEntity", 404)


def test_list_roles_pages(iam: Any) -> None:
    path = f"/{unique('p')}/"
    for _ in range(3):
        iam.create_role(RoleName=unique("r"), Path=path, AssumeRolePolicyDocument=ACCOUNT_TRUST)
    first = iam.list_roles(PathPrefix=path, MaxItems=2)
    rest = iam.list_roles(PathPrefix=path, Marker=first["Marker"])
    assert len(first["Roles"]) == 2 and len(rest["Roles"]) == 1 and rest["IsTruncated"] is False
    fails(lambda: iam.list_roles(MaxItems=1001), "ValidationError", 400)
