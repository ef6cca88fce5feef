"""What every console page shares: the signed-in session, forms with CSRF, API calls, rendering.

Rules:

* a page handler decorated with ``@signed_in`` runs only for a live session; otherwise the browser
  is sent to the sign-in page with ``next`` set to where it was going (a local ``/console`` path);
* every POST of a signed-in page must carry the session's CSRF token (``csrf_token``), else 403 and
  nothing happens; ``read_form`` checks it before the handler sees any field;
* templates are rendered with autoescaping on for every template (any extension), so untrusted
  text (names, descriptions, user agents, whole records) is always shown as text;
* an ``ApiError`` is shown as AWS worded it: ``<code>: <message>``; revoked credentials end the
  session.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from trailpost.console.api import ApiError, Caller, CredentialsRevoked
from trailpost.console.sessions import COOKIE, Session, cookie_header
from trailpost.gateway.context import RequestContext
from trailpost.http import HttpRequest

if TYPE_CHECKING:
    from trailpost.console.app import Console

TEMPLATES = Path(__file__).parent / "templates"
REGIONS = (
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "ca-central-1",
    "sa-east-1",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-central-1",
    "eu-north-1",
    "ap-south-1",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-southeast-1",
    "ap-southeast-2",
)
REGION_PATTERN = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")
_LOCAL_PATH = re.compile(r"^/console(/[A-Za-z0-9._~!$&'()*+,;=:@%/?-]*)?$")

Handler = Callable[[Request, Session], Awaitable[Response]]


class Forbidden(Exception):
    """A POST without the right CSRF token."""


def environment() -> jinja2.Environment:
    """The template environment: autoescaping for every template, undefined names are errors."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["utc"] = utc_text
    env.filters["query"] = lambda pairs: urlencode(pairs, doseq=True)
    return env


def utc_text(value: Any) -> str:
    """A timestamp (datetime or epoch seconds) as ``YYYY-MM-DD HH:MM:SS UTC``; other values as given."""
    if isinstance(value, int | float):
        value = datetime.fromtimestamp(value, tz=UTC)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return "" if value is None else str(value)


def console_of(request: Request) -> Console:
    return request.app.state.console


def http_request(request: Request) -> HttpRequest:
    """The gateway's view of the browser's request (client address, TLS, headers)."""
    return request.scope["trailpost.request"]


def browser_context(request: Request) -> RequestContext:
    """A request context for the browser's request: its source address and TLS details as records show them."""
    console = console_of(request)
    return RequestContext(request=http_request(request), store=console.gateway.store, settings=console.gateway.settings)


def secure(request: Request) -> bool:
    return http_request(request).tls is not None or http_request(request).scheme == "https"


def local_path(value: str | None, default: str = "/console/") -> str:
    """``value`` if it is a path inside the console (no scheme, host or ``//``), else ``default``."""
    if value and _LOCAL_PATH.match(value) and "//" not in value and "\\" not in value:
        return value
    return default


def current_session(request: Request) -> Session | None:
    return console_of(request).sessions.get(request.cookies.get(COOKIE))


def caller(request: Request, session: Session) -> Caller:
    host = request.headers.get("host") or "localhost"
    return Caller(
        session.access_key_id,
        session.identity_type,
        browser_context(request).source_ip,
        host,
        session.session_token,
        session.origin_key_id,
    )


async def api(request: Request, session: Session, service: str, operation: str, params: dict[str, Any]) -> dict:
    """Call ``operation`` as the signed-in user, in the session's region."""
    return await console_of(request).api.call(caller(request, session), service, operation, params, session.region)


async def api_pages(
    request: Request, session: Session, service: str, operation: str, params: dict[str, Any], key: str, limit: int
) -> tuple[list[dict[str, Any]], bool]:
    """Up to ``limit`` items of a paginated list operation, as the signed-in user."""
    return await console_of(request).api.pages(
        caller(request, session), service, operation, params, session.region, key, limit
    )


async def read_form(request: Request, session: Session | None) -> dict[str, list[str]]:
    """The url-encoded form of a POST; ``Forbidden`` unless it carries the session's CSRF token."""
    body = (await request.body()).decode("utf-8", errors="replace")
    fields: dict[str, list[str]] = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        fields.setdefault(key, []).append(value)
    if session is not None and not session.csrf_ok(first(fields, "csrf_token")):
        raise Forbidden()
    return fields


def first(fields: dict[str, list[str]], key: str, default: str = "") -> str:
    values = fields.get(key)
    return values[0] if values else default


