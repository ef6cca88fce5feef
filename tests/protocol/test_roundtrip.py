"""Protocol round trips for every Outposts (rest-json) and CloudTrail (json) operation, botocore as the oracle.

Request direction: botocore's own serializer builds the wire request (final URL via ``prepare_request_dict``
and ``AWSRequest.prepare()``), trailpost routes and parses it, and the parsed params must equal the input.
Response direction: trailpost serializes a full output, botocore's response parser must read back exactly
it. Errors: every modeled error plus unmodeled ones keep code, message, HTTP status and modeled members.
No HTTP server is involved; these tests pin the wire layer alone.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlsplit

import botocore.session
import pytest
from botocore.awsrequest import AWSResponse, create_request_object, prepare_request_dict
from botocore.endpoint import convert_to_response_dict
from botocore.model import OperationModel, ServiceModel
from botocore.parsers import create_parser
from botocore.serialize import create_serializer

from tests.protocol.samples import ARN_OUTPOST, normalize, sample_input, sample_output, sample_value
from trailpost.http import HttpRequest, HttpResponse
from trailpost.protocol.errors import ServiceError
from trailpost.protocol.naming import to_internal, to_wire
from trailpost.protocol.parsers import PARSERS
from trailpost.protocol.routing import RestRouter, target_operation
from trailpost.protocol.serializers import SERIALIZERS
from trailpost.protocol.specs import load_service_model
from trailpost.protocol.validation import validation_messages

ENDPOINT = "http://127.0.0.1:4566"
OUTPOSTS = load_service_model("outposts")
CLOUDTRAIL = load_service_model("cloudtrail")
MODELS = {"outposts": OUTPOSTS, "cloudtrail": CLOUDTRAIL}
CASES = [(service, name) for service, model in MODELS.items() for name in model.operation_names]


# -- helpers: botocore's wire <-> trailpost ------------------------------------------------------------


def botocore_request(operation: OperationModel, params: dict[str, Any]) -> HttpRequest:
    """``params`` exactly as botocore puts them on the wire, as the gateway's ``HttpRequest``."""
    serializer = create_serializer(operation.service_model.protocol, include_validation=True)
    request_dict = serializer.serialize_to_request(params, operation)
    prepare_request_dict(request_dict, endpoint_url=ENDPOINT)
    return _as_http_request(create_request_object(request_dict).prepare())


def _as_http_request(prepared: Any) -> HttpRequest:
    url = urlsplit(prepared.url)
    body = prepared.body or b""
    return HttpRequest(
        method=prepared.method,
        raw_path=url.path or "/",
        query_string=url.query,
        headers={k.lower(): v.decode() if isinstance(v, bytes) else v for k, v in prepared.headers.items()},
        body=body.encode() if isinstance(body, str) else bytes(body),
    )


def trailpost_parse(model: ServiceModel, request: HttpRequest) -> tuple[OperationModel, dict[str, Any]]:
    """Route and parse ``request`` as the gateway does (before validation)."""
    if model.protocol == "json":
        operation, labels = target_operation(model, request.headers.get("x-amz-target")), {}
    else:
        operation, labels = RestRouter(model).match(request)
    return operation, PARSERS[model.protocol]().parse(operation, request, labels)


class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Any:
        yield self.body


def botocore_parse(operation: OperationModel, response: HttpResponse) -> dict[str, Any]:
    """``response`` as a botocore client returns it, modeled error members included."""
    aws_response = AWSResponse(ENDPOINT, response.status, response.headers, _Raw(response.body))
    response_dict = convert_to_response_dict(aws_response, operation)
    parser = create_parser(operation.service_model.protocol)
    parsed = parser.parse(response_dict, operation.output_shape)
    code = parsed.get("Error", {}).get("Code")
    error_shape = operation.service_model.shape_for_error_code(code) if code else None
    if error_shape is not None:  # what botocore.endpoint does for modeled errors
        parsed.update(parser.parse(response_dict, error_shape))
    return parsed


# -- request direction ---------------------------------------------------------------------------------


@pytest.mark.parametrize("variant", [0, 1])
@pytest.mark.parametrize(("service", "name"), CASES)
def test_request_round_trip(service: str, name: str, variant: int) -> None:
    model = MODELS[service]
    operation = model.operation_model(name)
    params = sample_input(operation, variant)
    request = botocore_request(operation, params)

    routed, parsed = trailpost_parse(model, request)

    assert routed.name == name
    assert normalize(parsed) == normalize(params)
    assert validation_messages(operation.input_shape, parsed) == []


