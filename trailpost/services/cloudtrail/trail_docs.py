"""Trail documents in the state store, and how a ``Name`` (a trail name or a trail ARN) finds one.

Documents (shared contract 2): kind ``cloudtrail.trail``, scope ``<account>/<home_region>``, key =
trail name; snake_case fields, JSON types only (see ``new_trail``). Every write goes through
``save``/``remove``, which also drop the selector cache of the account (``selectors``).

Rules of names and ARNs (AWS's):

* a name is 3-128 characters of ``[A-Za-z0-9._-]``, starts and ends with a letter or digit, has
  no adjacent ``.``, ``_`` or ``-`` and does not look like an IP address; otherwise
  ``InvalidTrailNameException`` with AWS's wording (``Trail name cannot be blank!``...);
* a ``Name`` starting with ``arn:`` must be ``arn:aws:cloudtrail:<region>:<account>:trail/<name>``,
  else ``CloudTrailARNInvalidException``;
* a bare name stands for the ARN in the caller's account and region, so a shadow trail (a
  multi-region trail seen from a region other than its home) is reached by its ARN only; an
  unknown trail is ``TrailNotFoundException`` ``Unknown trail: <arn> for the user: <account>``,
  naming the ARN the name expanded to;
* a trail is visible in a region when it lives there or is multi-region; a single-region trail of
  another region is not found from here.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Any

from trailpost.protocol.errors import ServiceError
from trailpost.services.cloudtrail.errors import (
    CloudTrailARNInvalidException,
    InvalidTrailNameException,
    TrailNotFoundException,
)
from trailpost.store.base import StateStore, iter_all

KIND = "cloudtrail.trail"
# Delivery status per trail and region (scope "<account>/<region>", key the trail ARN): written by the
# delivery and digest workers, read by GetTrailStatus.
STATUS_KIND = "cloudtrail.trail_status"
STATUS_FIELDS = (
    "latest_delivery_time",
    "latest_delivery_error",
    "latest_delivery_attempt_time",
    "latest_delivery_attempt_succeeded",
    "latest_digest_delivery_time",
    "latest_digest_delivery_error",
)
NAME_CHARS = re.compile(r"^[A-Za-z0-9._-]+$")
ADJACENT = re.compile(r"[._-]{2}")
ARN = re.compile(r"^arn:aws:cloudtrail:([a-z0-9-]+):(\d{12}):trail/(.+)$")


def update_status(store: StateStore, account: str, region: str, arn: str, **fields: Any) -> None:
    """Set ``fields`` of the trail's delivery status document in ``region`` (absent fields start ``None``)."""
    unknown = set(fields) - set(STATUS_FIELDS)
    if unknown:
        raise ValueError(f"not trail status fields: {sorted(unknown)}")
    scope = f"{account}/{region}"
    status = store.get(STATUS_KIND, scope, arn) or {}
    for name in STATUS_FIELDS:
        status.setdefault(name, None)
    status.update(fields)
    store.put(STATUS_KIND, scope, arn, status)


def trail_arn(region: str, account: str, name: str) -> str:
    return f"arn:aws:cloudtrail:{region}:{account}:trail/{name}"


def check_name(name: str) -> None:
    """``InvalidTrailNameException`` unless ``name`` follows CloudTrail's naming rules."""
    if not name:
        raise InvalidTrailNameException("Trail name cannot be blank!")
    if len(name) < 3:
        raise InvalidTrailNameException(
            "Trail name too short. Minimum allowed length: 3 characters. "
            f"Specified name length: {len(name)} characters."
        )
    if len(name) > 128:
        raise InvalidTrailNameException(
            "Trail name too long. Maximum allowed length: 128 characters. "
            f"Specified name length: {len(name)} characters."
        )
    if not NAME_CHARS.match(name):
        raise InvalidTrailNameException(
            "Trail name or ARN can only contain uppercase letters, lowercase letters, numbers, periods (.), "
            "hyphens (-), and underscores (_)."
        )
    if not name[0].isalnum():
        raise InvalidTrailNameException("Trail name must starts with a letter or number.")
    if not name[-1].isalnum():
        raise InvalidTrailNameException("Trail name must ends with a letter or number.")
    if ADJACENT.search(name):
        raise InvalidTrailNameException(
            "Trail name cannot contain adjacent periods (.), hyphens (-), or underscores (_)."
        )
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return
    raise InvalidTrailNameException("Trail names must not be formatted as an IP address.")


