"""Policies of users, roles and groups: inline ones (Put/Get/List/Delete{User,Role,Group}Policy) and
attached managed ones (Attach/Detach/ListAttached{User,Role,Group}Policies).

An inline policy lives in its entity's document (``inline_policies``: name -> text as sent) and
dies with it; the ARNs of attached managed policies are listed in ``attached`` in attach order,
and the account's ``iam.policy_use`` counts each policy's attachments (``managed.change_use``).

Rules (IAM's), inline policies:
* the document must be a valid identity policy (``documents.identity_policy``,
  ``MalformedPolicyDocument``); ``Put`` replaces a policy of the same name;
* the inline policies of one entity together stay within a size quota counted without
  whitespace: 2048 for a user, 10240 for a role, 5120 for a group ("Maximum policy size of 2048
  bytes exceeded for user <name>", ``LimitExceeded``);
* ``Get`` returns the document URL-encoded; an unknown name is "The user policy with name <p>
  cannot be found." (``role policy``, ``group policy``), ``NoSuchEntity``;
* ``List`` returns names in the order they were first put.

Attached policies:
* the policy must exist and be visible to the caller ("Policy <arn> does not exist or is not
  attachable.", ``NoSuchEntity``; a malformed ARN is ``ValidationError``);
* attaching a policy already attached changes nothing and succeeds;
* at most ``MAX_ATTACHED`` policies per entity ("Cannot exceed quota for PoliciesPerUser: 10",
  ``PoliciesPerRole``, ``PoliciesPerGroup``; ``LimitExceeded``);
* detaching a policy that is not attached is "Policy <arn> was not found." (``NoSuchEntity``);
* ``ListAttached...`` filters by the policies' ``PathPrefix``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from trailpost.gateway.context import RequestContext
from trailpost.services.iam import managed
from trailpost.services.iam.documents import identity_policy
from trailpost.services.iam.errors import LimitExceededException, NoSuchEntityException
from trailpost.services.iam.operations import ops
from trailpost.services.iam.resources import (
    GROUP,
    ROLE,
    USER,
    encode_document,
    get_group,
    get_role,
    get_user,
    page_items,
    parse_iam_arn,
    policy_size,
    put,
)

# entity -> (store kind, lookup, name field in params/docs, id field, size quota)
ENTITIES: dict[str, tuple[str, Callable[[RequestContext, str], dict[str, Any]], str, str, int]] = {
    "user": (USER, get_user, "user_name", "user_id", 2048),
    "role": (ROLE, get_role, "role_name", "role_id", 10240),
    "group": (GROUP, get_group, "group_name", "group_id", 5120),
}


def _put(entity: str, ctx: RequestContext, params: dict[str, Any]) -> None:
    kind, lookup, name_field, _, quota = ENTITIES[entity]
    text = params["policy_document"]
    identity_policy(text)
    with ctx.store.transaction():
        doc = lookup(ctx, params[name_field])
        policies = {**doc["inline_policies"], params["policy_name"]: text}
        if sum(policy_size(item) for item in policies.values()) > quota:
            raise LimitExceededException(
                f"Maximum policy size of {quota} bytes exceeded for {entity} {doc[name_field]}"
            )
        doc["inline_policies"] = policies
        put(ctx, kind, doc[name_field], doc)


def _get(entity: str, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    _, lookup, name_field, _, _ = ENTITIES[entity]
    doc = lookup(ctx, params[name_field])
    name = params["policy_name"]
    if name not in doc["inline_policies"]:
        raise NoSuchEntityException(f"The {entity} policy with name {name} cannot be found.")
    return {
        name_field: doc[name_field],
        "policy_name": name,
        "policy_document": encode_document(doc["inline_policies"][name]),
    }


def _list(entity: str, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    _, lookup, name_field, id_field, _ = ENTITIES[entity]
    doc = lookup(ctx, params[name_field])
    names, page = page_items(ctx, list(doc["inline_policies"]), params, binding=doc[id_field])
    return {"policy_names": names, **page}


def _delete(entity: str, ctx: RequestContext, params: dict[str, Any]) -> None:
    kind, lookup, name_field, _, _ = ENTITIES[entity]
    with ctx.store.transaction():
        doc = lookup(ctx, params[name_field])
        name = params["policy_name"]
        if name not in doc["inline_policies"]:
            raise NoSuchEntityException(f"The {entity} policy with name {name} cannot be found.")
        del doc["inline_policies"][name]
        put(ctx, kind, doc[name_field], doc)


def _register(entity: str, title: str) -> None:
    ops(f"Put{title}Policy")(lambda ctx, params: _put(entity, ctx, params))
    ops(f"Get{title}Policy")(lambda ctx, params: _get(entity, ctx, params))
    ops(f"List{title}Policies")(lambda ctx, params: _list(entity, ctx, params))
    ops(f"Delete{title}Policy")(lambda ctx, params: _delete(entity, ctx, params))


for _entity, _title in (("user", "User"), ("role", "Role"), ("group", "Group")):
    _register(_entity, _title)


# -- attached managed policies ------------------------------------------------------------------

MAX_ATTACHED = 10


def _attach(entity: str, title: str, ctx: RequestContext, params: dict[str, Any]) -> None:
    kind, lookup, name_field, _, _ = ENTITIES[entity]
    with ctx.store.transaction():
        doc = lookup(ctx, params[name_field])
        arn = managed.get_policy(ctx, params["policy_arn"], attaching=True)["arn"]
        if arn in doc["attached"]:
            return
        if len(doc["attached"]) >= MAX_ATTACHED:
            raise LimitExceededException(f"Cannot exceed quota for PoliciesPer{title}: {MAX_ATTACHED}")
        doc["attached"].append(arn)
        managed.change_use(ctx, arn, 1)
        put(ctx, kind, doc[name_field], doc)


def _detach(entity: str, ctx: RequestContext, params: dict[str, Any]) -> None:
    kind, lookup, name_field, _, _ = ENTITIES[entity]
    arn = params["policy_arn"]
    managed.check_arn(arn)
    with ctx.store.transaction():
        doc = lookup(ctx, params[name_field])
        if arn not in doc["attached"]:
            raise NoSuchEntityException(f"Policy {arn} was not found.")
        doc["attached"].remove(arn)
        managed.change_use(ctx, arn, -1)
        put(ctx, kind, doc[name_field], doc)


def _list_attached(entity: str, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    _, lookup, name_field, id_field, _ = ENTITIES[entity]
    doc = lookup(ctx, params[name_field])
    prefix = params.get("path_prefix") or "/"
    attached = []
    for arn in doc["attached"]:
        parsed = parse_iam_arn(arn)
        if parsed is not None and parsed[2].startswith(prefix):
            attached.append({"policy_name": parsed[3], "policy_arn": arn})
    items, page = page_items(ctx, attached, params, binding=[doc[id_field], prefix])
    return {"attached_policies": items, **page}


def _register_attachments(entity: str, title: str) -> None:
    ops(f"Attach{title}Policy")(lambda ctx, params: _attach(entity, title, ctx, params))
    ops(f"Detach{title}Policy")(lambda ctx, params: _detach(entity, ctx, params))
    ops(f"ListAttached{title}Policies")(lambda ctx, params: _list_attached(entity, ctx, params))


for _entity, _title in (("user", "User"), ("role", "Role"), ("group", "Group")):
    _register_attachments(_entity, _title)
