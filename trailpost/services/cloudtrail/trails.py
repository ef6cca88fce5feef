"""CreateTrail, UpdateTrail, DeleteTrail, GetTrail, DescribeTrails and ListTrails.

Business rules (AWS's, see also ``trail_docs`` for names and ``buckets`` for destinations):

* a trail lives in its home region; a multi-region trail is also seen in every other region (a
  "shadow trail") and counts there; at most ``MAX_TRAILS`` (5) trails are seen in a region, else
  ``MaximumNumberOfTrailsExceededException``; a name is taken when a trail of that name is seen in
  the region (``TrailAlreadyExistsException`` ``Trail <name> already exists for customer: <account>``);
* ``IncludeGlobalServiceEvents`` defaults to true; a multi-region trail must include them
  (``InvalidParameterCombinationException`` ``Multi-Region trail must include global service
  events.``); turning a trail multi-region switches them on when the call does not say otherwise;
* a new trail does not log until ``StartLogging``; UpdateTrail, DeleteTrail from a region other
  than the home region are ``InvalidHomeRegionException``;
* the S3 destination is checked at CreateTrail, and at UpdateTrail when the bucket or prefix
  changes (``buckets``); trailpost serves no SNS, KMS or CloudWatch Logs, so a KMS key is
  ``KmsKeyNotFoundException``, a CloudWatch Logs pair ``CloudWatchLogsDeliveryUnavailableException``
  (one without the other: ``InvalidParameterCombinationException``) and an organization trail
  ``OrganizationsNotInUseException``; an SNS topic is recorded as given (name or ARN);
* CreateTrail and UpdateTrail answer the flat trail fields without ``HomeRegion`` or
  ``HasCustomEventSelectors`` (AWS's shorter form); GetTrail and DescribeTrails the full ``Trail``;
* DescribeTrails: names match trails of the caller's region (shadows included unless
  ``includeShadowTrails`` is false), ARNs any trail of the account; unknown ones are left out;
* ListTrails lists every trail of the account, every home region, ``LIST_PAGE`` per page.
"""

from __future__ import annotations

import re
from typing import Any

from trailpost.gateway.context import RequestContext
from trailpost.services import pagination
from trailpost.services.cloudtrail import buckets, trail_docs
from trailpost.services.cloudtrail.errors import (
    CloudWatchLogsDeliveryUnavailableException,
    InvalidHomeRegionException,
    InvalidNextTokenException,
    InvalidParameterCombinationException,
    InvalidSnsTopicNameException,
    KmsKeyNotFoundException,
    MaximumNumberOfTrailsExceededException,
    OrganizationsNotInUseException,
    TrailAlreadyExistsException,
)
from trailpost.services.cloudtrail.operations import ops
from trailpost.services.cloudtrail.tags import check_new_tags

MAX_TRAILS = 5
LIST_PAGE = 20
SNS_TOPIC = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
GLOBAL_EVENTS_MESSAGE = "Multi-Region trail must include global service events."


def has_custom_selectors(doc: dict[str, Any]) -> bool:
    return doc["event_selectors"] is not None or doc["advanced_event_selectors"] is not None


def _optional(doc: dict[str, Any]) -> dict[str, Any]:
    out = {
        "S3KeyPrefix": doc["s3_key_prefix"],
        "SnsTopicName": doc["sns_topic_name"],
        "SnsTopicARN": doc["sns_topic_arn"],
        "CloudWatchLogsLogGroupArn": doc["cloud_watch_logs_log_group_arn"],
        "CloudWatchLogsRoleArn": doc["cloud_watch_logs_role_arn"],
        "KmsKeyId": doc["kms_key_id"],
    }
    return {key: value for key, value in out.items() if value is not None}


def flat_output(doc: dict[str, Any]) -> dict[str, Any]:
    """CreateTrail / UpdateTrail's answer."""
    return {
        "Name": doc["name"],
        "S3BucketName": doc["s3_bucket_name"],
        **_optional(doc),
        "IncludeGlobalServiceEvents": doc["include_global_service_events"],
        "IsMultiRegionTrail": doc["is_multi_region_trail"],
        "TrailARN": doc["trail_arn"],
        "LogFileValidationEnabled": doc["log_file_validation_enabled"],
        "IsOrganizationTrail": doc["is_organization_trail"],
    }


