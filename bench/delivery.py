"""Trail delivery benchmark: events per second into log files, and call-to-object latency.

Run ``python -m bench.delivery`` from the repository root (``make bench-delivery``; ``--quick`` for a
short run). Two parts:

1. **Throughput** (in process, one thread = one core): ``--events`` records from
   ``bench/lookup_data.py``'s generator (3 accounts, 4 regions, ~1.1 KB each) are appended to a fresh
   state database; a multi-region trail of the main account (about 80 % of the events) with an
   embedded bucket and its CloudTrail policy is delivered by ``passes.deliver`` exactly as the
   worker's thread does it (read on the reader's own connection, selectors, JSON, SHA-256 and
   deflate as the rows are read, puts with the policy check). Cases: the default selectors;
   advanced selectors (management writes without two event sources); and the default selectors
   with a 1 MiB file cap (many files). The figure is events read per second of wall time and per
   CPU second of the thread, and selected events per second; files and compressed bytes show the
   output.
2. **Latency** through a running server (``trailpost serve --delivery-interval 1``): a multi-region
   trail logging into an embedded bucket; ``--calls`` Outposts ``ListSites`` calls, one every
   ``--spacing`` seconds, from one boto3 client; a poller lists the bucket (ListObjectsV2, which is
   a data event the trail does not select) every 50 ms, reads each new log file, and notes when each
   call's record (by ``requestID``) first appeared. Latency = first seen - the moment the call's
   response arrived. Target: p99 <= 2 s.

The section written into ``bench/RESULTS.md`` (between ``delivery`` markers, replaced on each run)
has the machine, versions, load, commands and figures. The server is stopped by its pid.
"""

from __future__ import annotations

import argparse
import gzip
import os
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from bench.lookup_data import ACCOUNT, Generator
from bench.lookup_events import machine, versions
from bench.server_report import replace_section, times_off
from tests.support.server import ServerProcess
from trailpost.config import Settings
from trailpost.delivery import passes
from trailpost.delivery.destinations import open_destination
from trailpost.delivery.logfiles import GZIP_LEVEL
from trailpost.delivery.reader import EventReader
from trailpost.services.cloudtrail import selectors, trail_docs
from trailpost.services.s3.policy import service_allowed
from trailpost.services.s3.storage import BucketStorage
from trailpost.store.events import event_store
from trailpost.store.sqlite import SqliteStateStore

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "RESULTS.md"
BEGIN, END = "<!-- delivery:begin -->", "<!-- delivery:end -->"
TARGET_P99 = 2.0
TARGET_EVENTS_PER_CORE = 100_000  # events read into log files per CPU-second (issue #7)
POLL = 0.05
ADVANCED = [
    {
        "Name": "management writes, no KMS or RDS data",
        "FieldSelectors": [
            {"Field": "eventCategory", "Equals": ["Management"]},
            {"Field": "readOnly", "Equals": ["false"]},
            {"Field": "eventSource", "NotEquals": ["kms.amazonaws.com", "rdsdata.amazonaws.com"]},
        ],
    }
]


def policy(bucket: str) -> str:
    return orjson.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "cloudtrail.amazonaws.com"},
                    "Action": "s3:GetBucketAcl",
                    "Resource": f"arn:aws:s3:::{bucket}",
                },
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "cloudtrail.amazonaws.com"},
                    "Action": "s3:PutObject",
                    "Resource": f"arn:aws:s3:::{bucket}/AWSLogs/{ACCOUNT}/*",
                    "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}},
                },
            ],
        }
    ).decode()


@dataclass
class Throughput:
    case: str
    events: int
    selected: int
    files: int
    gzip_bytes: int
    wall: float
    cpu: float


