"""A change to a caller's IAM policies applies to the caller's very next call.

Callers' policy sets are cached between calls (``identity.authorize.caller_policies``, kept in the
key cache); these tests change each thing the cache depends on, through the IAM API, and check the
next call of the same caller over real HTTP: inline user policies, groups and their policies,
customer managed policies and their versions, and role policies seen
through an assumed-role session.
"""

from __future__ import annotations

from tests.identity.support import (
    ACCOUNT,
    allow,
    client,
    deny,
    document,
    fails,
    make_role,
    make_user,
    session_credentials,
    unique,
)
from tests.support.server import ServerProcess

LIST = allow("outposts:ListSites")


def test_user_inline_and_group_changes_apply_at_once(server: ServerProcess) -> None:
    iam = client(server, "iam")
    user = make_user(server, LIST)
    outposts = user.client(server, "outposts")
    outposts.list_sites()  # allowed, and now cached
    iam.delete_user_policy(UserName=user.name, PolicyName="inline")
    fails(outposts.list_sites, "AccessDeniedException", 403)

    group = unique("group")
    iam.create_group(GroupName=group)
    iam.put_group_policy(GroupName=group, PolicyName="g", PolicyDocument=document(LIST))
    fails(outposts.list_sites, "AccessDeniedException", 403)  # not a member yet
    iam.add_user_to_group(GroupName=group, UserName=user.name)
    outposts.list_sites()
    iam.put_group_policy(GroupName=group, PolicyName="deny", PolicyDocument=document(deny("outposts:*")))
    fails(outposts.list_sites, "AccessDeniedException", 403)
    iam.delete_group_policy(GroupName=group, PolicyName="deny")
    outposts.list_sites()

    iam.remove_user_from_group(GroupName=group, UserName=user.name)
    fails(outposts.list_sites, "AccessDeniedException", 403)


def test_managed_policy_versions_apply_at_once(server: ServerProcess) -> None:
    iam = client(server, "iam")
    user = make_user(server)
    outposts = user.client(server, "outposts")
    policy = iam.create_policy(PolicyName=unique("managed"), PolicyDocument=document(LIST))["Policy"]
    iam.attach_user_policy(UserName=user.name, PolicyArn=policy["Arn"])
    outposts.list_sites()
    iam.create_policy_version(
        PolicyArn=policy["Arn"], PolicyDocument=document(allow("outposts:GetSite")), SetAsDefault=True
    )
    fails(outposts.list_sites, "AccessDeniedException", 403)  # the new default version no longer allows it
    iam.set_default_policy_version(PolicyArn=policy["Arn"], VersionId="v1")
    outposts.list_sites()
    iam.detach_user_policy(UserName=user.name, PolicyArn=policy["Arn"])
    fails(outposts.list_sites, "AccessDeniedException", 403)


def test_role_policy_changes_apply_to_live_sessions(server: ServerProcess) -> None:
    iam = client(server, "iam")
    caller = make_user(server, allow("sts:AssumeRole"))
    role = make_role(server, {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, LIST)
    assumed = caller.client(server, "sts").assume_role(RoleArn=role["Arn"], RoleSessionName="session")
    outposts = client(server, "outposts", credentials=session_credentials(assumed))
    outposts.list_sites()
    iam.put_role_policy(RoleName=role["RoleName"], PolicyName="inline", PolicyDocument=document(deny("*")))
    fails(outposts.list_sites, "AccessDeniedException", 403)
    iam.put_role_policy(RoleName=role["RoleName"], PolicyName="inline", PolicyDocument=document(LIST))
    outposts.list_sites()
