"""Which events a trail takes: region coverage, basic and advanced event selectors, global service events.

Shared contract 2 (the delivery and digest workers and the gateway's data-event hook use it):

* ``covers_region(trail, region)``: a multi-region trail covers every region, others their home;
* ``selects(trail, record)``: whether the trail's selectors take the record (a CloudTrail record
  as ``audit.record`` builds it);
* ``data_event_wanted(store, record)``: whether any logging trail of the record's
  ``recipientAccountId`` that covers its ``awsRegion`` selects it; the trails of an account are
  cached and the cache is dropped at every trail write (``trail_docs.save``/``remove``);
* ``all_trails(store)``: every trail document of every account.

Semantics (cloudtrail-reference.md section 6):

* no selectors (``event_selectors`` and ``advanced_event_selectors`` None): every management
  event, no data event;
* global service events (IAM, CloudFront, Route 53 and STS through its global endpoint, recorded
  in us-east-1) are dropped when ``include_global_service_events`` is false, whatever the selectors;
* basic selectors, OR-ed: a management event matches a selector with ``IncludeManagementEvents``
  whose ``ReadWriteType`` fits the record's ``readOnly`` and that does not exclude its source; a data
  event matches a selector whose ``ReadWriteType`` fits and one of whose ``DataResources`` has the
  type of one of the record's resources and a value that prefixes that resource's ARN (for
  ``AWS::S3::Object`` a bucket-level data event is matched on ``<bucket ARN>/``); Insights events
  never match;
* advanced selectors, OR-ed; the field selectors of one selector AND-ed; within a field
  selector a value must meet every operator given: ``Equals``/``StartsWith``/``EndsWith`` (any of
  their values) and none of ``NotEquals``/``NotStartsWith``/``NotEndsWith``; for the multi-valued
  ``resources.type`` and ``resources.ARN`` one resource (of the selector's ``resources.type``, for
  the ARN) must meet the field selector; a field the record lacks meets only negative operators.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

from trailpost.store.base import StateStore, iter_all

KIND = "cloudtrail.trail"
GLOBAL_SOURCES = frozenset({"iam.amazonaws.com", "cloudfront.amazonaws.com", "route53.amazonaws.com"})
GLOBAL_REGION = "us-east-1"
STS = "sts.amazonaws.com"
REGIONAL_STS_HOST = "sts.us-east-1.amazonaws.com"


def covers_region(trail: dict[str, Any], region: str) -> bool:
    return bool(trail["is_multi_region_trail"]) or trail["home_region"] == region


def is_global_service_event(record: dict[str, Any]) -> bool:
    """IAM, CloudFront, Route 53, and STS called through its global endpoint (all recorded in us-east-1)."""
    source = record.get("eventSource")
    if source in GLOBAL_SOURCES:
        return True
    if source == STS and record.get("awsRegion") == GLOBAL_REGION:
        host = (record.get("tlsDetails") or {}).get("clientProvidedHostHeader", "")
        return not host.startswith(REGIONAL_STS_HOST)
    return False


def category_of(record: dict[str, Any]) -> str:
    return record.get("eventCategory") or "Management"


def selects(trail: dict[str, Any], record: dict[str, Any]) -> bool:
    """Whether ``trail``'s selectors take ``record`` (module docstring)."""
    if not trail.get("include_global_service_events", True) and is_global_service_event(record):
        return False
    advanced = trail.get("advanced_event_selectors")
    if advanced is not None:
        return any(_advanced_match(selector, record) for selector in advanced)
    basic = trail.get("event_selectors")
    if basic is None:
        return category_of(record) == "Management"
    return any(_basic_match(selector, record) for selector in basic)


# -- basic selectors ----------------------------------------------------------------------------


def _read_write_fits(selector: dict[str, Any], record: dict[str, Any]) -> bool:
    kind = selector.get("ReadWriteType") or "All"
    if kind == "All":
        return True
    read_only = record.get("readOnly") is True
    return read_only if kind == "ReadOnly" else not read_only


def _basic_match(selector: dict[str, Any], record: dict[str, Any]) -> bool:
    if not _read_write_fits(selector, record):
        return False
    category = category_of(record)
    if category == "Management":
        return selector.get("IncludeManagementEvents", True) is not False and record.get("eventSource") not in (
            selector.get("ExcludeManagementEventSources") or []
        )
    if category != "Data":
        return False
    resources = record.get("resources") or []
    for data_resource in selector.get("DataResources") or []:
        arns = _arns_of_type(resources, data_resource.get("Type"))
        if any(arn.startswith(value) for arn in arns for value in data_resource.get("Values") or []):
            return True
    return False


