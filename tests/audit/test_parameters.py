"""``parameters.render``: the compiled rendering plans behind ``requestParameters`` / ``responseElements``.

A plan is compiled once per shape, naming style and service and followed on every call; these tests pin
that one shape rendered for several services keeps each service's rules (IAM and STS leave secrets out,
Outposts masks them; IAM's dates have no comma after the year), that the naming style is part of the
plan, that a fresh copy of the model renders the same, that recursive shapes (DynamoDB's
``AttributeValue``, from botocore's own data) compile, and that mismatched values and blobs are left out
at any depth.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import botocore.session
from botocore.model import ServiceModel

from tests.protocol.samples import sample_input, sample_output
from trailpost.audit.parameters import REDACTED, render, request_parameters, response_elements
from trailpost.protocol.specs import load_service_model

IAM = load_service_model("iam")
OUTPOSTS = load_service_model("outposts")
DYNAMODB = botocore.session.get_session().get_service_model("dynamodb")

ACCESS_KEY = {
    "AccessKey": {
        "UserName": "alice",
        "AccessKeyId": "AKIAEXAMPLE",
        "Status": "Active",
        "SecretAccessKey": "secret",
        "CreateDate": datetime(2024, 8, 1, 13, 33, 28, tzinfo=UTC),
    }
}


def test_one_shape_keeps_each_services_rules() -> None:
    shape = IAM.operation_model("CreateAccessKey").output_shape
    for _ in range(2):  # every plan is compiled on the first pass and reused on the second
        assert response_elements("iam", shape, ACCESS_KEY) == {
            "accessKey": {
                "userName": "alice",
                "accessKeyId": "AKIAEXAMPLE",
                "status": "Active",
                "createDate": "Aug 1, 2024 1:33:28 PM",
            }
        }
        assert render(shape, ACCESS_KEY, keep_names=False, service="sts")["accessKey"] == {
            "userName": "alice",
            "accessKeyId": "AKIAEXAMPLE",
            "status": "Active",
            "createDate": "Aug 1, 2024, 1:33:28 PM",
        }
        masked = render(shape, ACCESS_KEY, keep_names=True, service="outposts")["AccessKey"]
        assert (masked["SecretAccessKey"], masked["CreateDate"]) == (REDACTED, "Aug 1, 2024, 1:33:28 PM")
        assert render(shape, ACCESS_KEY, keep_names=False)["accessKey"]["createDate"] == "Aug 1, 2024, 1:33:28 PM"


def test_mismatches_and_secrets_at_every_depth() -> None:
    shape = OUTPOSTS.operation_model("CreateSite").input_shape
    params = {
        "Name": "n",
        "Description": 7,
        "OperatingAddress": {"City": "x"},
        "Tags": {"a": "b", "c": 5, "d": None},
        "RackPhysicalProperties": {"PowerPhase": 3},
        "Undeclared": "dropped",
    }
    assert request_parameters("outposts", shape, params) == {
        "Name": "n",
        "OperatingAddress": REDACTED,
        "Tags": {"a": "b", "d": None},
        "RackPhysicalProperties": {},
    }
    assert render(shape, params, keep_names=False, service="iam") == {
        "name": "n",
        "tags": {"a": "b", "d": None},
        "rackPhysicalProperties": {},
    }


def test_recursive_shape_renders() -> None:
    shape = DYNAMODB.operation_model("PutItem").input_shape
    item: dict[str, Any] = {"a": {"M": {"b": {"L": [{"S": "x"}, {"B": b"q", "N": 3}, None, {"M": {"c": {"N": "1"}}}]}}}}
    assert render(shape, {"TableName": "t", "Item": item}, keep_names=False, service="dynamodb") == {
        "tableName": "t",
        "item": {"a": {"m": {"b": {"l": [{"s": "x"}, {}, None, {"m": {"c": {"n": "1"}}}]}}}},
    }


def test_fresh_model_renders_the_same() -> None:
    other = ServiceModel(OUTPOSTS._service_description, service_name="outposts")
    for name in OUTPOSTS.operation_names:
        operation, copy = OUTPOSTS.operation_model(name), other.operation_model(name)
        for shape, fresh_shape, value in (
            (operation.input_shape, copy.input_shape, sample_input(operation)),
            (operation.output_shape, copy.output_shape, sample_output(operation)),
        ):
            if shape is None:
                continue
            for keep_names in (True, False):
                first = render(shape, value, keep_names=keep_names, service="outposts")
                assert render(fresh_shape, value, keep_names=keep_names, service="outposts") == first, name
