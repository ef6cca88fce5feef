"""Console sign-in and sign-out, and the record of every sign-in attempt.

Sign-in takes an access key id and secret access key: the root user of an account or an IAM user
(long-term keys), or temporary credentials (``ASIA`` keys, e.g. a role session from STS
AssumeRole) together with their session token. They are checked as the gateway checks a request
signed with them: the key must be active (long-term) or the session token must be the key's and
unexpired (temporary); the secret is compared in constant time and is never sent back. The
browser gets only the session cookie.

Every attempt whose account is known (the key id exists, active or not, expired or not) is
recorded as AWS records console sign-ins (``audit.signin``): through the event store in a
group-commit batch, so the answer leaves only once the record is durable; a sign-in whose record
cannot be stored fails. An attempt with an unknown key id names no account and goes to the log.

A successful sign-in with a long-term key (root or IAM user) mints console credentials, as the
AWS console works with temporary credentials: an ``ASIA`` key with a session token, issued in the
same commit as the ``ConsoleLogin`` record (not recorded as an STS call: AWS's sign-in does not
log one), valid ``SESSION_SECONDS`` (12 hours), whose calls record ``userIdentity`` with that key
and a ``sessionContext`` (creation date, ``mfaAuthenticated`` false), like console calls in AWS.
They may do what the identity may do (IAM included, unlike GetSessionToken's without MFA); the
long-term key stays the session's ``origin_key_id``, and deactivating or deleting it ends the
session. A session started with temporary credentials (a role session) uses them as they are, and
ends when they expire.
"""

from __future__ import annotations

import hmac
import logging
import time
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from trailpost.audit.record import PENDING_EVENT_ID
from trailpost.audit.signin import console_login_record
from trailpost.console.pages import (
    browser_context,
    console_of,
    current_session,
    first,
    local_path,
    read_form,
    render,
    secure,
    signed_in,
)
from trailpost.console.sessions import (
    COOKIE,
    SESSION_SECONDS,
    Session,
    cookie_header,
    new_pre_auth,
    pre_auth_ok,
    pre_auth_token,
)
from trailpost.identity import credentials
from trailpost.identity.accounts import ACCESS_KEY, key_principal
from trailpost.identity.principal import Principal
from trailpost.identity.sigv4 import AuthFailure

log = logging.getLogger("trailpost.console")

SIGNIN_FAILED = "Your authentication information is incorrect. Please try again."


@dataclass(frozen=True, slots=True)
class Attempt:
    """A sign-in attempt with a known key: who it names, whether it succeeded, and until when."""

    principal: Principal
    success: bool
    session_token: str | None = None
    expires: float | None = None


def check_credentials(request: Request, key_id: str, secret: str, token: str) -> Attempt | None:
    """The attempt these credentials make, or ``None`` when the key id names no account."""
    console = console_of(request)
    store, settings = console.gateway.store, console.gateway.settings
    session = credentials.lookup(store, key_id)
    if session is not None:
        principal = credentials.principal_of(session)
        try:
            credentials.check(session, token or None, credentials.now(settings))
        except AuthFailure:
            return Attempt(principal, False)
        ok = _same(secret, session["secret_access_key"])
        expires = float(session["expiration"]) - settings.clock_offset_seconds  # on the host clock, as sessions
        return Attempt(principal, ok, token if ok else None, expires)
    doc = store.get(ACCESS_KEY, "", key_id) if key_id else None
    if doc is None:
        return None
    ok = doc.get("status") == "Active" and not token and _same(secret, doc["secret_access_key"])
    return Attempt(key_principal(doc), ok)


def _same(given: str, stored: str) -> bool:
    return hmac.compare_digest(given.encode("utf-8"), str(stored).encode("utf-8"))


def display_name(principal: Principal) -> str:
    """How the console names the signed-in identity: ``root``, the user name, or ``Role/session``."""
    if principal.is_root:
        return "root"
    if principal.identity_type in ("AssumedRole", "FederatedUser"):
        return principal.arn.split(":", 5)[-1].split("/", 1)[-1]
    return principal.user_name or principal.arn


def _mint(store: Any, settings: Any, principal: Principal) -> credentials.Issued:
    """Console credentials for a long-term key's identity (module docstring)."""
    created = credentials.now(settings)
    stored = credentials.session_principal(
        account_id=principal.account_id,
        identity_type=principal.identity_type,
        arn=principal.arn,
        principal_id=principal.principal_id,
        created=created,
        issuer={},
        user_name=principal.user_name,
    )
    grant = {
        "kind": "root" if principal.is_root else "user",
        "user_name": principal.user_name,
        "mfa": False,
        "via": "ConsoleSignIn",
    }
    return credentials.issue(store, principal=stored, grant=grant, created=created, duration=SESSION_SECONDS)


