"""Sites pages: list, detail, create, edit, addresses and delete, each through the Outposts API.

Every action is the API operation the AWS Outposts console performs (ListSites, GetSite,
GetSiteAddress, ListOutposts, CreateSite, UpdateSite, UpdateSiteAddress, DeleteSite), signed as
the signed-in user; the service's own validation and rules decide, and its error is shown as AWS
words it, above the form the user filled in (the entered values are kept).

Form rules: empty fields are left out of the request (an address whose fields are all empty is no
address); tags are ``key=value`` lines; a delete asks on a page of its own (no script dialogs),
and posts with the session's CSRF token like every form.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from trailpost.console.api import ApiError
from trailpost.console.pages import Fields, api, api_pages, confirm, first, form_page, render, signed_in
from trailpost.console.sessions import Session

LIST_LIMIT = 1000
ADDRESS_MEMBERS = (
    ("ContactName", "Contact name"),
    ("ContactPhoneNumber", "Contact phone number (+15555550100)"),
    ("AddressLine1", "Address line 1"),
    ("AddressLine2", "Address line 2"),
    ("AddressLine3", "Address line 3"),
    ("City", "City"),
    ("StateOrRegion", "State or region"),
    ("DistrictOrCounty", "District or county"),
    ("PostalCode", "Postal code"),
    ("CountryCode", "Country code (e.g. US)"),
    ("Municipality", "Municipality"),
)
ADDRESS_KINDS = {"operating": "OPERATING_ADDRESS", "shipping": "SHIPPING_ADDRESS"}
ADDRESS_LABELS = {"operating": "Operating address", "shipping": "Shipping address"}


def address_from(fields: dict[str, list[str]], prefix: str) -> dict[str, str] | None:
    """The ``Address`` members filled in under ``prefix``; ``None`` if none was."""
    address = {member: first(fields, prefix + member).strip() for member, _ in ADDRESS_MEMBERS}
    address = {member: value for member, value in address.items() if value}
    return address or None


def tags_from(text: str) -> dict[str, str]:
    """``key=value`` lines as a tag map (a line without ``=`` is a key with an empty value)."""
    tags = {}
    for line in text.splitlines():
        if line.strip():
            key, _, value = line.partition("=")
            tags[key.strip()] = value.strip()
    return tags


def _optional(fields: dict[str, list[str]], *members: tuple[str, str]) -> dict[str, Any]:
    return {member: first(fields, name).strip() for name, member in members if first(fields, name).strip()}


@signed_in
async def list_sites(request: Request, session: Session) -> Response:
    sites, more = await api_pages(request, session, "outposts", "ListSites", {"MaxResults": 100}, "Sites", LIST_LIMIT)
    return render(request, "sites.html", session, title="Sites", sites=sites, more=more)


@signed_in
async def new_site(request: Request, session: Session) -> Response:
    async def submit(fields: Fields) -> tuple[str, str]:
        params: dict[str, Any] = {"Name": first(fields, "name")}
        params.update(_optional(fields, ("description", "Description"), ("notes", "Notes")))
        for prefix, member in (("op_", "OperatingAddress"), ("ship_", "ShippingAddress")):
            address = address_from(fields, prefix)
            if address:
                params[member] = address
        tags = tags_from(first(fields, "tags"))
        if tags:
            params["Tags"] = tags
        site = (await api(request, session, "outposts", "CreateSite", params)).get("Site") or {}
        return f"/console/sites/{site.get('SiteId')}", f"Site {site.get('Name')} created."

    return await form_page(
        request,
        session,
        "site_form.html",
        title="Create site",
        values={},
        submit=submit,
        address_members=ADDRESS_MEMBERS,
        site=None,
    )


async def _addresses(request: Request, session: Session, site_id: str) -> dict[str, dict[str, Any] | None]:
    found: dict[str, dict[str, Any] | None] = {}
    for kind, address_type in ADDRESS_KINDS.items():
        try:
            reply = await api(
                request, session, "outposts", "GetSiteAddress", {"SiteId": site_id, "AddressType": address_type}
            )
            found[kind] = reply.get("Address")
        except ApiError as failure:
            if failure.code != "NotFoundException":
                raise
            found[kind] = None
    return found


@signed_in
async def site_detail(request: Request, session: Session) -> Response:
    site_id = request.path_params["site_id"]
    site = (await api(request, session, "outposts", "GetSite", {"SiteId": site_id})).get("Site") or {}
    addresses = await _addresses(request, session, site_id)
    outposts, _ = await api_pages(
        request, session, "outposts", "ListOutposts", {"MaxResults": 100}, "Outposts", LIST_LIMIT
    )
    return render(
        request,
        "site.html",
        session,
        title=site.get("Name") or site_id,
        site=site,
        addresses=addresses,
        address_labels=ADDRESS_LABELS,
        address_members=ADDRESS_MEMBERS,
        outposts=[o for o in outposts if o.get("SiteId") == site.get("SiteId")],
    )


@signed_in
async def edit_site(request: Request, session: Session) -> Response:
    site_id = request.path_params["site_id"]
    site = (await api(request, session, "outposts", "GetSite", {"SiteId": site_id})).get("Site") or {}

    async def submit(fields: Fields) -> tuple[str, str]:
        params = {
            "SiteId": site_id,
            "Name": first(fields, "name"),
            "Description": first(fields, "description"),
            "Notes": first(fields, "notes"),
        }
        params = {key: value for key, value in params.items() if value != "" or key == "Name"}
        await api(request, session, "outposts", "UpdateSite", params)
        return f"/console/sites/{site_id}", "Site updated."

    return await form_page(
        request,
        session,
        "site_form.html",
        title=f"Edit {site.get('Name') or site_id}",
        values={
            key: site.get(member) or ""
            for key, member in (("name", "Name"), ("description", "Description"), ("notes", "Notes"))
        },
        submit=submit,
        address_members=ADDRESS_MEMBERS,
        site=site,
    )


@signed_in
async def edit_address(request: Request, session: Session) -> Response:
    site_id, kind = request.path_params["site_id"], request.path_params["kind"]
    if kind not in ADDRESS_KINDS:
        return render(request, "error.html", session, status=404, title="Not found", message="No such address type.")
    site = (await api(request, session, "outposts", "GetSite", {"SiteId": site_id})).get("Site") or {}
    values: dict[str, str] = {}
    if request.method != "POST":
        current = (await _addresses(request, session, site_id)).get(kind) or {}
        values = {member: str(current.get(member, "")) for member, _ in ADDRESS_MEMBERS}

    async def submit(fields: Fields) -> tuple[str, str]:
        params = {"SiteId": site_id, "AddressType": ADDRESS_KINDS[kind], "Address": address_from(fields, "") or {}}
        await api(request, session, "outposts", "UpdateSiteAddress", params)
        return f"/console/sites/{site_id}", f"{ADDRESS_LABELS[kind]} updated."

    return await form_page(
        request,
        session,
        "address_form.html",
        title=f"{ADDRESS_LABELS[kind]} of {site.get('Name') or site_id}",
        values=values,
        submit=submit,
        site=site,
        kind=kind,
        address_members=ADDRESS_MEMBERS,
    )


@signed_in
async def delete_site(request: Request, session: Session) -> Response:
    site_id = request.path_params["site_id"]
    site = (await api(request, session, "outposts", "GetSite", {"SiteId": site_id})).get("Site") or {}
    return await confirm(
        request,
        session,
        ("outposts", "DeleteSite", {"SiteId": site_id}),
        ("/console/sites", f"Site {site.get('Name') or site_id} deleted."),
        title=f"Delete site {site.get('Name') or site_id}",
        question=f"Delete the site {site.get('Name') or ''} ({site_id})? This cannot be undone.",
        button="Delete site",
        back=f"/console/sites/{site_id}",
    )


ROUTES = [
    Route("/console/sites", list_sites, methods=["GET", "HEAD"]),
    Route("/console/sites/new", new_site, methods=["GET", "HEAD", "POST"]),
    Route("/console/sites/{site_id}", site_detail, methods=["GET", "HEAD"]),
    Route("/console/sites/{site_id}/edit", edit_site, methods=["GET", "HEAD", "POST"]),
    Route("/console/sites/{site_id}/address/{kind}", edit_address, methods=["GET", "HEAD", "POST"]),
    Route("/console/sites/{site_id}/delete", delete_site, methods=["GET", "HEAD", "POST"]),
]
