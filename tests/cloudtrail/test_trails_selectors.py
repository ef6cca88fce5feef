"""PutEventSelectors / GetEventSelectors (basic and advanced) and PutInsightSelectors / GetInsightSelectors
with boto3: defaults as AWS answers them, replacement of one kind by the other, the validation errors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cloudtrail.test_trails import REGIONS, arn, error_of, make_bucket
from tests.support.server import ServerProcess

DEFAULT = [
    {"ReadWriteType": "All", "IncludeManagementEvents": True, "DataResources": [], "ExcludeManagementEventSources": []}
]
ADVANCED = [
    {"Name": "Log all management events", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]},
    {
        "Name": "Log PutObject and DeleteObject events for all but one bucket",
        "FieldSelectors": [
            {"Field": "eventCategory", "Equals": ["Data"]},
            {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
            {"Field": "eventName", "Equals": ["PutObject", "DeleteObject"]},
            {"Field": "resources.ARN", "NotStartsWith": ["arn:aws:s3:::amzn-s3-demo-bucket/"]},
        ],
    },
]


@pytest.fixture(scope="module")
def selectors_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = ServerProcess(Path(tmp_path_factory.mktemp("selectors")) / "data").start()
    make_bucket(proc, "selector-logs")
    yield proc
    proc.stop()


@pytest.fixture
def trail(selectors_server: ServerProcess) -> tuple[Any, str]:
    """A client in a region of its own and a fresh trail there."""
    client = selectors_server.client("cloudtrail", region=next(REGIONS))
    client.create_trail(Name="selected", S3BucketName="selector-logs")
    return client, arn("selected", client.meta.region_name)


def answer(response: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in response.items() if key != "ResponseMetadata"}


def test_default_selectors_as_aws_answers_them(trail: tuple[Any, str]) -> None:
    ct, trail_arn = trail
    assert answer(ct.get_event_selectors(TrailName="selected")) == {"TrailARN": trail_arn, "EventSelectors": DEFAULT}
    assert ct.get_trail(Name="selected")["Trail"]["HasCustomEventSelectors"] is False


def test_basic_selectors_are_stored_with_defaults_filled_in(trail: tuple[Any, str]) -> None:
    ct, trail_arn = trail
    given = [
        {
            "ReadWriteType": "WriteOnly",
            "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::amzn-s3-demo-bucket/prefix"]}],
        },
        {
            "IncludeManagementEvents": False,
            "DataResources": [{"Type": "AWS::Lambda::Function", "Values": ["arn:aws:lambda"]}],
        },
    ]
    expected = [
        {
            "ReadWriteType": "WriteOnly",
            "IncludeManagementEvents": True,
            "DataResources": given[0]["DataResources"],
            "ExcludeManagementEventSources": [],
        },
        {
            "ReadWriteType": "All",
            "IncludeManagementEvents": False,
            "DataResources": given[1]["DataResources"],
            "ExcludeManagementEventSources": [],
        },
    ]
    put = ct.put_event_selectors(TrailName="selected", EventSelectors=given)
    assert answer(put) == {"TrailARN": trail_arn, "EventSelectors": expected}
    assert answer(ct.get_event_selectors(TrailName=trail_arn)) == {"TrailARN": trail_arn, "EventSelectors": expected}
    assert ct.get_trail(Name="selected")["Trail"]["HasCustomEventSelectors"] is True


def test_advanced_selectors_replace_basic_ones_and_back(trail: tuple[Any, str]) -> None:
    ct, trail_arn = trail
    ct.put_event_selectors(
        TrailName="selected", EventSelectors=[{"ExcludeManagementEventSources": ["kms.amazonaws.com"]}]
    )
    put = ct.put_event_selectors(TrailName="selected", AdvancedEventSelectors=ADVANCED)
    assert answer(put) == {"TrailARN": trail_arn, "AdvancedEventSelectors": ADVANCED}
    got = ct.get_event_selectors(TrailName="selected")
    assert got["AdvancedEventSelectors"] == ADVANCED and "EventSelectors" not in got
    back = ct.put_event_selectors(TrailName="selected", EventSelectors=[{"ReadWriteType": "ReadOnly"}])
    assert "AdvancedEventSelectors" not in back
    assert ct.get_event_selectors(TrailName="selected")["EventSelectors"][0]["ReadWriteType"] == "ReadOnly"


@pytest.mark.parametrize(
    ("selectors", "message"),
    [
        (
            {"EventSelectors": [{"ReadWriteType": "All"}] * 6},
            "The number of event selectors (6) exceeds the maximum of 5.",
        ),
        (
            {"EventSelectors": [{"DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::*"]}]}]},
            "Value arn:aws:s3:::* for DataResources.Values is invalid.",
        ),
        (
            {
                "EventSelectors": [
                    {"DataResources": [{"Type": "AWS::Lambda::Function", "Values": ["arn:aws:lambda:*"]}]}
                ]
            },
            "Value arn:aws:lambda:* for DataResources.Values is invalid.",
        ),
        (
            {"EventSelectors": [{"DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::bucket"]}]}]},
            "Value arn:aws:s3:::bucket for DataResources.Values is invalid.",
        ),
        (
            {"EventSelectors": [{"DataResources": [{"Type": "AWS::EC2::Instance", "Values": ["arn:aws:ec2"]}]}]},
            "Value AWS::EC2::Instance for DataResources.Type is invalid.",
        ),
        (
            {"EventSelectors": [{"ExcludeManagementEventSources": ["s3.amazonaws.com"]}]},
            "Value s3.amazonaws.com for ExcludeManagementEventSources is invalid.",
        ),
    ],
)
def test_basic_selector_errors(trail: tuple[Any, str], selectors: dict, message: str) -> None:
    ct, _ = trail
    error = error_of(ct.put_event_selectors, TrailName="selected", **selectors)
    assert error == {"Code": "InvalidEventSelectorsException", "Message": message}


def test_too_many_data_resources(trail: tuple[Any, str]) -> None:
    ct, _ = trail
    resources = [{"Type": "AWS::S3::Object", "Values": [f"arn:aws:s3:::bucket-{i:03d}/"]} for i in range(251)]
    error = error_of(ct.put_event_selectors, TrailName="selected", EventSelectors=[{"DataResources": resources}])
    assert error["Code"] == "InvalidEventSelectorsException" and "250" in error["Message"]


def field(name: str, **operators: list[str]) -> dict[str, Any]:
    return {"Field": name, **operators}


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [
        ([field("eventSource", Equals=["s3.amazonaws.com"])], "eventCategory"),
        ([field("eventCategory", Equals=["Insight"])], "eventCategory takes Equals"),
        ([field("eventCategory", StartsWith=["Manage"])], "eventCategory takes Equals"),
        ([field("eventCategory", Equals=["Data"])], "resources.type"),
        (
            [field("eventCategory", Equals=["Data"]), field("resources.type", StartsWith=["AWS::S3"])],
            "supports only the Equals operator",
        ),
        ([field("eventCategory", Equals=["Management"]), field("eventName", Equals=["CreateSite"])], "eventName"),
        ([field("eventCategory", Equals=["Management"]), field("readOnly", Equals=["yes"])], "true or false"),
        (
            [field("eventCategory", Equals=["Management"]), field("eventSource", NotEquals=["s3.amazonaws.com"])],
            "kms.amazonaws.com",
        ),
        ([field("eventCategory", Equals=["NetworkActivity"])], "eventSource"),
        (
            [
                field("eventCategory", Equals=["Management"]),
                field("readOnly", Equals=["true"]),
                field("readOnly", Equals=["false"]),
            ],
            "more than once",
        ),
    ],
)
def test_advanced_selector_errors(trail: tuple[Any, str], fields: list[dict], fragment: str) -> None:
    ct, _ = trail
    selectors = [{"Name": "bad", "FieldSelectors": fields}]
    error = error_of(ct.put_event_selectors, TrailName="selected", AdvancedEventSelectors=selectors)
    assert error["Code"] == "InvalidEventSelectorsException"
    assert fragment in error["Message"]
    assert ct.get_trail(Name="selected")["Trail"]["HasCustomEventSelectors"] is False  # nothing stored


def test_too_many_advanced_values(trail: tuple[Any, str]) -> None:
    ct, _ = trail
    names = [f"Op{i}" for i in range(500)]
    selectors = [
        {
            "FieldSelectors": [
                field("eventCategory", Equals=["Data"]),
                field("resources.type", Equals=["AWS::S3::Object"]),
                field("eventName", Equals=names),
            ]
        }
    ]
    error = error_of(ct.put_event_selectors, TrailName="selected", AdvancedEventSelectors=selectors)
    assert error["Code"] == "InvalidEventSelectorsException" and "500" in error["Message"]


def test_both_kinds_or_neither_refused(trail: tuple[Any, str]) -> None:
    ct, _ = trail
    both = error_of(
        ct.put_event_selectors, TrailName="selected", EventSelectors=DEFAULT, AdvancedEventSelectors=ADVANCED
    )
    assert both["Code"] == "InvalidEventSelectorsException" and "not both" in both["Message"]
    neither = error_of(ct.put_event_selectors, TrailName="selected")
    assert neither["Code"] == "InvalidEventSelectorsException"


def test_insight_selectors_stored_replaced_and_removed(trail: tuple[Any, str]) -> None:
    ct, trail_arn = trail
    error = error_of(ct.get_insight_selectors, TrailName="selected")
    assert error["Code"] == "InsightNotEnabledException" and trail_arn in error["Message"]
    both = [{"InsightType": "ApiErrorRateInsight"}, {"InsightType": "ApiCallRateInsight"}]
    assert answer(ct.put_insight_selectors(TrailName="selected", InsightSelectors=both)) == {
        "TrailARN": trail_arn,
        "InsightSelectors": both,
    }
    assert ct.get_insight_selectors(TrailName=trail_arn)["InsightSelectors"] == both
    assert ct.get_trail(Name="selected")["Trail"]["HasInsightSelectors"] is True
    one = [{"InsightType": "ApiCallRateInsight", "EventCategories": ["Management"]}]
    ct.put_insight_selectors(TrailName="selected", InsightSelectors=one)
    assert ct.get_insight_selectors(TrailName="selected")["InsightSelectors"] == one
    off = ct.put_insight_selectors(TrailName="selected", InsightSelectors=[])
    assert off["InsightSelectors"] == []
    assert ct.get_trail(Name="selected")["Trail"]["HasInsightSelectors"] is False
    assert error_of(ct.get_insight_selectors, TrailName="selected")["Code"] == "InsightNotEnabledException"


def test_insight_selector_errors(trail: tuple[Any, str]) -> None:
    ct, _ = trail
    twice = [{"InsightType": "ApiCallRateInsight"}, {"InsightType": "ApiCallRateInsight"}]
    assert error_of(ct.put_insight_selectors, TrailName="selected", InsightSelectors=twice)["Code"] == (
        "InvalidInsightSelectorsException"
    )
    mixed = error_of(
        ct.put_insight_selectors,
        TrailName="selected",
        EventDataStore="arn:aws:cloudtrail:us-east-1:123456789012:eventdatastore/abc",
        InsightSelectors=[],
    )
    assert mixed["Code"] == "InvalidParameterCombinationException"
    assert error_of(ct.put_insight_selectors, TrailName="nope-trail", InsightSelectors=[])["Code"] == (
        "TrailNotFoundException"
    )
