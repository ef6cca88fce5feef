"""Two revisions compared by the instructions each call executes: a before/after that noise cannot move.

``make bench-instructions REV=<git revision>`` (``python -m bench.instructions --rev REV``) checks
``REV`` out into a temporary git worktree and runs, for it and for the working tree, the same
in-process driver under ``valgrind --tool=callgrind``, which counts the instructions the process
executes (all threads). The driver builds trailpost as ``trailpost serve`` does (a temporary data
dir, ``server.create_app``, the collector settled), signs requests once as the root user and
replays them, 64 at a time, into ``Gateway.handle``: routing, SigV4, parsing, validation,
dispatch, the record, the event insert and the group commit, without HTTP. Each call runs twice,
with a small and a large number of calls; instructions per call are the difference divided by the
difference in calls, so startup cancels out.

Why: this machine's speed drifts by 10-15 % over minutes and other guests share it, so req/s and
CPU time compare two revisions only within wide ranges (``make bench-ab``). An instruction count
is the same for the same code and input whatever else the machine does; it does not weigh cache
misses or system calls (the fsync), so it tells where Python work went, not the wall-clock
answer. The two revisions of each count run side by side, one per core. The section it writes in
``bench/RESULTS.md`` is ``instructions``.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import botocore.session

from bench.revisions import head_revision
from bench.server_report import machine, replace_section

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "RESULTS.md"
MARKER = "instructions"
CONCURRENT = 64
# call -> (small, large) number of calls; the quota of 100 sites per region bounds CreateSite.
COUNTS = {"GetSite": (640, 1920), "ListSites": (640, 1920), "CreateSite": (320, 1280), "LookupEvents": (320, 960)}
# CreateSite's regions: every Outposts region of botocore's model but us-east-1 (where the run's first site is).
SITE_REGIONS = tuple(r for r in botocore.session.get_session().get_available_regions("outposts") if r != "us-east-1")
LOOKUP_TARGET = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents"


def drive(call: str, count: int) -> None:
    """Run ``count`` calls of ``call`` through the gateway of a fresh trailpost, 64 at a time.

    Imports trailpost only here, so that ``--tree`` can put another revision ahead of it."""
    import asyncio
    import json

    import uvloop
    from botocore.credentials import Credentials

    from tests.support.signed import signed
    from trailpost import collector
    from trailpost.config import Settings
    from trailpost.server import create_app

    async def run() -> None:
        with tempfile.TemporaryDirectory(prefix="trailpost-instructions-") as scratch:
            app = create_app(Settings.load(data_dir=Path(scratch) / "data"))
            collector.settle()
            gateway = app.gateway
            creds = Credentials(app.root_key.access_key_id, app.root_key.secret_access_key)
            json_body = {"Content-Type": "application/json"}
            made = await gateway.handle(
                signed("outposts", "POST", "/sites", json_body, b'{"Name":"x"}', creds, "us-east-1")()
            )
            site = json.loads(made.body)["Site"]["SiteId"]
            lookup_headers = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": LOOKUP_TARGET}
            if call == "GetSite":
                factories = [signed("outposts", "GET", f"/sites/{site}", {}, b"", creds, "us-east-1")] * CONCURRENT
            elif call == "ListSites":
                factories = [signed("outposts", "GET", "/sites", {}, b"", creds, "us-east-1")] * CONCURRENT
            elif call == "CreateSite":
                factories = [
                    signed(
                        "outposts",
                        "POST",
                        "/sites",
                        json_body,
                        json.dumps({"Name": f"s{n}"}).encode(),
                        creds,
                        SITE_REGIONS[n // 99 % len(SITE_REGIONS)],
                    )
                    for n in range(count)
                ]
            else:
                factories = [
                    signed("cloudtrail", "POST", "/", lookup_headers, b'{"MaxResults": 50}', creds, "us-east-1")
                ]
                for _ in range(200):  # events to page through
                    await gateway.handle(factories[0]())
            requests = iter([factories[n % len(factories)]() for n in range(count)])

            async def worker() -> None:
                for request in requests:
                    response = await gateway.handle(request)
                    if response.status >= 300:
                        raise RuntimeError(f"{call} answered {response.status}: {response.body[:300]!r}")

            await asyncio.gather(*(worker() for _ in range(CONCURRENT)))
            await gateway.commits.run(lambda: None)
            gateway.commits.close()
            app.store.close()

    uvloop.install()
    asyncio.run(run())


def count_instructions(tree: Path | None, call: str, count: int, scratch: Path) -> int:
    """Instructions of one driver run (``tree``: another revision's checkout, ahead of this one)."""
    name = f"{'before' if tree else 'after'}-{call}-{count}"
    out = scratch / f"callgrind.{name}"
    command = [
        "valgrind",
        "--tool=callgrind",
        f"--callgrind-out-file={out}",
        sys.executable,
        "-m",
        "bench.instructions",
    ]
    command += ["--drive", call, "--count", str(count)] + (["--tree", str(tree)] if tree else [])
    env = {**os.environ, "PYTHONHASHSEED": "0"}  # the same dict and set orders in every run
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{name} failed: {done.stderr[-2000:]}")
    return total_of(out.read_text())


def total_of(callgrind_out: str) -> int:
    """The instructions a callgrind output file counts in all (its ``summary:`` or ``totals:`` line)."""
    found = re.search(r"^(?:summary|totals): (\d+)", callgrind_out, re.MULTILINE)
    if found is None:
        raise RuntimeError("no instruction total in the callgrind output")
    return int(found.group(1))


def per_call(tree: Path, calls: list[str], scratch: Path) -> dict[str, tuple[float, float]]:
    """call -> (instructions per call before, after); each count's two revisions run side by side."""
    found: dict[str, tuple[float, float]] = {}
    with ThreadPoolExecutor(max_workers=2) as pool:
        for call in calls:
            small, large = COUNTS[call]
            totals = {}
            for count in (small, large):
                before = pool.submit(count_instructions, tree, call, count, scratch)
                after = pool.submit(count_instructions, None, call, count, scratch)
                totals[count] = (before.result(), after.result())
            found[call] = tuple((totals[large][i] - totals[small][i]) / (large - small) for i in (0, 1))  # type: ignore[assignment]
            print(f"  {call:<12} {found[call][0]:>12,.0f} -> {found[call][1]:>12,.0f} instructions per call")
    return found


def section(found: dict[str, tuple[float, float]], rev: str, head: str, started: datetime) -> str:
    lines = [
        f"<!-- {MARKER}:begin -->",
        f"## Two revisions by instructions per call (`make bench-instructions REV={rev}`)",
        "",
        f"- run: {started:%Y-%m-%d %H:%M} UTC; `valgrind --tool=callgrind`, in process, {CONCURRENT} calls at a time,"
        " root caller; per call = difference between a small and a large run (startup cancels out)",
        *machine(("botocore", "orjson")),
        f"- before = `{rev}` (a git worktree), after = the working tree at `{head}`",
        "",
        "| call | before | after | after / before |",
        "|---|---|---|---|",
        *(f"| {call} | {b:,.0f} | {a:,.0f} | {a / b:.3f} |" for call, (b, a) in found.items()),
        f"<!-- {MARKER}:end -->",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rev", help="the git revision to compare the working tree with")
    parser.add_argument("--calls", default=",".join(COUNTS), help="comma-separated calls")
    parser.add_argument("--no-write", action="store_true", help="print the section instead of writing it")
    parser.add_argument("--drive", help=argparse.SUPPRESS)  # the driver itself, run under valgrind
    parser.add_argument("--count", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--tree", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.drive:
        if args.tree:
            sys.path.insert(0, args.tree)
        drive(args.drive, args.count)
        return 0
    if not args.rev:
        parser.error("--rev is required")
    started = datetime.now(UTC)
    with tempfile.TemporaryDirectory(prefix="trailpost-instr-") as scratch:
        tree = Path(scratch) / "tree"
        subprocess.run(["git", "worktree", "add", "--detach", "-q", str(tree), args.rev], cwd=ROOT, check=True)
        try:
            found = per_call(tree, args.calls.split(","), Path(scratch))
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, check=False)
    text = section(found, args.rev, head_revision(), started)
    if not args.no_write:
        replace_section(RESULTS, MARKER, text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
