"""The web console at ``/console/``: a starlette app behind the gateway, and its ASGI bridge.

The gateway hands every request whose path is ``/console`` or starts with ``/console/`` to
``Console.__call__`` after its read step (body limit, request-target checks), as an
``HttpRequest``; the console runs its starlette app on it and answers an ``HttpResponse``. Service
data is never read or written here: pages call the API through ``ConsoleApi`` (signed SigV4
requests through ``Gateway.handle``), so every console action is a recorded API call. Sign-in and
sign-out are ``console.auth``; the pages are ``history``, ``sites`` and ``outposts``.

Every response carries a Content-Security-Policy that allows nothing but the console's own
files (``default-src 'self'``, no inline script or style), ``nosniff``, ``DENY`` framing, and is
not cached (static files: revalidated). The console never answers with CORS headers.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Message

from trailpost.console import auth, history, outposts, sites, trails
from trailpost.console.api import ConsoleApi
from trailpost.console.pages import (
    REGION_PATTERN,
    environment,
    first,
    local_path,
    read_form,
    redirect,
    render,
    signed_in,
)
from trailpost.console.sessions import Session, SessionStore
from trailpost.http import HttpRequest, HttpResponse, MalformedEncoding, percent_decode

if TYPE_CHECKING:
    from trailpost.gateway.app import Gateway

log = logging.getLogger("trailpost.console")

STATIC = Path(__file__).parent / "static"
PREFIX = "/console"
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def is_console_path(raw_path: str) -> bool:
    """Whether the gateway hands a request with this (raw) path to the console."""
    return raw_path == PREFIX or raw_path.startswith(PREFIX + "/")


class Console:
    """The console application and what it owns: API client, sessions, templates."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self.api = ConsoleApi(gateway)
        self.sessions = SessionStore()
        self.templates = environment()
        self.app = Starlette(routes=ROUTES)
        self.app.state.console = self

    async def __call__(self, request: HttpRequest) -> HttpResponse:
        """Answer one console request (the gateway's dispatch)."""
        try:
            path = percent_decode(request.raw_path)
        except MalformedEncoding:
            return _secured(HttpResponse(400, {"Content-Type": "text/plain"}, b"Bad request"), static=False)
        scope: dict[str, Any] = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": request.method,
            "scheme": "https" if request.tls is not None else request.scheme,
            "path": path,
            "raw_path": request.raw_path.encode("ascii"),
            "query_string": request.query_string.encode("ascii"),
            "root_path": "",
            "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in request.headers.items()],
            "client": (request.client_host, request.client_port),
            "server": None,
            "trailpost.request": request,
        }
        delivered = False
        never = asyncio.Event()

        async def receive() -> dict[str, Any]:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": request.body, "more_body": False}
            await never.wait()  # nothing more will come; a listener is cancelled with its response
            return {"type": "http.disconnect"}

        status = 500
        headers: dict[str, str] = {}
        chunks: list[bytes] = []

        async def send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                for raw_name, raw_value in message.get("headers", []):
                    name, value = raw_name.decode("latin-1"), raw_value.decode("latin-1")
                    headers[name] = f"{headers[name]}, {value}" if name in headers else value
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        try:
            await self.app(scope, receive, send)
        except Exception:
            log.exception("console error answering %s %s", request.method, path)
            if not chunks:
                status, headers, chunks = 500, {"content-type": "text/plain"}, [b"Internal Server Error"]
        headers.pop("content-length", None)
        response = HttpResponse(status, headers, b"".join(chunks))
        return _secured(response, static=path.startswith(PREFIX + "/static/"))


def _secured(response: HttpResponse, *, static: bool) -> HttpResponse:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    response.headers["Cache-Control"] = "no-cache" if static else "no-store"
    return response


@signed_in
async def choose_region(request: Request, session: Session) -> Response:
    fields = await read_form(request, session)
    region = first(fields, "region")
    back = local_path(first(fields, "next"))
    if not REGION_PATTERN.match(region):
        return redirect(back, session, f"'{region}' is not a region name.", kind="error")
    session.region = region
    return redirect(back, session, f"Region set to {region}.")


@signed_in
async def home(request: Request, session: Session) -> Response:
    return render(request, "home.html", session, title="Home")


async def bare(request: Request) -> Response:
    return RedirectResponse("/console/", status_code=307)


ROUTES = [
    Route("/console", bare, methods=["GET", "HEAD"]),
    Route("/console/", home, methods=["GET", "HEAD"]),
    Route("/console/signin", auth.signin_form, methods=["GET", "HEAD"]),
    Route("/console/signin", auth.signin, methods=["POST"]),
    Route("/console/signout", auth.signout, methods=["POST"]),
    Route("/console/region", choose_region, methods=["POST"]),
    *history.ROUTES,
    *sites.ROUTES,
    *outposts.ROUTES,
    *trails.ROUTES,
    Mount("/console/static", app=StaticFiles(directory=STATIC), name="static"),
]
