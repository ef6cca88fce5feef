"""Crashes and shutdown: SIGKILL in the middle of delivery, several times, loses no acknowledged
event (duplicates only of the batch in flight, the same event by eventID); SIGTERM delivers every
pending event before the process exits."""

from __future__ import annotations

import collections
import random
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

import botocore.exceptions

from tests.delivery.remote import delivered, log_files, lookup_ids, make_bucket, session_events, wait_for
from tests.delivery.test_end_to_end import event_ids
from tests.support.server import ServerProcess

ROUNDS = 3


def kill(server: ServerProcess) -> None:
    assert server.process is not None
    server.process.send_signal(signal.SIGKILL)
    server.process.wait(10)
    server.process = None


def caller(server: ServerProcess, region: str, acknowledged: list[str], stop: threading.Event) -> None:
    """Outposts calls until ``stop``; the request ids of the calls that got an answer."""
    outposts = server.client("outposts", region=region)
    while not stop.is_set():
        try:
            answer = outposts.list_sites()
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError):
            time.sleep(0.05)
            continue
        acknowledged.append(answer["ResponseMetadata"]["RequestId"])


def test_kill_9_mid_delivery_loses_no_acknowledged_event(make_server: Callable[..., ServerProcess]) -> None:
    # Small files (the 1 KiB minimum cap) make each pass a long row of puts before its commit.
    server = make_server("--delivery-interval", "1", "--delivery-max-file-bytes", "1024")
    make_bucket(server, "crash-logs")
    ct = server.client("cloudtrail")
    ct.create_trail(Name="survivor", S3BucketName="crash-logs", IsMultiRegionTrail=True)
    ct.start_logging(Name="survivor")
    acknowledged: list[str] = []
    rng = random.Random(5)
    for _ in range(ROUNDS):
        stop = threading.Event()
        callers = [
            threading.Thread(target=caller, args=(server, region, acknowledged, stop))
            for region in ("us-east-1", "sa-east-1")
        ]
        for thread in callers:
            thread.start()
        time.sleep(rng.uniform(1.2, 2.6))
        kill(server)
        stop.set()
        for thread in callers:
            thread.join(30)
        server.start()
    assert len(acknowledged) > 50
    s3 = server.client("s3")

    def missing() -> set[str]:
        got = {record["requestID"] for record in delivered(log_files(s3, "crash-logs"))}
        return set(acknowledged) - got

    wait_for(lambda: not missing(), timeout=30, what="every acknowledged call delivered")
    records = delivered(log_files(s3, "crash-logs"))
    by_id: dict[str, list[dict[str, Any]]] = collections.defaultdict(list)
    for record in records:
        by_id[record["eventID"]].append(record)
    # a duplicate is the same event: same id, same record
    for copies in by_id.values():
        assert all(copy == copies[0] for copy in copies)
    stored = {e["eventID"] for region in ("us-east-1", "sa-east-1") for e in lookup_ids(server, region, 0)}
    assert set(by_id) <= stored  # nothing that is not in the event store


def test_sigterm_delivers_everything_pending(make_server: Callable[..., ServerProcess]) -> None:
    server = make_server("--delivery-interval", "3600")  # no round would run during the test
    make_bucket(server, "flush-logs")
    ct = server.client("cloudtrail")
    ct.create_trail(Name="flushed", S3BucketName="flush-logs", IsMultiRegionTrail=True)
    started = time.time()
    ct.start_logging(Name="flushed")
    outposts = server.client("outposts", region="ca-central-1")
    for _ in range(20):
        outposts.list_sites()
    assert server.stop(signal.SIGTERM) == 0
    time.sleep(1.1)  # the calls after the restart fall in a later second
    restarted = time.time()
    server.start()
    east = [e for e in session_events(lookup_ids(server, "us-east-1", started), "flushed") if _before(e, restarted)]
    central = [e for e in lookup_ids(server, "ca-central-1", started) if _before(e, restarted)]
    assert len(central) == 20
    files = log_files(server.client("s3"), "flush-logs")
    got = event_ids(delivered(files))
    assert len(got) == len(set(got))
    assert set(got) == set(event_ids(east + central))


def _before(record: dict[str, Any], at: float) -> bool:
    return record["eventTime"] < time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(at)))
