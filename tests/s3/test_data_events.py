"""S3 object calls are data events: kept only when a logging trail's selectors ask for them, never
shown by LookupEvents (Event history), and recorded as S3 writes them (resources, key, bytes)."""

from __future__ import annotations

import json
from typing import Any

from tests.audit.stored import records_with
from tests.support.records import cloudtrail_policy
from tests.support.server import ServerProcess

BUCKET = "data-event-logs"


def test_data_events_only_when_selected(make_server: Any) -> None:
    server: ServerProcess = make_server()
    s3 = server.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_policy(Bucket=BUCKET, Policy=cloudtrail_policy(BUCKET))
    s3.create_bucket(Bucket="watched")
    unselected = s3.put_object(Bucket="watched", Key="before.txt", Body=b"12345")
    assert records_with(server.data_dir, unselected["ResponseMetadata"]["RequestId"]) == []

    trail = server.client("cloudtrail")
    trail.create_trail(Name="objects", S3BucketName=BUCKET)
    trail.put_event_selectors(
        TrailName="objects",
        EventSelectors=[
            {
                "ReadWriteType": "All",
                "IncludeManagementEvents": True,
                "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::watched/"]}],
            }
        ],
    )
    trail.start_logging(Name="objects")
    put = s3.put_object(Bucket="watched", Key="dir/after.txt", Body=b"0123456789")
    got = s3.get_object(Bucket="watched", Key="dir/after.txt")
    assert got["Body"].read() == b"0123456789"

    [record] = records_with(server.data_dir, put["ResponseMetadata"]["RequestId"])
    assert record["eventCategory"] == "Data" and record["managementEvent"] is False
    assert record["eventName"] == "PutObject" and record["readOnly"] is False
    assert record["requestParameters"] == {
        "bucketName": "watched",
        "Host": f"127.0.0.1:{server.port}",
        "key": "dir/after.txt",
    }
    assert record["resources"] == [
        {"type": "AWS::S3::Object", "ARN": "arn:aws:s3:::watched/dir/after.txt"},
        {"accountId": "123456789012", "type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::watched"},
    ]
    assert record["additionalEventData"]["bytesTransferredIn"] == 10
    assert "0123456789" not in json.dumps(record)
    [read] = records_with(server.data_dir, got["ResponseMetadata"]["RequestId"])
    assert read["readOnly"] is True and read["additionalEventData"]["bytesTransferredOut"] == 10

    history = trail.lookup_events(
        LookupAttributes=[{"AttributeKey": "EventSource", "AttributeValue": "s3.amazonaws.com"}]
    )
    names = {event["EventName"] for event in history["Events"]}
    assert "CreateBucket" in names and "PutBucketPolicy" in names
    assert not names & {"PutObject", "GetObject"}
