"""Server-side validation in AWS's (Coral's) wording: lengths, patterns, enums, ranges, required members,
nested paths, list indexes, map keys and values, sensitive values, error counts, and type mismatches.

The messages asserted here are AWS's exact forms, e.g. ``1 validation error detected: Value null at 'name'
failed to satisfy constraint: Member must not be null``.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.protocol.samples import ARN_OUTPOST, sample_input
from trailpost.http import HttpRequest
from trailpost.protocol.errors import SerializationException, ValidationException
from trailpost.protocol.parsers import PARSERS
from trailpost.protocol.routing import RestRouter
from trailpost.protocol.specs import load_service_model
from trailpost.protocol.validation import MAX_REPORTED, compile_pattern, validate_input, validation_messages

OUTPOSTS = load_service_model("outposts")
CLOUDTRAIL = load_service_model("cloudtrail")
TAG_KEY = r"^(?!aws:)[a-zA-Z+-=._:/]+$"


def message(operation: str, params: dict[str, Any], model: Any = OUTPOSTS) -> str:
    with pytest.raises(ValidationException) as caught:
        validate_input(model.operation_model(operation).input_shape, params)
    assert caught.value.status == 400
    return caught.value.message


def one(text: str) -> str:
    return f"1 validation error detected: {text}"


def test_valid_input_passes() -> None:
    for name in OUTPOSTS.operation_names:
        operation = OUTPOSTS.operation_model(name)
        validate_input(operation.input_shape, sample_input(operation))


def test_too_long() -> None:
    assert message("UpdateSite", {"SiteId": "os-0123456789abcdef0", "Notes": "n" * 2001}) == one(
        f"Value '{'n' * 2001}' at 'notes' failed to satisfy constraint: "
        "Member must have length less than or equal to 2000"
    )


def test_too_short_and_pattern_are_two_errors() -> None:
    assert message("CreateSite", {"Name": ""}) == (
        "2 validation errors detected: "
        "Value '' at 'name' failed to satisfy constraint: Member must have length greater than or equal to 1; "
        "Value '' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[\\S ]+$"
    )


def test_pattern() -> None:
    assert message("GetSite", {"SiteId": "site-1"}) == one(
        "Value 'site-1' at 'siteId' failed to satisfy constraint: Member must satisfy regular expression pattern: "
        "^(arn:aws([a-z-]+)?:outposts:[a-z\\d-]+:\\d{12}:site/)?(os-[a-f0-9]{17})$"
    )


def test_pattern_end_anchor_does_not_accept_a_trailing_newline() -> None:
    assert "regular expression pattern" in message("GetOutpost", {"OutpostId": "op-0123456789abcdef0\n"})
    assert "regular expression pattern" in message("CreateSite", {"Name": "Site\n"})


def test_arn_is_accepted_where_the_pattern_allows_it() -> None:
    validate_input(OUTPOSTS.operation_model("GetOutpost").input_shape, {"OutpostId": ARN_OUTPOST})


def test_enum() -> None:
    params = {"SiteId": "os-0123456789abcdef0", "AddressType": "HOME"}
    assert message("GetSiteAddress", params) == one(
        "Value 'HOME' at 'addressType' failed to satisfy constraint: "
        "Member must satisfy enum value set: [SHIPPING_ADDRESS, OPERATING_ADDRESS]"
    )


def test_min_and_max_value() -> None:
    assert message("ListSites", {"MaxResults": 0}) == one(
        "Value '0' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 1"
    )
    assert message("ListSites", {"MaxResults": 1001}) == one(
        "Value '1001' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 1000"
    )
    validate_input(OUTPOSTS.operation_model("ListSites").input_shape, {"MaxResults": 1000})


def test_missing_required() -> None:
    assert message("CreateSite", {}) == one(
        "Value null at 'name' failed to satisfy constraint: Member must not be null"
    )
    assert message("CreateOutpost", {"Name": "o"}) == one(
        "Value null at 'siteId' failed to satisfy constraint: Member must not be null"
    )


def test_explicit_null_counts_as_missing() -> None:
    assert message("CreateSite", {"Name": None}) == one(
        "Value null at 'name' failed to satisfy constraint: Member must not be null"
    )


def test_nested_paths_and_sensitive_values_are_not_echoed() -> None:
    address = {
        "ContactName": "Jane",
        "ContactPhoneNumber": "+12065550100",
        "AddressLine1": "1 Main St",
        "City": " secret-city",
        "StateOrRegion": "WA",
        "PostalCode": "98101",
        "CountryCode": "US",
    }
    text = message("CreateSite", {"Name": "s", "OperatingAddress": address})
    assert text == one(
        "Value at 'operatingAddress.city' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: ^\\S[\\S ]*$"
    )
    assert "secret-city" not in text


def test_nested_required_member() -> None:
    address = {
        "ContactName": "Jane",
        "ContactPhoneNumber": "+12065550100",
        "AddressLine1": "1 Main St",
        "City": "Seattle",
        "StateOrRegion": "WA",
        "PostalCode": "98101",
    }
    params = {"SiteId": "os-0123456789abcdef0", "AddressType": "SHIPPING_ADDRESS", "Address": address}
    assert message("UpdateSiteAddress", params) == one(
        "Value null at 'address.countryCode' failed to satisfy constraint: Member must not be null"
    )


def test_sensitive_string_is_not_echoed() -> None:
    text = message("CreateQuote", {"CountryCode": "US", "RequestedCapacities": [], "Description": "secret\x00" * 200})
    assert text == one(
        "Value at 'description' failed to satisfy constraint: Member must have length less than or equal to 1024"
    )


def test_list_indexes_are_one_based_with_member() -> None:
    params = {"ResourceArn": ARN_OUTPOST, "TagKeys": ["ok", "aws:reserved"]}
    assert message("UntagResource", params) == one(
        f"Value 'aws:reserved' at 'tagKeys.2.member' failed to satisfy constraint: "
        f"Member must satisfy regular expression pattern: {TAG_KEY}"
    )
    items = [{"CatalogItemId": "OR-ABCDEF1", "Quantity": 1}, {"CatalogItemId": "OR-ABCDEF1", "Quantity": 0}]
    params = {"OutpostIdentifier": "op-0123456789abcdef0", "PaymentOption": "NO_UPFRONT", "LineItems": items}
    assert message("CreateOrder", params) == one(
        "Value '0' at 'lineItems.2.member.quantity' failed to satisfy constraint: "
        "Member must have value greater than or equal to 1"
    )


def test_list_length() -> None:
    assert message("ListOutposts", {"LifeCycleStatusFilter": ["ACTIVE"] * 6}) == one(
        "Value '[ACTIVE, ACTIVE, ACTIVE, ACTIVE, ACTIVE, ACTIVE]' at 'lifeCycleStatusFilter' failed to satisfy "
        "constraint: Member must have length less than or equal to 5"
    )


def test_map_key_and_value_constraints() -> None:
    tags = {"aws:owner": "x", "ok": ""}
    assert message("TagResource", {"ResourceArn": ARN_OUTPOST, "Tags": tags}) == (
        "2 validation errors detected: "
        "Value '{aws:owner=x, ok=}' at 'tags' failed to satisfy constraint: Map keys must satisfy constraint: "
        f"[Member must satisfy regular expression pattern: {TAG_KEY}]; "
        "Value '{aws:owner=x, ok=}' at 'tags' failed to satisfy constraint: Map value must satisfy constraint: "
        "[Member must satisfy regular expression pattern: ^[\\S \\n]+$]"
    )


def test_map_key_with_two_violations_lists_both_sorted() -> None:
    tags = {"k" * 129 + "!": "v"}
    text = message("TagResource", {"ResourceArn": ARN_OUTPOST, "Tags": tags})
    assert text.endswith(
        "Map keys must satisfy constraint: [Member must have length less than or equal to 128, "
        f"Member must satisfy regular expression pattern: {TAG_KEY}]"
    )


def test_map_size() -> None:
    tags = {f"k{i}": "v" for i in range(51)}
    assert "Member must have length less than or equal to 50" in message(
        "TagResource", {"ResourceArn": ARN_OUTPOST, "Tags": tags}
    )
    assert "Member must have length greater than or equal to 1" in message(
        "TagResource", {"ResourceArn": ARN_OUTPOST, "Tags": {}}
    )


def test_multiple_errors_are_counted_and_at_most_ten_shown() -> None:
    params = {"Name": "", "Description": "", "Notes": "", "Tags": {}}
    text = message("CreateSite", params)
    assert text.startswith("7 validation errors detected: ")  # min length and pattern of 3 strings, map size
    assert text.count("failed to satisfy constraint") == 7
    assert text.endswith(
        "Value '{}' at 'tags' failed to satisfy constraint: Member must have length greater than or equal to 1"
    )

    capacities = [{"QuoteCapacityType": "BOGUS", "Unit": "TB"} for _ in range(12)]
    errors = validation_messages(
        OUTPOSTS.operation_model("CreateQuote").input_shape, {"CountryCode": "US", "RequestedCapacities": capacities}
    )
    text = message("CreateQuote", {"CountryCode": "US", "RequestedCapacities": capacities})
    assert len(errors) > MAX_REPORTED
    assert text.startswith(f"{len(errors)} validation errors detected: ")
    assert text.count("failed to satisfy constraint") == MAX_REPORTED


@pytest.mark.parametrize(
    ("operation", "params", "path"),
    [
        ("CreateSite", {"Name": 5}, "name"),
        ("CreateSite", {"Name": "s", "Tags": ["a"]}, "tags"),
        ("CreateSite", {"Name": "s", "OperatingAddress": "1 Main St"}, "operatingAddress"),
        ("ListSites", {"MaxResults": "5"}, "maxResults"),
        ("ListSites", {"MaxResults": True}, "maxResults"),
        ("ListSites", {"MaxResults": 1.5}, "maxResults"),
        (
            "StartOutpostDecommission",
            {"OutpostIdentifier": "op-0123456789abcdef0", "ValidateOnly": "yes"},
            "validateOnly",
        ),
        ("UntagResource", {"ResourceArn": ARN_OUTPOST, "TagKeys": "a"}, "tagKeys"),
        ("UntagResource", {"ResourceArn": ARN_OUTPOST, "TagKeys": [1]}, "tagKeys.1.member"),
    ],
)
def test_type_mismatch_is_a_serialization_exception(operation: str, params: dict[str, Any], path: str) -> None:
    with pytest.raises(SerializationException) as caught:
        validate_input(OUTPOSTS.operation_model(operation).input_shape, params)
    assert f"'{path}'" in caught.value.message
    assert caught.value.status == 400


def _rest_request(method: str, path: str, query: str = "", body: bytes = b"") -> dict[str, Any]:
    request = HttpRequest(method, path, query, {"content-type": "application/json"}, body)
    operation, labels = RestRouter(OUTPOSTS).match(request)
    return PARSERS["rest-json"]().parse(operation, request, labels)


def test_wire_type_mismatches_are_serialization_exceptions() -> None:
    with pytest.raises(SerializationException):
        _rest_request("GET", "/sites", "MaxResults=ten")
    with pytest.raises(SerializationException):
        _rest_request("POST", "/sites", body=b"{not json")
    with pytest.raises(SerializationException):
        _rest_request("POST", "/sites", body=b"[1, 2]")
    wire = _rest_request("POST", "/sites", body=b'{"Name": 7}')
    with pytest.raises(SerializationException):
        validate_input(OUTPOSTS.operation_model("CreateSite").input_shape, wire)


def test_cloudtrail_json_body_is_validated_with_the_same_rules() -> None:
    text = message("LookupEvents", {"MaxResults": 51, "LookupAttributes": [{"AttributeKey": "Bogus"}]}, CLOUDTRAIL)
    assert text.startswith("3 validation errors detected: ")
    assert "Value null at 'lookupAttributes.1.member.attributeValue'" in text
    assert "Value 'Bogus' at 'lookupAttributes.1.member.attributeKey'" in text
    assert (
        "Value '51' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 50"
        in text
    )


# -- model patterns written in Java syntax ---------------------------------------------------------------


@pytest.mark.parametrize("service", ["outposts", "cloudtrail", "iam", "sts", "s3"])
def test_every_model_pattern_compiles(service: str) -> None:
    model = load_service_model(service)
    for name in model.shape_names:
        pattern = model.shape_for(name).metadata.get("pattern")
        if pattern:
            compile_pattern(pattern)


def test_surrogate_pair_escapes_mean_astral_characters() -> None:
    pattern = compile_pattern(CLOUDTRAIL.shape_for("PartitionKeyName").metadata["pattern"])
    assert pattern.fullmatch("eventTime\t\U0001f600\U0010ffff")
    assert not pattern.fullmatch("bad\x01")


def test_unicode_property_classes() -> None:
    pattern = compile_pattern(load_service_model("iam").shape_for("tagKeyType").metadata["pattern"])
    assert pattern.fullmatch("Zürich 東京 1_.:/=+-@")
    assert not pattern.fullmatch("a!b")
    assert compile_pattern(r"^\P{L}+$").fullmatch("123 !")
    assert not compile_pattern(r"^\P{L}+$").fullmatch("12a")
