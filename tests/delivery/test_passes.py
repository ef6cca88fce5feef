"""The delivery worker in process, on a real store, event store, embedded buckets and group commit.

Cursor rules (logging sessions), selectors, multi-region folders, the size cap, failures with
their status and retries, and what a crash between the put and the commit leaves (duplicates of
that batch only).
"""

from __future__ import annotations

import calendar
import collections
import gzip
import hashlib
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from tests.delivery.support import Local, read_log_file, run
from tests.support.records import ACCOUNT, cloudtrail_policy, record
from trailpost.delivery import passes
from trailpost.delivery.logfiles import KEY_PATTERN, log_file_key
from trailpost.delivery.worker import CURSOR_KIND, LOG_FILE_KIND, backoff, next_round
from trailpost.services.cloudtrail import selectors, trail_docs
from trailpost.services.cloudtrail.trail_docs import STATUS_KIND
from trailpost.services.s3.policy import service_allowed
from trailpost.store.base import iter_all


@pytest.fixture
def local(tmp_path: Path) -> Iterator[Local]:
    setup = Local(tmp_path / "data")
    yield setup
    setup.close()


def ids(records: list[dict]) -> list[str]:
    return [r["eventID"] for r in records]


def test_only_events_from_start_logging_on_are_delivered_once(local: Local) -> None:
    local.bucket("logs")
    trail = local.trail("main", "logs")
    before = local.append(record("Before", at=time.time() - 30))
    local.start(trail)
    first = local.append(*(record(f"Call{i}") for i in range(5)))
    local.deliver()
    assert sorted(local.delivered_ids("logs")) == sorted(ids(first))
    assert not set(ids(before)) & set(local.delivered_ids("logs"))
    second = local.append(record("Later"))
    local.deliver()
    local.deliver()  # nothing new: no new file
    delivered = local.delivered_ids("logs")
    assert sorted(delivered) == sorted(ids(first + second))
    keys = list(local.objects("logs"))
    assert len(keys) == 2
    for key in keys:
        match = KEY_PATTERN.match(key)
        assert match and match["account"] == ACCOUNT and match["region"] == "us-east-1" and not match["prefix"]


def test_records_are_the_stored_bytes(local: Local) -> None:
    local.bucket("logs")
    local.start(local.trail("main", "logs"))
    local.append(record("Exact", resources=[{"accountId": ACCOUNT, "type": "AWS::Outposts::Site", "ARN": "arn:x"}]))
    local.deliver()
    stored = [event.record for event in local.events.iter_all()]
    (key,) = local.objects("logs")
    body = gzip.decompress(local.storage.get_object("logs", key).body)
    assert body == b'{"Records":[' + orjson.dumps(stored[-1]) + b"]}"
    doc = local.store.get(LOG_FILE_KIND, f"{trail_docs.trail_arn('us-east-1', ACCOUNT, 'main')}|us-east-1", key)
    assert doc["sha256"] == hashlib.sha256(body).hexdigest()
    assert doc["events"] == 1 and doc["bucket"] == "logs" and doc["key"] == key and doc["logging_epoch"] == 1
    assert doc["oldest_event_time"] == doc["newest_event_time"] == stored[-1]["eventTime"]
    stored_object = local.storage.get_object("logs", key)
    assert stored_object.content_type == "application/json"


