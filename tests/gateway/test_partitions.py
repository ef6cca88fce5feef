"""trailpost's accounts live in the aws partition: their keys are unknown in aws-cn, aws-us-gov, the isolated ones."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.support.server import ServerProcess
from trailpost.identity.partitions import partition_of

INVALID = "The security token included in the request is invalid."


@pytest.mark.parametrize(
    ("region", "partition"),
    [
        ("us-east-1", "aws"),
        ("eu-west-3", "aws"),
        ("cn-north-1", "aws-cn"),
        ("us-gov-west-1", "aws-us-gov"),
        ("us-iso-east-1", "aws-iso"),
        ("us-isob-east-1", "aws-iso-b"),
        ("eu-isoe-west-1", "aws-iso-e"),
        ("ap-southeast-99", "aws"),  # a region botocore does not know yet, shaped like the aws partition's
    ],
)
def test_partition_of_a_region(region: str, partition: str) -> None:
    assert partition_of(region) == partition


@pytest.mark.parametrize(
    ("service", "call", "code", "status"),
    [
        ("outposts", "list_sites", "UnrecognizedClientException", 403),
        ("cloudtrail", "describe_trails", "UnrecognizedClientException", 403),
        ("sts", "get_caller_identity", "InvalidClientTokenId", 403),
    ],
)
def test_keys_are_unknown_in_another_partition(
    server: ServerProcess, service: str, call: str, code: str, status: int
) -> None:
    for region in ("cn-north-1", "us-gov-west-1"):
        client = server.client(service, region=region)
        with pytest.raises(ClientError) as caught:
            getattr(client, call)()
        error = caught.value.response
        assert error["Error"]["Code"] == code, error
        assert error["Error"]["Message"] == INVALID
        assert error["ResponseMetadata"]["HTTPStatusCode"] == status
    # the same key works in the aws partition
    assert getattr(server.client(service, region="eu-west-1"), call)()["ResponseMetadata"]["HTTPStatusCode"] == 200
