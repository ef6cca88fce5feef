"""LookupEvents benchmark: latency through the API at 1M and 10M stored events, each lookup attribute.

Run ``python -m bench.lookup_events`` from the repository root (``make bench-lookup``). For each
size it reuses (or makes, see ``bench/lookup_data.py``) a data directory under ``bench/out/``,
starts ``trailpost serve`` on it, and measures, per case, ``--requests`` LookupEvents calls one
after the other (concurrency 1) on one keep-alive connection: each case's request is SigV4-signed
once by botocore (captured on ``before-send``) and replayed as is; the time runs from sending the
request to having read the whole response. Every answer must be 200 with the expected number of
events. A warm-up of ``WARMUP`` calls per case is not counted. Then, when ``wrk`` is installed,
the unfiltered and the EventName cases are replayed by ``wrk -t1`` at 1 and 16 connections for
throughput.

Cases: no attribute (the console's default view), each of the eight attribute keys (two values
for EventName, ReadOnly and Username: a frequent and a rare one), a one-day window 45 days back,
and the second page (a NextToken). The server runs with ``--event-retention-days 3650`` so a
reused data directory is never pruned; lookups still cover the default 90 days.

The section written into ``bench/RESULTS.md`` (between ``lookup-events`` markers, replaced on each
run) has the machine, versions, commands, data set and one row per size and case. Every process
started here is stopped by its pid.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import boto3
import botocore.config

from bench.lookup_data import ACCOUNT, ROOT_KEY, Generator, complete, fill
from bench.server_report import replace_section, times_off, wrk_version
from tests.support.server import ServerProcess, free_port

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
RESULTS = ROOT / "bench" / "RESULTS.md"
SIZES = (1_000_000, 10_000_000)
WARMUP = 50
TARGET_P50_MS, TARGET_P99_MS = 2.0, 10.0
BEGIN, END = "<!-- lookup-events:begin -->", "<!-- lookup-events:end -->"


@dataclass
class Case:
    name: str
    params: dict[str, Any]
    request: tuple[str, dict[str, str], bytes] | None = None
    expected: int = 0


@dataclass
class Result:
    size: int
    case: str
    events: int
    p50: float
    p99: float
    mean: float
    worst: float
    cpu_us: float = 0.0
    rps_c1: float | None = None
    rps_c16: float | None = None


def attribute(key: str, value: str) -> dict[str, Any]:
    return {"LookupAttributes": [{"AttributeKey": key, "AttributeValue": value}]}


def cases(client: Any) -> list[Case]:
    """The measured requests; values come from the seeded generator and one lookup."""
    people = Generator(1, 0.0)
    _, users, _ = people.people[ACCOUNT]
    user = users[3].identity["userName"]
    site = people.pools[(ACCOUNT, "us-east-1", "site")][17]
    now = time.time()
    middle = client.lookup_events(EndTime=now - 45 * 86400, MaxResults=1)["Events"][0]["EventId"]
    token = client.lookup_events(MaxResults=50)["NextToken"]
    return [
        Case("no attribute", {}),
        Case("EventName=ListSites (frequent)", attribute("EventName", "ListSites")),
        Case("EventName=CreateSite (rare)", attribute("EventName", "CreateSite")),
        Case("EventSource", attribute("EventSource", "outposts.amazonaws.com")),
        Case("Username=root", attribute("Username", "root")),
        Case(f"Username={user}", attribute("Username", user)),
        Case("AccessKeyId", attribute("AccessKeyId", ROOT_KEY[0])),
        Case("ReadOnly=false", attribute("ReadOnly", "false")),
        Case("ReadOnly=true", attribute("ReadOnly", "true")),
        Case("ResourceType", attribute("ResourceType", "AWS::Outposts::Site")),
        Case("ResourceName (a site)", attribute("ResourceName", site)),
        Case("EventId", attribute("EventId", middle)),
        Case(
            "EventName=GetSite, 1-day window 45 days back",
            {**attribute("EventName", "GetSite"), "StartTime": now - 46 * 86400, "EndTime": now - 45 * 86400},
        ),
        Case("no attribute, page 2 (NextToken)", {"NextToken": token}),
    ]


def capture(client: Any, case: Case) -> None:
    """Sign the case's request with botocore and keep it (path, headers, body) and its event count."""
    seen: dict[str, Any] = {}

    def grab(request: Any, **_: Any) -> None:
        seen["request"] = request

    client.meta.events.register("before-send.cloudtrail.LookupEvents", grab)
    try:
        case.expected = len(client.lookup_events(**case.params)["Events"])
    finally:
        client.meta.events.unregister("before-send.cloudtrail.LookupEvents", grab)
    request = seen["request"]
    body = request.body if isinstance(request.body, bytes) else (request.body or "").encode()
    case.request = ("/", {k: v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()}, body)