def test_multi_region_trail_writes_each_region_folder_single_region_only_home(local: Local) -> None:
    local.bucket("logs", policy=cloudtrail_policy("logs", prefix="org/a"))
    local.bucket("home-only")
    everywhere = local.start(local.trail("all", "logs", is_multi_region_trail=True, s3_key_prefix="org/a"))
    local.start(local.trail("home", "home-only"))
    east = local.append(*(record("East", region="us-east-1") for _ in range(3)))
    west = local.append(*(record("West", region="eu-west-1") for _ in range(2)))
    other_account = local.append(record("Foreign", account="210987654321"))
    local.deliver()
    by_region = collections.defaultdict(list)
    for key, records in local.objects("logs").items():
        match = KEY_PATTERN.match(key)
        assert match and match["prefix"] == "org/a"
        assert {r["awsRegion"] for r in records} == {match["region"]}
        by_region[match["region"]] += ids(records)
    assert sorted(by_region["us-east-1"]) == sorted(ids(east))
    assert sorted(by_region["eu-west-1"]) == sorted(ids(west))
    assert sorted(local.delivered_ids("home-only")) == sorted(ids(east))
    assert ids(other_account)[0] not in local.delivered_ids("logs")
    status = local.store.get(STATUS_KIND, f"{ACCOUNT}/eu-west-1", everywhere["trail_arn"])
    assert status["latest_delivery_attempt_succeeded"] is True and status["latest_delivery_error"] is None
    assert status["latest_delivery_time"] and status["latest_digest_delivery_time"] is None


def test_selectors_decide(local: Local) -> None:
    local.bucket("logs")
    write_only = [{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True, "DataResources": []}]
    local.start(local.trail("writes", "logs", event_selectors=write_only))
    reads = local.append(*(record("GetThing", read_only=True) for _ in range(3)))
    writes = local.append(*(record("PutThing") for _ in range(2)))
    data = local.append(record("GetObject", source="s3.amazonaws.com", category="Data", read_only=True))
    local.deliver()
    assert sorted(local.delivered_ids("logs")) == sorted(ids(writes))
    assert not set(ids(reads + data)) & set(local.delivered_ids("logs"))


def test_stop_and_restart(local: Local) -> None:
    local.bucket("logs")
    trail = local.start(local.trail("main", "logs"), at=time.time() - 100)
    logged = local.append(record("While1", at=time.time() - 90))
    local.deliver()
    pending = local.append(record("BeforeStop", at=time.time() - 60))
    local.stop(trail, at=time.time() - 50)
    stopped = local.append(record("WhileStopped", at=time.time() - 40))
    local.deliver()
    cursor = local.store.get(CURSOR_KIND, "", trail["trail_arn"])
    assert cursor["closed"] is True
    assert sorted(local.delivered_ids("logs")) == sorted(ids(logged + pending))
    # stopped, then started again between two rounds: the old session is closed first
    local.start(trail, at=time.time() - 30)
    again = local.append(record("Again", at=time.time() - 20))
    local.stop(trail, at=time.time() - 10)
    local.append(record("StoppedAgain", at=time.time() - 5))
    local.start(trail)
    latest = local.append(record("Latest"))
    local.deliver()
    delivered = local.delivered_ids("logs")
    assert sorted(delivered) == sorted(ids(logged + pending + again + latest))
    assert not set(ids(stopped)) & set(delivered)
    epochs = {
        doc.doc["logging_epoch"] for doc in iter_all(local.store, LOG_FILE_KIND, f"{trail['trail_arn']}|us-east-1")
    }
    assert epochs == {1, 3}  # the unseen session's files carry the epoch the cursor knew


def test_size_cap_splits_files(local: Local) -> None:
    small = Local(local.root.parent / "small", max_file_bytes=4096)
    try:
        small.bucket("logs")
        small.start(small.trail("main", "logs"))
        sent = small.append(*(record(f"Call{i}", pad=300) for i in range(60)))
        small.deliver()
        files = small.objects("logs")
        assert len(files) >= 5
        for key in files:
            assert len(gzip.decompress(small.storage.get_object("logs", key).body)) <= 4096
        delivered = [i for records in files.values() for i in ids(records)]
        assert sorted(delivered) == sorted(ids(sent)) and len(delivered) == len(set(delivered))
    finally:
        small.close()