def throughput(events: int, workdir: Path, log: Any) -> list[Throughput]:
    data = workdir / "throughput"
    data.mkdir(parents=True)
    store = SqliteStateStore(data / "state.db")
    generator = Generator(events, time.time())
    began = time.time()
    event_store(store).append_many(generator.records())
    log(f"appended {events:,} records in {time.time() - began:.1f} s")
    results = []
    cases = [("default selectors", None, 50 * 2**20), ("advanced selectors", ADVANCED, 50 * 2**20)]
    cases.append(("default selectors, 1 MiB files", None, 2**20))
    for index, (case, advanced, limit) in enumerate(cases):
        settings = Settings(data_dir=data, delivery_max_file_bytes=limit)
        storage = BucketStorage.for_settings(store, settings)
        bucket = f"bench-logs-{index}"
        storage.create_bucket(bucket, ACCOUNT, "us-east-1")
        storage.set_policy(bucket, policy(bucket))
        trail = trail_docs.new_trail(f"bench-{index}", ACCOUNT, "us-east-1", time.time())
        trail.update(
            s3_bucket_name=bucket,
            is_multi_region_trail=True,
            is_logging=True,
            start_logging_time=generator.start - 1,
            logging_epoch=1,
            advanced_event_selectors=advanced,
        )
        reader = EventReader(data / "state.db")
        wall0, cpu0 = time.perf_counter(), time.thread_time()
        outcome = passes.deliver(
            trail,
            None,
            reader,
            lambda name, s=storage, c=settings: open_destination(c, s, name),
            covers=selectors.covers_region,
            selects=selectors.selects,
            service_allowed=service_allowed,
            limit=limit,
            max_rows=events + 1,
        )
        wall, cpu = time.perf_counter() - wall0, time.thread_time() - cpu0
        reader.close()
        assert not outcome.failed and not outcome.more
        selected = sum(f.events for f, _ in outcome.files)
        result = Throughput(
            case, events, selected, len(outcome.files), sum(len(f.body) for f, _ in outcome.files), wall, cpu
        )
        log(f"{case}: {events / wall:,.0f} events/s, {selected / wall:,.0f} selected/s, {len(outcome.files)} files")
        results.append(result)
    store.close()
    return results


@dataclass
class Latency:
    calls: int
    spacing: float
    samples: list[float]
    missing: int


def latency(calls: int, spacing: float, workdir: Path, log: Any) -> Latency:
    data = workdir / "latency" / "data"
    data.parent.mkdir(parents=True)
    server = ServerProcess(data, args=["--delivery-interval", "1"]).start()
    try:
        s3 = server.client("s3")
        s3.create_bucket(Bucket="latency-logs")
        s3.put_bucket_policy(Bucket="latency-logs", Policy=policy("latency-logs"))
        ct = server.client("cloudtrail")
        ct.create_trail(Name="latency", S3BucketName="latency-logs", IsMultiRegionTrail=True)
        ct.start_logging(Name="latency")
        seen: dict[str, float] = {}
        done = threading.Event()

        def poll() -> None:
            client = server.client("s3")
            known: set[str] = set()
            while not done.is_set():
                listing = client.list_objects_v2(Bucket="latency-logs").get("Contents", [])
                now = time.time()
                for item in listing:
                    if item["Key"] in known:
                        continue
                    known.add(item["Key"])
                    body = client.get_object(Bucket="latency-logs", Key=item["Key"])["Body"].read()
                    for record in orjson.loads(gzip.decompress(body))["Records"]:
                        seen.setdefault(record["requestID"], now)
                time.sleep(POLL)

        poller = threading.Thread(target=poll, daemon=True)
        poller.start()
        outposts = server.client("outposts")
        acked: dict[str, float] = {}
        for _ in range(calls):
            answer = outposts.list_sites()
            acked[answer["ResponseMetadata"]["RequestId"]] = time.time()
            time.sleep(spacing)
        deadline = time.time() + 10
        while time.time() < deadline and not set(acked) <= set(seen):
            time.sleep(0.1)
        done.set()
        poller.join(10)
        samples = sorted(seen[request] - at for request, at in acked.items() if request in seen)
        log(f"latency: {len(samples)} of {calls} calls seen in log files")
        return Latency(calls, spacing, samples, calls - len(samples))
    finally:
        server.stop()


