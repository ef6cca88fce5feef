"""Validation throughput: ``trailpost validate-logs`` against ``aws cloudtrail validate-logs`` on one trail.

Run ``python -m bench.validate_logs`` from the repository root (``make bench-validate``;
``--quick`` for a short run). It starts ``trailpost serve`` on a fresh data directory under
``bench/out/validate`` with a short delivery and digest interval, creates a bucket and a trail with
log file validation, and drives API calls (Outposts ListSites, ``--threads`` clients) for
``--seconds`` so that the trail delivers many log files; then it stops logging and waits for the
final digest. On that same trail, in the same run, each validator is run ``--runs`` times one
after the other (the AWS CLI v1 from ``.venv/bin/aws``, trailpost's with ``--no-progress``), both
over HTTP against the same server with the same credentials and time range; every run must report
every digest and log file valid (exit code 0). Reported per validator: the median wall time of a
whole command (process start included), log files per second, and MB per second of log files
(compressed bytes as stored, and uncompressed bytes as hashed).

The section written into ``bench/RESULTS.md`` (between ``validate-logs`` markers, replaced on each
run) has the machine, versions, the data set and one row per validator. Every process started here
is stopped by its pid.
"""

from __future__ import annotations

import argparse
import gzip
import os
import platform
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib import metadata
from pathlib import Path

from bench.delivery import policy as cloudtrail_policy
from bench.server_report import replace_section
from tests.support.server import ServerProcess

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out" / "validate"
RESULTS = ROOT / "bench" / "RESULTS.md"
BEGIN, END = "<!-- validate-logs:begin -->", "<!-- validate-logs:end -->"
ACCOUNT, REGION, BUCKET, TRAIL = "123456789012", "us-east-1", "bench-trail", "bench"
DELIVERY_INTERVAL = 0.25
ARN = f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/{TRAIL}"


@dataclass
class Trail:
    server: ServerProcess
    start: str
    end: str
    digests: int
    logs: int
    compressed: int
    uncompressed: int