def test_denied_then_allowed_delivers_everything_once(local: Local) -> None:
    deny_all = orjson.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "s3.amazonaws.com"},
                    "Action": "s3:*",
                    "Resource": "arn:aws:s3:::logs/*",
                }
            ],
        }
    ).decode()
    local.bucket("logs", policy=deny_all)
    trail = local.start(local.trail("main", "logs"))
    first = local.append(*(record("One") for _ in range(3)))
    worker = local.deliver()
    assert worker.next_retry() is not None
    assert local.objects("logs") == {}
    status = local.store.get(STATUS_KIND, f"{ACCOUNT}/us-east-1", trail["trail_arn"])
    assert status["latest_delivery_error"] == "AccessDenied"
    assert status["latest_delivery_attempt_succeeded"] is False and status["latest_delivery_time"] is None
    second = local.append(record("Two"))
    local.deliver()  # still denied: still nothing, nothing lost
    local.storage.set_policy("logs", cloudtrail_policy("logs"))
    local.deliver()
    local.deliver()
    assert sorted(local.delivered_ids("logs")) == sorted(ids(first + second))
    status = local.store.get(STATUS_KIND, f"{ACCOUNT}/us-east-1", trail["trail_arn"])
    assert status["latest_delivery_error"] is None and status["latest_delivery_attempt_succeeded"] is True


def test_missing_bucket_is_no_such_bucket_until_it_exists(local: Local) -> None:
    trail = local.start(local.trail("main", "later"))
    sent = local.append(record("Call"))
    local.deliver()
    status = local.store.get(STATUS_KIND, f"{ACCOUNT}/us-east-1", trail["trail_arn"])
    assert status["latest_delivery_error"] == "NoSuchBucket"
    local.bucket("later")
    local.deliver()
    assert local.delivered_ids("later") == ids(sent)


def test_one_region_failing_holds_back_only_that_region(local: Local) -> None:
    policy = orjson.loads(cloudtrail_policy("logs"))
    policy["Statement"].append(
        {
            "Effect": "Deny",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "s3:PutObject",
            "Resource": f"arn:aws:s3:::logs/AWSLogs/{ACCOUNT}/CloudTrail/eu-west-1/*",
        }
    )
    local.bucket("logs", policy=orjson.dumps(policy).decode())
    trail = local.start(local.trail("all", "logs", is_multi_region_trail=True))
    east = local.append(record("East", region="us-east-1"))
    west = local.append(record("West", region="eu-west-1"))
    east2 = local.append(record("East2", region="us-east-1"))
    local.deliver()
    assert sorted(local.delivered_ids("logs")) == sorted(ids(east + east2))
    cursor = local.store.get(CURSOR_KIND, "", trail["trail_arn"])
    assert cursor["regions"].get("us-east-1", 0) > cursor["seq"]
    east3 = local.append(record("East3", region="us-east-1"))
    local.deliver()  # east goes on, west is still held back
    local.storage.set_policy("logs", cloudtrail_policy("logs"))
    local.deliver()
    delivered = local.delivered_ids("logs")
    assert sorted(delivered) == sorted(ids(east + west + east2 + east3))
    assert len(delivered) == len(set(delivered))


def test_crash_between_put_and_commit_duplicates_only_that_batch(local: Local) -> None:
    local.bucket("logs")
    trail = local.start(local.trail("main", "logs"))
    first = local.append(*(record("Old") for _ in range(2)))
    local.deliver()
    in_flight = local.append(*(record("InFlight") for _ in range(3)))
    # The thread part of a pass runs and puts its file, then the process "dies" before the commit.
    worker = local.worker()
    cursor = local.store.get(CURSOR_KIND, "", trail["trail_arn"])
    outcome = passes.deliver(
        trail_docs.get(local.store, trail_docs.TrailRef("us-east-1", ACCOUNT, "main")),
        cursor,
        worker.reader,
        worker._open,
        covers=selectors.covers_region,
        selects=selectors.selects,
        service_allowed=service_allowed,
        limit=local.settings.delivery_max_file_bytes,
    )
    worker.reader.close()
    assert len(outcome.files) == 1
    after = local.append(record("After"))
    local.deliver()  # the restarted worker starts from the committed cursor
    counts = collections.Counter(local.delivered_ids("logs"))
    assert set(counts) == set(ids(first + in_flight + after))
    assert {i for i, n in counts.items() if n > 1} == set(ids(in_flight))
    assert all(n <= 2 for n in counts.values())


