"""PutEventSelectors, GetEventSelectors, PutInsightSelectors and GetInsightSelectors, with their checks.

Selectors are stored in wire form (PascalCase, as the API takes them) in the trail document's
``event_selectors`` / ``advanced_event_selectors`` / ``insight_selectors`` (contract 2); putting one
kind of event selector clears the other. ``selectors`` evaluates them.

Rules of PutEventSelectors (AWS's; each violation is ``InvalidEventSelectorsException``):

* exactly one of ``EventSelectors`` and ``AdvancedEventSelectors``;
* basic: at most 5 selectors and 250 data resources in all; ``DataResources.Type`` one of
  ``AWS::S3::Object``, ``AWS::Lambda::Function``, ``AWS::DynamoDB::Table``; each value the
  service's ARN prefix (``arn:aws:s3``, ``arn:aws:lambda``, ``arn:aws:dynamodb``), ``arn:aws:s3:::``
  (all buckets), a bucket ARN with an object part (``arn:aws:s3:::bucket/`` or
  ``.../prefix``), a function or table ARN; anything else is ``Value <v> for
  DataResources.Values is invalid.``; ``ExcludeManagementEventSources`` only
  ``kms.amazonaws.com``/``rdsdata.amazonaws.com``; the answer fills in the defaults
  (``ReadWriteType`` ``All``, ``IncludeManagementEvents`` true, empty lists);
* advanced: every selector has one ``eventCategory`` field selector (``Management``, ``Data`` or
  ``NetworkActivity``); fields are those CloudTrail allows for the category (management:
  ``eventCategory``, ``eventSource`` (``NotEquals`` kms/rdsdata only), ``readOnly``; data adds
  ``eventName``, ``eventType``, ``resources.type`` (required), ``resources.ARN``,
  ``sessionCredentialFromConsole``, ``userIdentity.arn``; network activity: ``eventSource``
  (required), ``eventName``, ``errorCode``, ``vpcEndpointId``); ``eventCategory``, ``readOnly``,
  ``resources.type`` take ``Equals`` only; ``readOnly`` ``true``/``false``; a field at most once
  per selector; at most 500 values in all.

Insight selectors: ``InsightType`` once each; ``[]`` turns Insights off; GetInsightSelectors on a
trail without them is ``InsightNotEnabledException``. Puts are home-region operations.
"""

from __future__ import annotations

import re
from typing import Any

from trailpost.gateway.context import RequestContext
from trailpost.protocol.errors import ServiceError
from trailpost.services.cloudtrail import trail_docs
from trailpost.services.cloudtrail.errors import (
    InsightNotEnabledException,
    InvalidEventSelectorsException,
    InvalidInsightSelectorsException,
    InvalidParameterCombinationException,
)
from trailpost.services.cloudtrail.operations import ops
from trailpost.services.cloudtrail.trails import home_only

MAX_BASIC = 5
MAX_DATA_RESOURCES = 250
MAX_VALUES = 500
EXCLUDABLE = ("kms.amazonaws.com", "rdsdata.amazonaws.com")
OPERATORS = ("Equals", "StartsWith", "EndsWith", "NotEquals", "NotStartsWith", "NotEndsWith")
EQUALS_ONLY = ("eventCategory", "readOnly", "resources.type")
CATEGORIES = ("Management", "Data", "NetworkActivity")
FIELDS = {
    "Management": ("eventCategory", "eventSource", "readOnly"),
    "Data": (
        "eventCategory",
        "eventSource",
        "eventName",
        "eventType",
        "readOnly",
        "resources.type",
        "resources.ARN",
        "sessionCredentialFromConsole",
        "userIdentity.arn",
    ),
    "NetworkActivity": ("eventCategory", "eventSource", "eventName", "errorCode", "vpcEndpointId"),
}
REQUIRED = {"Data": "resources.type", "NetworkActivity": "eventSource"}
DATA_VALUE = {
    "AWS::S3::Object": re.compile(r"^arn:aws:s3(:::([a-z0-9][a-z0-9._-]{1,61}[a-z0-9]/.*)?)?$"),
    "AWS::Lambda::Function": re.compile(
        r"^arn:aws:lambda(:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9$_-]+)?)?$"
    ),
    "AWS::DynamoDB::Table": re.compile(r"^arn:aws:dynamodb(:[a-z0-9-]+:\d{12}:table/[A-Za-z0-9_.-]{3,255})?$"),
}
DEFAULT_SELECTORS = [
    {"ReadWriteType": "All", "IncludeManagementEvents": True, "DataResources": [], "ExcludeManagementEventSources": []}
]


