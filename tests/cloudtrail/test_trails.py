"""The trail API with boto3: CreateTrail, GetTrail, DescribeTrails, UpdateTrail, DeleteTrail, ListTrails,
GetTrailStatus, Start/StopLogging, and their errors, compared with AWS's recorded answers.

The module's trails live on a dedicated server (``trails_server``) so the per-region trail limit
never sees other modules' trails. ``make_bucket`` creates a bucket and its policy through the S3
API (``bucket_policy`` is the policy AWS's documentation gives for CloudTrail).
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import botocore.exceptions
import pytest

from tests.support.server import ServerProcess

ACCOUNT = "123456789012"


def arn(name: str, region: str = "us-east-1") -> str:
    return f"arn:aws:cloudtrail:{region}:{ACCOUNT}:trail/{name}"


def bucket_policy(bucket: str, *prefixes: str, source_arn: str | None = None) -> str:
    """AWS's documented CloudTrail bucket policy for the key prefixes given (none: no prefix),
    optionally bound to one trail by ``aws:SourceArn``."""
    same_trail = {"aws:SourceArn": source_arn} if source_arn else {}
    acl: dict[str, Any] = {
        "Sid": "AWSCloudTrailAclCheck20150319",
        "Effect": "Allow",
        "Principal": {"Service": "cloudtrail.amazonaws.com"},
        "Action": "s3:GetBucketAcl",
        "Resource": f"arn:aws:s3:::{bucket}",
    }
    if same_trail:
        acl["Condition"] = {"StringEquals": same_trail}
    write = {
        "Sid": "AWSCloudTrailWrite20150319",
        "Effect": "Allow",
        "Principal": {"Service": "cloudtrail.amazonaws.com"},
        "Action": "s3:PutObject",
        "Resource": [f"arn:aws:s3:::{bucket}/{p + '/' if p else ''}AWSLogs/{ACCOUNT}/*" for p in prefixes or ("",)],
        "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control", **same_trail}},
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [acl, write]})


def make_bucket(server: ServerProcess, name: str, policy: str | None = "default", region: str = "us-east-1") -> None:
    """A bucket (and its policy: AWS's documented one unless given; ``None`` for none) made through S3."""
    policy_text = bucket_policy(name) if policy == "default" else policy
    s3 = server.client("s3", region=region)
    config = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    s3.create_bucket(Bucket=name, **config)
    if policy is not None:
        s3.put_bucket_policy(Bucket=name, Policy=policy_text)


def error_of(call: Any, **kwargs: Any) -> dict[str, str]:
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        call(**kwargs)
    return caught.value.response["Error"]


class RawBodies:
    """The raw response bodies of a client's calls, for wire-exact comparisons."""

    def __init__(self, client: Any) -> None:
        self.last = b""
        client.meta.events.register("after-call.cloudtrail.*", self._keep)

    def _keep(self, http_response: Any, **_: Any) -> None:
        self.last = http_response.content


@pytest.fixture(scope="module")
def trails_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = ServerProcess(Path(tmp_path_factory.mktemp("trails")) / "data").start()
    make_bucket(proc, "trail-logs", bucket_policy("trail-logs", "", "team/a", "new-prefix"))
    yield proc
    proc.stop()


REGIONS = itertools.cycle(
    [
        "us-east-1",
        "us-east-2",
        "us-west-1",
        "us-west-2",
        "ca-central-1",
        "eu-west-1",
        "eu-west-2",
        "eu-west-3",
        "eu-central-1",
        "eu-north-1",
        "eu-south-1",
        "ap-south-1",
        "ap-northeast-1",
        "ap-northeast-2",
        "ap-northeast-3",
        "ap-southeast-1",
        "ap-southeast-2",
        "sa-east-1",
        "me-south-1",
        "af-south-1",
        "ap-east-1",
        "eu-central-2",
        "eu-south-2",
        "ap-south-2",
        "ap-southeast-3",
        "ap-southeast-4",
        "me-central-1",
        "il-central-1",
        "ca-west-1",
        "mx-central-1",
    ]
)


@pytest.fixture
def ct(trails_server: ServerProcess) -> Any:
    """A CloudTrail client in a region of its own (each test stays under the 5-trail limit)."""
    return trails_server.client("cloudtrail", region=next(REGIONS))


def arn_of(client: Any, name: str) -> str:
    return arn(name, client.meta.region_name)


def test_create_trail_answers_aws_short_form(ct: Any) -> None:
    raw = RawBodies(ct)
    ct.create_trail(Name="basic-trail", S3BucketName="trail-logs")
    body = json.loads(raw.last)
    assert body == {
        "Name": "basic-trail",
        "S3BucketName": "trail-logs",
        "IncludeGlobalServiceEvents": True,
        "IsMultiRegionTrail": False,
        "TrailARN": arn_of(ct, "basic-trail"),
        "LogFileValidationEnabled": False,
        "IsOrganizationTrail": False,
    }
    assert raw.last == json.dumps(body, separators=(",", ":")).encode()  # compact, as AWS's bodies


def test_new_trail_status_is_awss_209_byte_body(ct: Any) -> None:
    ct.create_trail(Name="status-trail", S3BucketName="trail-logs")
    raw = RawBodies(ct)
    ct.get_trail_status(Name="status-trail")
    assert json.loads(raw.last) == {
        "IsLogging": False,
        "LatestDeliveryAttemptSucceeded": "",
        "LatestDeliveryAttemptTime": "",
        "LatestNotificationAttemptSucceeded": "",
        "LatestNotificationAttemptTime": "",
        "TimeLoggingStarted": "",
        "TimeLoggingStopped": "",
    }
    assert len(raw.last) == 209  # the recorded AWS answer's Content-Length


def test_start_and_stop_logging_report_real_times(ct: Any) -> None:
    ct.create_trail(Name="logging-trail", S3BucketName="trail-logs")
    raw = RawBodies(ct)
    before = time.time()
    assert ct.start_logging(Name="logging-trail")["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert raw.last == b"{}"
    status = ct.get_trail_status(Name="logging-trail")
    assert status["IsLogging"] is True
    started = status["StartLoggingTime"].timestamp()
    assert before - 1 <= started <= time.time() + 1
    assert status["TimeLoggingStarted"] == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started))
    assert "StopLoggingTime" not in status and status["TimeLoggingStopped"] == ""
    assert "LatestDeliveryTime" not in status  # nothing delivered yet: never invented
    body = json.loads(raw.last)
    assert isinstance(body["StartLoggingTime"], float) and b'"StartLoggingTime":1.' in raw.last
    assert b"E9" in raw.last  # Java Double.toString, as AWS writes timestamps
    ct.stop_logging(Name=arn_of(ct, "logging-trail"))
    stopped = ct.get_trail_status(Name="logging-trail")
    assert stopped["IsLogging"] is False
    assert stopped["StartLoggingTime"] == status["StartLoggingTime"]  # kept, as AWS keeps it
    assert stopped["StopLoggingTime"] >= stopped["StartLoggingTime"]
    assert stopped["TimeLoggingStarted"] == status["TimeLoggingStarted"]
    assert stopped["TimeLoggingStopped"].endswith("Z")