def test_idle_when_nothing_logs_and_cursor_of_deleted_trail_dropped(local: Local) -> None:
    local.bucket("logs")
    trail = local.trail("main", "logs")
    local.append(record("Call"))
    assert local.deliver().passes == 0
    local.start(trail)
    local.append(record("Call"))
    local.deliver()
    assert local.store.get(CURSOR_KIND, "", trail["trail_arn"]) is not None
    trail_docs.remove(local.store, trail)
    worker = local.deliver()
    assert worker.passes == 0
    assert local.store.get(CURSOR_KIND, "", trail["trail_arn"]) is None


def test_backoff_doubles_up_to_the_interval() -> None:
    assert [backoff(n, 300) for n in range(1, 11)] == [1, 2, 4, 8, 16, 32, 64, 128, 256, 300]
    assert [backoff(n, 1) for n in (1, 2, 5)] == [1, 1, 1]
    assert backoff(1, 0.2) == 0.2


def test_rounds_fall_on_the_clocks_grid_so_stamps_are_awss() -> None:
    at = calendar.timegm((2026, 11, 25, 4, 58, 7))
    assert next_round(at, 300) == calendar.timegm((2026, 11, 25, 5, 0, 0))
    assert next_round(calendar.timegm((2026, 11, 25, 5, 0, 0)), 300) == calendar.timegm((2026, 11, 25, 5, 5, 0))
    assert next_round(at + 0.25, 1) == at + 1 and next_round(at, 0.5) == at + 0.5
    keys = [log_file_key(None, "111122223333", "us-east-1", next_round(at + 300 * n, 300) + 2) for n in range(24)]
    stamps = [(match["hour"], match["minute"]) for match in map(KEY_PATTERN.match, keys) if match]
    assert len(set(stamps)) == 24 and {minute for _, minute in stamps} == {f"{m:02d}" for m in range(0, 60, 5)}


def test_shutdown_flush_delivers_pending(local: Local) -> None:
    local.bucket("logs")
    local.start(local.trail("main", "logs"))
    worker = local.worker()
    worker.interval = 3600.0

    async def go() -> None:
        worker.start()
        local.append(*(record("Pending") for _ in range(4)))
        await worker.stop()
        worker.commits.close()

    run(go())
    assert len(local.delivered_ids("logs")) == 4
    assert read_log_file  # the helper checks every file's wrapper


def control(name: str, trail: str, *, error: str | None = None) -> dict:
    rec = record(name, source="cloudtrail.amazonaws.com")
    rec["requestParameters"] = {"name": trail}
    if error:
        rec["errorCode"] = error
    return rec


def test_session_bounds_are_the_start_and_stop_logging_events(local: Local) -> None:
    local.bucket("logs")
    trail = local.trail("main", "logs")
    at = time.time()
    before = local.append(record("SameSecondBefore", at=at), control("StartLogging", "main", error="AccessDenied"))
    local.start(trail, at=at)
    session = local.append(control("StartLogging", trail["trail_arn"]), record("Inside", at=at))
    local.deliver()
    session += local.append(record("Inside2"), control("StopLogging", "main"))
    local.stop(trail, at=time.time())
    after = local.append(record("SameSecondAfter"))
    local.deliver()
    delivered = local.delivered_ids("logs")
    assert sorted(delivered) == sorted(ids(session))
    assert not set(ids(before + after)) & set(delivered)


def test_a_first_session_entirely_between_two_rounds_is_delivered(local: Local) -> None:
    local.bucket("logs")
    trail = local.trail("main", "logs")
    local.start(trail, at=time.time() - 5)
    inside = local.append(record("Inside", at=time.time() - 4))
    local.stop(trail, at=time.time() - 3)
    local.append(record("AfterStop", at=time.time() - 1))
    local.deliver()
    assert local.delivered_ids("logs") == ids(inside)
    assert local.store.get(CURSOR_KIND, "", trail["trail_arn"])["closed"] is True
    assert local.deliver().passes == 0  # closed: nothing more to do
