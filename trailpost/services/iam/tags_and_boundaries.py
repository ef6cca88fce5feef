"""Tags and permissions boundaries of users and roles: Tag/Untag/List{User,Role}Tags and
Put/Delete{User,Role}PermissionsBoundary.

Both live in the entity's own document (``tags``: a list of ``{"key", "value"}`` in the order they
were first set; ``permissions_boundary``: a managed policy's ARN or ``None``) and die with it.

Rules (IAM's):
* ``Tag`` adds tags and overwrites the value of a key already set (keys compared as sent); at most
  50 per entity ("Cannot exceed quota for TagsPerUser: 50", ``TagsPerRole``; ``LimitExceeded``);
  ``Untag`` removes the keys named, ignoring keys the entity does not have;
* ``List...Tags`` pages through the tags in their order (``Marker``/``MaxItems``);
* ``Put...PermissionsBoundary`` sets or replaces the boundary (a managed policy that must exist and
  be visible: "Policy <arn> does not exist or is not attachable."), ``Delete...PermissionsBoundary``
  removes it (an entity without one is left as it is); both keep the policies'
  ``PermissionsBoundaryUsageCount``, and the entity's next call (a role's sessions' next call) is
  authorized with the new boundary;
* an unknown entity is ``NoSuchEntity`` ("The user with name X cannot be found.", ``role``).
"""

from __future__ import annotations

from typing import Any

from trailpost.gateway.context import RequestContext
from trailpost.services.iam import managed
from trailpost.services.iam.entity_policies import ENTITIES
from trailpost.services.iam.operations import ops
from trailpost.services.iam.resources import merged_tags, page_items, put, without_tags


def _tag(entity: str, title: str, ctx: RequestContext, params: dict[str, Any]) -> None:
    kind, lookup, name_field, _, _ = ENTITIES[entity]
    with ctx.store.transaction():
        doc = lookup(ctx, params[name_field])
        doc["tags"] = merged_tags(doc["tags"], params, f"TagsPer{title}")
        put(ctx, kind, doc[name_field], doc)


def _untag(entity: str, ctx: RequestContext, params: dict[str, Any]) -> None:
    kind, lookup, name_field, _, _ = ENTITIES[entity]
    with ctx.store.transaction():
        doc = lookup(ctx, params[name_field])
        doc["tags"] = without_tags(doc["tags"], params)
        put(ctx, kind, doc[name_field], doc)


def _list_tags(entity: str, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    _, lookup, name_field, id_field, _ = ENTITIES[entity]
    doc = lookup(ctx, params[name_field])
    tags, page = page_items(ctx, doc["tags"], params, binding=doc[id_field])
    return {"tags": tags, **page}


def _set_boundary(entity: str, arn: str | None, ctx: RequestContext, params: dict[str, Any]) -> None:
    kind, lookup, name_field, _, _ = ENTITIES[entity]
    with ctx.store.transaction():
        doc = lookup(ctx, params[name_field])
        managed.replace_boundary(ctx, doc, arn)
        put(ctx, kind, doc[name_field], doc)


def _register(entity: str, title: str) -> None:
    ops(f"Tag{title}")(lambda ctx, params: _tag(entity, title, ctx, params))
    ops(f"Untag{title}")(lambda ctx, params: _untag(entity, ctx, params))
    ops(f"List{title}Tags")(lambda ctx, params: _list_tags(entity, ctx, params))
    ops(f"Put{title}PermissionsBoundary")(
        lambda ctx, params: _set_boundary(entity, params["permissions_boundary"], ctx, params)
    )
    ops(f"Delete{title}PermissionsBoundary")(lambda ctx, params: _set_boundary(entity, None, ctx, params))


for _entity, _title in (("user", "User"), ("role", "Role")):
    _register(_entity, _title)
