"""Trails pages: list with status, create (all regions by default, as AWS's console), detail with status
and the latest delivered log files, start and stop logging.

Every trail action is the CloudTrail API operation AWS's console performs (DescribeTrails,
GetTrailStatus, GetTrail, GetEventSelectors, CreateTrail then StartLogging, StartLogging,
StopLogging), signed as the signed-in user, so each is a recorded console call and the service's
rules decide; its error is shown as AWS words it above the form (entered values kept).

Rules:

* the list is DescribeTrails in the session's region (shadow trails of multi-region trails
  included, with their home region) and each trail's GetTrailStatus by ARN;
* a trail's pages are addressed by home region and name (``/console/trails/<region>/<name>``)
  and call the API by the trail's ARN; Start/StopLogging are signed for the trail's home region,
  where AWS accepts them;
* the create form starts with "all regions" and log file validation on, as AWS's console does,
  and starts logging once the trail exists (AWS's console does too);
* the latest delivered log files are the newest ``FILES_SHOWN`` keys under
  ``[prefix/]AWSLogs/<account>/CloudTrail/`` of the trail's bucket, read through the delivery
  destination (embedded or external bucket) in a worker thread, newest first by the delivery time
  in the file name, at most ``FILES_SCANNED`` keys looked at.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from trailpost.console.api import ApiError
from trailpost.console.pages import (
    REGION_PATTERN,
    Fields,
    api,
    caller,
    console_of,
    error_text,
    first,
    form_page,
    redirect,
    render,
    signed_in,
)
from trailpost.console.sessions import Session
from trailpost.delivery.destinations import DeliveryError, open_destination
from trailpost.services.s3.storage import BucketStorage

log = logging.getLogger("trailpost.console.trails")

FILES_SHOWN = 20
FILES_SCANNED = 5000
DELIVERED_AT = re.compile(r"_CloudTrail_([a-z0-9-]+)_(\d{8}T\d{4}Z)_[A-Za-z0-9]+\.json\.gz$")
STATUS_FIELDS = (
    ("StartLoggingTime", "Started logging"),
    ("StopLoggingTime", "Stopped logging"),
    ("LatestDeliveryTime", "Latest log file delivered"),
    ("LatestDeliveryError", "Latest delivery error"),
    ("LatestDeliveryAttemptTime", "Latest delivery attempt"),
    ("LatestDeliveryAttemptSucceeded", "Latest successful delivery attempt"),
    ("LatestDigestDeliveryTime", "Latest digest file delivered"),
    ("LatestDigestDeliveryError", "Latest digest delivery error"),
)


def trail_arn(region: str, account: str, name: str) -> str:
    return f"arn:aws:cloudtrail:{region}:{account}:trail/{name}"


async def _call_in(request: Request, session: Session, region: str, operation: str, params: dict[str, Any]) -> dict:
    """A CloudTrail call signed for ``region`` (a trail's home region) as the signed-in user."""
    return await console_of(request).api.call(caller(request, session), "cloudtrail", operation, params, region)


@signed_in
async def list_trails(request: Request, session: Session) -> Response:
    trails = (await api(request, session, "cloudtrail", "DescribeTrails", {})).get("trailList") or []
    statuses: dict[str, dict[str, Any]] = {}
    for trail in trails:
        try:
            statuses[trail["TrailARN"]] = await api(
                request, session, "cloudtrail", "GetTrailStatus", {"Name": trail["TrailARN"]}
            )
        except ApiError as failure:
            statuses[trail["TrailARN"]] = {"Error": error_text(failure)}
    return render(request, "trails.html", session, title="Trails", trails=trails, statuses=statuses)


@signed_in
async def new_trail(request: Request, session: Session) -> Response:
    def shown(fields: Fields) -> dict[str, str]:
        return {key: first(fields, key).strip() for key in ("name", "bucket", "prefix", "multi_region", "validation")}

    async def submit(fields: Fields) -> tuple[str, str]:
        values = shown(fields)
        params: dict[str, Any] = {
            "Name": values["name"],
            "S3BucketName": values["bucket"],
            "IsMultiRegionTrail": values["multi_region"] == "on",
            "EnableLogFileValidation": values["validation"] == "on",
        }
        if values["prefix"]:
            params["S3KeyPrefix"] = values["prefix"]
        created = await api(request, session, "cloudtrail", "CreateTrail", params)
        await api(request, session, "cloudtrail", "StartLogging", {"Name": created["TrailARN"]})
        return (
            f"/console/trails/{session.region}/{created['Name']}",
            f"Trail {created['Name']} created; logging started.",
        )

    return await form_page(
        request,
        session,
        "trail_form.html",
        title="Create trail",
        values={"multi_region": "on", "validation": "on"},
        submit=submit,
        shown=shown,
    )


def latest_files(settings: Any, store: Any, trail: dict[str, Any], account: str) -> tuple[list[dict[str, str]], str]:
    """The newest delivered log files of a trail (key, region, delivery minute), or why none can be listed."""
    bucket = trail["S3BucketName"]
    prefix = trail.get("S3KeyPrefix")
    folder = f"{prefix.rstrip('/')}/" if prefix else ""
    folder += f"AWSLogs/{account}/CloudTrail/"
    destination = open_destination(settings, BucketStorage.for_settings(store, settings), bucket)
    if destination is None:
        return [], f"The bucket {bucket} does not exist."
    keys: list[str] = []
    try:
        while len(keys) < FILES_SCANNED:
            page = destination.list(folder, start_after=keys[-1] if keys else "", max_keys=1000)
            keys.extend(page)
            if len(page) < 1000:
                break
    except DeliveryError as exc:  # gone since, or an external bucket that cannot be read: say so
        log.warning("cannot list %s/%s: %s", bucket, folder, exc)
        return [], f"The bucket {bucket} cannot be listed: {exc}"
    files = []
    for key in keys:
        match = DELIVERED_AT.search(key)
        if match:
            stamp = match.group(2)
            delivered = f"{stamp[:4]}-{stamp[4:6]}-{stamp[6:8]} {stamp[9:11]}:{stamp[11:13]} UTC"
            files.append({"key": key, "region": match.group(1), "delivered": delivered, "sort": stamp + key})
    files.sort(key=lambda item: item["sort"], reverse=True)
    return files[:FILES_SHOWN], ""


def _not_found(request: Request, session: Session) -> Response:
    return render(request, "error.html", session, status=404, title="Not found", message="No such trail page.")


@signed_in
async def trail_detail(request: Request, session: Session) -> Response:
    region, name = request.path_params["region"], request.path_params["name"]
    if not REGION_PATTERN.match(region):
        return _not_found(request, session)
    arn = trail_arn(region, session.account_id, name)
    trail = (await api(request, session, "cloudtrail", "GetTrail", {"Name": arn}))["Trail"]
    status = await api(request, session, "cloudtrail", "GetTrailStatus", {"Name": arn})
    selectors = await api(request, session, "cloudtrail", "GetEventSelectors", {"TrailName": arn})
    gateway = console_of(request).gateway
    files, files_note = await asyncio.to_thread(
        latest_files, gateway.settings, gateway.store, trail, session.account_id
    )
    return render(
        request,
        "trail.html",
        session,
        title=f"Trail {name}",
        trail=trail,
        trail_status=status,
        status_fields=STATUS_FIELDS,
        selectors=selectors,
        files=files,
        files_note=files_note,
        region=region,
    )


async def _switch(request: Request, session: Session, operation: str, done: str) -> Response:
    region, name = request.path_params["region"], request.path_params["name"]
    back = f"/console/trails/{region}/{name}"
    if not REGION_PATTERN.match(region):
        return _not_found(request, session)
    try:
        await _call_in(request, session, region, operation, {"Name": trail_arn(region, session.account_id, name)})
    except ApiError as failure:
        return redirect(back, session, error_text(failure), kind="error")
    return redirect(back, session, f"Trail {name}: {done}.")


@signed_in
async def start_logging(request: Request, session: Session) -> Response:
    return await _switch(request, session, "StartLogging", "logging started")


@signed_in
async def stop_logging(request: Request, session: Session) -> Response:
    return await _switch(request, session, "StopLogging", "logging stopped")


ROUTES = [
    Route("/console/trails", list_trails, methods=["GET", "HEAD"]),
    Route("/console/trails/new", new_trail, methods=["GET", "HEAD", "POST"]),
    Route("/console/trails/{region}/{name}", trail_detail, methods=["GET", "HEAD"]),
    Route("/console/trails/{region}/{name}/start", start_logging, methods=["POST"]),
    Route("/console/trails/{region}/{name}/stop", stop_logging, methods=["POST"]),
]
