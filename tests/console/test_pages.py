"""The Outposts pages in real Chromium: every action is an API call, recorded as a console call."""

from __future__ import annotations

import json
import time
from typing import Any

from tests.console.conftest import TIMEOUT_MS, screenshot, sign_in
from tests.support.server import ServerProcess

ADDRESS = {
    "ContactName": "Jane Doe",
    "ContactPhoneNumber": "+15555550100",
    "AddressLine1": "1 Main St",
    "City": "Seattle",
    "StateOrRegion": "WA",
    "PostalCode": "98101",
    "CountryCode": "US",
}
SERVER_ITEM = "OR-7DIJUXX"


def events_naming(server: ServerProcess, resource: str) -> list[dict[str, Any]]:
    client = server.client("cloudtrail")
    events = client.lookup_events(LookupAttributes=[{"AttributeKey": "ResourceName", "AttributeValue": resource}])
    return [json.loads(event["CloudTrailEvent"]) for event in events["Events"]]


def create_site(page: Any, server: ServerProcess, name: str, *, address: bool = True) -> str:
    page.goto(f"{server.endpoint}/console/sites")
    page.click("#create-site")
    page.fill("#f-name", name)
    page.fill("#f-description", "made in the console")
    page.fill("#f-tags", "team=edge\nenv=test")
    if address:
        for member, value in ADDRESS.items():
            page.fill(f"#f-op_{member}", value)
    with page.expect_navigation():
        page.click("#save")
    assert "/console/sites/os-" in page.url, page.url
    return page.url.rsplit("/", 1)[1]


def create_outpost(page: Any, server: ServerProcess, site_id: str, name: str, hardware: str = "SERVER") -> str:
    page.goto(f"{server.endpoint}/console/outposts/new?site={site_id}")
    page.fill("#f-name", name)
    page.select_option("#f-hardware", hardware)
    with page.expect_navigation():
        page.click("#save")
    assert "/console/outposts/op-" in page.url, page.url
    return page.url.rsplit("/", 1)[1]


def confirm(page: Any, path: str, server: ServerProcess) -> None:
    page.goto(f"{server.endpoint}{path}")
    with page.expect_navigation():
        page.click("#confirm")


def test_site_created_in_the_console_is_recorded_as_a_console_call(console: ServerProcess, signed_in: Any) -> None:
    name = f"console-site-{time.time_ns()}"
    site_id = create_site(signed_in, console, name)
    assert signed_in.locator(".flash-success").inner_text() == f"Site {name} created."
    assert signed_in.locator("#site-name").inner_text() == name
    screenshot(signed_in, "site-detail")
    site = console.client("outposts").get_site(SiteId=site_id)["Site"]
    assert site["Name"] == name and site["Tags"] == {"team": "edge", "env": "test"}
    assert site["OperatingAddressCity"] == "Seattle"

    records = {r["eventName"]: r for r in events_naming(console, site_id)}
    record = records["CreateSite"]
    key, _ = console.root_credentials()
    assert record["userAgent"] == "console.amazonaws.com"
    assert record["sessionCredentialFromConsole"] == "true"
    assert list(record)[-2:] == ["eventCategory", "sessionCredentialFromConsole"]  # where AWS puts it
    assert "tlsDetails" not in record
    assert record["sourceIPAddress"] == "127.0.0.1"  # the browser's address
    identity = record["userIdentity"]
    assert identity["type"] == "Root" and identity["accessKeyId"].startswith("ASIA") and identity["accessKeyId"] != key
    assert set(identity["sessionContext"]["attributes"]) == {"creationDate", "mfaAuthenticated"}
    assert record["requestParameters"]["Name"] == name
    assert record["responseElements"]["Site"]["SiteId"] == site_id
    # The detail page's reads are console calls too.
    assert records["GetSite"]["sessionCredentialFromConsole"] == "true"
    # An SDK call is not a console call.
    console.client("outposts").get_site(SiteId=site_id)
    sdk = [r for r in events_naming(console, site_id) if r["userAgent"] != "console.amazonaws.com"]
    assert sdk and all("sessionCredentialFromConsole" not in r for r in sdk)

    # The console finds its own event in Event history.
    signed_in.goto(f"{console.endpoint}/console/events?attr=EventName&value=CreateSite&range=30m")
    row = signed_in.locator(f"tr.event-row[data-event-id='{record['eventID']}']")
    assert row.is_visible()
    row.locator("button.expand").click()
    shown = json.loads(signed_in.locator(f"tr.event-row[data-event-id='{record['eventID']}'] + tr pre").inner_text())
    assert shown["sessionCredentialFromConsole"] == "true" and shown["userAgent"] == "console.amazonaws.com"


