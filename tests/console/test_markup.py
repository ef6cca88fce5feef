"""Untrusted text in the console (site names, descriptions, user agents, records) is shown, never run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.console.conftest import screenshot, sign_in
from tests.console.test_pages import create_site
from tests.support.server import ServerProcess

IMG = "<img src=x onerror=alert(1)>"
SCRIPT = "<script>alert(2)</script>"
AGENT_SCRIPT = "<script>alert(3)</script>"


def no_markup_ran(page: Any) -> None:
    page.wait_for_timeout(300)  # an injected handler would have fired by now
    assert page.dialogs == []
    assert page.locator("img").count() == 0  # the console itself shows no images; an injected one would be here
    assert page.locator("script:not([src])").count() == 0


def test_markup_in_event_fields_is_shown_as_text(console: ServerProcess, signed_in: Any, fresh_context: Any) -> None:
    # A site named with markup, made in the console; its description holds a script.
    site_id = create_site(signed_in, console, IMG, address=False)
    signed_in.click("#edit-site")
    signed_in.fill("#f-description", SCRIPT)
    with signed_in.expect_navigation():
        signed_in.click("#save")
    assert signed_in.locator("#site-name").inner_text() == IMG
    assert signed_in.locator("#site-description").inner_text() == SCRIPT
    no_markup_ran(signed_in)
    # An SDK call whose user agent holds a script, and a sign-in from such a browser.
    sdk = console.client("outposts", user_agent_extra=AGENT_SCRIPT)
    sdk.get_site(SiteId=site_id)
    browser = fresh_context(user_agent=f"Mozilla/5.0 {AGENT_SCRIPT}")
    sign_in(browser.new_page(), console)

    signed_in.goto(f"{console.endpoint}/console/sites")
    assert signed_in.get_by_role("link", name=IMG).is_visible()
    no_markup_ran(signed_in)
    screenshot(signed_in, "markup-sites", full_page=False)

    signed_in.goto(f"{console.endpoint}/console/events?attr=ResourceName&value={site_id}&range=30m&col=error_code")
    for button in signed_in.locator("button.expand").all():
        button.click()
    text = signed_in.locator("#events").inner_text()
    assert IMG in text and SCRIPT in text and AGENT_SCRIPT in text
    shown = [json.loads(pre.inner_text()) for pre in signed_in.locator("pre.record").all()]
    assert any(AGENT_SCRIPT in record.get("userAgent", "") for record in shown)
    assert any(record.get("requestParameters", {}).get("Name") == IMG for record in shown)
    no_markup_ran(signed_in)
    screenshot(signed_in, "markup-events", full_page=False)

    signed_in.goto(f"{console.endpoint}/console/events?attr=EventName&value=ConsoleLogin&range=30m")
    for button in signed_in.locator("button.expand").all():
        button.click()
    assert f"Mozilla/5.0 {AGENT_SCRIPT}" in signed_in.locator("#events").inner_text()
    no_markup_ran(signed_in)

    # The downloads carry the text unchanged (JSON) and the chart draws with text only.
    with signed_in.expect_download() as info:
        signed_in.click("#download-json")
    records = json.loads(Path(info.value.path()).read_text(encoding="utf-8"))["Records"]
    assert any(r["userAgent"] == f"Mozilla/5.0 {AGENT_SCRIPT}" for r in records)
    signed_in.wait_for_selector("#chart[data-ready='true']")
    no_markup_ran(signed_in)