def _arns_of_type(resources: list[dict[str, Any]], kind: str | None) -> list[str]:
    arns = [r.get("ARN") or "" for r in resources if r.get("type") == kind]
    if not arns and kind == "AWS::S3::Object":  # bucket-level data events: the bucket's object space
        arns = [f"{r.get('ARN')}/" for r in resources if r.get("type") == "AWS::S3::Bucket" and r.get("ARN")]
    return arns


# -- advanced selectors -------------------------------------------------------------------------


def _meets(value: str | None, field: dict[str, Any]) -> bool:
    """Whether one value meets every operator of a field selector."""
    if value is None:
        return not any(field.get(op) for op in ("Equals", "StartsWith", "EndsWith"))
    if field.get("Equals") and value not in field["Equals"]:
        return False
    if field.get("StartsWith") and not any(value.startswith(v) for v in field["StartsWith"]):
        return False
    if field.get("EndsWith") and not any(value.endswith(v) for v in field["EndsWith"]):
        return False
    if value in (field.get("NotEquals") or ()):
        return False
    if any(value.startswith(v) for v in field.get("NotStartsWith") or ()):
        return False
    return not any(value.endswith(v) for v in field.get("NotEndsWith") or ())


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _values(name: str, record: dict[str, Any], resource_types: list[str] | None) -> list[str | None]:
    """The record's values of a selector field (several for the resource fields)."""
    resources = record.get("resources") or []
    if name == "resources.type":
        return [r.get("type") for r in resources] or [None]
    if name == "resources.ARN":
        chosen = [r for r in resources if resource_types is None or r.get("type") in resource_types]
        return [r.get("ARN") for r in chosen] or [None]
    if name == "eventCategory":
        return [category_of(record)]
    if name == "readOnly":
        return [_text(record.get("readOnly", False))]
    if name == "sessionCredentialFromConsole":
        return [_text(record.get("sessionCredentialFromConsole", "false"))]
    if name == "userIdentity.arn":
        return [_text((record.get("userIdentity") or {}).get("arn"))]
    return [_text(record.get(name))]


def _advanced_match(selector: dict[str, Any], record: dict[str, Any]) -> bool:
    fields = selector.get("FieldSelectors") or []
    types = next((f.get("Equals") for f in fields if f.get("Field") == "resources.type"), None)
    return all(any(_meets(v, field) for v in _values(field.get("Field", ""), record, types)) for field in fields)


# -- the trails of the store --------------------------------------------------------------------


class _TrailCache:
    """Trail documents per account, read once and dropped whenever one of the account's trails changes."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.by_account: dict[str, list[dict[str, Any]]] = {}
        self.generation = 0  # bumped at every invalidation: a read that raced one is not kept


_CACHES: weakref.WeakKeyDictionary[Any, _TrailCache] = weakref.WeakKeyDictionary()
_CACHES_LOCK = threading.Lock()


def _cache(store: StateStore) -> _TrailCache:
    with _CACHES_LOCK:
        cache = _CACHES.get(store)
        if cache is None:
            cache = _CACHES[store] = _TrailCache()
        return cache


def invalidate(store: StateStore, account: str) -> None:
    """Forget the cached trails of ``account`` (called at every trail write)."""
    cache = _cache(store)
    with cache.lock:
        cache.generation += 1
        cache.by_account.pop(account, None)


def account_trails(store: StateStore, account: str) -> list[dict[str, Any]]:
    """Every trail of ``account`` (cached)."""
    cache = _cache(store)
    with cache.lock:
        trails = cache.by_account.get(account)
        generation = cache.generation
    if trails is not None:
        return trails
    trails = [
        entry.doc
        for scope in store.scopes(KIND)
        if scope.split("/", 1)[0] == account
        for entry in iter_all(store, KIND, scope)
    ]
    with cache.lock:
        if cache.generation == generation:
            cache.by_account[account] = trails
    return trails


def all_trails(store: StateStore) -> list[dict[str, Any]]:
    """Every trail document of every account, in home-region scope order then creation order."""
    return [entry.doc for scope in sorted(store.scopes(KIND)) for entry in iter_all(store, KIND, scope)]


def data_event_wanted(store: StateStore, record: dict[str, Any]) -> bool:
    """Whether a logging trail of the record's account, covering its region, selects this data event."""
    account, region = record.get("recipientAccountId"), record.get("awsRegion")
    if not account or not region:
        return False
    return any(
        trail["is_logging"] and covers_region(trail, region) and selects(trail, record)
        for trail in account_trails(store, account)
    )