def test_site_edit_addresses_errors_and_delete(console: ServerProcess, signed_in: Any) -> None:
    site_id = create_site(signed_in, console, f"edit-{time.time_ns()}", address=False)
    signed_in.click("#edit-site")
    signed_in.fill("#f-description", "renovated")
    with signed_in.expect_navigation():
        signed_in.click("#save")
    assert signed_in.locator("#site-description").inner_text() == "renovated"
    assert console.client("outposts").get_site(SiteId=site_id)["Site"]["Description"] == "renovated"

    # AWS's validation error, readable, with the form kept as typed.
    signed_in.click("#edit-shipping")
    for member, value in ADDRESS.items():
        signed_in.fill(f"#f-{member}", value)
    signed_in.fill("#f-ContactPhoneNumber", "555-0100")
    with signed_in.expect_navigation():
        signed_in.click("#save")
    alert = signed_in.locator(".alert").inner_text()
    assert "ValidationException: 1 validation error detected: Value at 'address.contactPhoneNumber'" in alert
    assert signed_in.locator("#f-City").input_value() == "Seattle"
    screenshot(signed_in, "site-address-error")
    signed_in.fill("#f-ContactPhoneNumber", "+15555550100")
    with signed_in.expect_navigation():
        signed_in.click("#save")
    assert signed_in.locator(".flash-success").inner_text() == "Shipping address updated."
    shipped = console.client("outposts").get_site_address(SiteId=site_id, AddressType="SHIPPING_ADDRESS")
    assert shipped["Address"]["City"] == "Seattle"

    outpost_id = create_outpost(signed_in, console, site_id, "blocker")
    confirm(signed_in, f"/console/sites/{site_id}/delete", console)
    assert "ConflictException" in signed_in.locator(".alert").inner_text()  # an outpost is on the site
    confirm(signed_in, f"/console/outposts/{outpost_id}/delete", console)
    assert signed_in.url.endswith("/console/outposts")
    confirm(signed_in, f"/console/sites/{site_id}/delete", console)
    assert signed_in.url.endswith("/console/sites")
    assert site_id not in signed_in.locator("#sites").inner_text()
    names = [r["eventName"] for r in events_naming(console, site_id)]
    assert {"UpdateSite", "UpdateSiteAddress", "DeleteSite"} <= set(names)


def test_outpost_edit_refills_the_form_and_keeps_it_on_an_error(console: ServerProcess, signed_in: Any) -> None:
    site_id = create_site(signed_in, console, f"outpost-edit-{time.time_ns()}", address=False)
    outpost_id = create_outpost(signed_in, console, site_id, "before")
    signed_in.click("#edit-outpost")
    assert signed_in.locator("#f-name").input_value() == "before"

    signed_in.fill("#f-description", "x" * 1001)  # over the model's 1,000 characters
    with signed_in.expect_navigation() as shown:
        signed_in.click("#save")
    assert shown.value is not None and shown.value.status == 400
    assert "ValidationException" in signed_in.locator(".alert").inner_text()
    assert signed_in.locator("#f-description").input_value() == "x" * 1001  # as typed

    signed_in.fill("#f-name", "after")
    signed_in.fill("#f-description", "moved to row 4")
    with signed_in.expect_navigation():
        signed_in.click("#save")
    assert signed_in.locator(".flash-success").inner_text() == "Outpost updated."
    outpost = console.client("outposts").get_outpost(OutpostId=outpost_id)["Outpost"]
    assert (outpost["Name"], outpost["Description"]) == ("after", "moved to row 4")


