"""Tags on every taggable Outposts ARN (outposts and sites), with the model's limits.

The model's patterns already refuse keys that start with ``aws:`` and bound one request to 50
tags; here the total on a resource is bounded to 50 too, and an ARN that names no resource of
the caller's account, region and partition is ``NotFoundException``. Keys to remove that the
resource does not have are ignored, as AWS's tagging APIs do.
"""

from __future__ import annotations

from typing import Any

from trailpost.gateway.context import RequestContext
from trailpost.services.outposts import ids
from trailpost.services.outposts.errors import NotFoundException, ValidationException
from trailpost.services.outposts.operations import ops
from trailpost.services.outposts.resources import OUTPOST, SITE

MAX_TAGS = 50
TAGGABLE = {"outpost": OUTPOST, "site": SITE}


def _resource(ctx: RequestContext, arn: str) -> tuple[str, str, dict[str, Any]]:
    """``(kind, id, document)`` of the taggable resource ``arn`` names, or ``NotFoundException``."""
    parsed = ids.parse_arn(arn)
    if parsed is not None and parsed[2] in TAGGABLE:
        kind = TAGGABLE[parsed[2]]
        resource_id = ids.resolve(ctx, arn, parsed[2])
        doc = ctx.store.get(kind, ctx.scope, resource_id) if resource_id else None
        if resource_id and doc is not None:
            return kind, resource_id, doc
    raise NotFoundException(f"Resource {arn} not found.")


@ops("ListTagsForResource")
def list_tags_for_resource(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    _, _, doc = _resource(ctx, params["resource_arn"])
    return {"tags": doc.get("tags") or {}}


@ops("TagResource")
def tag_resource(ctx: RequestContext, params: dict[str, Any]) -> None:
    with ctx.store.transaction():
        kind, resource_id, doc = _resource(ctx, params["resource_arn"])
        tags = {**(doc.get("tags") or {}), **params["tags"]}
        if len(tags) > MAX_TAGS:
            raise ValidationException(
                f"Resource {params['resource_arn']} would have {len(tags)} tags; the limit is {MAX_TAGS}."
            )
        doc["tags"] = tags
        ctx.store.put(kind, ctx.scope, resource_id, doc)


@ops("UntagResource")
def untag_resource(ctx: RequestContext, params: dict[str, Any]) -> None:
    with ctx.store.transaction():
        kind, resource_id, doc = _resource(ctx, params["resource_arn"])
        removed = set(params["tag_keys"])
        doc["tags"] = {k: v for k, v in (doc.get("tags") or {}).items() if k not in removed}
        ctx.store.put(kind, ctx.scope, resource_id, doc)
