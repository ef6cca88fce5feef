"""Multi-region trails seen from two regions (shadow trails), home-region-only operations, the 5-trail
limit per region and ListTrails paging, with boto3 against dedicated servers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cloudtrail.test_trails import ACCOUNT, arn, error_of, make_bucket
from tests.support.server import ServerProcess

HOME, OTHER = "eu-west-1", "ap-southeast-2"


@pytest.fixture(scope="module")
def regions_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = ServerProcess(Path(tmp_path_factory.mktemp("regions")) / "data").start()
    make_bucket(proc, "region-logs")
    home = proc.client("cloudtrail", region=HOME)
    home.create_trail(Name="everywhere", S3BucketName="region-logs", IsMultiRegionTrail=True)
    home.create_trail(Name="home-only", S3BucketName="region-logs")
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def home(regions_server: ServerProcess) -> Any:
    return regions_server.client("cloudtrail", region=HOME)


@pytest.fixture(scope="module")
def other(regions_server: ServerProcess) -> Any:
    return regions_server.client("cloudtrail", region=OTHER)


def test_shadow_trail_appears_in_every_region(home: Any, other: Any) -> None:
    at_home = {t["Name"]: t for t in home.describe_trails()["trailList"]}
    assert set(at_home) == {"everywhere", "home-only"}
    shadows = other.describe_trails()["trailList"]
    assert shadows == [at_home["everywhere"]]  # the same trail: home region and ARN of its home
    assert shadows[0]["HomeRegion"] == HOME and shadows[0]["TrailARN"] == arn("everywhere", HOME)
    assert other.describe_trails(includeShadowTrails=False)["trailList"] == []
    assert other.describe_trails(trailNameList=[arn("home-only", HOME)])["trailList"][0]["Name"] == "home-only"


def test_shadow_trail_is_reached_by_arn_only(other: Any) -> None:
    error = error_of(other.get_trail, Name="everywhere")
    assert error == {
        "Code": "TrailNotFoundException",
        "Message": f"Unknown trail: {arn('everywhere', OTHER)} for the user: {ACCOUNT}",
    }
    assert other.get_trail(Name=arn("everywhere", HOME))["Trail"]["IsMultiRegionTrail"] is True
    assert other.get_trail_status(Name=arn("everywhere", HOME))["IsLogging"] is False
    selectors = other.get_event_selectors(TrailName=arn("everywhere", HOME))
    assert selectors["TrailARN"] == arn("everywhere", HOME)
    # A single-region trail is not seen outside its home region, ARN or not.
    assert error_of(other.get_trail, Name=arn("home-only", HOME))["Code"] == "TrailNotFoundException"


@pytest.mark.parametrize(
    ("operation", "params"),
    [
        ("update_trail", {"S3KeyPrefix": "x"}),
        ("delete_trail", {}),
        ("start_logging", {}),
        ("stop_logging", {}),
        ("put_event_selectors", {"EventSelectors": [{"ReadWriteType": "All"}]}),
        ("put_insight_selectors", {"InsightSelectors": [{"InsightType": "ApiCallRateInsight"}]}),
    ],
)
def test_home_region_operations_refused_on_shadows(other: Any, home: Any, operation: str, params: dict) -> None:
    key = "TrailName" if operation.startswith("put_") else "Name"
    error = error_of(getattr(other, operation), **{key: arn("everywhere", HOME)}, **params)
    assert error["Code"] == "InvalidHomeRegionException"
    assert HOME in error["Message"]
    assert home.get_trail(Name="everywhere")["Trail"]["HasCustomEventSelectors"] is False  # nothing changed


def test_logging_state_is_shared_with_shadows(home: Any, other: Any) -> None:
    home.start_logging(Name="everywhere")
    try:
        status = other.get_trail_status(Name=arn("everywhere", HOME))
        assert status["IsLogging"] is True and "StartLoggingTime" in status
    finally:
        home.stop_logging(Name="everywhere")


def test_five_trails_per_region_counting_multi_region_trails(make_server: Any) -> None:
    server = make_server()
    make_bucket(server, "limit-logs")
    west = server.client("cloudtrail", region="us-west-2")
    east = server.client("cloudtrail", region="us-east-1")
    for index in range(4):
        west.create_trail(Name=f"west-{index}", S3BucketName="limit-logs")
    east.create_trail(Name="global", S3BucketName="limit-logs", IsMultiRegionTrail=True)  # counts in us-west-2 too
    error = error_of(west.create_trail, Name="west-5", S3BucketName="limit-logs")
    assert error == {
        "Code": "MaximumNumberOfTrailsExceededException",
        "Message": f"User: {ACCOUNT} already has 5 trails in us-west-2.",
    }
    for index in range(4):  # us-east-1 holds only one trail of its own: room for four more
        east.create_trail(Name=f"east-{index}", S3BucketName="limit-logs")
    assert error_of(east.create_trail, Name="east-5", S3BucketName="limit-logs")["Code"] == (
        "MaximumNumberOfTrailsExceededException"
    )
    # A shadow takes its name in every region: the same name cannot be created there.
    east.delete_trail(Name="east-0")
    taken = error_of(west.create_trail, Name="global", S3BucketName="limit-logs")
    assert taken["Code"] in ("TrailAlreadyExistsException", "MaximumNumberOfTrailsExceededException")
    west.delete_trail(Name="west-0")
    assert error_of(west.create_trail, Name="global", S3BucketName="limit-logs")["Code"] == (
        "TrailAlreadyExistsException"
    )


def test_list_trails_pages_through_every_region(make_server: Any) -> None:
    server = make_server()
    make_bucket(server, "many-logs")
    regions = ["us-east-1", "us-east-2", "us-west-1", "us-west-2", "eu-west-1"]
    made = set()
    for region in regions:
        client = server.client("cloudtrail", region=region)
        for index in range(5):
            client.create_trail(Name=f"t{index}-{region}", S3BucketName="many-logs")
            made.add(arn(f"t{index}-{region}", region))
    ct = server.client("cloudtrail", region="ca-central-1")
    first = ct.list_trails()
    assert len(first["Trails"]) == 20 and first["NextToken"]
    second = ct.list_trails(NextToken=first["NextToken"])
    assert "NextToken" not in second
    assert {t["TrailARN"] for t in first["Trails"] + second["Trails"]} == made
    paged = [t for page in ct.get_paginator("list_trails").paginate() for t in page["Trails"]]
    assert len(paged) == 25