def test_arn_label_is_percent_encoded_on_the_wire_and_decoded_by_trailpost() -> None:
    operation = OUTPOSTS.operation_model("GetOutpost")
    request = botocore_request(operation, {"OutpostId": ARN_OUTPOST})
    assert request.raw_path == "/outposts/" + ARN_OUTPOST.replace(":", "%3A").replace("/", "%2F")
    _, parsed = trailpost_parse(OUTPOSTS, request)
    assert parsed == {"OutpostId": ARN_OUTPOST}


def test_tag_arn_label_and_repeated_tag_keys() -> None:
    operation = OUTPOSTS.operation_model("UntagResource")
    params = {"ResourceArn": ARN_OUTPOST, "TagKeys": ["a", "b c", "cost:center/x"]}
    request = botocore_request(operation, params)
    assert request.query_string == "tagKeys=a&tagKeys=b%20c&tagKeys=cost%3Acenter%2Fx"
    routed, parsed = trailpost_parse(OUTPOSTS, request)
    assert routed.name == "UntagResource"
    assert parsed == params


def test_utf8_and_reserved_characters_in_repeated_query_values() -> None:
    operation = OUTPOSTS.operation_model("ListSites")
    cities = ["São Paulo & Zürich+1 %2F", "東京", "a=b?c#d"]
    params = {"OperatingAddressCityFilter": cities, "NextToken": "12##x+y/z=", "MaxResults": 7}
    request = botocore_request(operation, params)
    assert request.query_string.count("OperatingAddressCityFilter=") == 3
    assert "%C3%A3" in request.query_string  # UTF-8, percent-encoded
    _, parsed = trailpost_parse(OUTPOSTS, request)
    assert parsed == params


def test_idempotency_token_is_auto_filled_by_the_client_and_parsed() -> None:
    session = botocore.session.get_session()
    client = session.create_client(
        "outposts", region_name="us-east-1", endpoint_url=ENDPOINT, aws_access_key_id="AKID", aws_secret_access_key="s"
    )
    captured: list[Any] = []

    def capture(request: Any, **_: Any) -> AWSResponse:
        captured.append(request)
        body = b'{"PaymentOption":"NO_UPFRONT","PaymentTerm":"ONE_YEAR","OutpostId":"op-0123456789abcdef0"}'
        return AWSResponse(request.url, 200, {"x-amzn-RequestId": "r"}, _Raw(body))

    client.meta.events.register("before-send.outposts.CreateRenewal", capture)
    result = client.create_renewal(PaymentOption="NO_UPFRONT", PaymentTerm="ONE_YEAR", OutpostIdentifier=ARN_OUTPOST)

    assert result["OutpostId"] == "op-0123456789abcdef0"
    routed, parsed = trailpost_parse(OUTPOSTS, _as_http_request(captured[0]))
    assert routed.name == "CreateRenewal"
    assert str(uuid.UUID(parsed["ClientToken"])) == parsed["ClientToken"]
    assert parsed["OutpostIdentifier"] == ARN_OUTPOST
    assert validation_messages(routed.input_shape, parsed) == []


def test_json_protocol_request_without_params_is_an_empty_object() -> None:
    operation = CLOUDTRAIL.operation_model("ListTrails")
    request = botocore_request(operation, {})
    assert request.raw_path == "/"
    assert request.headers["x-amz-target"] == "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.ListTrails"
    assert request.headers["content-type"] == "application/x-amz-json-1.1"
    routed, parsed = trailpost_parse(CLOUDTRAIL, request)
    assert (routed.name, parsed) == ("ListTrails", {})


# -- response direction --------------------------------------------------------------------------------


@pytest.mark.parametrize("variant", [0, 1])
@pytest.mark.parametrize(("service", "name"), CASES)
def test_response_round_trip(service: str, name: str, variant: int) -> None:
    model = MODELS[service]
    operation = model.operation_model(name)
    output = sample_output(operation, variant)
    # What a handler returns (snake_case) must convert back to exactly the wire names.
    assert to_wire(operation.output_shape, to_internal(operation.output_shape, output)) == output

    response = SERIALIZERS[model.protocol]().serialize(operation, output)
    parsed = botocore_parse(operation, response)

    metadata = parsed.pop("ResponseMetadata")
    assert metadata["HTTPStatusCode"] == 200
    assert normalize(parsed) == normalize(output)


