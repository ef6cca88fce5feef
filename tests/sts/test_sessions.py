"""STS with keys: GetCallerIdentity, AssumeRole, GetSessionToken, GetFederationToken, and the
temporary credentials they hand out (verified on every later call)."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any

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
    trust,
    unique,
)
from tests.support.server import ServerProcess

INVALID = "The security token included in the request is invalid."


@pytest.fixture
def sts(server: ServerProcess) -> Any:
    return client(server, "sts")


def _seconds_left(response: dict[str, Any]) -> float:
    return (response["Credentials"]["Expiration"] - datetime.now(UTC)).total_seconds()


def test_get_caller_identity_of_root_and_user(server: ServerProcess, sts: Any) -> None:
    assert sts.get_caller_identity()["Arn"] == f"arn:aws:iam::{ACCOUNT}:root"
    user = make_user(server)  # no policy: GetCallerIdentity needs none
    me = user.client(server, "sts").get_caller_identity()
    assert me == {**me, "UserId": user.user_id, "Account": ACCOUNT, "Arn": user.arn}


def test_assume_role_answers_a_role_session(server: ServerProcess) -> None:
    user = make_user(server)
    role = make_role(server, {"AWS": user.arn}, allow("outposts:*"))
    response = user.client(server, "sts").assume_role(RoleArn=role["Arn"], RoleSessionName="ops-1", DurationSeconds=900)
    c = response["Credentials"]
    assert re.fullmatch(r"ASIA[A-Z2-7]{16}", c["AccessKeyId"]) and len(c["SecretAccessKey"]) == 40
    assert c["SessionToken"].startswith("IQoJb3JpZ2luX2Vj") and len(c["SessionToken"]) > 600
    assert 880 < _seconds_left(response) <= 900
    assert response["AssumedRoleUser"] == {
        "AssumedRoleId": f"{role['RoleId']}:ops-1",
        "Arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{role['RoleName']}/ops-1",
    }
    assert "PackedPolicySize" not in response
    session = client(server, "sts", credentials=session_credentials(response))
    assert session.get_caller_identity()["UserId"] == f"{role['RoleId']}:ops-1"
    assert "LastUsedDate" in client(server, "iam").get_role(RoleName=role["RoleName"])["Role"]["RoleLastUsed"]


def test_root_cannot_assume_roles(server: ServerProcess, sts: Any) -> None:
    role = make_role(server, {"AWS": ACCOUNT})
    fails(
        lambda: sts.assume_role(RoleArn=role["Arn"], RoleSessionName="root"),
        "AccessDenied",
        403,
        "Roles may not be assumed by root accounts.",
    )


def test_assume_role_input_errors(server: ServerProcess) -> None:
    user = make_user(server, allow("sts:AssumeRole"))
    role = make_role(server, {"AWS": user.arn})
    sts = user.client(server, "sts")
    fails(
        lambda: sts.assume_role(RoleArn="nothing-valid-in-here", RoleSessionName="s1"),
        "ValidationError",
        400,
        "nothing-valid-in-here is invalid",
    )
    fails(
        lambda: sts.assume_role(RoleArn=role["Arn"], RoleSessionName="Session1:2"),
        "ValidationError",
        400,
        "1 validation error detected: Value 'Session1:2' at 'roleSessionName' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [\\w+=,.@-]*",
    )
    fails(
        lambda: sts.assume_role(RoleArn=role["Arn"], RoleSessionName="s1", DurationSeconds=7200),
        "ValidationError",
        400,
        "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
    )
    fails(
        lambda: sts.assume_role(RoleArn=role["Arn"], RoleSessionName="s1", Policy='{"Statement": "nope"}'),
        "MalformedPolicyDocument",
        400,
    )


def test_untrusted_or_missing_role_is_denied_and_recorded(server: ServerProcess) -> None:
    user = make_user(server, allow("sts:AssumeRole"))
    other = make_user(server)
    role = make_role(server, {"AWS": other.arn})
    error = fails(
        lambda: user.client(server, "sts").assume_role(RoleArn=role["Arn"], RoleSessionName="nope"),
        "AccessDenied",
        403,
        f"User: {user.arn} is not authorized to perform: sts:AssumeRole on resource: {role['Arn']}",
    )
    record = record_of(server, error)
    assert record["errorCode"] == "AccessDenied" and record["readOnly"] is True
    assert record["requestParameters"] is None and record["responseElements"] is None
    missing = f"arn:aws:iam::{ACCOUNT}:role/{unique('ghost')}"
    fails(lambda: user.client(server, "sts").assume_role(RoleArn=missing, RoleSessionName="x1"), "AccessDenied", 403)


def test_account_trust_needs_an_identity_policy_too(server: ServerProcess) -> None:
    role = make_role(server, {"AWS": f"arn:aws:iam::{ACCOUNT}:root"})
    without = make_user(server)
    fails(
        lambda: without.client(server, "sts").assume_role(RoleArn=role["Arn"], RoleSessionName="s1"),
        "AccessDenied",
        403,
        f"User: {without.arn} is not authorized to perform: sts:AssumeRole on resource: {role['Arn']} "
        "because no identity-based policy allows the sts:AssumeRole action",
    )
    granted = make_user(server, allow("sts:AssumeRole", role["Arn"]))
    assert granted.client(server, "sts").assume_role(RoleArn=role["Arn"], RoleSessionName="s1")["Credentials"]


def test_explicit_deny_beats_a_trust_policy_naming_the_user(server: ServerProcess) -> None:
    user = make_user(server, deny("sts:AssumeRole"))
    role = make_role(server, {"AWS": user.arn})
    fails(
        lambda: user.client(server, "sts").assume_role(RoleArn=role["Arn"], RoleSessionName="s1"),
        "AccessDenied",
        403,
        f"User: {user.arn} is not authorized to perform: sts:AssumeRole on resource: {role['Arn']} "
        "with an explicit deny in an identity-based policy",
    )


def test_session_policy_intersects_the_role(server: ServerProcess) -> None:
    user = make_user(server)
    role = make_role(server, {"AWS": user.arn}, allow("outposts:*"))
    response = user.client(server, "sts").assume_role(
        RoleArn=role["Arn"], RoleSessionName="narrow", Policy=document(allow("outposts:ListSites"))
    )
    assert 0 < response["PackedPolicySize"] <= 10
    outposts = client(server, "outposts", credentials=session_credentials(response))
    outposts.list_sites()
    fails(outposts.list_outposts, "AccessDeniedException", 403)


def test_session_tags_need_tag_session_and_pack_into_the_limit(server: ServerProcess) -> None:
    user = make_user(server)
    role = make_role(server, {"AWS": user.arn})
    sts = user.client(server, "sts")
    tags = [{"Key": "team", "Value": "ops"}]
    fails(
        lambda: sts.assume_role(RoleArn=role["Arn"], RoleSessionName="t1", Tags=tags),
        "AccessDenied",
        403,
        f"User: {user.arn} is not authorized to perform: sts:TagSession on resource: {role['Arn']}",
    )
    client(server, "iam").update_assume_role_policy(
        RoleName=role["RoleName"], PolicyDocument=trust({"AWS": user.arn}, ["sts:AssumeRole", "sts:TagSession"])
    )
    assert sts.assume_role(RoleArn=role["Arn"], RoleSessionName="t1", Tags=tags)["PackedPolicySize"] >= 1
    fails(
        lambda: sts.assume_role(RoleArn=role["Arn"], RoleSessionName="t1", Tags=[*tags, {"Key": "TEAM", "Value": "x"}]),
        "InvalidParameterValue",
        400,
        "Duplicate tag keys found. Please note that Tag keys are case insensitive.",
    )
    noise = [{"Key": f"k{i}-{unique()}", "Value": "".join(uuid.uuid4().hex for _ in range(6))} for i in range(50)]
    error = fails(
        lambda: sts.assume_role(RoleArn=role["Arn"], RoleSessionName="t1", Tags=noise), "PackedPolicyTooLarge", 400
    )
    assert re.fullmatch(
        r"Packed policy consumes \d+% of allotted space, please use smaller policy\.",
        error.response["Error"]["Message"],
    )


def test_role_chaining_is_limited_to_an_hour(server: ServerProcess) -> None:
    user = make_user(server)
    first = make_role(server, {"AWS": user.arn}, allow("sts:AssumeRole"))
    second = make_role(server, {"AWS": first["Arn"]}, MaxSessionDuration=7200)
    session = client(
        server,
        "sts",
        credentials=session_credentials(
            user.client(server, "sts").assume_role(RoleArn=first["Arn"], RoleSessionName="hop1")
        ),
    )
    fails(
        lambda: session.assume_role(RoleArn=second["Arn"], RoleSessionName="hop2", DurationSeconds=7200),
        "ValidationError",
        400,
        "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
    )
    chained = session.assume_role(RoleArn=second["Arn"], RoleSessionName="hop2")
    assert chained["AssumedRoleUser"]["Arn"].endswith(f"/{second['RoleName']}/hop2")


def test_source_identity_persists_through_chaining(server: ServerProcess) -> None:
    user = make_user(server)
    first = make_role(server, {"AWS": user.arn}, allow("sts:AssumeRole"))
    client(server, "iam").update_assume_role_policy(
        RoleName=first["RoleName"], PolicyDocument=trust({"AWS": user.arn}, ["sts:AssumeRole", "sts:SetSourceIdentity"])
    )
    second = make_role(server, {"AWS": first["Arn"]})
    response = user.client(server, "sts").assume_role(
        RoleArn=first["Arn"], RoleSessionName="src", SourceIdentity="alice@corp"
    )
    assert response["SourceIdentity"] == "alice@corp"
    session = client(server, "sts", credentials=session_credentials(response))
    chained = session.assume_role(RoleArn=second["Arn"], RoleSessionName="next")
    assert chained["SourceIdentity"] == "alice@corp"


def test_get_session_token(server: ServerProcess, sts: Any) -> None:
    assert 3500 < _seconds_left(sts.get_session_token(DurationSeconds=7200)) <= 3600  # root: one hour at most
    user = make_user(server, allow("iam:GetUser"))
    response = user.client(server, "sts").get_session_token(DurationSeconds=1800)
    assert 1780 < _seconds_left(response) <= 1800
    creds = session_credentials(response)
    assert client(server, "sts", credentials=creds).get_caller_identity()["Arn"] == user.arn
    fails(client(server, "iam", credentials=creds).get_user, "InvalidClientTokenId", 403, INVALID)
    fails(
        client(server, "sts", credentials=creds).get_session_token,
        "AccessDenied",
        403,
        "Cannot call GetSessionToken with session credentials",
    )
    with_mfa = user.client(server, "sts").get_session_token(
        SerialNumber=f"arn:aws:iam::{ACCOUNT}:mfa/{user.name}", TokenCode="123456"
    )
    assert client(server, "iam", credentials=session_credentials(with_mfa)).get_user()["User"]["UserName"] == user.name
    fails(lambda: user.client(server, "sts").get_session_token(TokenCode="123456"), "AccessDenied", 403)


def test_get_federation_token(server: ServerProcess) -> None:
    user = make_user(server, allow("sts:GetFederationToken"), allow("outposts:List*"))
    sts = user.client(server, "sts")
    response = sts.get_federation_token(Name="bob", Policy=document(allow("outposts:ListSites")))
    assert response["FederatedUser"] == {
        "FederatedUserId": f"{ACCOUNT}:bob",
        "Arn": f"arn:aws:sts::{ACCOUNT}:federated-user/bob",
    }
    assert response["PackedPolicySize"] >= 1
    assert 43100 < _seconds_left(response) <= 43200
    outposts = client(server, "outposts", credentials=session_credentials(response))
    outposts.list_sites()  # the user and the session policy both allow it
    fails(outposts.list_outposts, "AccessDeniedException", 403)  # the session policy does not
    bare = client(server, "outposts", credentials=session_credentials(sts.get_federation_token(Name="bare")))
    fails(bare.list_sites, "AccessDeniedException", 403)  # no session policy: nothing
    federated = client(server, "sts", credentials=session_credentials(response))
    assert federated.get_caller_identity()["UserId"] == f"{ACCOUNT}:bob"
    fails(
        lambda: federated.get_federation_token(Name="again"),
        "AccessDenied",
        403,
        "Cannot call GetFederationToken with session credentials",
    )
    fails(client(server, "iam", credentials=session_credentials(response)).list_users, "InvalidClientTokenId", 403)


def test_get_federation_token_needs_permission(server: ServerProcess) -> None:
    user = make_user(server)
    fails(
        lambda: user.client(server, "sts").get_federation_token(Name="carol"),
        "AccessDenied",
        403,
        f"User: {user.arn} is not authorized to perform: sts:GetFederationToken on resource: "
        f"arn:aws:sts::{ACCOUNT}:federated-user/carol because no identity-based policy allows the "
        "sts:GetFederationToken action",
    )


def test_session_tokens_are_verified(server: ServerProcess) -> None:
    user = make_user(server)
    role = make_role(server, {"AWS": user.arn}, allow("outposts:*"))
    sts = user.client(server, "sts")
    key, secret, token = session_credentials(sts.assume_role(RoleArn=role["Arn"], RoleSessionName="a1"))
    _, _, other_token = session_credentials(sts.assume_role(RoleArn=role["Arn"], RoleSessionName="a2"))
    tampered = token[:-8] + ("A" if token[-8] != "A" else "B") + token[-7:]
    for bad in (tampered, other_token):
        fails(
            client(server, "sts", credentials=(key, secret, bad)).get_caller_identity,
            "InvalidClientTokenId",
            403,
            INVALID,
        )
        fails(
            client(server, "outposts", credentials=(key, secret, bad)).list_sites,
            "UnrecognizedClientException",
            403,
            INVALID,
        )
    fails(client(server, "sts", credentials=(key, secret)).get_caller_identity, "InvalidClientTokenId", 403, INVALID)
    fails(
        client(server, "sts", credentials=(key, secret[:-1] + "x", token)).get_caller_identity,
        "SignatureDoesNotMatch",
        403,
    )
    fails(
        client(server, "sts", credentials=(*user.key, token)).get_caller_identity, "InvalidClientTokenId", 403, INVALID
    )
    assert client(server, "outposts", credentials=(key, secret, token)).list_sites()["Sites"] is not None
