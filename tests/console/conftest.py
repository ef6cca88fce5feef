"""Fixtures for the web console: one dedicated server and one headless Chromium per test session.

The browser is Debian's ``chromium`` (``/usr/bin/chromium``) driven by Playwright; nothing is ever
downloaded (``playwright install`` is never run). ``console`` is a server of its own, so the
event history these tests read holds only their own calls. ``signed_in`` is one browser page,
signed in once as the root user and reused by the tests that only read and click; tests that sign
in, sign out or need a clean cookie jar open a context of their own (``fresh_context``).
Screenshots go to ``tests/artifacts/`` (ignored by git).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.server import ServerProcess

CHROMIUM = os.environ.get("TRAILPOST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
TIMEOUT_MS = 15_000


@pytest.fixture(scope="session")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server of the console tests' own (fast order lifecycle, as the shared server)."""
    proc = ServerProcess(tmp_path_factory.mktemp("console") / "data", args=["--lifecycle-seconds", "0.3"]).start()
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    # Module scope: Playwright's sync API keeps an asyncio loop running in this thread while it is
    # open, which would break tests of other modules that call ``asyncio.run`` in the same worker.
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def fresh_context(browser: Any) -> Iterator[Callable[..., Any]]:
    """Open browser contexts (own cookie jar) on demand; all are closed after the test."""
    opened: list[Any] = []

    def open_context(**options: Any) -> Any:
        context = browser.new_context(accept_downloads=True, viewport={"width": 1360, "height": 900}, **options)
        context.set_default_timeout(TIMEOUT_MS)
        opened.append(context)
        return context

    yield open_context
    for context in opened:
        context.close()


def sign_in(
    page: Any, server: ServerProcess, key: str | None = None, secret: str | None = None, *, goto: bool = True
) -> None:
    """Sign in through the form (opened first unless ``goto`` is false); the page ends where the console sends it."""
    root_key, root_secret = server.root_credentials()
    if goto:
        page.goto(f"{server.endpoint}/console/signin")
    page.fill("#access_key_id", key if key is not None else root_key)
    page.fill("#secret_access_key", secret if secret is not None else root_secret)
    page.click("#sign-in")
    page.wait_for_load_state()


@pytest.fixture(scope="module")
def signed_in(browser: Any, console: ServerProcess) -> Iterator[Any]:
    """One page signed in as the root user, shared by the reading tests."""
    context = browser.new_context(accept_downloads=True, viewport={"width": 1360, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.dialogs = dialogs  # type: ignore[attr-defined]
    sign_in(page, console)
    assert page.url.endswith("/console/"), page.url
    yield page
    context.close()


def screenshot(page: Any, name: str, *, full_page: bool = True) -> Path:
    """Keep a screenshot (the whole page, or what the window shows) as a test artifact."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path