def test_get_trail_and_describe_trails_full_form(ct: Any) -> None:
    ct.create_trail(Name="described", S3BucketName="trail-logs", S3KeyPrefix="team/a", EnableLogFileValidation=True)
    expected = {
        "Name": "described",
        "S3BucketName": "trail-logs",
        "S3KeyPrefix": "team/a",
        "IncludeGlobalServiceEvents": True,
        "IsMultiRegionTrail": False,
        "HomeRegion": ct.meta.region_name,
        "TrailARN": arn_of(ct, "described"),
        "LogFileValidationEnabled": True,
        "HasCustomEventSelectors": False,
        "HasInsightSelectors": False,
        "IsOrganizationTrail": False,
    }
    trail = ct.get_trail(Name="described")["Trail"]
    assert trail == expected
    assert ct.get_trail(Name=arn_of(ct, "described"))["Trail"] == expected
    ct.create_trail(Name="described-too", S3BucketName="trail-logs")
    listed = ct.describe_trails(trailNameList=["described", arn_of(ct, "described-too"), "never-made"])["trailList"]
    assert [t["Name"] for t in listed] == ["described", "described-too"]
    everything = ct.describe_trails()["trailList"]
    assert {"described", "described-too"} <= {t["Name"] for t in everything}


def test_describe_trails_empty_region_is_awss_16_bytes(trails_server: ServerProcess) -> None:
    client = trails_server.client("cloudtrail", region="ap-southeast-7")
    raw = RawBodies(client)
    assert client.describe_trails(includeShadowTrails=False)["trailList"] == []
    assert raw.last == b'{"trailList":[]}'