def _invalid(message: str) -> ServiceError:
    return InvalidEventSelectorsException(message)


def check_basic(selectors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The basic selectors as stored and answered (defaults filled in); errors as AWS's."""
    if len(selectors) > MAX_BASIC:
        raise _invalid(f"The number of event selectors ({len(selectors)}) exceeds the maximum of {MAX_BASIC}.")
    total = sum(len(s.get("DataResources") or []) for s in selectors)
    if total > MAX_DATA_RESOURCES:
        raise _invalid(f"The number of data resources ({total}) exceeds the maximum of {MAX_DATA_RESOURCES}.")
    stored = []
    for selector in selectors:
        resources = []
        for resource in selector.get("DataResources") or []:
            kind = resource.get("Type")
            pattern = DATA_VALUE.get(kind or "")
            if pattern is None:
                raise _invalid(f"Value {kind} for DataResources.Type is invalid.")
            for value in resource.get("Values") or []:
                if not pattern.match(value):
                    raise _invalid(f"Value {value} for DataResources.Values is invalid.")
            resources.append({"Type": kind, "Values": list(resource.get("Values") or [])})
        excluded = list(selector.get("ExcludeManagementEventSources") or [])
        for source in excluded:
            if source not in EXCLUDABLE:
                raise _invalid(f"Value {source} for ExcludeManagementEventSources is invalid.")
        stored.append(
            {
                "ReadWriteType": selector.get("ReadWriteType") or "All",
                "IncludeManagementEvents": selector.get("IncludeManagementEvents", True) is not False,
                "DataResources": resources,
                "ExcludeManagementEventSources": excluded,
            }
        )
    return stored


def _field_problem(category: str, field: dict[str, Any]) -> str | None:
    name = field.get("Field", "")
    if name not in FIELDS[category]:
        return f"The field {name} is not supported for {category} events on trails."
    operators = [op for op in OPERATORS if field.get(op)]
    if not operators:
        return f"The field selector for {name} needs at least one operator with values."
    if name in EQUALS_ONLY and operators != ["Equals"]:
        return f"The field {name} supports only the Equals operator."
    if name == "readOnly" and any(value not in ("true", "false") for value in field["Equals"]):
        return "The readOnly field takes only the values true or false."
    if (
        category == "Management"
        and name == "eventSource"
        and (operators != ["NotEquals"] or any(v not in EXCLUDABLE for v in field["NotEquals"]))
    ):
        return "For management events, eventSource takes only NotEquals with " + " or ".join(EXCLUDABLE) + "."
    return None


def check_advanced(selectors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The advanced selectors as stored (as given); errors as AWS's."""
    values = 0
    for selector in selectors:
        fields = selector.get("FieldSelectors") or []
        names = [field.get("Field") for field in fields]
        label = f" {selector['Name']}" if selector.get("Name") else ""
        if names.count("eventCategory") != 1:
            raise _invalid(f"Selector{label} must have exactly one eventCategory field selector.")
        category_field = fields[names.index("eventCategory")]
        categories = category_field.get("Equals") or []
        if len(categories) != 1 or categories[0] not in CATEGORIES:
            raise _invalid(f"Selector{label}: eventCategory takes Equals with one of {', '.join(CATEGORIES)}.")
        category = categories[0]
        for name in set(names):
            if names.count(name) > 1:
                raise _invalid(f"Selector{label}: the field {name} appears more than once.")
        for field in fields:
            problem = _field_problem(category, field)
            if problem is not None:
                raise _invalid(f"Selector{label}: {problem}")
            values += sum(len(field.get(op) or []) for op in OPERATORS)
        required = REQUIRED.get(category)
        if required is not None and required not in names:
            raise _invalid(f"Selector{label}: {category} events need a {required} field selector.")
    if values > MAX_VALUES:
        raise _invalid(f"The advanced event selectors have {values} values; the maximum is {MAX_VALUES}.")
    return [_compact(selector) for selector in selectors]


def _compact(selector: dict[str, Any]) -> dict[str, Any]:
    """A selector without empty operator lists (AWS answers only the operators that carry values)."""
    out: dict[str, Any] = {"Name": selector["Name"]} if selector.get("Name") else {}
    out["FieldSelectors"] = [
        {"Field": field["Field"], **{op: list(field[op]) for op in OPERATORS if field.get(op)}}
        for field in selector["FieldSelectors"]
    ]
    return out


def selectors_answer(doc: dict[str, Any]) -> dict[str, Any]:
    if doc["advanced_event_selectors"] is not None:
        return {"TrailARN": doc["trail_arn"], "AdvancedEventSelectors": doc["advanced_event_selectors"]}
    return {"TrailARN": doc["trail_arn"], "EventSelectors": doc["event_selectors"] or DEFAULT_SELECTORS}


@ops("PutEventSelectors")
def put_event_selectors(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    doc = trail_docs.find(ctx.store, params["trail_name"], ctx.account_id, ctx.region)
    home_only(doc, ctx.region)
    basic, advanced = ctx.wire_params.get("EventSelectors"), ctx.wire_params.get("AdvancedEventSelectors")
    if (basic is None) == (advanced is None):
        raise _invalid(
            "Specify either EventSelectors or AdvancedEventSelectors, but not both."
            if basic is not None
            else "You must specify EventSelectors or AdvancedEventSelectors."
        )
    if basic is not None:
        doc["event_selectors"], doc["advanced_event_selectors"] = check_basic(basic), None
    else:
        assert advanced is not None  # exactly one of the two is given
        doc["event_selectors"], doc["advanced_event_selectors"] = None, check_advanced(advanced)
    trail_docs.save(ctx.store, doc)
    return selectors_answer(doc)


@ops("GetEventSelectors")
def get_event_selectors(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    doc = trail_docs.find(ctx.store, params["trail_name"], ctx.account_id, ctx.region)
    return selectors_answer(doc)


def _insight_trail(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    if params.get("event_data_store") is not None or params.get("insights_destination") is not None:
        if params.get("trail_name") is not None:
            raise InvalidParameterCombinationException("Specify either TrailName or EventDataStore, not both.")
        raise InvalidParameterCombinationException(
            "Insights on event data stores need CloudTrail Lake, which trailpost does not serve; specify TrailName."
        )
    if params.get("trail_name") is None:
        raise InvalidParameterCombinationException("You must specify TrailName or EventDataStore.")
    return trail_docs.find(ctx.store, params["trail_name"], ctx.account_id, ctx.region)


@ops("PutInsightSelectors")
def put_insight_selectors(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    doc = _insight_trail(ctx, params)
    home_only(doc, ctx.region)
    selectors = ctx.wire_params.get("InsightSelectors") or []
    types = [selector.get("InsightType") for selector in selectors]
    if None in types or len(set(types)) != len(types):
        raise InvalidInsightSelectorsException("Each InsightType may appear once and must be given.")
    for selector in selectors:
        for category in selector.get("EventCategories") or []:
            if category not in ("Management", "Data"):
                raise InvalidInsightSelectorsException(f"Value {category} for EventCategories is invalid.")
    doc["insight_selectors"] = [dict(selector) for selector in selectors] or None
    trail_docs.save(ctx.store, doc)
    return {"TrailARN": doc["trail_arn"], "InsightSelectors": selectors}


@ops("GetInsightSelectors")
def get_insight_selectors(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    doc = _insight_trail(ctx, params)
    if not doc["insight_selectors"]:
        raise InsightNotEnabledException(f"Trail {doc['trail_arn']} does not have Insights enabled.")
    return {"TrailARN": doc["trail_arn"], "InsightSelectors": doc["insight_selectors"]}
