"""CloudTrail's own input checks, which answer with its modeled errors instead of a generic ValidationException.

CloudTrail does not report constraint violations in the Coral ``ValidationException`` form: a
LookupEvents request with ``MaxResults`` 51 is ``InvalidMaxResultsException``, an unknown
attribute key ``InvalidLookupAttributesException`` (botocore checks neither: no ``max``, ``enum``
or list length on the client). ``check_input`` runs the checks of the parsed
operation, as the gateway's service input check, before the generic model validation, so they win;
the parameters are already read, so the failed call's record shows them.

Rules (LookupEvents):

* ``LookupAttributes``: at most one item (the documentation's "currently the list can contain
  only one item"); the key one of the eight; the value 1-2000 characters where ``_``, space,
  ``,`` and newline count twice (the model's documented rule); ``ReadOnly`` takes ``true`` or
  ``false`` (any letter case);
* with ``EventCategory`` ``insight``, only EventId, EventName and EventSource (the API reference);
* ``MaxResults``: 1-50;
* ``EventCategory``: ``insight``.

Rules (tags, CreateTrail / AddTags / RemoveTags): each tag as ``tags.check_tag_list`` requires
(``InvalidTagParameterException``), and at most 50 in one CreateTrail or AddTags
(``TagsLimitExceededException``), before the model's own ``max`` of 200 would answer otherwise.

A value of the wrong JSON type is left to the generic validation (``SerializationException``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.model import OperationModel

from trailpost.services.cloudtrail.errors import (
    InvalidEventCategoryException,
    InvalidLookupAttributesException,
    InvalidMaxResultsException,
    TagsLimitExceededException,
)
from trailpost.services.cloudtrail.tags import MAX_TAGS, check_tag_list

LOOKUP_KEYS = (
    "EventId",
    "EventName",
    "ReadOnly",
    "Username",
    "ResourceType",
    "ResourceName",
    "EventSource",
    "AccessKeyId",
)
INSIGHT_KEYS = ("EventId", "EventName", "EventSource")
MAX_VALUE_LENGTH = 2000
DOUBLED = frozenset("_ ,\n")
MAX_RESULTS = (1, 50)
EVENT_CATEGORIES = ("insight",)


def weighted_length(value: str) -> int:
    """The length CloudTrail counts for an attribute value: ``_``, space, ``,`` and newline count twice."""
    return len(value) + sum(1 for char in value if char in DOUBLED)


def check_lookup_events(params: dict[str, Any]) -> None:
    """Raise LookupEvents' modeled error for the first invalid member of ``params`` (wire names)."""
    attributes = params.get("LookupAttributes")
    if isinstance(attributes, list):
        if len(attributes) > 1:
            raise InvalidLookupAttributesException(
                f"You can specify only one lookup attribute; the request has {len(attributes)}."
            )
        for attribute in attributes:
            if isinstance(attribute, dict):
                _check_attribute(attribute)
                key = attribute.get("AttributeKey")
                if params.get("EventCategory") == "insight" and key in LOOKUP_KEYS and key not in INSIGHT_KEYS:
                    raise InvalidLookupAttributesException(
                        f"The lookup attribute {key} is not supported for Insights events. "
                        f"Supported: {', '.join(INSIGHT_KEYS)}."
                    )
    max_results = params.get("MaxResults")
    if isinstance(max_results, int) and not isinstance(max_results, bool):
        low, high = MAX_RESULTS
        if not low <= max_results <= high:
            raise InvalidMaxResultsException(
                f"Value {max_results} for MaxResults is invalid. MaxResults must be between {low} and {high}."
            )
    category = params.get("EventCategory")
    if isinstance(category, str) and category not in EVENT_CATEGORIES:
        raise InvalidEventCategoryException(
            f"Value {category} for EventCategory is invalid. Valid values: {', '.join(EVENT_CATEGORIES)}."
        )


def _check_attribute(attribute: dict[str, Any]) -> None:
    key, value = attribute.get("AttributeKey"), attribute.get("AttributeValue")
    if not isinstance(key, str) or not isinstance(value, str):
        return  # missing or mistyped members: the generic validation reports them
    if key not in LOOKUP_KEYS:
        raise InvalidLookupAttributesException(
            f"Value {key} for AttributeKey is invalid. Valid keys: {', '.join(LOOKUP_KEYS)}."
        )
    if not value:
        raise InvalidLookupAttributesException(f"The AttributeValue for {key} must not be empty.")
    if weighted_length(value) > MAX_VALUE_LENGTH:
        raise InvalidLookupAttributesException(
            f"The AttributeValue for {key} is longer than {MAX_VALUE_LENGTH} characters "
            "('_', ' ', ',' and newline count as two)."
        )
    if key == "ReadOnly" and value.lower() not in ("true", "false"):
        raise InvalidLookupAttributesException(f"Value {value} for ReadOnly is invalid. Valid values: true, false.")


def check_tags(params: dict[str, Any]) -> None:
    """The tag rules of CreateTrail, AddTags and RemoveTags (wire names)."""
    tags = params.get("TagsList")
    if not isinstance(tags, list) or not all(isinstance(tag, dict) for tag in tags):
        return  # missing or mistyped: the generic validation reports it
    check_tag_list(tags)


def check_added_tags(params: dict[str, Any]) -> None:
    tags = params.get("TagsList")
    if isinstance(tags, list) and len(tags) > MAX_TAGS:
        raise TagsLimitExceededException(
            f"The number of tags per trail has exceeded the permitted amount. Currently, the limit is {MAX_TAGS}."
        )
    check_tags(params)


CHECKS: dict[str, Callable[[dict[str, Any]], None]] = {
    "LookupEvents": check_lookup_events,
    "CreateTrail": check_added_tags,
    "AddTags": check_added_tags,
    "RemoveTags": check_tags,
}


def check_input(operation: OperationModel, params: dict[str, Any]) -> None:
    """The gateway's service input check (``ServiceBinding.check_input``): CloudTrail's checks of ``operation``."""
    check = CHECKS.get(operation.name)
    if check is not None:
        check(params)