def flat(fields: dict[str, list[str]]) -> dict[str, str]:
    """A form's fields as single values (the first of each), to refill it."""
    return {key: values[0] for key, values in fields.items() if values and key != "csrf_token"}


def render(request: Request, template: str, session: Session | None, status: int = 200, **context: Any) -> HTMLResponse:
    flashes: list[tuple[str, str]] = []
    if session is not None:
        flashes, session.flash = session.flash, []
    page = (
        console_of(request)
        .templates.get_template(template)
        .render(
            session=session,
            regions=REGIONS,
            path=request.url.path,
            full_path=request.url.path + (f"?{request.url.query}" if request.url.query else ""),
            flashes=flashes,
            **context,
        )
    )
    return HTMLResponse(page, status_code=status)


def redirect(url: str, session: Session | None = None, message: str | None = None, kind: str = "success") -> Response:
    """303 to ``url`` (a console path), with a one-time message shown on the next page."""
    if session is not None and message:
        session.flash.append((kind, message))
    return RedirectResponse(url, status_code=303)


async def confirm(
    request: Request,
    session: Session,
    call: tuple[str, str, dict[str, Any]],
    done: tuple[str, str],
    *,
    title: str,
    question: str,
    button: str,
    back: str,
) -> Response:
    """A page that asks before one API call (``call``: service, operation, parameters).

    GET shows ``question`` with ``button`` (a form posting to this page's path) and a link
    ``back``; POST (its CSRF token checked by ``signed_in``) makes the call and redirects to
    ``done`` (a console path and the message shown there), or shows the page again with AWS's
    error, status 400.
    """
    error = None
    if request.method == "POST":
        try:
            await api(request, session, *call)
        except ApiError as failure:
            error = error_text(failure)
        else:
            return redirect(done[0], session, done[1])
    return render(
        request,
        "confirm.html",
        session,
        status=400 if error else 200,
        title=title,
        question=question,
        action=request.url.path,
        button=button,
        back=back,
        error=error,
    )


Fields = dict[str, list[str]]


async def form_page(
    request: Request,
    session: Session,
    template: str,
    *,
    title: str,
    values: dict[str, str],
    submit: Callable[[Fields], Awaitable[tuple[str, str]]],
    shown: Callable[[Fields], dict[str, str]] = flat,
    lists: Callable[[], Awaitable[dict[str, Any]]] | None = None,
    **context: Any,
) -> Response:
    """A page with a form that makes API calls (creating or editing a resource).

    GET shows ``template`` filled with ``values``. POST (its CSRF token checked by ``signed_in``)
    reads the form and awaits ``submit(fields)``, which makes the calls and says where to go: a
    console path and the message shown there. If a call fails the form is shown again, status 400,
    with what was typed (``shown(fields)``) and AWS's error. ``lists`` fetches what the form offers
    to choose from (sites, catalog items), only when the form is shown; ``context`` is passed as is.
    """
    error = None
    if request.method == "POST":
        fields = await read_form(request, session)
        values = shown(fields)
        try:
            path, message = await submit(fields)
        except ApiError as failure:
            error = error_text(failure)
        else:
            return redirect(path, session, message)
    if lists is not None:
        context.update(await lists())
    return render(
        request, template, session, status=400 if error else 200, title=title, values=values, error=error, **context
    )


def error_text(error: ApiError) -> str:
    return f"{error.code}: {error.message}" if error.message else error.code


def signed_in(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Run ``handler`` for a live session: sign-in redirect without one, 403 for a bad CSRF token."""

    @functools.wraps(handler)
    async def page(request: Request) -> Response:
        session = current_session(request)
        if session is None:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            if request.method != "GET":
                target = "/console/"
            return RedirectResponse("/console/signin?" + urlencode({"next": local_path(target)}), status_code=303)
        try:
            if request.method == "POST":
                await read_form(request, session)  # the CSRF check comes before anything else happens
            return await handler(request, session)
        except Forbidden:
            return render(request, "error.html", session, status=403, title="Request refused", message=CSRF_MESSAGE)
        except CredentialsRevoked:
            console_of(request).sessions.end(session)
            response = RedirectResponse("/console/signin?revoked=1", status_code=303)
            response.headers["set-cookie"] = cookie_header("", secure=secure(request), clear=True)
            return response
        except ApiError as error:
            status = error.status if 400 <= error.status < 600 else 500
            return render(request, "error.html", session, status=status, title=error.code, message=error_text(error))

    return page


CSRF_MESSAGE = "The form did not carry a valid security token. Reload the page and try again."