def trail_output(doc: dict[str, Any]) -> dict[str, Any]:
    """The ``Trail`` structure of GetTrail and DescribeTrails."""
    return {
        **flat_output(doc),
        "HomeRegion": doc["home_region"],
        "HasCustomEventSelectors": has_custom_selectors(doc),
        "HasInsightSelectors": bool(doc["insight_selectors"]),
    }


def home_only(doc: dict[str, Any], region: str) -> None:
    """``InvalidHomeRegionException`` when a trail is changed from a region that is not its home."""
    if doc["home_region"] != region:
        raise InvalidHomeRegionException(
            f"This operation must be called from the trail's home region: {doc['home_region']}. "
            f"The trail {doc['trail_arn']} is a shadow trail in {region}."
        )


# -- limits and conflicts ---------------------------------------------------------------------


def _regions_seen(store: Any, account: str, home: str, multi_region: bool) -> list[str]:
    """The regions where a trail with this home and reach is seen (among the regions the account uses)."""
    if not multi_region:
        return [home]
    regions = {scope.split("/", 1)[1] for scope in trail_docs.account_scopes(store, account)}
    return sorted(regions | {home})


def _check_room(store: Any, account: str, name: str, home: str, multi_region: bool, *, exclude: str = "") -> None:
    """Name conflicts and the per-region limit for a trail about to be seen where ``_regions_seen`` says."""
    for region in _regions_seen(store, account, home, multi_region):
        seen = [doc for doc in trail_docs.visible_trails(store, account, region) if doc["trail_arn"] != exclude]
        if any(doc["name"] == name for doc in seen):
            raise TrailAlreadyExistsException(f"Trail {name} already exists for customer: {account}")
        if len(seen) >= MAX_TRAILS:
            raise MaximumNumberOfTrailsExceededException(
                f"User: {account} already has {MAX_TRAILS} trails in {region}."
            )


# -- the settings CreateTrail and UpdateTrail share -------------------------------------------


def _apply_settings(ctx: RequestContext, doc: dict[str, Any], params: dict[str, Any]) -> None:
    """Write the optional settings present in ``params`` into ``doc``, checking each as AWS does."""
    if params.get("is_organization_trail"):
        raise OrganizationsNotInUseException(
            f"Account {ctx.account_id} is not a member of an organization; organization trails need AWS Organizations."
        )
    kms = params.get("kms_key_id")
    if kms:
        raise KmsKeyNotFoundException(f"KMS key {kms} does not exist in {ctx.region} for account {ctx.account_id}.")
    if "kms_key_id" in params:
        doc["kms_key_id"] = None
    group, role = params.get("cloud_watch_logs_log_group_arn"), params.get("cloud_watch_logs_role_arn")
    if bool(group) != bool(role):
        raise InvalidParameterCombinationException(
            "You must specify both CloudWatchLogsLogGroupArn and CloudWatchLogsRoleArn, or neither."
        )
    if group:
        raise CloudWatchLogsDeliveryUnavailableException("Cannot set a CloudWatch Logs delivery for this Region.")
    if "sns_topic_name" in params:
        topic = params["sns_topic_name"]
        if topic and not (topic.startswith("arn:aws:sns:") or SNS_TOPIC.match(topic)):
            raise InvalidSnsTopicNameException(f"SNS topic name is not valid: {topic}")
        if topic.startswith("arn:aws:sns:"):
            doc["sns_topic_name"], doc["sns_topic_arn"] = topic.rsplit(":", 1)[-1], topic
        else:
            arn = f"arn:aws:sns:{ctx.region}:{ctx.account_id}:{topic}" if topic else ""
            doc["sns_topic_name"], doc["sns_topic_arn"] = topic, arn
    if params.get("enable_log_file_validation") is not None:
        turned_on = params["enable_log_file_validation"] and not doc["log_file_validation_enabled"]
        doc["log_file_validation_enabled"] = params["enable_log_file_validation"]
        if turned_on:
            doc["logging_epoch"] += 1


def _apply_reach(doc: dict[str, Any], params: dict[str, Any]) -> None:
    """``IsMultiRegionTrail`` and ``IncludeGlobalServiceEvents``, with the rule that binds them."""
    multi = params.get("is_multi_region_trail")
    include = params.get("include_global_service_events")
    if multi is not None:
        if multi and not doc["is_multi_region_trail"] and include is None:
            doc["include_global_service_events"] = True
        doc["is_multi_region_trail"] = multi
    if include is not None:
        doc["include_global_service_events"] = include
    if doc["is_multi_region_trail"] and not doc["include_global_service_events"]:
        raise InvalidParameterCombinationException(GLOBAL_EVENTS_MESSAGE)