def test_catalog_orders_and_assets(console: ServerProcess, signed_in: Any) -> None:
    site_id = create_site(signed_in, console, f"fleet-{time.time_ns()}")
    outpost_id = create_outpost(signed_in, console, site_id, "server-outpost")
    signed_in.click("#edit-outpost")
    signed_in.fill("#f-name", "edge-servers")
    with signed_in.expect_navigation():
        signed_in.click("#save")
    assert signed_in.locator("#outpost-name").inner_text() == "edge-servers"
    signed_in.goto(f"{console.endpoint}/console/outposts")
    assert outpost_id in signed_in.locator("#outposts").inner_text()
    screenshot(signed_in, "outposts")

    signed_in.goto(f"{console.endpoint}/console/catalog?class=SERVER")
    shown = [cell.inner_text() for cell in signed_in.locator("#catalog tbody tr td:first-child").all()]
    expected = console.client("outposts").list_catalog_items(ItemClassFilter=["SERVER"])["CatalogItems"]
    assert shown == [item["CatalogItemId"] for item in expected]
    screenshot(signed_in, "catalog")
    signed_in.click(f"text={SERVER_ITEM}")
    signed_in.click("text=Order this item")
    assert signed_in.locator("#f-item_0").input_value() == SERVER_ITEM
    signed_in.select_option("#f-outpost", outpost_id)
    with signed_in.expect_navigation():
        signed_in.click("#save")
    assert "/console/orders/oo-" in signed_in.url, signed_in.url
    order_id = signed_in.url.rsplit("/", 1)[1]
    order = console.client("outposts").get_order(OrderId=order_id)["Order"]
    assert order["OutpostId"] == outpost_id and order["LineItems"][0]["CatalogItemId"] == SERVER_ITEM

    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while signed_in.locator("#order-status").inner_text() != "COMPLETED" and time.monotonic() < deadline:
        time.sleep(0.3)
        signed_in.reload()
    assert signed_in.locator("#order-status").inner_text() == "COMPLETED"
    screenshot(signed_in, "order")
    confirm(signed_in, f"/console/orders/{order_id}/cancel", console)
    assert "ConflictException: Order" in signed_in.locator(".alert").inner_text()  # only PREPARING orders cancel

    signed_in.goto(f"{console.endpoint}/console/orders")
    assert order_id in signed_in.locator("#orders").inner_text()
    screenshot(signed_in, "orders")
    signed_in.goto(f"{console.endpoint}/console/assets?outpost={outpost_id}")
    assets = console.client("outposts").list_assets(OutpostIdentifier=outpost_id)["Assets"]
    assert assets
    shown = [cell.inner_text() for cell in signed_in.locator("#assets tbody tr td:first-child").all()]
    assert shown == [asset["AssetId"] for asset in assets]
    screenshot(signed_in, "assets")
    signed_in.goto(f"{console.endpoint}/console/outposts/{outpost_id}")
    assert assets[0]["AssetId"] in signed_in.locator("#assets").inner_text()
    confirm(signed_in, f"/console/outposts/{outpost_id}/delete", console)
    assert "ConflictException" in signed_in.locator(".alert").inner_text()
    signed_in.goto(f"{console.endpoint}/console/sites")
    screenshot(signed_in, "sites")
    signed_in.goto(f"{console.endpoint}/console/")
    screenshot(signed_in, "home")


def test_cancel_a_preparing_order(make_server: Any, fresh_context: Any) -> None:
    server = make_server("--lifecycle-seconds", "600")  # orders stay PREPARING for the whole test
    outposts = server.client("outposts")
    site_id = outposts.create_site(Name="slow", OperatingAddress=ADDRESS)["Site"]["SiteId"]
    outpost_id = outposts.create_outpost(Name="slow", SiteId=site_id, SupportedHardwareType="SERVER")["Outpost"][
        "OutpostId"
    ]
    page = fresh_context().new_page()
    sign_in(page, server)
    page.goto(f"{server.endpoint}/console/orders/new?outpost={outpost_id}&item={SERVER_ITEM}")
    page.fill("#f-quantity_0", "2")
    with page.expect_navigation():
        page.click("#save")
    order_id = page.url.rsplit("/", 1)[1]
    assert page.locator("#order-status").inner_text() == "PREPARING"
    page.click("#cancel-order")
    with page.expect_navigation():
        page.click("#confirm")
    assert page.locator("#order-status").inner_text() == "CANCELLED"
    assert outposts.get_order(OrderId=order_id)["Order"]["Status"] == "CANCELLED"
    records = events_naming(server, order_id)
    cancel = next(r for r in records if r["eventName"] == "CancelOrder")
    assert cancel["sessionCredentialFromConsole"] == "true" and cancel["userAgent"] == "console.amazonaws.com"


def test_region_selector_scopes_the_pages(console: ServerProcess, fresh_context: Any) -> None:
    page = fresh_context().new_page()
    sign_in(page, console)
    site_id = create_site(page, console, f"regional-{time.time_ns()}", address=False)
    page.goto(f"{console.endpoint}/console/sites")
    assert site_id in page.locator("#sites").inner_text()
    with page.expect_navigation():
        page.select_option("#region-select", "eu-west-1")  # submits itself
    assert page.locator(".flash-success").inner_text() == "Region set to eu-west-1."
    assert page.url.endswith("/console/sites")
    assert site_id not in page.locator("#sites").inner_text()
    eu_site = create_site(page, console, f"regional-eu-{time.time_ns()}", address=False)
    assert (
        console.client("outposts", region="eu-west-1")
        .get_site(SiteId=eu_site)["Site"]["SiteArn"]
        .startswith("arn:aws:outposts:eu-west-1:")
    )
    records = events_naming(console, eu_site)  # us-east-1 history does not hold eu-west-1 calls
    assert records == []
    eu_history = console.client("cloudtrail", region="eu-west-1").lookup_events(
        LookupAttributes=[{"AttributeKey": "ResourceName", "AttributeValue": eu_site}]
    )["Events"]
    assert {e["EventName"] for e in eu_history} >= {"CreateSite", "GetSite"}