def percentile(values: list[float], share: float) -> float:
    return values[min(len(values) - 1, round(share * (len(values) - 1)))]


def section(rates: list[Throughput], lat: Latency, loads: list[float], command: str) -> str:
    lines = [
        BEGIN,
        "## Trail delivery: events per second into log files, call-to-object latency",
        "",
        f"- run: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; `{command}`",
        f"- machine: {machine()}",
        f"- 1-minute load average before and after: {', '.join(f'{v:.2f}' for v in loads)}",
        f"- {versions()}",
        "",
        f"Throughput, one thread (`passes.deliver` as the worker's thread runs it: read on the reader's "
        f"connection, selectors, each chunk of rows written into its files at once: JSON, SHA-256, ISA-L deflate level "
        f"{GZIP_LEVEL}; puts into the embedded bucket with the policy check), "
        f"{rates[0].events:,} generated records (~1.1 KB, 3 accounts, 4 regions; the trail's account holds ~80 %):",
        "",
        "| case | events read/s (wall) | events read per CPU-second | selected events/s | files | gzip MiB | "
        f"target >= {TARGET_EVENTS_PER_CORE:,} events per CPU-second |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rates:
        per_core = r.events / r.cpu
        gap = TARGET_EVENTS_PER_CORE / per_core
        verdict = "met" if gap <= 1 else f"NOT met ({times_off(gap)} off)"
        lines.append(
            f"| {r.case} | {r.events / r.wall:,.0f} | {per_core:,.0f} | {r.selected / r.wall:,.0f} | "
            f"{r.files} | {r.gzip_bytes / 2**20:.1f} | {verdict} |"
        )
    samples = lat.samples
    if samples:
        p50, p99, worst = percentile(samples, 0.5), percentile(samples, 0.99), samples[-1]
        met = "met" if p99 <= TARGET_P99 and not lat.missing else "NOT met"
        lines += [
            "",
            f"Latency through a running server (`--delivery-interval 1`), {lat.calls} `ListSites` calls one every "
            f"{lat.spacing:g} s; from the call's response to its log file being listed (poll every "
            f"{POLL * 1000:.0f} ms, included):",
            "",
            "| calls | delivered | p50 | p99 | max | target p99 <= 2 s |",
            "|---|---|---|---|---|---|",
            f"| {lat.calls} | {len(samples)} | {p50:.2f} s | {p99:.2f} s | {worst:.2f} s | {met} |",
        ]
    lines.append(END)
    return "\n".join(lines) + "\n"


def write_section(text: str) -> None:
    replace_section(RESULTS, "delivery", text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="20k events, 150 calls")
    parser.add_argument("--events", type=int, default=200_000, help="records for the throughput part")
    parser.add_argument("--calls", type=int, default=600, help="calls for the latency part")
    parser.add_argument("--spacing", type=float, default=0.05, help="seconds between calls")
    parser.add_argument("--no-write", action="store_true", help="print the section instead of writing it")
    args = parser.parse_args()
    if args.quick:
        args.events, args.calls = 20_000, 150
    command = "python -m bench.delivery" + (" --quick" if args.quick else "")
    loads = [os.getloadavg()[0]]
    with tempfile.TemporaryDirectory(prefix="trailpost-bench-delivery-") as tmp:
        rates = throughput(args.events, Path(tmp), lambda text: print(text, flush=True))
        lat = latency(args.calls, args.spacing, Path(tmp), lambda text: print(text, flush=True))
    loads.append(os.getloadavg()[0])
    text = section(rates, lat, loads, command)
    if args.no_write:
        print(text)
    else:
        write_section(text)
        print(f"wrote the delivery section of {RESULTS}")


if __name__ == "__main__":
    sys.exit(main())
