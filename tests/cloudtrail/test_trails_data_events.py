"""S3 object calls are data events, stored only while a logging trail's selectors ask for them (the
gateway's ``wants_data_event`` hook, wired to ``selectors.data_event_wanted``), end to end with boto3.

What is stored is read back from the server's event store (data events are not in Event history,
as in AWS, so LookupEvents cannot show them)."""

from __future__ import annotations

from typing import Any

from tests.cloudtrail.test_trails import bucket_policy, make_bucket
from tests.support.server import ServerProcess
from trailpost.store.events import event_store
from trailpost.store.sqlite import SqliteStateStore


def stored_data_events(server: ServerProcess) -> list[tuple[str, str]]:
    """(eventName, object ARN) of every stored data event of the server."""
    state = SqliteStateStore(server.data_dir / "state.db")
    try:
        records = [stored.record for stored in event_store(state).iter_all()]
    finally:
        state.close()
    found = []
    for record in records:
        if record.get("eventCategory") == "Data":
            objects = [r["ARN"] for r in record.get("resources") or [] if r.get("type") == "AWS::S3::Object"]
            found.append((record["eventName"], objects[0] if objects else ""))
    return found


def test_object_calls_recorded_only_when_a_logging_trail_selects_them(make_server: Any) -> None:
    server = make_server()
    make_bucket(server, "trail-sink", bucket_policy("trail-sink"))
    s3 = server.client("s3")
    for bucket in ("photos", "ledger"):
        s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket="photos", Key="before/cat.jpg", Body=b"meow")  # no trail: not recorded
    ct = server.client("cloudtrail")
    ct.create_trail(Name="data-trail", S3BucketName="trail-sink")
    ct.put_event_selectors(
        TrailName="data-trail",
        EventSelectors=[
            {
                "ReadWriteType": "WriteOnly",
                "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::photos/"]}],
            }
        ],
    )
    s3.put_object(Bucket="photos", Key="stopped/cat.jpg", Body=b"meow")  # trail not logging yet
    ct.start_logging(Name="data-trail")
    s3.put_object(Bucket="photos", Key="2026/dog.jpg", Body=b"woof")  # selected
    s3.get_object(Bucket="photos", Key="2026/dog.jpg")["Body"].read()  # a read: WriteOnly
    s3.put_object(Bucket="ledger", Key="books.csv", Body=b"1,2")  # another bucket
    ct.stop_logging(Name="data-trail")
    s3.put_object(Bucket="photos", Key="after/cat.jpg", Body=b"meow")  # stopped again
    assert stored_data_events(server) == [("PutObject", "arn:aws:s3:::photos/2026/dog.jpg")]
    # Advanced selectors replace the basic ones at once (the selector cache follows trail writes).
    ct.put_event_selectors(
        TrailName="data-trail",
        AdvancedEventSelectors=[
            {
                "FieldSelectors": [
                    {"Field": "eventCategory", "Equals": ["Data"]},
                    {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
                    {"Field": "resources.ARN", "StartsWith": ["arn:aws:s3:::ledger/"]},
                ]
            }
        ],
    )
    ct.start_logging(Name="data-trail")
    s3.get_object(Bucket="ledger", Key="books.csv")["Body"].read()
    s3.put_object(Bucket="photos", Key="2026/bird.jpg", Body=b"tweet")
    assert stored_data_events(server)[1:] == [("GetObject", "arn:aws:s3:::ledger/books.csv")]
