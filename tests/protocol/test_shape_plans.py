"""Compiled shape plans of the response body (``serializers._to_json``) and of validation's first pass.

Both compile a plan once per shape object and follow it on every call. These tests pin what the cache
must not change: a plan reused across calls, and one compiled for a fresh copy of the same model, give
the same output; recursive shapes (DynamoDB's ``AttributeValue``, from botocore's own data: botocore
builds a new ``Shape`` on each resolution, so the recursion never repeats an object) compile and
serialize; the ``full_match`` flag is part of validation's cache key; and input the first pass refuses
is reported by the full walk with AWS's exact messages. Structure walks that visit a value's keys
(``plans.Members``) keep the model's order, refuse a value that is not a mapping, and keep their
table of key tuples bounded.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import botocore.session
import orjson
import pytest
from botocore.model import ServiceModel

from tests.protocol.samples import sample_output
from trailpost.protocol import naming, plans
from trailpost.protocol.errors import SerializationException, ServiceError, ValidationException
from trailpost.protocol.naming import to_internal, to_wire
from trailpost.protocol.serializers import SERIALIZERS, _to_json, error_status
from trailpost.protocol.specs import load_service_model
from trailpost.protocol.validation import validate_input, validation_messages

OUTPOSTS = load_service_model("outposts")
CLOUDTRAIL = load_service_model("cloudtrail")
STS = load_service_model("sts")
DYNAMODB = botocore.session.get_session().get_service_model("dynamodb")

# A DynamoDB item nested four AttributeValues deep, with a blob (base64 in JSON) at the bottom.
ITEM = {
    "order": {
        "M": {
            "lines": {
                "L": [
                    {"M": {"qty": {"N": "2"}}},
                    {"M": {"sku": {"S": "a-1"}, "photo": {"B": b"xy"}}},
                ]
            }
        }
    }
}


def fresh(model: ServiceModel) -> ServiceModel:
    """A second model built from the same description: same shapes, none of them the same objects."""
    return ServiceModel(model._service_description, service_name=model.service_name)


def test_recursive_shape_serializes() -> None:
    shape = DYNAMODB.operation_model("PutItem").input_shape
    body = orjson.dumps(_to_json(shape, {"TableName": "orders", "Item": ITEM}))
    assert body == (
        b'{"TableName":"orders","Item":{"order":{"M":{"lines":{"L":[{"M":{"qty":{"N":"2"}}},'
        b'{"M":{"sku":{"S":"a-1"},"photo":{"B":"eHk="}}}]}}}}}'
    )


def test_recursive_shape_validates() -> None:
    shape = DYNAMODB.operation_model("PutItem").input_shape
    assert validation_messages(shape, {"TableName": "orders", "Item": ITEM}) == []
    bad = {"TableName": "orders", "Item": {"order": {"M": {"lines": {"L": [{"M": {"qty": {"N": 2}}}]}}}}}
    with pytest.raises(SerializationException) as caught:
        validate_input(shape, bad)
    assert caught.value.message == "Unexpected value type for 'item.m.l.1.member.m.n': expected string, got int"
    nested_enum = {"TableName": "orders", "Item": ITEM, "ReturnValues": "NOPE"}
    assert validation_messages(shape, nested_enum) == [
        "Value 'NOPE' at 'returnValues' failed to satisfy constraint: Member must satisfy enum value set: "
        "[NONE, ALL_OLD, UPDATED_OLD, ALL_NEW, UPDATED_NEW]"
    ]


@pytest.mark.parametrize("model", [OUTPOSTS, CLOUDTRAIL], ids=lambda model: model.service_name)
def test_plans_reused_and_fresh_agree(model: ServiceModel) -> None:
    other = fresh(model)
    for name in model.operation_names:
        shape, fresh_shape = model.operation_model(name).output_shape, other.operation_model(name).output_shape
        if shape is None:
            continue
        for variant in (0, 1):
            value = sample_output(model.operation_model(name), variant)
            first = orjson.dumps(_to_json(shape, value))
            assert orjson.dumps(_to_json(shape, value)) == first, name
            assert orjson.dumps(_to_json(fresh_shape, value)) == first, name


def test_timestamps_in_lists_are_java_doubles() -> None:
    shape = CLOUDTRAIL.operation_model("LookupEvents").output_shape
    events = [
        {"EventId": "1", "EventTime": datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)},
        {"EventId": "2", "EventTime": 1704164645.5, "Resources": [{"ResourceName": "r"}]},
        None,
    ]
    assert orjson.dumps(_to_json(shape, {"Events": events, "NextToken": None})) == (
        b'{"Events":[{"EventId":"1","EventTime":1.704164645678E9},'
        b'{"EventId":"2","EventTime":1.7041646455E9,"Resources":[{"ResourceName":"r"}]},null]}'
    )


def test_rest_json_headers_and_body_follow_the_layout() -> None:
    operation = OUTPOSTS.operation_model("GetSite")
    response = SERIALIZERS["rest-json"]().serialize(operation, {"Site": {"SiteId": "os-1", "Unmodeled": 1}})
    assert response.status == 200
    assert orjson.loads(response.body) == {"Site": {"SiteId": "os-1"}}


def test_error_status_and_fields_come_from_the_model() -> None:
    error = ServiceError("gone", code="NotFoundException", status=400)
    assert error_status(OUTPOSTS, error) == 404
    assert error_status(OUTPOSTS, error) == 404  # cached per model and code
    assert error_status(None, error) == 400
    unmodeled = ServiceError("x", code="NoSuchCode", status=409, fields={"When": 1})
    response = SERIALIZERS["json"]().serialize_error(CLOUDTRAIL, unmodeled)
    assert (response.status, orjson.loads(response.body)) == (409, {"__type": "NoSuchCode", "message": "x", "When": 1})


def test_error_code_naming_a_scalar_shape_serializes() -> None:
    # ``SiteId`` is a string shape of the model, not an error: its fields are written as they are.
    error = ServiceError("odd", code="SiteId", status=400, fields={"Extra": [1]})
    response = SERIALIZERS["rest-json"]().serialize_error(OUTPOSTS, error)
    assert (response.status, orjson.loads(response.body)) == (400, {"__type": "SiteId", "message": "odd", "Extra": [1]})


def test_full_match_is_part_of_the_validation_plan() -> None:
    shape = STS.operation_model("AssumeRole").input_shape
    params: dict[str, Any] = {"RoleArn": "arn:aws:iam::123456789012:role/r", "RoleSessionName": "Session1:2"}
    expected = (
        "Value 'Session1:2' at 'roleSessionName' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [\\w+=,.@-]*"
    )
    for _ in range(2):  # either order, twice: the two plans never share a cache entry
        assert validation_messages(shape, params) == []
        assert validation_messages(shape, params, full_match=True) == [expected]
    with pytest.raises(ValidationException) as caught:
        validate_input(shape, params, full_match=True)
    assert caught.value.message == f"1 validation error detected: {expected}"


def test_refused_input_gets_every_message_in_model_order() -> None:
    shape = OUTPOSTS.operation_model("CreateSite").input_shape
    valid = {"Name": "ok", "Tags": {"team": "infra"}}
    assert validation_messages(shape, valid) == []
    params = {
        "Name": "",
        "Tags": {"aws:x": "v", "ok": "y" * 300},
        "OperatingAddress": {"City": "Seattle", "CountryCode": "usa"},
    }
    assert validation_messages(shape, params) == [
        "Value '' at 'name' failed to satisfy constraint: Member must have length greater than or equal to 1",
        "Value '' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[\\S ]+$",
        "Value '{aws:x=v, ok=" + "y" * 300 + "}' at 'tags' failed to satisfy constraint: Map keys must satisfy "
        "constraint: [Member must satisfy regular expression pattern: ^(?!aws:)[a-zA-Z+-=._:/]+$]",
        "Value '{aws:x=v, ok=" + "y" * 300 + "}' at 'tags' failed to satisfy constraint: Map value must satisfy "
        "constraint: [Member must have length less than or equal to 256]",
        "Value null at 'operatingAddress.contactName' failed to satisfy constraint: Member must not be null",
        "Value null at 'operatingAddress.contactPhoneNumber' failed to satisfy constraint: Member must not be null",
        "Value null at 'operatingAddress.addressLine1' failed to satisfy constraint: Member must not be null",
        "Value null at 'operatingAddress.stateOrRegion' failed to satisfy constraint: Member must not be null",
        "Value null at 'operatingAddress.postalCode' failed to satisfy constraint: Member must not be null",
        "Value at 'operatingAddress.countryCode' failed to satisfy constraint: "
        "Member must have length less than or equal to 2",
        "Value at 'operatingAddress.countryCode' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: ^[A-Z]{2}$",
    ]


@pytest.mark.parametrize(
    ("member", "value"),
    [
        ("MaxResults", True),  # a boolean is no integer to the model
        ("MaxResults", 1.0),
        ("StartTime", "2024-01-01"),
        ("LookupAttributes", {"AttributeKey": "EventName"}),
    ],
)
def test_type_mismatches_still_raise(member: str, value: Any) -> None:
    shape = CLOUDTRAIL.operation_model("LookupEvents").input_shape
    with pytest.raises(SerializationException):
        validation_messages(shape, {member: value})


def test_recursive_shape_converts_names_both_ways() -> None:
    shape = DYNAMODB.operation_model("PutItem").input_shape
    internal = to_internal(shape, {"TableName": "orders", "Item": ITEM})
    assert internal["table_name"] == "orders"
    assert internal["item"]["order"]["m"]["lines"]["l"][1]["m"]["photo"] == {"b": b"xy"}
    assert to_wire(shape, internal) == {"TableName": "orders", "Item": ITEM}


def test_structure_walks_follow_the_model_order_whatever_the_keys_order() -> None:
    """The walk visits the keys a value has (``plans.Members``), in model order, for each key order
    a provider's dicts come in; snake_case keys win over wire names, a ``None`` one falls back; keys
    the model does not declare are dropped."""
    shape = OUTPOSTS.operation_model("GetSite").output_shape.members["Site"]
    given = {"notes": "n", "Name": "a", "site_id": "os-0123456789abcdef0", "internal": 1, "account_id": None}
    for keys in (list(given), list(reversed(given))):
        value = {key: given[key] for key in keys}
        value["AccountId"] = "123456789012"
        wire = to_wire(shape, value)
        assert list(wire) == ["SiteId", "AccountId", "Name", "Notes"]
        assert wire["AccountId"] == "123456789012"
        assert list(_to_json(shape, wire)) == ["SiteId", "AccountId", "Name", "Notes"]
    assert to_wire(shape, {"site_id": "os-0123456789abcdef0"}) == {"SiteId": "os-0123456789abcdef0"}


def test_a_structure_that_is_not_a_mapping_is_refused() -> None:
    """A corrupt stored document (a list where a Site should be) fails the call, never answers ``{}``."""
    shape = OUTPOSTS.operation_model("GetSite").output_shape
    with pytest.raises(TypeError, match="must be a mapping, not list"):
        to_wire(shape, {"site": [1, 2, 3]})
    with pytest.raises(TypeError, match="must be a mapping, not list"):
        _to_json(shape, {"Site": [1, 2, 3]})


def test_the_table_of_key_tuples_is_bounded() -> None:
    """Dicts whose keys vary without end do not grow a structure's table for ever."""
    shape = OUTPOSTS.operation_model("GetSite").output_shape.members["Site"]
    for n in range(1000):
        assert to_wire(shape, {f"extra_{n}": n, "name": "a"}) == {"Name": "a"}
    members = naming._plan(shape)[1]
    assert 0 < len(members._steps) <= plans._STEPS_MAX
