"""rest-xml round trips for every S3 operation trailpost serves, botocore as the oracle (no server).

Requests: botocore's serializer builds each request from a full sample input; the S3 router and
the rest-xml parser must give back the input (header map keys arrive lower-cased, as HTTP
delivers them). Responses: a full sample output serialized by trailpost must parse back in
botocore unchanged. Errors keep code, message, status and extra fields.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.protocol import samples
from tests.protocol.test_roundtrip import botocore_parse, botocore_request
from trailpost.protocol.errors import ServiceError
from trailpost.protocol.restxml import RestXmlRequestParser
from trailpost.protocol.specs import load_service_model
from trailpost.services import s3
from trailpost.services.s3.routing import S3Router

MODEL = load_service_model("s3")
SERVED = sorted(s3.ops.handlers)
# Patterned S3 shapes the shared sample table does not know (S3 only; additive).
samples.PATTERNED.setdefault("S3RegionalOrS3ExpressBucketArnString", ["arn:aws:s3:::amzn-bucket", "arn:aws:s3:::b2"])


def _lower_maps(value: Any, shape: Any) -> Any:
    if shape.type_name == "structure":
        out = {}
        for name, item in value.items():
            member = shape.members[name]
            if member.serialization.get("location") == "headers":
                item = {k.lower(): v for k, v in item.items()}
            out[name] = _lower_maps(item, member)
        return out
    return value


@pytest.mark.parametrize("name", SERVED)
def test_request_round_trip(name: str) -> None:
    operation = MODEL.operation_model(name)
    params = samples.sample_input(operation)
    if "Bucket" in params:
        params["Bucket"] = "round-trip-bucket"
    if "Key" in params:
        params["Key"] = "dir/sub dir/Zürich+&?=.txt"
    for member in ("ContentMD5", "ExpectedBucketOwner", "ChecksumAlgorithm"):
        params.pop(member, None)  # botocore computes or rewrites these
    request = botocore_request(operation, params)
    routed, labels = S3Router(MODEL).match(request)
    assert routed.name == name
    parsed = RestXmlRequestParser().parse(routed, request, labels)
    for member in list(parsed):
        if member.startswith("Checksum") and member not in params:
            parsed.pop(member)  # botocore adds its own checksum header
    expected = _lower_maps(_whole_seconds(params, operation.input_shape), operation.input_shape)
    assert _seconds(samples.normalize(parsed)) == _seconds(samples.normalize(expected))


def _seconds(value: Any) -> Any:
    """Instants floored to whole seconds (S3's rfc822 timestamps carry no milliseconds)."""
    if isinstance(value, tuple) and value[:1] == ("instant",):
        return ("instant", value[1] // 1000)
    if isinstance(value, dict):
        return {k: _seconds(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_seconds(v) for v in value]
    return value


@pytest.mark.parametrize("name", [n for n in SERVED if MODEL.operation_model(n).output_shape is not None])
def test_response_round_trip(name: str) -> None:
    operation = MODEL.operation_model(name)
    output = samples.sample_output(operation)
    response = s3.S3ResponseSerializer().serialize(operation, output)
    if name == "GetBucketLocation":  # botocore reads this bare root in a handler, not in its parser
        assert response.body.endswith(b'">' + output["LocationConstraint"].encode() + b"</LocationConstraint>")
        return
    parsed = botocore_parse(operation, response)
    parsed.pop("ResponseMetadata")
    if name == "GetObject":  # the streaming payload is the raw body
        assert response.body == output.pop("Body")
        parsed.pop("Body")
    assert samples.normalize(parsed) == samples.normalize(_whole_seconds(output, operation.output_shape))


def _whole_seconds(value: Any, shape: Any) -> Any:
    """Timestamps in headers and the query travel in RFC 1123 form: whole seconds."""
    out = {}
    for name, item in value.items():
        member = shape.members[name]
        if member.type_name == "timestamp" and member.serialization.get("location") in ("header", "querystring"):
            item = item.replace(microsecond=0)
        out[name] = item
    return out


@pytest.mark.parametrize(
    ("code", "status", "fields"),
    [
        ("NoSuchBucket", 404, {"BucketName": "b"}),
        ("NoSuchKey", 404, {"Key": "k"}),
        ("InvalidRange", 416, {"ActualObjectSize": "10"}),
        ("SignatureDoesNotMatch", 403, {}),
        ("MalformedPolicy", 400, {}),
    ],
)
def test_error_round_trip(code: str, status: int, fields: dict[str, str]) -> None:
    operation = MODEL.operation_model("GetObject")
    error = ServiceError(f'{code}: Zürich "quoted" <&>', code=code, status=status, fields=fields)
    response = s3.S3ResponseSerializer().serialize_error(MODEL, error, "0123456789ABCDEF")
    parsed = botocore_parse(operation, response)
    assert response.status == status
    assert parsed["Error"]["Code"] == code and parsed["Error"]["Message"] == error.message
    assert parsed["ResponseMetadata"]["RequestId"] == "0123456789ABCDEF"
    for name, value in fields.items():
        assert parsed["Error"][name] == value