@dataclass(frozen=True, slots=True)
class TrailRef:
    """Where a ``Name`` points: the trail's home region, account and name, and its ARN."""

    region: str
    account: str
    name: str

    @property
    def arn(self) -> str:
        return trail_arn(self.region, self.account, self.name)


def parse_arn(value: str) -> TrailRef:
    """A trail ARN's parts; ``CloudTrailARNInvalidException`` if it is not a trail ARN."""
    match = ARN.match(value)
    if match is None:
        raise CloudTrailARNInvalidException(
            f"Invalid trail ARN: {value}. A trail ARN looks like arn:aws:cloudtrail:<region>:<account-id>:trail/<name>."
        )
    region, account, name = match.groups()
    check_name(name)
    return TrailRef(region, account, name)


def reference(value: str, account: str, region: str) -> TrailRef:
    """The trail a ``Name`` member means for a caller of ``account`` in ``region``."""
    if value.startswith("arn:"):
        return parse_arn(value)
    check_name(value)
    return TrailRef(region, account, value)


def scope_of(account: str, region: str) -> str:
    return f"{account}/{region}"


def get(store: StateStore, ref: TrailRef) -> dict[str, Any] | None:
    return store.get(KIND, scope_of(ref.account, ref.region), ref.name)


def not_found(ref: TrailRef, account: str) -> ServiceError:
    return TrailNotFoundException(f"Unknown trail: {ref.arn} for the user: {account}")


def find(store: StateStore, value: str, account: str, region: str) -> dict[str, Any]:
    """The trail a ``Name`` member names, visible to a caller of ``account`` in ``region``."""
    ref = reference(value, account, region)
    doc = get(store, ref) if ref.account == account else None
    if doc is None or not (doc["home_region"] == region or doc["is_multi_region_trail"]):
        raise not_found(ref, account)
    return doc


def account_scopes(store: StateStore, account: str) -> list[str]:
    return sorted(scope for scope in store.scopes(KIND) if scope.split("/", 1)[0] == account)


def account_trails(store: StateStore, account: str) -> list[dict[str, Any]]:
    """Every trail of ``account`` in every home region (regions sorted, then creation order)."""
    return [entry.doc for scope in account_scopes(store, account) for entry in iter_all(store, KIND, scope)]


def visible_trails(store: StateStore, account: str, region: str, *, shadows: bool = True) -> list[dict[str, Any]]:
    """The trails a caller of ``account`` in ``region`` sees: its own, then (``shadows``) others' multi-region ones."""
    own = [entry.doc for entry in iter_all(store, KIND, scope_of(account, region))]
    if not shadows:
        return own
    others = [
        doc for doc in account_trails(store, account) if doc["home_region"] != region and doc["is_multi_region_trail"]
    ]
    return own + others


def save(store: StateStore, doc: dict[str, Any]) -> None:
    """Store a trail document (insert or replace) and forget the account's cached trails."""
    store.put(KIND, scope_of(doc["account_id"], doc["home_region"]), doc["name"], doc)
    _invalidate(store, doc["account_id"])


def remove(store: StateStore, doc: dict[str, Any]) -> None:
    store.delete(KIND, scope_of(doc["account_id"], doc["home_region"]), doc["name"])
    _invalidate(store, doc["account_id"])


def _invalidate(store: StateStore, account: str) -> None:
    from trailpost.services.cloudtrail.selectors import invalidate

    invalidate(store, account)


def new_trail(name: str, account: str, region: str, now: float) -> dict[str, Any]:
    """A trail document with every contract field at its default."""
    return {
        "name": name,
        "trail_arn": trail_arn(region, account, name),
        "home_region": region,
        "account_id": account,
        "s3_bucket_name": "",
        "s3_key_prefix": None,
        "sns_topic_name": None,
        "sns_topic_arn": None,
        "include_global_service_events": True,
        "is_multi_region_trail": False,
        "log_file_validation_enabled": False,
        "kms_key_id": None,
        "cloud_watch_logs_log_group_arn": None,
        "cloud_watch_logs_role_arn": None,
        "is_organization_trail": False,
        "is_logging": False,
        "start_logging_time": None,
        "stop_logging_time": None,
        "logging_epoch": 0,
        "event_selectors": None,
        "advanced_event_selectors": None,
        "insight_selectors": None,
        "tags": [],
        "created": now,
    }
