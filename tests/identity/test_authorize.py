"""Authorization of every call by IAM identity-based policies, through real clients of every protocol.

An IAM user without policies is denied; Allow/Deny, NotAction/NotResource, wildcards, groups,
managed policies, permissions boundaries, conditions and role sessions decide as on AWS; denials
carry AWS's message and are recorded with their errorCode.
"""

from __future__ import annotations

import pytest

from tests.identity.support import (
    ACCOUNT,
    allow,
    client,
    deny,
    document,
    fails,
    make_role,
    make_user,
    record_of,
    session_credentials,
    unique,
)
from tests.support.server import ServerProcess

SITE = {
    "Name": "hq",
    "OperatingAddress": {
        "ContactName": "Jane Doe",
        "ContactPhoneNumber": "+12065550100",
        "AddressLine1": "410 Terry Ave N",
        "City": "Seattle",
        "StateOrRegion": "WA",
        "PostalCode": "98109",
        "CountryCode": "US",
    },
}


def site_arn(site_id: str, region: str = "us-east-1") -> str:
    return f"arn:aws:outposts:{region}:{ACCOUNT}:site/{site_id}"


@pytest.fixture
def two_sites(server: ServerProcess) -> tuple[str, str]:
    outposts = client(server, "outposts")
    return tuple(outposts.create_site(**SITE)["Site"]["SiteId"] for _ in range(2))  # type: ignore[return-value]


def test_a_user_without_policies_is_denied_and_the_denial_recorded(server: ServerProcess) -> None:
    user = make_user(server)
    error = fails(
        lambda: user.client(server, "outposts").create_site(**SITE),
        "AccessDeniedException",
        403,
        f"User: {user.arn} is not authorized to perform: outposts:CreateSite on resource: "
        f"arn:aws:outposts:us-east-1:{ACCOUNT}:site/* "
        "because no identity-based policy allows the outposts:CreateSite action",
    )
    record = record_of(server, error)
    assert record["errorCode"] == "AccessDeniedException"
    assert record["errorMessage"] == error.response["Error"]["Message"]
    assert record["requestParameters"] is None and record["responseElements"] is None
    assert record["userIdentity"]["type"] == "IAMUser" and record["readOnly"] is False


def test_query_and_json_protocols_deny_with_their_own_codes(server: ServerProcess) -> None:
    user = make_user(server)
    iam_error = fails(
        user.client(server, "iam").list_users,
        "AccessDenied",
        403,
        f"User: {user.arn} is not authorized to perform: iam:ListUsers on resource: arn:aws:iam::{ACCOUNT}:user/ "
        "because no identity-based policy allows the iam:ListUsers action",
    )
    assert record_of(server, iam_error)["awsRegion"] == "us-east-1"
    fails(user.client(server, "cloudtrail").describe_trails, "AccessDeniedException", 403)
    assert user.client(server, "sts").get_caller_identity()["Arn"] == user.arn  # needs no permission


def test_an_allow_grants_and_an_explicit_deny_wins(server: ServerProcess) -> None:
    allowed = make_user(server, allow("outposts:*"))
    assert allowed.client(server, "outposts").create_site(**SITE)["Site"]["SiteId"]
    denied = make_user(server, allow("*"), deny("outposts:CreateSite"))
    denied.client(server, "outposts").list_sites()
    error = fails(
        lambda: denied.client(server, "outposts").create_site(**SITE),
        "AccessDeniedException",
        403,
        f"User: {denied.arn} is not authorized to perform: outposts:CreateSite on resource: "
        f"arn:aws:outposts:us-east-1:{ACCOUNT}:site/* with an explicit deny in an identity-based policy",
    )
    assert record_of(server, error)["errorCode"] == "AccessDeniedException"


def test_actions_match_case_insensitively_with_wildcards(server: ServerProcess) -> None:
    user = make_user(server, allow("OUTPOSTS:list*"))
    user.client(server, "outposts").list_sites()
    fails(lambda: user.client(server, "outposts").create_site(**SITE), "AccessDeniedException", 403)


def test_not_action(server: ServerProcess) -> None:
    user = make_user(server, {"Effect": "Allow", "NotAction": ["iam:*", "outposts:Create*"], "Resource": "*"})
    user.client(server, "outposts").list_sites()
    fails(lambda: user.client(server, "outposts").create_site(**SITE), "AccessDeniedException", 403)
    fails(user.client(server, "iam").list_roles, "AccessDenied", 403)


