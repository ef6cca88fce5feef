"""AddTags, RemoveTags and ListTags on trails with boto3, CreateTrail's TagsList, and their errors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cloudtrail.test_trails import ACCOUNT, REGIONS, arn, error_of, make_bucket
from tests.support.server import ServerProcess


@pytest.fixture(scope="module")
def tags_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = ServerProcess(Path(tmp_path_factory.mktemp("tags")) / "data").start()
    make_bucket(proc, "tag-logs")
    yield proc
    proc.stop()


@pytest.fixture
def ct(tags_server: ServerProcess) -> Any:
    return tags_server.client("cloudtrail", region=next(REGIONS))


def tags_of(ct: Any, *arns: str) -> list[dict[str, Any]]:
    return ct.list_tags(ResourceIdList=list(arns))["ResourceTagList"]


def test_tags_at_creation_then_added_replaced_and_removed(ct: Any) -> None:
    region = ct.meta.region_name
    ct.create_trail(Name="tagged", S3BucketName="tag-logs", TagsList=[{"Key": "team", "Value": "audit"}])
    ct.create_trail(Name="other", S3BucketName="tag-logs")
    tagged, other = arn("tagged", region), arn("other", region)
    assert tags_of(ct, tagged, other) == [
        {"ResourceId": tagged, "TagsList": [{"Key": "team", "Value": "audit"}]},
        {"ResourceId": other, "TagsList": []},
    ]
    ct.add_tags(ResourceId=tagged, TagsList=[{"Key": "team", "Value": "security"}, {"Key": "env", "Value": "lab"}])
    assert tags_of(ct, tagged)[0]["TagsList"] == [{"Key": "team", "Value": "security"}, {"Key": "env", "Value": "lab"}]
    ct.remove_tags(ResourceId=tagged, TagsList=[{"Key": "env", "Value": "other-value"}])  # value differs: kept
    assert len(tags_of(ct, tagged)[0]["TagsList"]) == 2
    ct.remove_tags(ResourceId=tagged, TagsList=[{"Key": "env"}, {"Key": "never-set"}])
    assert tags_of(ct, tagged)[0]["TagsList"] == [{"Key": "team", "Value": "security"}]


def test_fifty_tags_at_most(ct: Any) -> None:
    ct.create_trail(Name="crowded", S3BucketName="tag-logs")
    trail_arn = arn("crowded", ct.meta.region_name)
    ct.add_tags(ResourceId=trail_arn, TagsList=[{"Key": f"k{i}", "Value": "v"} for i in range(50)])
    error = error_of(ct.add_tags, ResourceId=trail_arn, TagsList=[{"Key": "one-more", "Value": "v"}])
    assert error == {
        "Code": "TagsLimitExceededException",
        "Message": "The number of tags per trail has exceeded the permitted amount. Currently, the limit is 50.",
    }
    ct.add_tags(ResourceId=trail_arn, TagsList=[{"Key": "k0", "Value": "replaced"}])  # replacing is no new tag
    too_many = [{"Key": f"k{i}", "Value": "v"} for i in range(51)]
    error = error_of(ct.create_trail, Name="crowded-too", S3BucketName="tag-logs", TagsList=too_many)
    assert error["Code"] == "TagsLimitExceededException"


@pytest.mark.parametrize(
    "tag",
    [{"Key": "aws:reserved", "Value": "x"}, {"Key": "bad<key>", "Value": "x"}, {"Key": "k" * 129, "Value": "x"}],
)
def test_invalid_tags(ct: Any, tag: dict[str, str]) -> None:
    ct.create_trail(Name="picky", S3BucketName="tag-logs")
    error = error_of(ct.add_tags, ResourceId=arn("picky", ct.meta.region_name), TagsList=[tag])
    assert error["Code"] == "InvalidTagParameterException"
    twice = [{"Key": "dup", "Value": "a"}, {"Key": "dup", "Value": "b"}]
    assert error_of(ct.add_tags, ResourceId=arn("picky", ct.meta.region_name), TagsList=twice)["Code"] == (
        "InvalidTagParameterException"
    )


def test_resource_errors(ct: Any, tags_server: ServerProcess) -> None:
    region = ct.meta.region_name
    missing = arn("missing", region)
    error = error_of(ct.add_tags, ResourceId=missing, TagsList=[{"Key": "k", "Value": "v"}])
    assert error == {
        "Code": "ResourceNotFoundException",
        "Message": f"Resource not found: {missing} for the user: {ACCOUNT}",
    }
    wrong_region = error_of(ct.list_tags, ResourceIdList=[arn("missing", "us-gov-east-1")])
    assert wrong_region == {
        "Code": "CloudTrailARNInvalidException",
        "Message": f"Region in ARN is wrong, you can only access resources in region {region}.",
    }
    assert error_of(ct.remove_tags, ResourceId="not-an-arn", TagsList=[{"Key": "k"}])["Code"] == (
        "CloudTrailARNInvalidException"
    )
    assert error_of(ct.add_tags, ResourceId="arn:aws:s3:::a-bucket", TagsList=[{"Key": "k"}])["Code"] == (
        "ResourceTypeNotSupportedException"
    )
    assert error_of(ct.list_tags, ResourceIdList=[])["Code"] == "InvalidParameterException"