def test_update_trail_by_arn(ct: Any) -> None:
    ct.create_trail(Name="updated", S3BucketName="trail-logs")
    answer = ct.update_trail(Name=arn_of(ct, "updated"), S3KeyPrefix="new-prefix", EnableLogFileValidation=True)
    answer.pop("ResponseMetadata")
    assert answer == {
        "Name": "updated",
        "S3BucketName": "trail-logs",
        "S3KeyPrefix": "new-prefix",
        "IncludeGlobalServiceEvents": True,
        "IsMultiRegionTrail": False,
        "TrailARN": arn_of(ct, "updated"),
        "LogFileValidationEnabled": True,
        "IsOrganizationTrail": False,
    }
    assert ct.get_trail(Name="updated")["Trail"]["S3KeyPrefix"] == "new-prefix"
    cleared = ct.update_trail(Name="updated", S3KeyPrefix="")
    assert "S3KeyPrefix" not in cleared


def test_update_to_multi_region_switches_global_events_on(ct: Any) -> None:
    ct.create_trail(Name="regional-only", S3BucketName="trail-logs", IncludeGlobalServiceEvents=False)
    assert ct.get_trail(Name="regional-only")["Trail"]["IncludeGlobalServiceEvents"] is False
    answer = ct.update_trail(Name="regional-only", IsMultiRegionTrail=True)
    assert answer["IsMultiRegionTrail"] is True and answer["IncludeGlobalServiceEvents"] is True
    error = error_of(ct.update_trail, Name="regional-only", IncludeGlobalServiceEvents=False)
    assert error == {
        "Code": "InvalidParameterCombinationException",
        "Message": "Multi-Region trail must include global service events.",
    }
    ct.delete_trail(Name="regional-only")


def test_multi_region_trail_must_include_global_events(ct: Any) -> None:
    error = error_of(
        ct.create_trail,
        Name="bad-combo",
        S3BucketName="trail-logs",
        IsMultiRegionTrail=True,
        IncludeGlobalServiceEvents=False,
    )
    assert error["Code"] == "InvalidParameterCombinationException"
    assert error["Message"] == "Multi-Region trail must include global service events."


def test_delete_trail_then_not_found_messages(ct: Any) -> None:
    ct.create_trail(Name="doomed", S3BucketName="trail-logs")
    raw = RawBodies(ct)
    ct.delete_trail(Name="doomed")
    assert raw.last == b"{}"
    message = f"Unknown trail: {arn_of(ct, 'doomed')} for the user: {ACCOUNT}"
    for call in (ct.get_trail, ct.get_trail_status, ct.delete_trail, ct.start_logging, ct.update_trail):
        assert error_of(call, Name="doomed") == {"Code": "TrailNotFoundException", "Message": message}
    assert error_of(ct.get_event_selectors, TrailName="doomed")["Message"] == message


def test_trail_already_exists(ct: Any) -> None:
    ct.create_trail(Name="twice", S3BucketName="trail-logs")
    error = error_of(ct.create_trail, Name="twice", S3BucketName="trail-logs")
    assert error == {
        "Code": "TrailAlreadyExistsException",
        "Message": f"Trail twice already exists for customer: {ACCOUNT}",
    }


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "Trail name cannot be blank!"),
        ("ab", "Trail name too short. Minimum allowed length: 3 characters. Specified name length: 2 characters."),
        (
            "a" * 129,
            "Trail name too long. Maximum allowed length: 128 characters. Specified name length: 129 characters.",
        ),
        ("-abc", "Trail name must starts with a letter or number."),
        ("abc_", "Trail name must ends with a letter or number."),
        (
            "my trail",
            "Trail name or ARN can only contain uppercase letters, lowercase letters, numbers, periods (.), "
            "hyphens (-), and underscores (_).",
        ),
        ("a.-b", "Trail name cannot contain adjacent periods (.), hyphens (-), or underscores (_)."),
        ("192.168.10.1", "Trail names must not be formatted as an IP address."),
    ],
)
def test_invalid_trail_names(trails_server: ServerProcess, name: str, message: str) -> None:
    error = error_of(trails_server.client("cloudtrail").create_trail, Name=name, S3BucketName="trail-logs")
    assert error == {"Code": "InvalidTrailNameException", "Message": message}


