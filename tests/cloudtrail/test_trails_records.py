"""How the trail API's own calls are recorded (as AWS records CreateTrail, StopLogging, PutEventSelectors...,
aws-recorded/cloudtrail-event-records.json), and the AWS CLI creating and reading a trail."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cloudtrail.test_trails import ACCOUNT, arn, error_of, make_bucket
from tests.support.server import ServerProcess

AWS = Path(sys.executable).with_name("aws")
REGION = "us-west-2"


@pytest.fixture(scope="module")
def records_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = ServerProcess(Path(tmp_path_factory.mktemp("records")) / "data").start()
    make_bucket(proc, "recorded-logs")
    yield proc
    proc.stop()


def record_of(ct: Any, request_id: str) -> dict[str, Any]:
    """The CloudTrail record of the call that answered ``request_id``."""
    for page in ct.get_paginator("lookup_events").paginate(
        LookupAttributes=[{"AttributeKey": "EventSource", "AttributeValue": "cloudtrail.amazonaws.com"}]
    ):
        for event in page["Events"]:
            record = json.loads(event["CloudTrailEvent"])
            if record["requestID"] == request_id:
                return record
    raise AssertionError(f"no record of request {request_id}")


def test_create_trail_recorded_as_aws_records_it(records_server: ServerProcess) -> None:
    ct = records_server.client("cloudtrail", region=REGION)
    made = ct.create_trail(
        Name="TEST-trail",
        S3BucketName="recorded-logs",
        IncludeGlobalServiceEvents=True,
        IsMultiRegionTrail=True,
        EnableLogFileValidation=True,
        KmsKeyId="",
        IsOrganizationTrail=False,
    )
    record = record_of(ct, made["ResponseMetadata"]["RequestId"])
    assert record["eventSource"] == "cloudtrail.amazonaws.com" and record["eventName"] == "CreateTrail"
    assert record["awsRegion"] == REGION and record["readOnly"] is False
    assert record["requestParameters"] == {
        "name": "TEST-trail",
        "s3BucketName": "recorded-logs",
        "includeGlobalServiceEvents": True,
        "isMultiRegionTrail": True,
        "enableLogFileValidation": True,
        "kmsKeyId": "",
        "isOrganizationTrail": False,
    }
    assert record["responseElements"] == {
        "name": "TEST-trail",
        "s3BucketName": "recorded-logs",
        "includeGlobalServiceEvents": True,
        "isMultiRegionTrail": True,
        "trailARN": arn("TEST-trail", REGION),
        "logFileValidationEnabled": True,
        "isOrganizationTrail": False,
    }
    assert record["eventCategory"] == "Management" and record["managementEvent"] is True


def test_logging_selectors_and_reads_recorded(records_server: ServerProcess) -> None:
    ct = records_server.client("cloudtrail", region=REGION)
    ct.create_trail(Name="stratus-trail", S3BucketName="recorded-logs")
    stop = ct.stop_logging(Name="stratus-trail")["ResponseMetadata"]["RequestId"]
    stopped = record_of(ct, stop)
    assert stopped["requestParameters"] == {"name": "stratus-trail"} and stopped["responseElements"] is None
    selectors = [
        {
            "ReadWriteType": "ReadOnly",
            "IncludeManagementEvents": False,
            "DataResources": [{"Type": "AWS::S3::Object", "Values": []}],
            "ExcludeManagementEventSources": [],
        }
    ]
    put = ct.put_event_selectors(TrailName="stratus-trail", EventSelectors=selectors)["ResponseMetadata"]["RequestId"]
    put_record = record_of(ct, put)
    camel = [
        {
            "readWriteType": "ReadOnly",
            "includeManagementEvents": False,
            "dataResources": [{"type": "AWS::S3::Object", "values": []}],
            "excludeManagementEventSources": [],
        }
    ]
    assert put_record["requestParameters"] == {"trailName": "stratus-trail", "eventSelectors": camel}
    assert put_record["responseElements"] == {"trailARN": arn("stratus-trail", REGION), "eventSelectors": camel}
    status = ct.get_trail_status(Name="stratus-trail")["ResponseMetadata"]["RequestId"]
    status_record = record_of(ct, status)
    assert status_record["readOnly"] is True and status_record["responseElements"] is None
    delete = ct.delete_trail(Name=arn("stratus-trail", REGION))["ResponseMetadata"]["RequestId"]
    assert record_of(ct, delete)["requestParameters"] == {"name": arn("stratus-trail", REGION)}  # as sent


def test_failed_call_recorded_with_its_error(records_server: ServerProcess) -> None:
    ct = records_server.client("cloudtrail", region=REGION)
    try:
        ct.get_trail_status(Name="absent-trail")
    except ct.exceptions.TrailNotFoundException as exc:
        request_id = exc.response["ResponseMetadata"]["RequestId"]
    record = record_of(ct, request_id)
    assert record["errorCode"] == "TrailNotFoundException"
    assert record["errorMessage"] == f"Unknown trail: {arn('absent-trail', REGION)} for the user: {ACCOUNT}"
    assert error_of(ct.get_trail, Name="absent-trail")["Code"] == "TrailNotFoundException"


def test_aws_cli_creates_and_reads_a_trail(records_server: ServerProcess, tmp_path: Path) -> None:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        "AWS_SHARED_CREDENTIALS_FILE": str(records_server.data_dir / "credentials"),
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_DEFAULT_REGION": "eu-central-1",
        "AWS_PAGER": "",
        "AWS_EC2_METADATA_DISABLED": "true",
    }

    def aws(*args: str) -> Any:
        command = [str(AWS), "--endpoint-url", records_server.endpoint, "--output", "json", "cloudtrail", *args]
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout) if done.stdout.strip() else {}

    created = aws("create-trail", "--name", "cli-trail", "--s3-bucket-name", "recorded-logs", "--is-multi-region-trail")
    assert created["TrailARN"] == arn("cli-trail", "eu-central-1") and created["IsMultiRegionTrail"] is True
    aws("start-logging", "--name", "cli-trail")
    described = aws("describe-trails", "--trail-name-list", "cli-trail")["trailList"]
    assert [(t["Name"], t["HomeRegion"], t["HasCustomEventSelectors"]) for t in described] == [
        ("cli-trail", "eu-central-1", False)
    ]
    status = aws("get-trail-status", "--name", "cli-trail")
    assert status["IsLogging"] is True
    assert isinstance(status["StartLoggingTime"], (int, float, str)) and status["TimeLoggingStarted"].endswith("Z")
    assert status["LatestDeliveryAttemptTime"] == ""
