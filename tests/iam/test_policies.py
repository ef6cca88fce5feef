"""Inline and managed IAM policies: documents validated, versions, attachments, AWS managed policies."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.identity.support import ACCOUNT, allow, client, document, fails, trust, unique
from tests.support.server import ServerProcess

READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"


@pytest.fixture
def iam(server: ServerProcess) -> Any:
    return client(server, "iam")


@pytest.fixture
def entities(iam: Any) -> dict[str, str]:
    names = {"User": unique("u"), "Role": unique("r"), "Group": unique("g")}
    iam.create_user(UserName=names["User"])
    iam.create_role(RoleName=names["Role"], AssumeRolePolicyDocument=trust({"AWS": ACCOUNT}))
    iam.create_group(GroupName=names["Group"])
    return names


@pytest.mark.parametrize("kind", ["User", "Role", "Group"])
def test_inline_policies_put_get_list_delete(iam: Any, entities: dict[str, str], kind: str) -> None:
    who = {f"{kind}Name": entities[kind]}
    text = document(allow("outposts:List*"))
    getattr(iam, f"put_{kind.lower()}_policy")(**who, PolicyName="one", PolicyDocument=text)
    getattr(iam, f"put_{kind.lower()}_policy")(**who, PolicyName="two", PolicyDocument=text)
    got = getattr(iam, f"get_{kind.lower()}_policy")(**who, PolicyName="one")
    assert got["PolicyDocument"] == json.loads(text) and got[f"{kind}Name"] == entities[kind]
    assert getattr(iam, f"list_{kind.lower()}_policies")(**who)["PolicyNames"] == ["one", "two"]
    getattr(iam, f"delete_{kind.lower()}_policy")(**who, PolicyName="one")
    fails(
        lambda: getattr(iam, f"get_{kind.lower()}_policy")(**who, PolicyName="one"),
        "NoSuchEntity",
        404,
        f"The {kind.lower()} policy with name one cannot be found.",
    )
    fails(lambda: getattr(iam, f"delete_{kind.lower()}_policy")(**who, PolicyName="one"), "NoSuchEntity", 404)
    ghost = {f"{kind}Name": unique("ghost")}
    fails(lambda: getattr(iam, f"list_{kind.lower()}_policies")(**ghost), "NoSuchEntity", 404)
    put = getattr(iam, f"put_{kind.lower()}_policy")
    fails(lambda: put(**ghost, PolicyName="p", PolicyDocument=text), "NoSuchEntity", 404)
    fails(lambda: put(**who, PolicyName="p", PolicyDocument="[1, 2]"), "MalformedPolicyDocument", 400)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{nope", "Syntax errors in policy."),
        (document({"Effect": "Allow", "Action": "s3:GetObject"}), "Policy statement must contain resources."),
        (
            document({"Effect": "Allow", "Action": "GetObject", "Resource": "*"}),
            "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.",
        ),
        (
            document({"Effect": "Allow", "Action": "s3:*", "Resource": "bucket"}),
            'Resource bucket must be in ARN format or "*".',
        ),
        (
            document({"Effect": "Maybe", "Action": "s3:*", "Resource": "*"}),
            "Syntax errors in policy. Effect must be Allow or Deny.",
        ),
        (
            document({"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"}),
            "Policy document should not specify a principal.",
        ),
    ],
)
def test_malformed_identity_policies(iam: Any, entities: dict[str, str], text: str, message: str) -> None:
    fails(
        lambda: iam.put_user_policy(UserName=entities["User"], PolicyName="bad", PolicyDocument=text),
        "MalformedPolicyDocument",
        400,
        message,
    )


def test_inline_policy_size_quota(iam: Any, entities: dict[str, str]) -> None:
    big = document(
        *[
            allow(f"outposts:GetSite{i:04d}", f"arn:aws:outposts:us-east-1:{ACCOUNT}:site/os-{i:017d}")
            for i in range(30)
        ]
    )
    fails(
        lambda: iam.put_user_policy(UserName=entities["User"], PolicyName="big", PolicyDocument=big),
        "LimitExceeded",
        409,
        f"Maximum policy size of 2048 bytes exceeded for user {entities['User']}",
    )
    iam.put_role_policy(RoleName=entities["Role"], PolicyName="big", PolicyDocument=big)  # roles allow 10240


def test_managed_policy_lifecycle(iam: Any) -> None:
    name = unique("mp")
    created = iam.create_policy(
        PolicyName=name, Path="/team/", PolicyDocument=document(allow("s3:*")), Description="d"
    )["Policy"]
    assert re.fullmatch(r"ANPA[A-Z2-7]{17}", created["PolicyId"])
    assert created["Arn"] == f"arn:aws:iam::{ACCOUNT}:policy/team/{name}"
    assert created["DefaultVersionId"] == "v1" and created["AttachmentCount"] == 0 and created["IsAttachable"] is True
    assert "Description" not in created
    assert iam.get_policy(PolicyArn=created["Arn"])["Policy"]["Description"] == "d"
    fails(
        lambda: iam.create_policy(PolicyName=name, PolicyDocument=document(allow("s3:*"))),
        "EntityAlreadyExists",
        409,
        f"A policy called {name} already exists. Duplicate names are not allowed.",
    )
    local = [p["PolicyName"] for p in iam.list_policies(Scope="Local", PathPrefix="/team/")["Policies"]]
    fails(lambda: iam.list_policies(Scope="Everything"), "ValidationError", 400)
    assert name in local
    iam.delete_policy(PolicyArn=created["Arn"])
    fails(
        lambda: iam.get_policy(PolicyArn=created["Arn"]), "NoSuchEntity", 404, f"Policy {created['Arn']} was not found."
    )
    fails(lambda: iam.delete_policy(PolicyArn=created["Arn"]), "NoSuchEntity", 404)
    fails(
        lambda: iam.get_policy(PolicyArn="not-an-arn-at-all-really"),
        "ValidationError",
        400,
        "Invalid ARN:  Could not be parsed!",
    )


def test_policy_versions(iam: Any) -> None:
    arn = iam.create_policy(PolicyName=unique("ver"), PolicyDocument=document(allow("s3:Get*")))["Policy"]["Arn"]
    v2 = iam.create_policy_version(PolicyArn=arn, PolicyDocument=document(allow("s3:*")), SetAsDefault=True)[
        "PolicyVersion"
    ]
    assert v2["VersionId"] == "v2" and v2["IsDefaultVersion"] is True and "Document" not in v2
    got = iam.get_policy_version(PolicyArn=arn, VersionId="v1")["PolicyVersion"]
    assert got["Document"]["Statement"][0]["Action"] == "s3:Get*" and got["IsDefaultVersion"] is False
    for _ in range(3):
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=document(allow("s3:List*")))
    fails(
        lambda: iam.create_policy_version(PolicyArn=arn, PolicyDocument=document(allow("s3:*"))), "LimitExceeded", 409
    )
    assert [v["VersionId"] for v in iam.list_policy_versions(PolicyArn=arn)["Versions"]] == [
        "v5",
        "v4",
        "v3",
        "v2",
        "v1",
    ]
    fails(
        lambda: iam.delete_policy_version(PolicyArn=arn, VersionId="v2"),
        "DeleteConflict",
        409,
        "Cannot delete the default version of a policy.",
    )
    fails(lambda: iam.delete_policy(PolicyArn=arn), "DeleteConflict", 409)
    iam.set_default_policy_version(PolicyArn=arn, VersionId="v1")
    fails(lambda: iam.set_default_policy_version(PolicyArn=arn, VersionId="v9"), "NoSuchEntity", 404)
    for version in ("v2", "v3", "v4", "v5"):
        iam.delete_policy_version(PolicyArn=arn, VersionId=version)
    fails(lambda: iam.get_policy_version(PolicyArn=arn, VersionId="v5"), "NoSuchEntity", 404)
    assert (
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=document(allow("s3:*")))["PolicyVersion"]["VersionId"]
        == "v6"
    )
    fails(
        lambda: iam.list_policy_versions(PolicyArn=f"arn:aws:iam::{ACCOUNT}:policy/{unique('ghost')}"),
        "NoSuchEntity",
        404,
    )


def test_aws_managed_policies_are_listed_and_read_only(iam: Any) -> None:
    names = {p["PolicyName"]: p for p in iam.list_policies(Scope="AWS")["Policies"]}
    assert (
        names["AdministratorAccess"]["Arn"] == ADMIN
        and names["AdministratorAccess"]["PolicyId"] == "ANPAIWMBCKSKIEE64ZLYK"
    )
    assert {"ReadOnlyAccess", "PowerUserAccess", "IAMFullAccess", "AWSDenyAll"} <= set(names)
    version = iam.get_policy_version(PolicyArn=ADMIN, VersionId="v1")["PolicyVersion"]
    assert version["Document"]["Statement"] == [{"Effect": "Allow", "Action": "*", "Resource": "*"}]
    fails(lambda: iam.delete_policy(PolicyArn=ADMIN), "AccessDenied", 403)
    fails(
        lambda: iam.create_policy_version(PolicyArn=ADMIN, PolicyDocument=document(allow("s3:*"))), "AccessDenied", 403
    )


@pytest.mark.parametrize("kind", ["User", "Role", "Group"])
def test_attach_list_detach(iam: Any, entities: dict[str, str], kind: str) -> None:
    who = {f"{kind}Name": entities[kind]}
    attach, detach = getattr(iam, f"attach_{kind.lower()}_policy"), getattr(iam, f"detach_{kind.lower()}_policy")
    listing = getattr(iam, f"list_attached_{kind.lower()}_policies")
    attach(**who, PolicyArn=READ_ONLY)
    attach(**who, PolicyArn=READ_ONLY)  # again: nothing changes
    assert listing(**who)["AttachedPolicies"] == [{"PolicyName": "ReadOnlyAccess", "PolicyArn": READ_ONLY}]
    assert listing(**who, PathPrefix="/service-role/")["AttachedPolicies"] == []
    fails(lambda: listing(**{f"{kind}Name": unique("ghost")}), "NoSuchEntity", 404)
    missing = f"arn:aws:iam::{ACCOUNT}:policy/{unique('ghost')}"
    fails(
        lambda: attach(**who, PolicyArn=missing),
        "NoSuchEntity",
        404,
        f"Policy {missing} does not exist or is not attachable.",
    )
    fails(
        lambda: attach(**who, PolicyArn="ReadOnlyAccess-policy-name"),
        "ValidationError",
        400,
        "Invalid ARN:  Could not be parsed!",
    )
    detach(**who, PolicyArn=READ_ONLY)
    fails(lambda: detach(**who, PolicyArn=READ_ONLY), "NoSuchEntity", 404, f"Policy {READ_ONLY} was not found.")


def test_attachment_count_and_attached_policies_cannot_be_deleted(iam: Any, entities: dict[str, str]) -> None:
    arn = iam.create_policy(PolicyName=unique("att"), PolicyDocument=document(allow("s3:*")))["Policy"]["Arn"]
    iam.attach_user_policy(UserName=entities["User"], PolicyArn=arn)
    iam.attach_group_policy(GroupName=entities["Group"], PolicyArn=arn)
    assert iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == 2
    assert arn in [p["Arn"] for p in iam.list_policies(Scope="Local", OnlyAttached=True)["Policies"]]
    fails(
        lambda: iam.delete_policy(PolicyArn=arn), "DeleteConflict", 409, "Cannot delete a policy attached to entities."
    )
    iam.detach_user_policy(UserName=entities["User"], PolicyArn=arn)
    iam.detach_group_policy(GroupName=entities["Group"], PolicyArn=arn)
    assert iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == 0
    iam.delete_policy(PolicyArn=arn)


def test_attached_policies_quota(iam: Any, entities: dict[str, str]) -> None:
    for _ in range(10):
        arn = iam.create_policy(PolicyName=unique("q"), PolicyDocument=document(allow("s3:*")))["Policy"]["Arn"]
        iam.attach_role_policy(RoleName=entities["Role"], PolicyArn=arn)
    fails(
        lambda: iam.attach_role_policy(RoleName=entities["Role"], PolicyArn=READ_ONLY),
        "LimitExceeded",
        409,
        "Cannot exceed quota for PoliciesPerRole: 10",
    )