def test_bad_arn_is_cloudtrail_arn_invalid(ct: Any) -> None:
    for value in ("arn:aws:cloudtrail:us-east-1:123:trail/x1x", "arn:aws:s3:::bucket", "arn:aws:cloudtrail:us-east-1"):
        error = error_of(ct.get_trail, Name=value)
        assert error["Code"] == "CloudTrailARNInvalidException"
        assert value in error["Message"]


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"S3KeyPrefix": "p" * 201}, "InvalidS3PrefixException"),
        ({"S3KeyPrefix": "logs/../../etc"}, "InvalidS3PrefixException"),
        ({"S3KeyPrefix": "a//b"}, "InvalidS3PrefixException"),
        ({"S3BucketName": "../etc"}, "InvalidS3BucketNameException"),
        ({"S3BucketName": "x"}, "InvalidS3BucketNameException"),
        ({"KmsKeyId": "alias/trail-key"}, "KmsKeyNotFoundException"),
        ({"CloudWatchLogsRoleArn": f"arn:aws:iam::{ACCOUNT}:role/ct"}, "InvalidParameterCombinationException"),
        (
            {
                "CloudWatchLogsRoleArn": f"arn:aws:iam::{ACCOUNT}:role/ct",
                "CloudWatchLogsLogGroupArn": f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:ct:*",
            },
            "CloudWatchLogsDeliveryUnavailableException",
        ),
        ({"IsOrganizationTrail": True}, "OrganizationsNotInUseException"),
    ],
)
def test_create_trail_setting_errors(trails_server: ServerProcess, kwargs: dict[str, Any], code: str) -> None:
    ct = trails_server.client("cloudtrail", region="ap-southeast-5")
    params = {"Name": "refused", "S3BucketName": "trail-logs", **kwargs}
    error = error_of(ct.create_trail, **params)
    assert error["Code"] == code and error["Message"]
    assert error_of(ct.get_trail, Name="refused")["Code"] == "TrailNotFoundException"  # nothing was stored


def test_sns_topic_is_recorded_as_name_and_arn(ct: Any) -> None:
    answer = ct.create_trail(Name="notifying", S3BucketName="trail-logs", SnsTopicName="trail-topic")
    assert answer["SnsTopicName"] == "trail-topic"
    assert answer["SnsTopicARN"] == f"arn:aws:sns:{ct.meta.region_name}:{ACCOUNT}:trail-topic"
    cleared = ct.update_trail(Name="notifying", SnsTopicName="")
    assert cleared["SnsTopicName"] == "" and cleared["SnsTopicARN"] == ""  # AWS's recorded answer to ""


def test_list_trails_lists_every_home_region(trails_server: ServerProcess, ct: Any) -> None:
    west = trails_server.client("cloudtrail", region="ap-southeast-5")
    west.create_trail(Name="western", S3BucketName="trail-logs")
    ct.create_trail(Name="eastern", S3BucketName="trail-logs")
    listed = ct.list_trails()["Trails"]
    assert {"TrailARN": arn("western", "ap-southeast-5"), "Name": "western", "HomeRegion": "ap-southeast-5"} in listed
    assert {"TrailARN": arn_of(ct, "eastern"), "Name": "eastern", "HomeRegion": ct.meta.region_name} in listed
    assert "NextToken" not in ct.list_trails()
    assert error_of(ct.list_trails, NextToken="12##forged")["Code"] == "InvalidNextTokenException"
