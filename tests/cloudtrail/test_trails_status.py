"""GetTrailStatus with the real delivery worker (1-second interval): the delivery fields appear only
after a log file was delivered, the deprecated string members follow them, and a delivery that
the bucket refuses shows as ``LatestDeliveryError`` while the last success stays reported."""

from __future__ import annotations

import time
from typing import Any

from tests.cloudtrail.test_trails import make_bucket
from tests.support.server import ServerProcess


def wait_for(check: Any, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


def iso(value: Any) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_delivery_fields_come_from_real_deliveries(make_server: Any) -> None:
    server: ServerProcess = make_server("--delivery-interval", "1")
    make_bucket(server, "status-logs")
    ct = server.client("cloudtrail")
    ct.create_trail(Name="status-trail", S3BucketName="status-logs")
    before = ct.get_trail_status(Name="status-trail")
    assert "LatestDeliveryTime" not in before and before["LatestDeliveryAttemptTime"] == ""
    ct.start_logging(Name="status-trail")
    server.client("outposts").list_sites()  # an event to deliver
    status = wait_for(lambda: (s := ct.get_trail_status(Name="status-trail")).get("LatestDeliveryTime") and s)
    assert status, "no log file delivered within 30 s"
    assert "LatestDeliveryError" not in status
    assert status["LatestDeliveryAttemptTime"] == iso(status["LatestDeliveryTime"])  # the attempt that delivered
    assert status["LatestDeliveryAttemptSucceeded"] == status["LatestDeliveryAttemptTime"]
    assert status["StartLoggingTime"] <= status["LatestDeliveryTime"]
    listed = server.client("s3").list_objects_v2(Bucket="status-logs", Prefix="AWSLogs/")["Contents"]
    assert listed and all("_CloudTrail_us-east-1_" in item["Key"] for item in listed)

    # The bucket stops letting CloudTrail write: the next attempt fails and says why.
    server.client("s3").delete_bucket_policy(Bucket="status-logs")
    server.client("outposts").list_sites()
    failed = wait_for(lambda: (s := ct.get_trail_status(Name="status-trail")).get("LatestDeliveryError") and s)
    assert failed, "the refused delivery was not reported within 30 s"
    assert failed["IsLogging"] is True
    assert failed["LatestDeliveryTime"] >= status["LatestDeliveryTime"]  # the last success is kept
    assert failed["LatestDeliveryAttemptSucceeded"] == iso(failed["LatestDeliveryTime"])
    assert failed["LatestDeliveryAttemptTime"] >= failed["LatestDeliveryAttemptSucceeded"]