async def record_signin(request: Request, attempt: Attempt, login_to: str) -> credentials.Issued | None:
    """Store the ``ConsoleLogin`` record of ``attempt`` (and mint console credentials for a successful
    long-term key); returns once both are durable."""
    gateway = console_of(request).gateway
    ctx = browser_context(request)
    record = console_login_record(
        attempt.principal,
        success=attempt.success,
        event_id=PENDING_EVENT_ID,  # the event store gives the record its id
        event_time=time.time(),
        source_ip=ctx.source_ip,
        user_agent=request.headers.get("user-agent", ""),
        login_to=login_to,
        tls_details=ctx.tls_details,
    )
    mint = attempt.success and attempt.session_token is None

    def work() -> credentials.Issued | None:
        gateway.events.append(record)
        return _mint(gateway.store, gateway.settings, attempt.principal) if mint else None

    return await gateway.commits.run(work)


def signin_page(
    request: Request, target: str, *, status: int = 200, error: str | None = None, key_id: str = ""
) -> Response:
    """The sign-in form; a browser without a pre-sign-in cookie gets one (its nonce is the form's token)."""
    cookie = request.cookies.get(COOKIE)
    token = pre_auth_token(cookie)
    set_cookie = None
    if token is None:
        cookie = new_pre_auth()
        token = pre_auth_token(cookie)
        set_cookie = cookie_header(cookie, secure=secure(request))
    notice = None
    if request.query_params.get("signed_out"):
        notice = "You have signed out."
    elif request.query_params.get("revoked"):
        notice = "Your credentials no longer work; sign in again."
    response = render(
        request,
        "signin.html",
        None,
        status=status,
        title="Sign in",
        csrf_token=token,
        next=target,
        error=error,
        notice=notice,
        key_id=key_id,
        session_token_open=key_id.startswith(credentials.TEMPORARY_PREFIX),
    )
    if set_cookie is not None:
        response.headers["set-cookie"] = set_cookie
    return response


async def signin_form(request: Request) -> Response:
    if current_session(request) is not None:
        return RedirectResponse(local_path(request.query_params.get("next")), status_code=303)
    return signin_page(request, local_path(request.query_params.get("next")))


async def signin(request: Request) -> Response:
    fields = await read_form(request, None)
    target = local_path(first(fields, "next"))
    if not pre_auth_ok(request.cookies.get(COOKIE), first(fields, "csrf_token")):
        return signin_page(request, target, status=403, error="The sign-in form expired. Please try again.")
    key_id = first(fields, "access_key_id").strip()
    attempt = check_credentials(
        request, key_id, first(fields, "secret_access_key"), first(fields, "session_token").strip()
    )
    if attempt is None:
        log.info("console sign-in with an unknown access key id from %s", browser_context(request).source_ip)
        return signin_page(request, target, status=401, error=SIGNIN_FAILED, key_id=key_id)
    scheme = "https" if secure(request) else "http"
    login_to = f"{scheme}://{request.headers.get('host', 'localhost')}{target}"
    try:
        minted = await record_signin(request, attempt, login_to)
    except Exception:
        log.exception("could not record a console sign-in; the sign-in fails")
        return signin_page(request, target, status=500, error="The sign-in could not be recorded. Please try again.")
    if not attempt.success:
        return signin_page(request, target, status=401, error=SIGNIN_FAILED, key_id=key_id)
    principal = attempt.principal
    token: str | None
    expires: float | None
    if minted is not None:
        offset = console_of(request).gateway.settings.clock_offset_seconds
        access_key_id, token, expires, origin = (
            minted.access_key_id,
            minted.session_token,
            minted.expiration - offset,  # on the host clock, as sessions
            key_id,
        )
    else:
        access_key_id, token, expires, origin = key_id, attempt.session_token, attempt.expires, None
    session = console_of(request).sessions.start(
        account_id=principal.account_id,
        access_key_id=access_key_id,
        identity_type=principal.identity_type,
        arn=principal.arn,
        display_name=display_name(principal),
        session_token=token,
        expires=expires,
        origin_key_id=origin,
    )
    response = RedirectResponse(target, status_code=303)
    response.headers["set-cookie"] = cookie_header(session.session_id, secure=secure(request))
    return response


@signed_in
async def signout(request: Request, session: Session) -> Response:
    console_of(request).sessions.end(session)
    response = RedirectResponse("/console/signin?signed_out=1", status_code=303)
    response.headers["set-cookie"] = cookie_header("", secure=secure(request), clear=True)
    return response