# -- operations ---------------------------------------------------------------------------------


@ops("CreateTrail")
def create_trail(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    name, account, region = params["name"], ctx.account_id, ctx.region
    trail_docs.check_name(name)
    doc = trail_docs.new_trail(name, account, region, ctx.received)
    bucket = params["s3_bucket_name"]
    buckets.check_bucket_name(bucket)
    doc["s3_bucket_name"] = bucket
    doc["s3_key_prefix"] = buckets.check_prefix(params.get("s3_key_prefix"))
    _apply_reach(doc, params)
    _apply_settings(ctx, doc, params)
    if "tags_list" in params:
        doc["tags"] = check_new_tags([], params["tags_list"] or [])
    _check_room(ctx.store, account, name, region, doc["is_multi_region_trail"])
    buckets.check_destination(ctx, bucket, doc["s3_key_prefix"], doc["trail_arn"], account)
    trail_docs.save(ctx.store, doc)
    return flat_output(doc)


@ops("UpdateTrail")
def update_trail(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    doc = trail_docs.find(ctx.store, params["name"], ctx.account_id, ctx.region)
    home_only(doc, ctx.region)
    was_multi = doc["is_multi_region_trail"]
    destination = (doc["s3_bucket_name"], doc["s3_key_prefix"])
    if "s3_bucket_name" in params:
        buckets.check_bucket_name(params["s3_bucket_name"])
        doc["s3_bucket_name"] = params["s3_bucket_name"]
    if "s3_key_prefix" in params:
        doc["s3_key_prefix"] = buckets.check_prefix(params["s3_key_prefix"])
    _apply_reach(doc, params)
    _apply_settings(ctx, doc, params)
    if doc["is_multi_region_trail"] and not was_multi:
        _check_room(ctx.store, ctx.account_id, doc["name"], ctx.region, True, exclude=doc["trail_arn"])
    if (doc["s3_bucket_name"], doc["s3_key_prefix"]) != destination:
        buckets.check_destination(ctx, doc["s3_bucket_name"], doc["s3_key_prefix"], doc["trail_arn"], ctx.account_id)
    trail_docs.save(ctx.store, doc)
    return flat_output(doc)


@ops("DeleteTrail")
def delete_trail(ctx: RequestContext, params: dict[str, Any]) -> None:
    doc = trail_docs.find(ctx.store, params["name"], ctx.account_id, ctx.region)
    home_only(doc, ctx.region)
    trail_docs.remove(ctx.store, doc)


@ops("GetTrail")
def get_trail(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    doc = trail_docs.find(ctx.store, params["name"], ctx.account_id, ctx.region)
    return {"Trail": trail_output(doc)}


@ops("DescribeTrails")
def describe_trails(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    shadows = params.get("include_shadow_trails")
    shadows = True if shadows is None else shadows
    seen = trail_docs.visible_trails(ctx.store, ctx.account_id, ctx.region, shadows=shadows)
    wanted = params.get("trail_name_list") or []
    if not wanted:
        return {"trailList": [trail_output(doc) for doc in seen]}
    found: list[dict[str, Any]] = []
    for value in wanted:
        if value.startswith("arn:"):
            ref = trail_docs.parse_arn(value)
            doc = trail_docs.get(ctx.store, ref) if ref.account == ctx.account_id else None
        else:
            trail_docs.check_name(value)
            doc = next((d for d in seen if d["name"] == value), None)
        if doc is not None and all(doc["trail_arn"] != d["trail_arn"] for d in found):
            found.append(doc)
    return {"trailList": [trail_output(doc) for doc in found]}


@ops("ListTrails")
def list_trails(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    docs = trail_docs.account_trails(ctx.store, ctx.account_id)
    binding = ["ListTrails", ctx.account_id]
    start = pagination.read_token(params.get("next_token"), binding, InvalidNextTokenException)
    page = docs[start : start + LIST_PAGE]
    result: dict[str, Any] = {
        "Trails": [{"TrailARN": d["trail_arn"], "Name": d["name"], "HomeRegion": d["home_region"]} for d in page]
    }
    if start + LIST_PAGE < len(docs):
        result["NextToken"] = pagination.make_token(start + LIST_PAGE, binding)
    return result
