"""AddTags, RemoveTags and ListTags on trails, and the tag rules CreateTrail shares.

Rules (AWS's):

* a tag key is 1-128 characters, a value 0-256, both of Unicode letters, digits, white space and
  ``_ . : / = + - @``; keys starting with ``aws:`` are reserved; a key twice in one request is
  ``InvalidTagParameterException``;
* a trail holds at most ``MAX_TAGS`` (50) tags after the call, else ``TagsLimitExceededException``;
  adding an existing key replaces its value;
* ``RemoveTags`` removes each listed key (when a value is given, only if it matches); unknown keys
  are ignored;
* ``ResourceId`` is a trail ARN of the caller's region (a shadow trail's tags are managed in its
  home region): another region is ``CloudTrailARNInvalidException`` ``Region in ARN is wrong, you
  can only access resources in region <region>.``; a non-ARN or malformed trail ARN is
  ``CloudTrailARNInvalidException``; an ARN of another service is
  ``ResourceTypeNotSupportedException``; no such trail (or another account's) is
  ``ResourceNotFoundException``;
* ``ListTags`` takes 1-20 ARNs and answers them in the order given, all on one page.
"""

from __future__ import annotations

import re
from typing import Any

from trailpost.gateway.context import RequestContext
from trailpost.services.cloudtrail import trail_docs
from trailpost.services.cloudtrail.errors import (
    CloudTrailARNInvalidException,
    InvalidParameterException,
    InvalidTagParameterException,
    ResourceNotFoundException,
    ResourceTypeNotSupportedException,
    TagsLimitExceededException,
)
from trailpost.services.cloudtrail.operations import ops

MAX_TAGS = 50
MAX_LIST_RESOURCES = 20
TAG_TEXT = re.compile(r"^[\w\s.:/=+\-@]*$", re.UNICODE)


def check_tag_list(tags: list[dict[str, Any]], *, values_optional: bool = True) -> None:
    """``InvalidTagParameterException`` for the first unusable tag of a request."""
    keys: set[str] = set()
    for tag in tags:
        key, value = tag.get("Key", tag.get("key")), tag.get("Value", tag.get("value"))
        if not isinstance(key, str) or not 1 <= len(key) <= 128 or not TAG_TEXT.match(key):
            raise InvalidTagParameterException(
                f"Tag key '{key}' is not valid: 1 to 128 Unicode letters, digits, white space or _ . : / = + - @."
            )
        if key.lower().startswith("aws:"):
            raise InvalidTagParameterException(f"Tag key '{key}' is not valid: the prefix 'aws:' is reserved.")
        if value is not None and (not isinstance(value, str) or len(value) > 256 or not TAG_TEXT.match(value)):
            raise InvalidTagParameterException(
                f"Tag value of key '{key}' is not valid: at most 256 Unicode letters, digits, white space or "
                "_ . : / = + - @."
            )
        if key in keys:
            raise InvalidTagParameterException(f"Tag key '{key}' appears more than once in the request.")
        keys.add(key)


def check_new_tags(existing: list[dict[str, str]], added: list[dict[str, Any]]) -> list[dict[str, str]]:
    """The tags after adding ``added`` (snake or wire names) to ``existing``; errors as AWS's."""
    check_tag_list(added)
    merged = {tag["Key"]: tag["Value"] for tag in existing}
    for tag in added:
        key, value = tag.get("Key", tag.get("key")), tag.get("Value", tag.get("value"))
        assert isinstance(key, str)  # ``check_tag_list`` checked every key
        merged[key] = value if value is not None else ""
    if len(merged) > MAX_TAGS:
        raise TagsLimitExceededException(
            f"The number of tags per trail has exceeded the permitted amount. Currently, the limit is {MAX_TAGS}."
        )
    return [{"Key": key, "Value": value} for key, value in merged.items()]


def _tagged_trail(ctx: RequestContext, resource_id: str) -> dict[str, Any]:
    if resource_id.startswith("arn:") and not resource_id.startswith("arn:aws:cloudtrail:"):
        raise ResourceTypeNotSupportedException(
            f"Resource type of {resource_id} is not supported by CloudTrail tagging."
        )
    ref = trail_docs.parse_arn(resource_id) if resource_id.startswith("arn:") else None
    if ref is None:
        raise CloudTrailARNInvalidException(f"Invalid ARN: {resource_id}. Tagging takes the trail's ARN.")
    if ref.region != ctx.region:
        raise CloudTrailARNInvalidException(
            f"Region in ARN is wrong, you can only access resources in region {ctx.region}."
        )
    doc = trail_docs.get(ctx.store, ref) if ref.account == ctx.account_id else None
    if doc is None:
        raise ResourceNotFoundException(f"Resource not found: {resource_id} for the user: {ctx.account_id}")
    return doc


def _wire_tags(params: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"Key": tag.get("key"), "Value": tag.get("value")} for tag in params.get("tags_list") or []]


@ops("AddTags")
def add_tags(ctx: RequestContext, params: dict[str, Any]) -> None:
    doc = _tagged_trail(ctx, params["resource_id"])
    doc["tags"] = check_new_tags(doc["tags"], _wire_tags(params))
    trail_docs.save(ctx.store, doc)


@ops("RemoveTags")
def remove_tags(ctx: RequestContext, params: dict[str, Any]) -> None:
    doc = _tagged_trail(ctx, params["resource_id"])
    removed = _wire_tags(params)
    check_tag_list(removed)
    doc["tags"] = [
        tag
        for tag in doc["tags"]
        if not any(r["Key"] == tag["Key"] and (r["Value"] is None or r["Value"] == tag["Value"]) for r in removed)
    ]
    trail_docs.save(ctx.store, doc)


@ops("ListTags")
def list_tags(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    ids = params.get("resource_id_list") or []
    if not 1 <= len(ids) <= MAX_LIST_RESOURCES:
        raise InvalidParameterException(
            f"ResourceIdList must contain 1 to {MAX_LIST_RESOURCES} ARNs; the request has {len(ids)}."
        )
    tagged = [(resource_id, _tagged_trail(ctx, resource_id)) for resource_id in ids]
    return {"ResourceTagList": [{"ResourceId": rid, "TagsList": doc["tags"]} for rid, doc in tagged]}
