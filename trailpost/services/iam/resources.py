"""IAM's stored entities, their ids and ARNs, and the lookups every IAM family shares.

IAM is global: every entity lives in the scope ``<account id>`` (no region). Documents:

* ``iam.user``   key: the lowercased user name. ``user_name``, ``user_id`` (``AIDA…``), ``arn``,
  ``path``, ``create_date``, ``tags``, ``inline_policies`` {name: document text},
  ``attached`` [policy ARN...], ``groups`` [group key...], ``access_keys`` [key id...],
  ``permissions_boundary`` (ARN or absent).
* ``iam.role``   key: the lowercased role name. ``role_name``, ``role_id`` (``AROA…``), ``arn``,
  ``path``, ``create_date``, ``assume_role_policy_document`` (text as sent), ``description``,
  ``max_session_duration``, ``tags``, ``inline_policies``, ``attached``, ``permissions_boundary``,
  ``last_used`` {date, region}.
* ``iam.group``  key: the lowercased group name. ``group_name``, ``group_id`` (``AGPA…``),
  ``arn``, ``path``, ``create_date``, ``inline_policies``, ``attached``. Members are the users
  whose ``groups`` name the group.
* ``iam.policy`` key: the lowercased policy name (names are unique in an account whatever the
  path). ``policy_name``, ``policy_id`` (``ANPA…``), ``arn``, ``path``, ``description``,
  ``create_date``, ``update_date``, ``default_version_id``, ``versions`` [{version_id, document,
  create_date}], ``next_version``, ``tags``. AWS managed policies are static data
  (``managed.py``), the same for every account.
* ``iam.policy_use`` key: a managed policy ARN. ``count`` of users, roles and groups it is
  attached to in the account (``AttachmentCount``).
* ``iam.oidc_provider`` key: the provider URL without ``https://``. See ``oidc_providers``.

Rules: names are unique per account ignoring case, as IAM's are; unique ids are the type prefix
and 17 characters of ``A-Z2-7`` (21 in all, the length of every real id in the references);
ARNs are ``arn:aws:iam::<account>:<type><path><name>``; policy documents are stored as sent and
returned URL-encoded (RFC 3986), which botocore decodes.
"""

from __future__ import annotations

import re
import secrets
import string
from typing import Any
from urllib.parse import quote

from trailpost.gateway.context import RequestContext
from trailpost.services.iam.errors import LimitExceededException, NoSuchEntityException, ValidationError, invalid_marker
from trailpost.services.pagination import paginate_entries, paginate_store
from trailpost.store.base import Entry

USER = "iam.user"
ROLE = "iam.role"
GROUP = "iam.group"
POLICY = "iam.policy"
POLICY_USE = "iam.policy_use"
OIDC_PROVIDER = "iam.oidc_provider"

ID_PREFIXES = {"user": "AIDA", "role": "AROA", "group": "AGPA", "policy": "ANPA"}
_BASE32 = string.ascii_uppercase + "234567"
_WHITESPACE = re.compile(r"\s+")
_IAM_ARN = re.compile(r"^arn:aws:iam::(\d{12}|aws):([a-z-]+)(/(?:.*/)?)?([^/]*)$")


def new_unique_id(kind: str) -> str:
    """A new unique id of ``kind`` (``user``, ``role``, ``group``, ``policy``)."""
    return ID_PREFIXES[kind] + "".join(secrets.choice(_BASE32) for _ in range(17))


def name_key(name: str) -> str:
    return name.lower()


def iam_arn(account_id: str, kind: str, path: str, name: str) -> str:
    """``arn:aws:iam::<account>:<kind><path><name>`` (``path`` begins and ends with ``/``)."""
    return f"arn:aws:iam::{account_id}:{kind}{path}{name}"


def parse_iam_arn(arn: str) -> tuple[str, str, str, str] | None:
    """``(account or "aws", type, path, name)`` of an IAM ARN, or ``None``."""
    match = _IAM_ARN.match(arn)
    if match is None:
        return None
    return match.group(1), match.group(2), match.group(3) or "/", match.group(4)


def encode_document(text: str) -> str:
    """A policy document as IAM returns it: URL-encoded (RFC 3986), decoded again by botocore."""
    return quote(text, safe="")


MAX_TAGS = 50  # tags per user or role


def policy_size(text: str) -> int:
    """A document's size as IAM's quotas count it: characters other than whitespace."""
    return len(_WHITESPACE.sub("", text))


