"""Permissions boundaries set after creation: Put/DeleteUserPermissionsBoundary and
Put/DeleteRolePermissionsBoundary through boto3, their use counts, errors and effect on calls."""

from __future__ import annotations

from typing import Any

import pytest

from tests.identity.support import (
    ACCOUNT,
    allow,
    client,
    fails,
    make_role,
    make_user,
    record_of,
    session_credentials,
    unique,
)
from tests.support.server import ServerProcess

READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
SITE = {"Name": "bounded"}


@pytest.fixture
def iam(server: ServerProcess) -> Any:
    return client(server, "iam")


def boundaries_of(iam: Any, arn: str) -> int:
    return int(iam.get_policy(PolicyArn=arn)["Policy"]["PermissionsBoundaryUsageCount"])


def test_user_boundary_is_set_replaced_and_removed_with_its_use_counts(server: ServerProcess, iam: Any) -> None:
    user = make_user(server)
    custom = iam.create_policy(
        PolicyName=unique("bound"),
        PolicyDocument='{"Version": "2012-10-17", '
        '"Statement": [{"Effect": "Allow", "Action": "outposts:Get*", "Resource": "*"}]}',
    )["Policy"]["Arn"]
    before = boundaries_of(iam, READ_ONLY)
    iam.put_user_permissions_boundary(UserName=user.name, PermissionsBoundary=READ_ONLY)
    assert iam.get_user(UserName=user.name)["User"]["PermissionsBoundary"] == {
        "PermissionsBoundaryType": "Policy",
        "PermissionsBoundaryArn": READ_ONLY,
    }
    assert boundaries_of(iam, READ_ONLY) == before + 1
    iam.put_user_permissions_boundary(UserName=user.name, PermissionsBoundary=READ_ONLY)  # the same again
    assert boundaries_of(iam, READ_ONLY) == before + 1
    iam.put_user_permissions_boundary(UserName=user.name, PermissionsBoundary=custom)  # replaced
    assert (boundaries_of(iam, READ_ONLY), boundaries_of(iam, custom)) == (before, 1)
    iam.delete_user_permissions_boundary(UserName=user.name)
    assert "PermissionsBoundary" not in iam.get_user(UserName=user.name)["User"]
    assert boundaries_of(iam, custom) == 0
    iam.delete_user_permissions_boundary(UserName=user.name)  # none left: nothing changes
    iam.delete_policy(PolicyArn=custom)  # no longer in use anywhere


def test_role_boundary_is_set_replaced_and_removed(server: ServerProcess, iam: Any) -> None:
    role = make_role(server, {"AWS": f"arn:aws:iam::{ACCOUNT}:root"})
    before = boundaries_of(iam, READ_ONLY)
    iam.put_role_permissions_boundary(RoleName=role["RoleName"], PermissionsBoundary=READ_ONLY)
    got = iam.get_role(RoleName=role["RoleName"])["Role"]
    assert got["PermissionsBoundary"] == {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": READ_ONLY}
    assert boundaries_of(iam, READ_ONLY) == before + 1
    iam.delete_role_permissions_boundary(RoleName=role["RoleName"])
    assert "PermissionsBoundary" not in iam.get_role(RoleName=role["RoleName"])["Role"]
    assert boundaries_of(iam, READ_ONLY) == before


def test_boundary_errors(server: ServerProcess, iam: Any) -> None:
    user = make_user(server)
    missing = f"arn:aws:iam::{ACCOUNT}:policy/{unique('nothing')}"
    fails(
        lambda: iam.put_user_permissions_boundary(UserName=user.name, PermissionsBoundary=missing),
        "NoSuchEntity",
        404,
        f"Policy {missing} does not exist or is not attachable.",
    )
    assert "PermissionsBoundary" not in iam.get_user(UserName=user.name)["User"]
    ghost = unique("ghost")
    fails(lambda: iam.put_user_permissions_boundary(UserName=ghost, PermissionsBoundary=READ_ONLY), "NoSuchEntity", 404)
    fails(lambda: iam.delete_user_permissions_boundary(UserName=ghost), "NoSuchEntity", 404)
    fails(lambda: iam.put_role_permissions_boundary(RoleName=ghost, PermissionsBoundary=READ_ONLY), "NoSuchEntity", 404)
    fails(lambda: iam.delete_role_permissions_boundary(RoleName=ghost), "NoSuchEntity", 404)


def test_a_boundary_put_later_limits_the_next_call_and_its_removal_lifts_it(server: ServerProcess, iam: Any) -> None:
    user = make_user(server, allow("outposts:*"))
    outposts = user.client(server, "outposts")
    outposts.list_sites()
    iam.put_user_permissions_boundary(UserName=user.name, PermissionsBoundary=READ_ONLY)
    outposts.list_sites()  # read-only: within the boundary
    error = fails(lambda: outposts.create_site(**SITE), "AccessDeniedException", 403)
    assert error.response["Error"]["Message"].endswith(
        "because no permissions boundary allows the outposts:CreateSite action"
    )
    record = record_of(server, error)
    assert (record["eventName"], record["errorCode"]) == ("CreateSite", "AccessDeniedException")
    iam.delete_user_permissions_boundary(UserName=user.name)
    outposts.create_site(**SITE)


def test_a_role_boundary_limits_its_sessions(server: ServerProcess, iam: Any) -> None:
    user = make_user(server)
    role = make_role(server, {"AWS": user.arn}, allow("outposts:*"))
    creds = session_credentials(user.client(server, "sts").assume_role(RoleArn=role["Arn"], RoleSessionName="bounded"))
    outposts = client(server, "outposts", credentials=creds)
    iam.put_role_permissions_boundary(RoleName=role["RoleName"], PermissionsBoundary=READ_ONLY)
    outposts.list_sites()
    fails(lambda: outposts.create_site(**SITE), "AccessDeniedException", 403)
    iam.put_role_permissions_boundary(RoleName=role["RoleName"], PermissionsBoundary=ADMIN)  # replaced
    outposts.create_site(**SITE)
