"""Outposts, orders, catalog and assets pages, each action an Outposts API call.

Outposts: list (ListOutposts), detail (GetOutpost, ListAssets, ListOrders for the outpost),
create (CreateOutpost, the site chosen from ListSites), edit (UpdateOutpost), delete
(DeleteOutpost, asked on a page of its own). Orders: list (ListOrders), detail (GetOrder), create
(CreateOrder from up to ``LINE_ITEM_ROWS`` catalog items and quantities, a payment option and
term), cancel (CancelOrder). Catalog: browse (ListCatalogItems with its three filters) and item
detail (GetCatalogItem, with a link that starts an order of it). Assets: ListAssets per outpost.
AWS's error is shown as AWS words it; the form keeps what the user entered.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from trailpost.console.api import ApiError
from trailpost.console.pages import Fields, api, api_pages, confirm, error_text, first, form_page, render, signed_in
from trailpost.console.sessions import Session
from trailpost.console.sites import LIST_LIMIT

LINE_ITEM_ROWS = 3
PAYMENT_OPTIONS = ("ALL_UPFRONT", "PARTIAL_UPFRONT", "NO_UPFRONT")
PAYMENT_TERMS = ("THREE_YEARS", "FIVE_YEARS", "ONE_YEAR")
HARDWARE_TYPES = ("RACK", "SERVER")
ITEM_CLASSES = ("RACK", "SERVER")
STORAGE = ("EBS", "S3")


async def _list(request: Request, session: Session, operation: str, key: str, **params: Any) -> list[dict[str, Any]]:
    items, _more = await api_pages(
        request, session, "outposts", operation, {"MaxResults": 100, **params}, key, LIST_LIMIT
    )
    return items


# -- outposts ---------------------------------------------------------------------------------------


@signed_in
async def list_outposts(request: Request, session: Session) -> Response:
    outposts = await _list(request, session, "ListOutposts", "Outposts")
    return render(request, "outposts.html", session, title="Outposts", outposts=outposts)


@signed_in
async def new_outpost(request: Request, session: Session) -> Response:
    async def submit(fields: Fields) -> tuple[str, str]:
        params: dict[str, Any] = {"Name": first(fields, "name"), "SiteId": first(fields, "site_id")}
        for name, member in (
            ("description", "Description"),
            ("availability_zone", "AvailabilityZone"),
            ("hardware", "SupportedHardwareType"),
        ):
            if first(fields, name).strip():
                params[member] = first(fields, name).strip()
        outpost = (await api(request, session, "outposts", "CreateOutpost", params)).get("Outpost") or {}
        return f"/console/outposts/{outpost.get('OutpostId')}", f"Outpost {outpost.get('Name')} created."

    async def lists() -> dict[str, Any]:
        return {"sites": await _list(request, session, "ListSites", "Sites")}

    return await form_page(
        request,
        session,
        "outpost_form.html",
        title="Create outpost",
        values={"site_id": request.query_params.get("site", ""), "hardware": "RACK"},
        submit=submit,
        lists=lists,
        hardware_types=HARDWARE_TYPES,
        outpost=None,
    )


@signed_in
async def outpost_detail(request: Request, session: Session) -> Response:
    outpost_id = request.path_params["outpost_id"]
    outpost = (await api(request, session, "outposts", "GetOutpost", {"OutpostId": outpost_id})).get("Outpost") or {}
    assets = await _list(request, session, "ListAssets", "Assets", OutpostIdentifier=outpost_id)
    orders = await _list(request, session, "ListOrders", "Orders", OutpostIdentifierFilter=outpost_id)
    return render(
        request,
        "outpost.html",
        session,
        title=outpost.get("Name") or outpost_id,
        outpost=outpost,
        assets=assets,
        orders=orders,
    )


@signed_in
async def edit_outpost(request: Request, session: Session) -> Response:
    outpost_id = request.path_params["outpost_id"]
    outpost = (await api(request, session, "outposts", "GetOutpost", {"OutpostId": outpost_id})).get("Outpost") or {}

    async def submit(fields: Fields) -> tuple[str, str]:
        params: dict[str, Any] = {"OutpostId": outpost_id, "Name": first(fields, "name")}
        for name, member in (("description", "Description"), ("hardware", "SupportedHardwareType")):
            if first(fields, name).strip():
                params[member] = first(fields, name).strip()
        await api(request, session, "outposts", "UpdateOutpost", params)
        return f"/console/outposts/{outpost_id}", "Outpost updated."

    return await form_page(
        request,
        session,
        "outpost_form.html",
        title=f"Edit {outpost.get('Name') or outpost_id}",
        values={
            "name": outpost.get("Name") or "",
            "description": outpost.get("Description") or "",
            "hardware": outpost.get("SupportedHardwareType") or "",
        },
        submit=submit,
        sites=[],
        hardware_types=HARDWARE_TYPES,
        outpost=outpost,
    )


@signed_in
async def delete_outpost(request: Request, session: Session) -> Response:
    outpost_id = request.path_params["outpost_id"]
    outpost = (await api(request, session, "outposts", "GetOutpost", {"OutpostId": outpost_id})).get("Outpost") or {}
    name = outpost.get("Name") or outpost_id
    return await confirm(
        request,
        session,
        ("outposts", "DeleteOutpost", {"OutpostId": outpost_id}),
        ("/console/outposts", f"Outpost {name} deleted."),
        title=f"Delete outpost {name}",
        question=f"Delete the outpost {name} ({outpost_id})? This cannot be undone.",
        button="Delete outpost",
        back=f"/console/outposts/{outpost_id}",
    )


# -- orders -----------------------------------------------------------------------------------------


@signed_in
async def list_orders(request: Request, session: Session) -> Response:
    orders = await _list(request, session, "ListOrders", "Orders")
    return render(request, "orders.html", session, title="Orders", orders=orders)


def _line_items(fields: dict[str, list[str]]) -> list[dict[str, Any]]:
    items = []
    for row in range(LINE_ITEM_ROWS):
        item_id = first(fields, f"item_{row}").strip()
        quantity = first(fields, f"quantity_{row}").strip() or "1"
        if item_id:
            items.append({"CatalogItemId": item_id, "Quantity": int(quantity) if quantity.isdigit() else 0})
    return items


@signed_in
async def new_order(request: Request, session: Session) -> Response:
    async def submit(fields: Fields) -> tuple[str, str]:
        params: dict[str, Any] = {
            "OutpostIdentifier": first(fields, "outpost"),
            "LineItems": _line_items(fields),
            "PaymentOption": first(fields, "payment_option"),
        }
        if first(fields, "payment_term"):
            params["PaymentTerm"] = first(fields, "payment_term")
        created = await api(request, session, "outposts", "CreateOrder", params)
        order_id = (created.get("Order") or {}).get("OrderId")
        return f"/console/orders/{order_id}", f"Order {order_id} placed."

    async def lists() -> dict[str, Any]:
        return {
            "outposts": await _list(request, session, "ListOutposts", "Outposts"),
            "items": await _list(request, session, "ListCatalogItems", "CatalogItems"),
        }

    return await form_page(
        request,
        session,
        "order_form.html",
        title="Create order",
        values={
            "outpost": request.query_params.get("outpost", ""),
            "item_0": request.query_params.get("item", ""),
            "quantity_0": "1",
            "payment_option": "ALL_UPFRONT",
            "payment_term": "THREE_YEARS",
        },
        submit=submit,
        lists=lists,
        rows=range(LINE_ITEM_ROWS),
        payment_options=PAYMENT_OPTIONS,
        payment_terms=PAYMENT_TERMS,
    )


@signed_in
async def order_detail(request: Request, session: Session) -> Response:
    order_id = request.path_params["order_id"]
    order = (await api(request, session, "outposts", "GetOrder", {"OrderId": order_id})).get("Order") or {}
    return render(request, "order.html", session, title=f"Order {order_id}", order=order)


@signed_in
async def cancel_order(request: Request, session: Session) -> Response:
    order_id = request.path_params["order_id"]
    return await confirm(
        request,
        session,
        ("outposts", "CancelOrder", {"OrderId": order_id}),
        (f"/console/orders/{order_id}", f"Order {order_id} cancelled."),
        title=f"Cancel order {order_id}",
        question=f"Cancel the order {order_id}?",
        button="Cancel order",
        back=f"/console/orders/{order_id}",
    )


# -- catalog and assets -----------------------------------------------------------------------------


@signed_in
async def catalog(request: Request, session: Session) -> Response:
    chosen = {
        "ItemClassFilter": [v for v in request.query_params.getlist("class") if v],
        "SupportedStorageFilter": [v for v in request.query_params.getlist("storage") if v],
        "EC2FamilyFilter": [
            family.strip() for v in request.query_params.getlist("family") for family in v.split(",") if family.strip()
        ],
    }
    params = {key: value for key, value in chosen.items() if value}
    error = None
    items: list[dict[str, Any]] = []
    try:
        items = await _list(request, session, "ListCatalogItems", "CatalogItems", **params)
    except ApiError as failure:
        error = error_text(failure)
    return render(
        request,
        "catalog.html",
        session,
        title="Catalog",
        items=items,
        error=error,
        chosen=chosen,
        item_classes=ITEM_CLASSES,
        storage=STORAGE,
    )


@signed_in
async def catalog_item(request: Request, session: Session) -> Response:
    item_id = request.path_params["item_id"]
    item = (await api(request, session, "outposts", "GetCatalogItem", {"CatalogItemId": item_id})).get("CatalogItem")
    return render(request, "catalog_item.html", session, title=f"Catalog item {item_id}", item=item or {})


@signed_in
async def assets(request: Request, session: Session) -> Response:
    outposts = await _list(request, session, "ListOutposts", "Outposts")
    chosen = request.query_params.get("outpost") or (outposts[0]["OutpostId"] if outposts else "")
    found: list[dict[str, Any]] = []
    error = None
    if chosen:
        try:
            found = await _list(request, session, "ListAssets", "Assets", OutpostIdentifier=chosen)
        except ApiError as failure:
            error = error_text(failure)
    return render(
        request, "assets.html", session, title="Assets", outposts=outposts, chosen=chosen, assets=found, error=error
    )


ROUTES = [
    Route("/console/outposts", list_outposts, methods=["GET", "HEAD"]),
    Route("/console/outposts/new", new_outpost, methods=["GET", "HEAD", "POST"]),
    Route("/console/outposts/{outpost_id}", outpost_detail, methods=["GET", "HEAD"]),
    Route("/console/outposts/{outpost_id}/edit", edit_outpost, methods=["GET", "HEAD", "POST"]),
    Route("/console/outposts/{outpost_id}/delete", delete_outpost, methods=["GET", "HEAD", "POST"]),
    Route("/console/orders", list_orders, methods=["GET", "HEAD"]),
    Route("/console/orders/new", new_order, methods=["GET", "HEAD", "POST"]),
    Route("/console/orders/{order_id}", order_detail, methods=["GET", "HEAD"]),
    Route("/console/orders/{order_id}/cancel", cancel_order, methods=["GET", "HEAD", "POST"]),
    Route("/console/catalog", catalog, methods=["GET", "HEAD"]),
    Route("/console/catalog/{item_id}", catalog_item, methods=["GET", "HEAD"]),
    Route("/console/assets", assets, methods=["GET", "HEAD"]),
]
