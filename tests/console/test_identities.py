"""IAM users and role sessions in the console: their sign-ins recorded, their calls authorized like SDK calls."""

from __future__ import annotations

import json
import time
from typing import Any

from tests.console.conftest import sign_in
from tests.support.server import ServerProcess


def allow(*actions: str) -> str:
    return json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": list(actions), "Resource": "*"}]}
    )


def iam_user(server: ServerProcess, *actions: str) -> tuple[str, str, str]:
    """A new IAM user allowed ``actions``: its name, access key id and secret."""
    iam = server.client("iam")
    name = f"console-{time.time_ns()}"
    iam.create_user(UserName=name)
    if actions:
        iam.put_user_policy(UserName=name, PolicyName="console", PolicyDocument=allow(*actions))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return name, key["AccessKeyId"], key["SecretAccessKey"]


def logins_of(server: ServerProcess, username: str) -> list[dict[str, Any]]:
    client = server.client("cloudtrail")
    events = client.lookup_events(LookupAttributes=[{"AttributeKey": "Username", "AttributeValue": username}])
    return [json.loads(e["CloudTrailEvent"]) for e in events["Events"] if e["EventName"] == "ConsoleLogin"]


def test_iam_user_signs_in_and_is_authorized_like_an_sdk_caller(console: ServerProcess, fresh_context: Any) -> None:
    name, key, secret = iam_user(console, "outposts:ListSites", "outposts:GetSite")
    page = fresh_context().new_page()
    sign_in(page, console, key, secret)
    assert page.url.endswith("/console/")
    assert name in page.locator(".who").inner_text()
    [login] = logins_of(console, name)
    assert login["responseElements"] == {"ConsoleLogin": "Success"}
    assert login["userIdentity"] == {
        "type": "IAMUser",
        "principalId": login["userIdentity"]["principalId"],
        "arn": f"arn:aws:iam::123456789012:user/{name}",
        "accountId": "123456789012",
        "userName": name,
    }
    assert login["userIdentity"]["principalId"].startswith("AIDA")

    page.goto(f"{console.endpoint}/console/sites")
    assert page.locator("#sites").is_visible()  # ListSites is allowed
    page.goto(f"{console.endpoint}/console/sites/new")
    page.fill("#f-name", "not-allowed")
    with page.expect_navigation():
        page.click("#save")
    alert = page.locator(".alert").inner_text()
    assert (
        f"AccessDeniedException: User: arn:aws:iam::123456789012:user/{name} is not authorized to perform: "
        "outposts:CreateSite" in alert
    )
    page.goto(f"{console.endpoint}/console/events")
    assert "cloudtrail:LookupEvents" in page.locator(".alert").inner_text()

    client = console.client("cloudtrail")
    events = client.lookup_events(LookupAttributes=[{"AttributeKey": "Username", "AttributeValue": name}])["Events"]
    denied = next(json.loads(e["CloudTrailEvent"]) for e in events if e["EventName"] == "CreateSite")
    assert denied["errorCode"] == "AccessDeniedException"
    # Console calls are signed with console credentials minted at sign-in, as in AWS: an ASIA key
    # and a session context, never the long-term key the user signed in with.
    identity = denied["userIdentity"]
    assert identity["type"] == "IAMUser" and identity["userName"] == name
    assert identity["accessKeyId"].startswith("ASIA") and identity["accessKeyId"] != key
    assert identity["sessionContext"]["attributes"]["mfaAuthenticated"] == "false"
    assert denied["userAgent"] == "signin.amazonaws.com" and denied["sessionCredentialFromConsole"] == "true"

    # A wrong secret for this user is recorded as the user's failed sign-in.
    other = fresh_context().new_page()
    sign_in(other, console, key, "wrong" + secret[5:])
    failed = [r for r in logins_of(console, name) if r["responseElements"]["ConsoleLogin"] == "Failure"]
    assert len(failed) == 1
    assert failed[0]["userIdentity"] == {
        "type": "IAMUser",
        "principalId": login["userIdentity"]["principalId"],
        "accountId": "123456789012",
        "accessKeyId": "",
        "userName": name,
    }


def test_deactivated_key_cannot_sign_in_and_ends_its_sessions(console: ServerProcess, fresh_context: Any) -> None:
    name, key, secret = iam_user(console, "outposts:ListSites")
    page = fresh_context().new_page()
    sign_in(page, console, key, secret)
    assert page.url.endswith("/console/")
    console.client("iam").update_access_key(UserName=name, AccessKeyId=key, Status="Inactive")
    page.goto(f"{console.endpoint}/console/sites")
    assert "/console/signin" in page.url and page.get_by_text("no longer work").is_visible()
    sign_in(page, console, key, secret)
    assert page.locator("#signin-error").is_visible()
    outcomes = [r["responseElements"]["ConsoleLogin"] for r in logins_of(console, name)]
    assert outcomes == ["Failure", "Success"]  # newest first


def test_role_session_signs_in_with_its_session_token(console: ServerProcess, fresh_context: Any) -> None:
    iam = console.client("iam")
    role = f"console-role-{time.time_ns()}"
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sts:AssumeRole"}
        ],
    }
    role_arn = iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    iam.put_role_policy(
        RoleName=role, PolicyName="read", PolicyDocument=allow("outposts:List*", "cloudtrail:LookupEvents")
    )
    _, key, secret = iam_user(console, "sts:AssumeRole")
    sts = console.client("sts", credentials=(key, secret))
    issued = sts.assume_role(RoleArn=role_arn, RoleSessionName="alice")["Credentials"]

    page = fresh_context().new_page()
    sign_in(page, console, issued["AccessKeyId"], issued["SecretAccessKey"])  # no token: refused
    assert page.locator("#signin-error").is_visible()
    page.goto(f"{console.endpoint}/console/signin")
    page.fill("#access_key_id", issued["AccessKeyId"])
    page.fill("#secret_access_key", issued["SecretAccessKey"])
    page.click("summary")
    page.fill("#session_token", issued["SessionToken"])
    with page.expect_navigation():
        page.click("#sign-in")
    assert page.url.endswith("/console/")
    assert f"{role}/alice" in page.locator(".who").inner_text()

    logins = logins_of(console, "alice")
    assert [r["responseElements"]["ConsoleLogin"] for r in logins] == ["Success", "Failure"]
    identity = logins[0]["userIdentity"]
    assert identity["type"] == "AssumedRole" and identity["accessKeyId"] == issued["AccessKeyId"]
    assert identity["sessionContext"]["sessionIssuer"]["arn"] == role_arn
    assert logins[0]["additionalEventData"] == {"MobileVersion": "No", "MFAUsed": "No"}

    page.goto(f"{console.endpoint}/console/sites")
    assert page.locator("#sites").is_visible()
    client = console.client("cloudtrail")
    events = client.lookup_events(
        LookupAttributes=[{"AttributeKey": "AccessKeyId", "AttributeValue": issued["AccessKeyId"]}]
    )["Events"]
    listed = next(json.loads(e["CloudTrailEvent"]) for e in events if e["EventName"] == "ListSites")
    assert listed["userIdentity"]["type"] == "AssumedRole" and listed["sessionCredentialFromConsole"] == "true"
    assert issued["SecretAccessKey"] not in page.content() and issued["SessionToken"] not in page.content()