@dataclass
class Measured:
    name: str
    seconds: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def make_trail(seconds: float, threads: int, log: Callable[[str], None]) -> Trail:
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    server = ServerProcess(
        OUT / "data", args=["--digest-interval", "5", "--delivery-interval", str(DELIVERY_INTERVAL)]
    ).start()
    s3, ct = server.client("s3"), server.client("cloudtrail")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_policy(Bucket=BUCKET, Policy=cloudtrail_policy(BUCKET))
    start = (datetime.now(UTC) - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    ct.create_trail(Name=TRAIL, S3BucketName=BUCKET, EnableLogFileValidation=True)
    ct.start_logging(Name=TRAIL)
    deadline = time.monotonic() + seconds
    calls = [0] * threads

    def load(i: int) -> None:
        client = server.client("outposts")
        while time.monotonic() < deadline:
            client.list_sites()
            calls[i] += 1

    workers = [threading.Thread(target=load, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    log(f"  {sum(calls)} calls in {seconds:.0f} s")
    stopped = datetime.now(UTC)
    ct.stop_logging(Name=TRAIL)
    final = stopped + timedelta(seconds=DELIVERY_INTERVAL + 1.9)  # the final digest waits interval + 2 s
    deadline = time.monotonic() + 60
    while ct.get_trail_status(Name=TRAIL).get("LatestDigestDeliveryTime", stopped) < final:
        if time.monotonic() > deadline:
            raise RuntimeError("no final digest within 60 s")
        time.sleep(0.5)
    time.sleep(1.0)
    logs = compressed = uncompressed = digests = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix="AWSLogs/"):
        for item in page.get("Contents", []):
            if "/CloudTrail-Digest/" in item["Key"]:
                digests += 1
                continue
            body = s3.get_object(Bucket=BUCKET, Key=item["Key"])["Body"].read()
            logs += 1
            compressed += len(body)
            uncompressed += len(gzip.decompress(body))
    end = (datetime.now(UTC) + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return Trail(server, start, end, digests, logs, compressed, uncompressed)


def _env(trail: Trail) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return {
        **env,
        "AWS_ENDPOINT_URL": trail.server.endpoint,
        "AWS_SHARED_CREDENTIALS_FILE": str(trail.server.data_dir / "credentials"),
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_DEFAULT_REGION": REGION,
    }


def commands(trail: Trail) -> dict[str, list[str]]:
    args = ["--trail-arn", ARN, "--start-time", trail.start, "--end-time", trail.end]
    bin_dir = Path(sys.executable).parent
    return {
        f"aws cloudtrail validate-logs (awscli {metadata.version('awscli')})": [
            str(bin_dir / "aws"),
            "cloudtrail",
            "validate-logs",
            *args,
        ],
        "trailpost validate-logs": [str(bin_dir / "trailpost"), "validate-logs", *args, "--no-progress"],
    }


LOAD: list[float] = []


def measure(trail: Trail, runs: int, log: Callable[[str], None]) -> list[Measured]:
    LOAD.append(os.getloadavg()[0])
    results = {name: Measured(name, []) for name in commands(trail)}
    expected = f"{trail.logs}/{trail.logs} log files valid"
    for _ in range(runs):
        for name, command in commands(trail).items():  # alternate, so drift hits both alike
            began = time.perf_counter()
            done = subprocess.run(command, capture_output=True, text=True, env=_env(trail), timeout=1800)
            elapsed = time.perf_counter() - began
            if done.returncode != 0 or expected not in done.stdout:
                raise RuntimeError(f"{name} did not validate everything:\n{done.stdout}\n{done.stderr}")
            results[name].seconds.append(elapsed)
            log(f"  {name}: {elapsed:.2f} s")
    return list(results.values())


def section(trail: Trail, results: list[Measured], args: argparse.Namespace) -> str:
    mb, raw_mb = trail.compressed / 1e6, trail.uncompressed / 1e6
    rows = [
        f"| {m.name} | {m.median:.2f} | {trail.logs / m.median:.1f} | {mb / m.median:.2f} | {raw_mb / m.median:.2f} |"
        for m in results
    ]
    aws, ours = results[0].median, results[1].median
    load = LOAD[0] if LOAD else float("nan")
    return "\n".join(
        [
            BEGIN,
            "## Log file validation throughput (`bench/validate_logs.py`)",
            "",
            f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, {os.cpu_count()} CPUs, "
            f"Python {platform.python_version()}, awscli {metadata.version('awscli')}. "
            f"Command: `python -m bench.validate_logs{' --quick' if args.quick else ''}`.",
            "",
            f"Data set: one trail with log file validation on trailpost's embedded S3, "
            f"{trail.logs} log files ({mb:.2f} MB compressed, {raw_mb:.2f} MB of JSON) in {trail.digests} "
            f"digests, made by {args.threads} clients calling Outposts ListSites for {args.seconds:.0f} s "
            f"(`--delivery-interval {DELIVERY_INTERVAL} --digest-interval 5`). Both validators run over HTTP "
            "against the same "
            f"server, same credentials and range; median of {args.runs} alternating run(s), wall time of the whole "
            "command (process start included); each run reported everything valid.",
            "",
            "| validator | median s | log files/s | MB/s (compressed) | MB/s (JSON hashed) |",
            "|---|---:|---:|---:|---:|",
            *rows,
            "",
            f"trailpost validate-logs took {ours / aws:.2f}x the AWS CLI's time. It fetches the listed digests "
            "and each digest's log files with 8 threads where the AWS CLI fetches one object at a time, so it "
            "gains when the store answers concurrent GETs in parallel; on this machine the server shares 2 CPUs "
            f"with both validators (1-minute load average {load:.1f} when measuring), and a single quick run "
            "is dominated by that noise: `make bench-validate` (3 runs, 120 s of load) for firmer figures.",
            END,
            "",
        ]
    )


def write_section(text: str) -> None:
    replace_section(RESULTS, "validate-logs", text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="20 s of load and one run per validator")
    parser.add_argument("--seconds", type=float, default=120.0, help="seconds of API load that make the log files")
    parser.add_argument("--threads", type=int, default=4, help="concurrent API clients during the load")
    parser.add_argument("--runs", type=int, default=3, help="runs per validator (median reported)")
    parser.add_argument("--no-write", action="store_true", help="print the section instead of writing it")
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.runs = 20.0, 1

    def log(text: str) -> None:
        print(text, flush=True)

    log(f"making the trail ({args.seconds:.0f} s of load)")
    trail = make_trail(args.seconds, args.threads, log)
    try:
        log(f"  {trail.logs} log files, {trail.digests} digests, {trail.compressed / 1e6:.2f} MB")
        results = measure(trail, args.runs, log)
    finally:
        trail.server.stop()
    text = section(trail, results, args)
    if args.no_write:
        print(text)
    else:
        write_section(text)
        print(f"wrote the validate-logs section of {RESULTS}")


if __name__ == "__main__":
    main()