def tags_of(params: dict[str, Any], quota: str | None = None) -> list[dict[str, str]]:
    """The ``Tags`` of a create call; beyond ``MAX_TAGS`` ``LimitExceeded`` names ``quota``."""
    tags = [{"key": tag["key"], "value": tag["value"]} for tag in params.get("tags") or []]
    if quota is not None and len(tags) > MAX_TAGS:
        raise LimitExceededException(f"Cannot exceed quota for {quota}: {MAX_TAGS}")
    return tags


def merged_tags(current: list[dict[str, str]], params: dict[str, Any], quota: str) -> list[dict[str, str]]:
    """``current`` with a Tag* call's tags added or replaced (by key), within ``MAX_TAGS``."""
    tags = {tag["key"]: tag for tag in current}
    tags.update({tag["key"]: tag for tag in tags_of(params)})
    if len(tags) > MAX_TAGS:
        raise LimitExceededException(f"Cannot exceed quota for {quota}: {MAX_TAGS}")
    return list(tags.values())


def without_tags(current: list[dict[str, str]], params: dict[str, Any]) -> list[dict[str, str]]:
    """``current`` without the keys an Untag* call names."""
    keys = set(params["tag_keys"])
    return [tag for tag in current if tag["key"] not in keys]


# -- lookups -------------------------------------------------------------------------------------


def find_user(ctx: RequestContext, name: str) -> dict[str, Any] | None:
    return ctx.store.get(USER, ctx.account_id, name_key(name))


def get_user(ctx: RequestContext, name: str) -> dict[str, Any]:
    user = find_user(ctx, name)
    if user is None:
        raise NoSuchEntityException(f"The user with name {name} cannot be found.")
    return user


def get_role(ctx: RequestContext, name: str) -> dict[str, Any]:
    role = ctx.store.get(ROLE, ctx.account_id, name_key(name))
    if role is None:
        raise NoSuchEntityException(f"The role with name {name} cannot be found.")
    return role


def get_group(ctx: RequestContext, name: str) -> dict[str, Any]:
    group = ctx.store.get(GROUP, ctx.account_id, name_key(name))
    if group is None:
        raise NoSuchEntityException(f"The group with name {name} cannot be found.")
    return group


def put(ctx: RequestContext, kind: str, name: str, doc: dict[str, Any]) -> None:
    ctx.store.put(kind, ctx.account_id, name_key(name), doc)


def target_user_name(ctx: RequestContext, name: str | None) -> str | None:
    """The user an operation with an optional ``UserName`` acts on: the name given, else the
    calling IAM user; ``None`` for the root user (its own keys). Role and federated sessions must
    name a user."""
    if name:
        return name
    principal = ctx.principal
    assert principal is not None
    if principal.identity_type == "IAMUser" and principal.user_name:
        return principal.user_name
    if principal.identity_type == "Root":
        return None
    raise ValidationError("Must specify userName when calling with non-User credentials")


# -- listings ------------------------------------------------------------------------------------


def page_store(
    ctx: RequestContext, kind: str, params: dict[str, Any], *, keep: Any = None, binding: Any = None
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """One page of an account's entities of ``kind`` (``Marker``/``MaxItems``) and the page's
    ``IsTruncated``/``Marker`` members."""
    docs, marker = paginate_store(
        ctx.store,
        kind,
        ctx.account_id,
        token=params.get("marker"),
        max_results=params.get("max_items"),
        binding=[ctx.operation_name, ctx.account_id, binding],
        invalid=invalid_marker,
        keep=keep or (lambda doc: True),
    )
    return docs, truncation(marker)


def page_items(
    ctx: RequestContext, items: list[Any], params: dict[str, Any], binding: Any = None
) -> tuple[list[Any], dict[str, Any]]:
    """One page of an in-document list (policy names, attached policies...) in its order."""
    entries = [Entry("", "", "", index + 1, {"item": item}) for index, item in enumerate(items)]
    page, marker = paginate_entries(
        entries,
        token=params.get("marker"),
        max_results=params.get("max_items"),
        binding=[ctx.operation_name, ctx.account_id, binding],
        invalid=invalid_marker,
    )
    return [entry.doc["item"] for entry in page], truncation(marker)


def truncation(marker: str | None) -> dict[str, Any]:
    return {"is_truncated": marker is not None, "marker": marker}


def under_path(doc: dict[str, Any], prefix: str | None) -> bool:
    return not prefix or doc.get("path", "/").startswith(prefix)
