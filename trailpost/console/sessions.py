"""Console sessions: server-side, behind one HttpOnly SameSite=Strict cookie, with a CSRF token each.

A signed-in session (``Session``) lives in the server's memory only: the cookie carries a random
256-bit id, never the secret or anything derived from it; the session keeps the access key *id*
of the identity's console credentials (their secret is looked up at each API call), their session
token (which the server cannot look up: only its digest is stored), the long-term key signed in
with (``origin_key_id``: deactivating or deleting it ends the session) and the chosen region. A
restart signs everybody out.

Rules:

* the cookie ``trailpost-console`` is ``HttpOnly``, ``SameSite=Strict``, ``Path=/console`` and
  ``Secure`` when the console is served over TLS; it has no ``Max-Age`` (it ends with the browser)
  while the session itself expires ``SESSION_SECONDS`` after sign-in (12 hours, AWS's console
  session length for IAM users), after ``IDLE_SECONDS`` without a request, or when the temporary
  credentials it was started with expire;
* before sign-in the same cookie holds ``pre.<nonce>``: the sign-in form's CSRF token must equal
  that nonce (double submit), so a sign-in cannot be posted from another site;
* every signed-in form carries the session's CSRF token; a POST without it, or with another
  session's, is refused (403) and changes nothing;
* signing in always starts a new session id (no fixation); signing out deletes the session;
* at most ``MAX_SESSIONS`` sessions are kept; expired ones are dropped as new ones start, and
  beyond the cap the oldest goes.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass, field

COOKIE = "trailpost-console"
PRE_AUTH = "pre."
SESSION_SECONDS = 12 * 3600
IDLE_SECONDS = 3600
MAX_SESSIONS = 10_000


@dataclass
class Session:
    """A signed-in console user."""

    session_id: str
    account_id: str
    access_key_id: str
    identity_type: str
    arn: str
    display_name: str
    region: str = "us-east-1"
    session_token: str | None = None
    expires: float | None = None
    origin_key_id: str | None = None
    csrf_token: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    created: float = field(default_factory=time.time)
    last_seen: float = field(default_factory=time.time)
    flash: list[tuple[str, str]] = field(default_factory=list)

    def expired(self, now: float) -> bool:
        if self.expires is not None and now >= self.expires:
            return True  # the temporary credentials it was started with have expired
        return now - self.created >= SESSION_SECONDS or now - self.last_seen >= IDLE_SECONDS

    def csrf_ok(self, token: str | None) -> bool:
        return bool(token and hmac.compare_digest(token.encode(), self.csrf_token.encode()))


class SessionStore:
    """Signed-in sessions by id, in memory."""

    def __init__(self) -> None:
        self._sessions: OrderedDict[str, Session] = OrderedDict()

    def start(
        self,
        *,
        account_id: str,
        access_key_id: str,
        identity_type: str,
        arn: str,
        display_name: str,
        session_token: str | None = None,
        expires: float | None = None,
        origin_key_id: str | None = None,
    ) -> Session:
        now = time.time()
        self._drop_expired(now)
        while len(self._sessions) >= MAX_SESSIONS:
            self._sessions.popitem(last=False)
        session = Session(
            session_id=secrets.token_urlsafe(32),
            account_id=account_id,
            access_key_id=access_key_id,
            identity_type=identity_type,
            arn=arn,
            display_name=display_name,
            session_token=session_token,
            expires=expires,
            origin_key_id=origin_key_id,
            created=now,
            last_seen=now,
        )
        self._sessions[session.session_id] = session
        return session

    def get(self, cookie: str | None) -> Session | None:
        """The live session a cookie names, or ``None`` (unknown, pre-auth or expired)."""
        if not cookie or cookie.startswith(PRE_AUTH):
            return None
        session = self._sessions.get(cookie)
        if session is None:
            return None
        now = time.time()
        if session.expired(now):
            del self._sessions[cookie]
            return None
        session.last_seen = now
        return session

    def end(self, session: Session) -> None:
        self._sessions.pop(session.session_id, None)

    def _drop_expired(self, now: float) -> None:
        for session_id in [sid for sid, s in self._sessions.items() if s.expired(now)]:
            del self._sessions[session_id]

    def __len__(self) -> int:
        return len(self._sessions)


def new_pre_auth() -> str:
    """A fresh pre-sign-in cookie value; its nonce is the sign-in form's CSRF token."""
    return PRE_AUTH + secrets.token_urlsafe(32)


def pre_auth_token(cookie: str | None) -> str | None:
    """The sign-in form's CSRF token carried by a pre-sign-in cookie, if the cookie is one."""
    if cookie and cookie.startswith(PRE_AUTH) and len(cookie) > len(PRE_AUTH):
        return cookie[len(PRE_AUTH) :]
    return None


def pre_auth_ok(cookie: str | None, token: str | None) -> bool:
    expected = pre_auth_token(cookie)
    return bool(expected and token and hmac.compare_digest(expected.encode(), token.encode()))


def cookie_header(value: str, *, secure: bool, clear: bool = False) -> str:
    """The ``Set-Cookie`` value for the console cookie."""
    parts = [f"{COOKIE}={'' if clear else value}", "Path=/console", "HttpOnly", "SameSite=Strict"]
    if secure:
        parts.append("Secure")
    if clear:
        parts.append("Max-Age=0")
    return "; ".join(parts)