@pytest.mark.parametrize(("service", "name"), CASES)
def test_empty_result_parses_as_empty_output(service: str, name: str) -> None:
    model = MODELS[service]
    operation = model.operation_model(name)
    response = SERIALIZERS[model.protocol]().serialize(operation, {})
    parsed = botocore_parse(operation, response)
    parsed.pop("ResponseMetadata")
    assert {k: v for k, v in parsed.items() if v not in ([], {})} == {}


def test_internal_names_convert_nested_and_keep_map_keys() -> None:
    operation = OUTPOSTS.operation_model("CreateSite")
    wire = sample_input(operation)
    internal = to_internal(operation.input_shape, wire)
    assert internal["operating_address"]["contact_phone_number"] == wire["OperatingAddress"]["ContactPhoneNumber"]
    assert internal["rack_physical_properties"]["power_draw_kva"] == wire["RackPhysicalProperties"]["PowerDrawKva"]
    assert set(internal["tags"]) == set(wire["Tags"]) == {"team", "cost:center/a"}
    leaked = {**internal, "internal_bookkeeping": 1}
    assert "internal_bookkeeping" not in str(to_wire(operation.input_shape, leaked))


# -- errors --------------------------------------------------------------------------------------------


def _error_cases() -> list[tuple[str, str]]:
    cases = [(service, shape.name) for service, model in MODELS.items() for shape in model.error_shapes]
    unmodeled = ["ThrottlingException", "InternalFailure", "UnrecognizedClientException"]
    return cases + [(service, code) for service in MODELS for code in unmodeled]


def _expected_status(model: ServiceModel, code: str) -> int:
    if code in model.shape_names and model.shape_for(code).metadata.get("exception"):
        modeled = model.shape_for(code).metadata.get("error", {}).get("httpStatusCode")
        if modeled:
            return int(modeled)
    return {"InternalFailure": 500, "UnrecognizedClientException": 403}.get(code, 400)


@pytest.mark.parametrize(("service", "code"), _error_cases())
def test_error_round_trip(service: str, code: str) -> None:
    model = MODELS[service]
    operation = model.operation_model(model.operation_names[0])
    fields: dict[str, Any] = {}
    if code in model.shape_names:
        shape = model.shape_for(code)
        fields = {name: sample_value(member) for name, member in shape.members.items() if name.lower() != "message"}
    status = _expected_status(model, code)
    error = ServiceError(f'{code} happened: Zürich "quoted" ✓', code=code, status=status, fields=fields)

    response = SERIALIZERS[model.protocol]().serialize_error(model, error)
    parsed = botocore_parse(operation, response)

    assert response.status == status
    assert parsed["Error"]["Code"] == code
    assert parsed["Error"]["Message"] == error.message
    assert parsed["ResponseMetadata"]["HTTPStatusCode"] == status
    for name, value in fields.items():
        assert parsed[name] == value


def test_conflict_exception_carries_resource_id_and_type() -> None:
    operation = OUTPOSTS.operation_model("DeleteOutpost")
    fields = {"ResourceId": "op-0123456789abcdef0", "ResourceType": "OUTPOST"}
    error = ServiceError("Outpost is busy", code="ConflictException", fields=fields)
    response = SERIALIZERS["rest-json"]().serialize_error(OUTPOSTS, error)
    parsed = botocore_parse(operation, response)
    assert response.status == 409
    assert response.headers["x-amzn-ErrorType"] == "ConflictException"
    assert (parsed["Error"]["Code"], parsed["ResourceId"], parsed["ResourceType"]) == (
        "ConflictException",
        "op-0123456789abcdef0",
        "OUTPOST",
    )


def test_json_error_names_code_in_type_and_uses_400() -> None:
    error = ServiceError("Unknown trail: t1", code="TrailNotFoundException")
    response = SERIALIZERS["json"]().serialize_error(CLOUDTRAIL, error)
    parsed = botocore_parse(CLOUDTRAIL.operation_model("GetTrail"), response)
    assert response.status == 400
    assert b'"__type":"TrailNotFoundException"' in response.body
    assert parsed["Error"] == {"Code": "TrailNotFoundException", "Message": "Unknown trail: t1"}


# -- completeness --------------------------------------------------------------------------------------


def test_every_outposts_operation_has_a_handler() -> None:
    """Fails when the pinned model gains an operation (or loses a handler) trailpost does not serve."""
    from trailpost.services.registry import build_services  # the services, not the wire layer, may be in flux

    served = {binding.name: binding for binding in build_services()}
    handlers = set(served["outposts"].handlers)
    missing = sorted(set(OUTPOSTS.operation_names) - handlers)
    assert missing == [], f"Outposts operations without a handler: {missing}"
    assert len(OUTPOSTS.operation_names) == 45