def test_resource_and_not_resource(server: ServerProcess, two_sites: tuple[str, str]) -> None:
    first, second = two_sites
    only_first = make_user(server, allow("outposts:GetSite", site_arn(first)))
    assert only_first.client(server, "outposts").get_site(SiteId=first)["Site"]["SiteId"] == first
    fails(
        lambda: only_first.client(server, "outposts").get_site(SiteId=second),
        "AccessDeniedException",
        403,
        f"User: {only_first.arn} is not authorized to perform: outposts:GetSite on resource: {site_arn(second)} "
        "because no identity-based policy allows the outposts:GetSite action",
    )
    all_but_first = make_user(server, {"Effect": "Allow", "Action": "outposts:GetSite", "NotResource": site_arn(first)})
    assert all_but_first.client(server, "outposts").get_site(SiteId=site_arn(second))["Site"]["SiteId"] == second
    fails(lambda: all_but_first.client(server, "outposts").get_site(SiteId=first), "AccessDeniedException", 403)
    other_region = make_user(server, allow("outposts:GetSite", "arn:aws:outposts:eu-west-1:*:site/*"))
    fails(lambda: other_region.client(server, "outposts").get_site(SiteId=first), "AccessDeniedException", 403)


def test_group_and_managed_policies_count(server: ServerProcess) -> None:
    iam = client(server, "iam")
    user, group = make_user(server), unique("readers")
    iam.create_group(GroupName=group)
    iam.attach_group_policy(GroupName=group, PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    iam.add_user_to_group(GroupName=group, UserName=user.name)
    user.client(server, "outposts").list_sites()
    user.client(server, "iam").list_users()
    fails(lambda: user.client(server, "outposts").create_site(**SITE), "AccessDeniedException", 403)
    iam.put_group_policy(GroupName=group, PolicyName="no-iam", PolicyDocument=document(deny("iam:*")))
    fails(user.client(server, "iam").list_users, "AccessDenied", 403)
    iam.remove_user_from_group(GroupName=group, UserName=user.name)
    fails(user.client(server, "outposts").list_sites, "AccessDeniedException", 403)


def test_permissions_boundary_limits_an_administrator(server: ServerProcess) -> None:
    iam, name = client(server, "iam"), unique("bounded")
    iam.create_user(UserName=name, PermissionsBoundary="arn:aws:iam::aws:policy/ReadOnlyAccess")
    iam.attach_user_policy(UserName=name, PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    key = iam.create_access_key(UserName=name)["AccessKey"]
    outposts = client(server, "outposts", credentials=(key["AccessKeyId"], key["SecretAccessKey"]))
    outposts.list_sites()
    error = fails(lambda: outposts.create_site(**SITE), "AccessDeniedException", 403)
    assert error.response["Error"]["Message"].endswith(
        "because no permissions boundary allows the outposts:CreateSite action"
    )
    assert (
        iam.get_policy(PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")["Policy"]["PermissionsBoundaryUsageCount"]
        >= 1
    )


def test_conditions_on_the_source_address(server: ServerProcess) -> None:
    local = make_user(server, allow("outposts:ListSites", Condition={"IpAddress": {"aws:SourceIp": "127.0.0.0/8"}}))
    local.client(server, "outposts").list_sites()
    remote = make_user(server, allow("outposts:ListSites", Condition={"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}))
    fails(remote.client(server, "outposts").list_sites, "AccessDeniedException", 403)


def test_role_sessions_carry_the_role_policies(server: ServerProcess) -> None:
    user = make_user(server)
    role = make_role(server, {"AWS": user.arn}, allow("outposts:List*"))
    creds = session_credentials(user.client(server, "sts").assume_role(RoleArn=role["Arn"], RoleSessionName="reader"))
    outposts = client(server, "outposts", credentials=creds)
    outposts.list_sites()
    error = fails(lambda: outposts.create_site(**SITE), "AccessDeniedException", 403)
    assert error.response["Error"]["Message"].startswith(
        f"User: arn:aws:sts::{ACCOUNT}:assumed-role/{role['RoleName']}/reader "
        "is not authorized to perform: outposts:CreateSite"
    )
    iam = client(server, "iam")
    iam.delete_role_policy(RoleName=role["RoleName"], PolicyName="inline")
    fails(outposts.list_sites, "AccessDeniedException", 403)  # policies are read at every call


def test_session_policy_denials_name_the_session_policy(server: ServerProcess) -> None:
    user = make_user(server)
    role = make_role(server, {"AWS": user.arn}, allow("outposts:*"))
    response = user.client(server, "sts").assume_role(
        RoleArn=role["Arn"],
        RoleSessionName="narrow",
        Policy=document(allow("outposts:Get*"), deny("outposts:ListOutposts")),
    )
    outposts = client(server, "outposts", credentials=session_credentials(response))
    message = fails(outposts.list_sites, "AccessDeniedException", 403).response["Error"]["Message"]
    assert message.endswith("because no session policy allows the outposts:ListSites action")
    message = fails(outposts.list_outposts, "AccessDeniedException", 403).response["Error"]["Message"]
    assert message.endswith("with an explicit deny in a session policy")


def test_root_is_always_allowed(server: ServerProcess) -> None:
    assert client(server, "outposts").create_site(**SITE)["Site"]["SiteId"]
    assert client(server, "iam").list_users()["Users"] is not None