def measure(port: int, case: Case, count: int) -> list[float]:
    """Latencies (seconds) of ``count`` replays of the case's request on one keep-alive connection."""
    assert case.request is not None
    path, headers, body = case.request
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    times: list[float] = []
    for index in range(WARMUP + count):
        started = time.perf_counter()
        conn.request("POST", path, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        elapsed = time.perf_counter() - started
        if response.status != 200:
            raise RuntimeError(f"{case.name}: HTTP {response.status}: {data[:300]!r}")
        if index == WARMUP and len(json.loads(data)["Events"]) != case.expected:
            raise RuntimeError(f"{case.name}: expected {case.expected} events")
        if index >= WARMUP:
            times.append(elapsed)
    conn.close()
    return times


def wrk(port: int, case: Case, conns: int, seconds: int) -> float | None:
    """Requests per second of ``wrk`` replaying the case's request, or None without wrk."""
    if case.request is None or subprocess.run(["which", "wrk"], capture_output=True).returncode != 0:
        return None
    _, headers, body = case.request
    lines = ["wrk.method = 'POST'", f"wrk.body = {json.dumps(body.decode())}"]
    lines += [f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}" for k, v in headers.items() if k.lower() != "host"]
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write("\n".join(lines) + "\n")
    try:
        out = subprocess.run(
            [
                "timeout",
                str(seconds + 15),
                "wrk",
                "-t1",
                f"-c{conns}",
                f"-d{seconds}s",
                "-s",
                script.name,
                f"http://127.0.0.1:{port}/",
            ],
            capture_output=True,
            text=True,
            check=False,
        ).stdout
    finally:
        os.unlink(script.name)
    if "Non-2xx" in out:
        raise RuntimeError(f"wrk got errors for {case.name}:\n{out}")
    for line in out.splitlines():
        if line.startswith("Requests/sec:"):
            return float(line.split()[1])
    return None


LOADS: list[float] = []


def load_average() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def wait_for_quiet(max_wait: float, log: Any) -> None:
    """Wait (at most ``max_wait`` seconds) until the 1-minute load average is below 1: other work spoils figures."""
    deadline = time.monotonic() + max_wait
    while load_average() >= 1.0 and time.monotonic() < deadline:
        log(f"  waiting for other load to go away (load average {load_average():.2f})")
        time.sleep(15)


def run_size(size: int, requests: int, throughput: bool, log: Any, max_wait: float = 300) -> list[Result]:
    data_dir = OUT / f"lookup-events-{size}"
    if not complete(data_dir, size):
        log(f"generating {size:,} events in {data_dir} ...")
        fill(data_dir, size, log=log)
    wait_for_quiet(max_wait, log)
    LOADS.append(load_average())
    server = ServerProcess(data_dir, port=free_port(), args=["--event-retention-days", "3650"])
    server.start(timeout=120)
    try:
        client = boto3.session.Session().client(
            "cloudtrail",
            endpoint_url=server.endpoint,
            region_name="us-east-1",
            aws_access_key_id=ROOT_KEY[0],
            aws_secret_access_key=ROOT_KEY[1],
            config=botocore.config.Config(retries={"max_attempts": 1, "mode": "standard"}),
        )
        results = []
        for case in cases(client):
            capture(client, case)
            cpu_before = cpu_seconds(server.process.pid)
            times = sorted(measure(server.port, case, requests))
            cpu = (cpu_seconds(server.process.pid) - cpu_before) / (requests + WARMUP) * 1e6
            result = Result(
                size,
                case.name,
                case.expected,
                statistics.median(times) * 1000,
                times[min(len(times) - 1, int(len(times) * 0.99))] * 1000,
                statistics.fmean(times) * 1000,
                times[-1] * 1000,
                cpu,
            )
            if throughput and case.name in ("no attribute", "EventName=CreateSite (rare)"):
                result.rps_c1, result.rps_c16 = wrk(server.port, case, 1, 5), wrk(server.port, case, 16, 5)
            log(f"  {size:>10,} {case.name:<48} p50 {result.p50:6.2f} ms  p99 {result.p99:6.2f} ms  cpu {cpu:5.0f} us")
            results.append(result)
        LOADS.append(load_average())
        return results
    finally:
        server.stop()


def cpu_seconds(pid: int) -> float:
    """utime + stime of the server process (all its threads), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    memory = (
        int(
            next(
                line.split()[1]
                for line in Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemTotal")
            )
        )
        / 1024
        / 1024
    )
    return f"`nproc` {os.cpu_count()}, {cpu}, {memory:.1f} GiB RAM, Linux {platform.release()}"


def versions() -> str:
    packages = ", ".join(
        f"{name} {metadata.version(name)}" for name in ("uvicorn", "uvloop", "httptools", "orjson", "botocore")
    )
    return f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}; {packages}; {wrk_version().strip()}"


def section(results: list[Result], requests: int) -> str:
    metas = {r.size: json.loads((OUT / f"lookup-events-{r.size}" / "bench-meta.json").read_text()) for r in results}
    lines = [
        BEGIN,
        "## LookupEvents (Event history) at 1M and 10M events",
        "",
        f"- run: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {requests} calls per case after {WARMUP} warm-up calls, "
        "concurrency 1, one keep-alive connection, each case's request signed once by botocore and replayed",
        f"- machine: {machine()}",
        f"- 1-minute load average before and after each size: {', '.join(f'{v:.2f}' for v in LOADS)} "
        "(2 cores; above 1 means other work shared the machine)",
        f"- {versions()}",
        "- data: "
        + "; ".join(
            f"{size:,} events generated {datetime.fromtimestamp(m['generated_at'], UTC):%Y-%m-%d} in "
            f"{m['seconds'] / 60:.1f} min, database {m['db_bytes'] / 2**30:.1f} GiB"
            for size, m in sorted(metas.items())
        )
        + " (`bench/lookup_data.py`: 3 accounts, 4 regions, root/IAM users/role sessions, ~40 operations, "
        "Outposts resources; the measured account and region, 123456789012 in us-east-1, hold about 40 %)",
        "- reproduce: `make bench-lookup` (= `python -m bench.lookup_events`); data dirs are kept in "
        "`bench/out/lookup-events-<size>` and reused; server: `python -m trailpost serve --data-dir "
        "bench/out/lookup-events-<size> --event-retention-days 3650`; throughput: `wrk -t1 -c{1,16} -d5s` "
        "replaying the signed request",
        f"- target through the API: p50 <= {TARGET_P50_MS:g} ms, p99 <= {TARGET_P99_MS:g} ms at 10M events",
        "",
        "Latency is client-side, from sending the request to having read the whole response (50 events of about "
        "1.1 KB of record each, unless fewer match); every call also records its own event and commits (fsync) "
        "before answering. Server CPU per call is the server process's utime+stime (all threads) over the case's "
        "calls; on this shared 2-core VM other work inflates it too (the load averages above show how much there "
        "was).",
        "",
        "| events | case | events returned | p50 | p99 | mean | max | server CPU per call | req/s c=1 | req/s c=16 |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        rps = [f"{v:,.0f}" if v else "-" for v in (r.rps_c1, r.rps_c16)]
        lines.append(
            f"| {r.size:,} | {r.case} | {r.events} | {r.p50:.2f} ms | {r.p99:.2f} ms | {r.mean:.2f} ms | "
            f"{r.worst:.2f} ms | {r.cpu_us:.0f} µs | {rps[0]} | {rps[1]} |"
        )
    biggest = [r for r in results if r.size == max(r.size for r in results)]
    lines += ["", *verdict(biggest), END]
    return "\n".join(lines) + "\n"


def verdict(biggest: list[Result]) -> list[str]:
    """Whether the latency target holds at the biggest size; if not, by how much, why and what would close it."""
    p50, p99 = max(r.p50 for r in biggest), max(r.p99 for r in biggest)
    head = f"At {biggest[0].size:,} events the worst case p50 is {p50:.2f} ms and the worst p99 {p99:.2f} ms"
    if p50 <= TARGET_P50_MS and p99 <= TARGET_P99_MS:
        return [f"{head}: target met."]
    cpu = statistics.median(r.cpu_us for r in biggest) / 1000
    off = [
        f"{name} {times_off(value / target)} its {target:g} ms target"
        for name, value, target in (("p50", p50, TARGET_P50_MS), ("p99", p99, TARGET_P99_MS))
        if value > target
    ]
    return [
        f"{head}: target NOT met ({', '.join(off)}).",
        "",
        f"Why: at concurrency 1 every call is a group-commit batch of its own, so its latency is the server's CPU "
        f"for the call (median {cpu:.2f} ms here, the record, its insert and the commit included) plus one "
        "fdatasync of the WAL; the page itself is a small part of it (the SQLite fetch and the JSON of 50 events, "
        '~0.2 ms in process at 1M events, docs/decisions.md "Session 7"). How this compares across machines and '
        "sessions is in the same section. What would close it: less CPU "
        'per audited call (the ranked list in docs/decisions.md, "Session 3: the fsync off the cycle"), '
        "since the per-call commit cost, not the 10M-event index, sets the latency.",
    ]


def write_section(text: str) -> None:
    replace_section(RESULTS, "lookup-events", text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default=",".join(str(s) for s in SIZES), help="event counts, comma-separated")
    parser.add_argument("--requests", type=int, default=1000, help="measured calls per case")
    parser.add_argument("--no-wrk", action="store_true", help="skip the wrk throughput runs")
    parser.add_argument("--no-write", action="store_true", help="print the section instead of writing it")
    parser.add_argument("--max-wait", type=float, default=300, help="seconds to wait for other load to go away")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    results: list[Result] = []
    for size in (int(s) for s in args.sizes.split(",")):
        results += run_size(size, args.requests, not args.no_wrk, lambda text: print(text, flush=True), args.max_wait)
    text = section(results, args.requests)
    if args.no_write:
        print(text)
    else:
        write_section(text)
        print(f"wrote the lookup-events section of {RESULTS}")


if __name__ == "__main__":
    sys.exit(main())
