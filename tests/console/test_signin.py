"""Console sign-in, sessions and CSRF, in real Chromium; sign-ins recorded as AWS records them."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from tests.console.conftest import screenshot, sign_in
from tests.support.server import ServerProcess
from trailpost.audit.signin import console_login_record
from trailpost.identity.principal import Principal

SIGNIN_FAILED = "Your authentication information is incorrect. Please try again."
RECORDED = Path(__file__).resolve().parents[3] / "shared" / "reference" / "aws-recorded"
SIGNIN_KEYS = [
    "eventVersion",
    "userIdentity",
    "eventTime",
    "eventSource",
    "eventName",
    "awsRegion",
    "sourceIPAddress",
    "userAgent",
    "requestParameters",
    "responseElements",
    "additionalEventData",
    "eventID",
    "readOnly",
    "eventType",
    "managementEvent",
    "recipientAccountId",
    "eventCategory",
]


def console_logins(server: ServerProcess, since: float) -> list[dict[str, Any]]:
    """ConsoleLogin records since ``since`` (newest first), read through LookupEvents in us-east-1."""
    client = server.client("cloudtrail", region="us-east-1")
    events = client.lookup_events(
        LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "ConsoleLogin"}],
        StartTime=int(since) - 1,
    )["Events"]
    return [json.loads(event["CloudTrailEvent"]) for event in events]


def test_sign_in_failure_then_success_are_recorded_like_aws(console: ServerProcess, fresh_context: Any) -> None:
    key, secret = console.root_credentials()
    started = time.time()
    agent = f"Mozilla/5.0 (X11; Linux x86_64) trailpost-console-test/{time.time_ns()}"
    context = fresh_context(user_agent=agent)
    page = context.new_page()
    page.goto(f"{console.endpoint}/console/events")
    assert "/console/signin" in page.url  # not signed in: sent to the sign-in page, keeping where it went
    sign_in(page, console, key, secret[:-1] + ("A" if secret[-1] != "A" else "B"), goto=False)
    assert (
        page.locator("#signin-error").inner_text() == "Your authentication information is incorrect. Please try again."
    )
    assert secret not in page.content()
    screenshot(page, "signin-failed")

    mine = [r for r in console_logins(console, started) if r.get("userAgent") == agent]
    failures = [r for r in mine if r["responseElements"]["ConsoleLogin"] == "Failure"]
    assert len(failures) == 1
    failure = failures[0]
    assert list(failure) == [*SIGNIN_KEYS[:8], "errorMessage", *SIGNIN_KEYS[8:]]
    assert failure["errorMessage"] == "Failed authentication" and "errorCode" not in failure
    assert failure["userIdentity"] == {
        "type": "Root",
        "principalId": "123456789012",
        "arn": "arn:aws:iam::123456789012:root",
        "accountId": "123456789012",
        "accessKeyId": "",
    }
    assert failure["userAgent"] == agent
    assert failure["sourceIPAddress"] == "127.0.0.1"
    assert failure["additionalEventData"] == {
        "LoginTo": f"{console.endpoint}/console/events",
        "MobileVersion": "No",
        "MFAUsed": "No",
    }

    sign_in(page, console, key, secret, goto=False)
    assert page.url == f"{console.endpoint}/console/events"  # back where the user was going
    mine = [r for r in console_logins(console, started) if r.get("userAgent") == agent]
    successes = [r for r in mine if r["responseElements"]["ConsoleLogin"] == "Success"]
    assert len(successes) == 1
    success = successes[0]
    assert list(success) == SIGNIN_KEYS
    assert success["eventType"] == "AwsConsoleSignIn" and success["eventSource"] == "signin.amazonaws.com"
    assert success["awsRegion"] == "us-east-1" and success["eventVersion"] == "1.08"
    assert success["readOnly"] is False and success["managementEvent"] is True
    assert success["requestParameters"] is None and success["recipientAccountId"] == "123456789012"
    # Event history shows the sign-in under the root user, with no access key (AWS's records carry none).
    client = console.client("cloudtrail")
    event = client.lookup_events(LookupAttributes=[{"AttributeKey": "EventId", "AttributeValue": success["eventID"]}])[
        "Events"
    ][0]
    assert event["Username"] == "root" and "AccessKeyId" not in event
    assert not any(secret in json.dumps(r) for r in console_logins(console, started))

    cookies = {c["name"]: c for c in context.cookies()}
    cookie = cookies["trailpost-console"]
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Strict" and cookie["path"] == "/console"
    assert secret not in cookie["value"] and key not in cookie["value"]


def test_unknown_access_key_is_refused_and_not_recorded(console: ServerProcess, fresh_context: Any) -> None:
    started = time.time()
    page = fresh_context().new_page()
    sign_in(page, console, "AKIAUNKNOWNKEY000000", "x" * 40)
    assert "/console/signin" in page.url
    assert page.locator("#signin-error").is_visible()
    assert not [r for r in console_logins(console, started) if "AKIAUNKNOWNKEY000000" in json.dumps(r)]
    page.goto(f"{console.endpoint}/console/sites")
    assert "/console/signin" in page.url


def test_sign_out_ends_the_session(console: ServerProcess, fresh_context: Any) -> None:
    context = fresh_context()
    page = context.new_page()
    sign_in(page, console)
    cookie = next(c for c in context.cookies() if c["name"] == "trailpost-console")
    page.click("#sign-out")
    page.wait_for_load_state()
    assert "/console/signin" in page.url
    assert page.get_by_text("You have signed out.").is_visible()
    page.goto(f"{console.endpoint}/console/sites")
    assert "/console/signin" in page.url
    # The old session id is dead on the server too, not only forgotten by the browser.
    other = fresh_context()
    other.add_cookies([{**cookie, "sameSite": "Strict"}])
    replay = other.request.get(f"{console.endpoint}/console/sites", max_redirects=0)
    assert replay.status == 303 and "/console/signin" in replay.headers["location"]


def test_posts_without_the_csrf_token_are_refused(console: ServerProcess, signed_in: Any) -> None:
    name = f"csrf-{time.time_ns()}"
    request = signed_in.context.request
    for form in ({"name": name}, {"name": name, "csrf_token": "forged"}):
        answer = request.post(f"{console.endpoint}/console/sites/new", form=form, max_redirects=0)
        assert answer.status == 403
        assert "security token" in answer.text()
    assert not [s for s in console.client("outposts").list_sites()["Sites"] if s["Name"] == name]
    # Signing out needs the token too: the session survives a forged sign-out.
    answer = request.post(f"{console.endpoint}/console/signout", form={}, max_redirects=0)
    assert answer.status == 403
    assert request.get(f"{console.endpoint}/console/sites", max_redirects=0).status == 200
    # And the sign-in form only accepts its own pre-sign-in token.
    fresh = signed_in.context.browser.new_context()
    try:
        key, secret = console.root_credentials()
        form = {"access_key_id": key, "secret_access_key": secret, "csrf_token": "x"}
        answer = fresh.request.post(f"{console.endpoint}/console/signin", form=form, max_redirects=0)
        assert answer.status == 403
        assert not [c for c in fresh.cookies() if not c["value"].startswith("pre.")]
    finally:
        fresh.close()


def test_responses_carry_a_strict_content_security_policy(console: ServerProcess, signed_in: Any) -> None:
    for path in ("/console/signin", "/console/events", "/console/static/console.js"):
        answer = signed_in.context.request.get(f"{console.endpoint}{path}")
        assert answer.status == 200
        policy = answer.headers["content-security-policy"]
        assert "default-src 'self'" in policy and "script-src 'self'" in policy and "unsafe-inline" not in policy
        assert answer.headers["x-content-type-options"] == "nosniff"


def _recorded(name: str) -> dict[str, Any]:
    for file in ("identity-event-records.json", "error-responses.json"):
        data = json.loads((RECORDED / file).read_text())
        entries = data.get("entries") or data.get("recorded_error_events") or []
        for entry in entries:
            if entry["id"] == name:
                return entry["record"]
    raise KeyError(name)


@pytest.mark.parametrize(
    ("recorded", "success", "kind"),
    [
        ("signin-consolelogin-ok-1", True, "IAMUser"),
        ("signin-consolelogin-ok-5", True, "Root"),
        ("signin-consolelogin-failure-1", False, "IAMUser"),
        ("signin-consolelogin-failure-3", False, "Root"),
    ],
)
def test_record_has_the_fields_of_the_recorded_aws_sign_ins(recorded: str, success: bool, kind: str) -> None:
    if not RECORDED.exists():
        pytest.skip("shared/reference is not beside the repository")
    aws = _recorded(recorded)
    if kind == "Root":
        principal = Principal("111122223333", "Root", "arn:aws:iam::111122223333:root", "111122223333", "AKIAX")
    else:
        principal = Principal(
            "111122223333", "IAMUser", "arn:aws:iam::111122223333:user/anaya", "AIDAEXAMPLE", "AKIAX", "anaya"
        )
    ours = console_login_record(
        principal,
        success=success,
        event_id="e",
        event_time=1_700_000_000,
        source_ip="192.0.2.0",
        user_agent="Mozilla/5.0",
        login_to="https://console.example/console/home",
    )
    # The same fields (tlsDetails only over TLS, and the doc examples predate requestID-free 1.08 fields).
    optional_in_examples = {"tlsDetails", "managementEvent", "eventCategory", "readOnly", "recipientAccountId"}
    assert set(aws) - optional_in_examples <= set(ours)
    assert set(ours) - set(aws) <= optional_in_examples
    assert set(ours["userIdentity"]) == set(aws["userIdentity"])
    assert ours["responseElements"] == aws["responseElements"]
    assert ours.get("errorMessage") == aws.get("errorMessage")
    assert set(ours["additionalEventData"]) == {"LoginTo", "MobileVersion", "MFAUsed"}
    assert ours["eventType"] == "AwsConsoleSignIn" and ours["eventName"] == aws["eventName"]
