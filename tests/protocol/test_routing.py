"""Routing: every Outposts REST route, method and literal precedence, encoded labels, unknown routes,
malformed percent-encoding, tie-breaking on required members (S3), and json ``X-Amz-Target`` dispatch.

Requests are built by hand here (raw path and query exactly as they would arrive), so the router is
tested independently of botocore's serializer (``test_roundtrip`` covers what botocore sends).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from botocore.model import ServiceModel

from tests.protocol.samples import ARN_OUTPOST, ARN_SITE, sample_input
from trailpost.http import HttpRequest, MalformedEncoding
from trailpost.protocol.errors import UnknownOperationException
from trailpost.protocol.routing import RestRouter, target_operation
from trailpost.protocol.specs import load_service_model

OUTPOSTS = load_service_model("outposts")
CLOUDTRAIL = load_service_model("cloudtrail")
ROUTER = RestRouter(OUTPOSTS)
OP = "op-0123456789abcdef0"
SITE = "os-0123456789abcdef0"
CAP = "cap-0123456789abcdef0"
TARGET = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101"


def route(method: str, path: str, query: str = "", router: RestRouter = ROUTER, **headers: str) -> tuple[str, Any]:
    operation, labels = router.match(HttpRequest(method, path, query, dict(headers)))
    return operation.name, labels


def unknown(method: str, path: str, query: str = "", router: RestRouter = ROUTER) -> UnknownOperationException:
    with pytest.raises(UnknownOperationException) as caught:
        router.match(HttpRequest(method, path, query))
    return caught.value


@pytest.mark.parametrize("variant", [0, 1])
@pytest.mark.parametrize("name", OUTPOSTS.operation_names)
def test_every_outposts_route(name: str, variant: int) -> None:
    operation = OUTPOSTS.operation_model(name)
    params = sample_input(operation, variant)
    path = operation.http["requestUri"].split("?")[0]
    expected = {}
    for member_name, member in operation.input_shape.members.items() if operation.input_shape else ():
        if member.serialization.get("location") == "uri":
            wire = member.serialization.get("name", member_name)
            path = path.replace("{" + wire + "}", quote(params[member_name], safe=""))
            expected[wire] = params[member_name]

    assert route(operation.http["method"], path) == (name, expected)


def test_all_45_outposts_routes_are_distinct() -> None:
    templates = {
        (OUTPOSTS.operation_model(n).http["method"], OUTPOSTS.operation_model(n).http["requestUri"])
        for n in OUTPOSTS.operation_names
    }
    assert len(templates) == len(OUTPOSTS.operation_names) == 45


def test_singular_outpost_routes() -> None:
    assert route("GET", f"/outpost/{OP}/billing-information") == (
        "GetOutpostBillingInformation",
        {"OutpostIdentifier": OP},
    )
    assert route("GET", f"/outpost/{OP}/renewal-pricing") == ("GetRenewalPricing", {"OutpostIdentifier": OP})
    unknown("GET", f"/outposts/{OP}/billing-information")
    unknown("GET", f"/outpost/{OP}")
    assert route("GET", "/list-orders") == ("ListOrders", {})
    unknown("GET", "/orders")


@pytest.mark.parametrize(
    ("method", "path", "operation"),
    [
        ("GET", f"/tags/{quote(ARN_OUTPOST, safe='')}", "ListTagsForResource"),
        ("POST", f"/tags/{quote(ARN_OUTPOST, safe='')}", "TagResource"),
        ("DELETE", f"/tags/{quote(ARN_OUTPOST, safe='')}", "UntagResource"),
        ("GET", f"/outposts/{OP}", "GetOutpost"),
        ("PATCH", f"/outposts/{OP}", "UpdateOutpost"),
        ("DELETE", f"/outposts/{OP}", "DeleteOutpost"),
        ("GET", f"/outposts/{OP}/capacity/{CAP}", "GetCapacityTask"),
        ("POST", f"/outposts/{OP}/capacity/{CAP}", "CancelCapacityTask"),
        ("POST", f"/outposts/{OP}/capacity", "StartCapacityTask"),
        ("GET", f"/sites/{SITE}", "GetSite"),
        ("PATCH", f"/sites/{SITE}", "UpdateSite"),
        ("DELETE", f"/sites/{SITE}", "DeleteSite"),
        ("GET", f"/sites/{SITE}/address", "GetSiteAddress"),
        ("PUT", f"/sites/{SITE}/address", "UpdateSiteAddress"),
        ("GET", "/sites", "ListSites"),
        ("POST", "/sites", "CreateSite"),
        ("GET", "/catalog/items", "ListCatalogItems"),
        ("GET", "/catalog/item/OR-ABCDEF1", "GetCatalogItem"),
    ],
)
def test_same_path_different_methods(method: str, path: str, operation: str) -> None:
    assert route(method, path)[0] == operation


def test_unsupported_method_on_a_known_path_is_unknown() -> None:
    error = unknown("PUT", f"/sites/{SITE}")
    assert (error.code, error.status) == ("UnknownOperationException", 404)
    unknown("PATCH", "/sites")
    unknown("HEAD", "/sites")


def _model(operations: dict[str, str]) -> ServiceModel:
    shapes: dict[str, Any] = {"S": {"type": "string"}}
    ops: dict[str, Any] = {}
    for name, uri in operations.items():
        method, _, request_uri = uri.partition(" ")
        labels = [part.strip("{}+") for part in request_uri.split("?")[0].split("/") if part.startswith("{")]
        members = {label: {"shape": "S", "location": "uri", "locationName": label} for label in labels}
        shapes[f"{name}Input"] = {"type": "structure", "required": labels, "members": members}
        ops[name] = {
            "name": name,
            "http": {"method": method, "requestUri": request_uri},
            "input": {"shape": f"{name}Input"},
        }
    metadata = {"protocol": "rest-json", "apiVersion": "2020-01-01", "endpointPrefix": "t", "serviceId": "T"}
    return ServiceModel({"metadata": metadata, "operations": ops, "shapes": shapes}, service_name="t")


def test_literal_segments_are_preferred_over_labels() -> None:
    router = RestRouter(
        _model(
            {
                "GetThing": "GET /things/{Id}",
                "GetSpecialThing": "GET /things/special",
                "GetPart": "GET /things/{Id}/{Part}",
                "ListParts": "GET /things/{Id}/parts",
                "GetAnything": "GET /{A}/{B}/{C}",
                "GetFile": "GET /files/{Path+}",
            }
        )
    )
    assert route("GET", "/things/special", router=router) == ("GetSpecialThing", {})
    assert route("GET", "/things/ordinary", router=router) == ("GetThing", {"Id": "ordinary"})
    assert route("GET", "/things/t1/parts", router=router) == ("ListParts", {"Id": "t1"})
    assert route("GET", "/things/t1/wheel", router=router) == ("GetPart", {"Id": "t1", "Part": "wheel"})
    assert route("GET", "/x/y/z", router=router) == ("GetAnything", {"A": "x", "B": "y", "C": "z"})
    assert route("GET", "/files/a/b%2Fc/d.txt", router=router) == ("GetFile", {"Path": "a/b/c/d.txt"})
    unknown("GET", "/files", router=router)


def test_encoded_arn_label_is_one_segment_decoded_once() -> None:
    encoded = quote(ARN_OUTPOST, safe="")
    assert "%2F" in encoded and "%3A" in encoded
    assert route("GET", f"/outposts/{encoded}") == ("GetOutpost", {"OutpostId": ARN_OUTPOST})
    assert route("GET", f"/outposts/{encoded.lower()}")[1] == {"OutpostId": ARN_OUTPOST.lower()}
    # Raw ':' is legal in a path segment; only the '/' must be encoded.
    assert route("GET", "/outposts/" + ARN_OUTPOST.replace("/", "%2F")) == ("GetOutpost", {"OutpostId": ARN_OUTPOST})
    # Decoding happens exactly once: a double-encoded ARN stays encoded (and then fails validation).
    assert route("GET", f"/outposts/{quote(encoded, safe='')}")[1] == {"OutpostId": encoded}
    # '+' in a path is a plus, not a space.
    assert route("GET", f"/tags/{quote(ARN_SITE, safe='')}")[1] == {"ResourceArn": ARN_SITE}
    assert route("GET", "/catalog/item/OR+A")[1] == {"CatalogItemId": "OR+A"}


def test_unencoded_slash_in_a_label_does_not_match() -> None:
    unknown("GET", f"/tags/{ARN_OUTPOST}")
    unknown("GET", f"/outposts/{ARN_OUTPOST}")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/"),
        ("GET", "/nothing"),
        ("GET", f"/sites/{SITE}/bogus"),
        ("GET", "/sites//address"),
        ("GET", f"/outposts/{OP}/capacity/{CAP}/blockingInstances/extra"),
        ("POST", "/"),
    ],
)
def test_unknown_routes(method: str, path: str) -> None:
    error = unknown(method, path)
    assert (error.code, error.status) == ("UnknownOperationException", 404)
    assert path in error.message


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/outposts/op%2", ""),
        ("/outposts/%ZZ", ""),
        ("/outposts/op-%FF", ""),  # not UTF-8
        ("/sites", "MaxResults=%G1"),
        ("/sites", "NextToken=1%23%2"),
    ],
)
def test_invalid_percent_encoding(path: str, query: str) -> None:
    with pytest.raises(MalformedEncoding):
        ROUTER.match(HttpRequest("GET", path, query))


def test_utf8_label_is_decoded() -> None:
    assert route("GET", "/catalog/item/" + quote("OR-Zürich"))[1] == {"CatalogItemId": "OR-Zürich"}


# -- templates that tie: literal query parts and required members (S3's restXml model) ------------------


S3 = RestRouter(load_service_model("s3"))


def test_literal_query_parts_select_the_operation() -> None:
    assert route("GET", "/bucket", "versioning", router=S3)[0] == "GetBucketVersioning"
    assert route("GET", "/bucket", "list-type=2", router=S3)[0] == "ListObjectsV2"
    assert route("GET", "/bucket", "", router=S3)[0] == "ListObjects"
    assert route("GET", "/bucket/key", "tagging", router=S3)[0] == "GetObjectTagging"


def test_required_query_and_header_members_break_ties() -> None:
    assert route("PUT", "/bucket/a/key", router=S3) == ("PutObject", {"Bucket": "bucket", "Key": "a/key"})
    assert route("PUT", "/bucket/key", router=S3, **{"x-amz-copy-source": "src/k"})[0] == "CopyObject"
    assert route("PUT", "/bucket/key", "partNumber=1&uploadId=u", router=S3)[0] == "UploadPart"
    copy = {"x-amz-copy-source": "src/k"}
    assert route("PUT", "/bucket/key", "partNumber=1&uploadId=u", router=S3, **copy)[0] == "UploadPartCopy"
    assert route("GET", "/bucket/key", "uploadId=u", router=S3)[0] == "ListParts"
    assert route("GET", "/bucket/key", router=S3)[0] == "GetObject"


def test_missing_required_query_member_still_routes_for_validation() -> None:
    # UntagResource requires ?tagKeys; without it the route still matches and validation reports it.
    assert route("DELETE", f"/tags/{quote(ARN_OUTPOST, safe='')}")[0] == "UntagResource"


# -- json: X-Amz-Target -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", CLOUDTRAIL.operation_names)
def test_every_cloudtrail_target(name: str) -> None:
    assert target_operation(CLOUDTRAIL, f"{TARGET}.{name}").name == name


@pytest.mark.parametrize(
    "target",
    [
        None,
        "",
        "LookupEvents",
        f"{TARGET}.NoSuchOperation",
        "com.amazonaws.other.LookupEvents",
        f"{TARGET}.lookupevents",
    ],
)
def test_unknown_targets(target: str | None) -> None:
    with pytest.raises(UnknownOperationException) as caught:
        target_operation(CLOUDTRAIL, target)
    assert caught.value.status == 400
