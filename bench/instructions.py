"""Two revisions compared by the instructions each call executes: a before/after that noise cannot move.

``make bench-instructions REV=<git revision>`` (``python -m bench.instructions --rev REV``) checks
``REV`` out into a temporary git worktree and runs, for it and for the working tree, the same
in-process driver under ``valgrind --tool=callgrind``, which counts the instructions the process
executes (all threads). The driver builds trailpost as ``trailpost serve`` does (a temporary data
dir, ``server.create_app``, the collector settled), signs requests once as the root user and
replays them, 64 at a time, into ``Gateway.handle``: routing, SigV4, parsing, validation,
dispatch, the record, the event insert and the group commit, without HTTP. Each call runs twice,
with a small and a large number of calls; instructions per call are the difference divided by the
difference in calls, so startup cancels out. Each thread is counted apart (``--separate-threads``):
the section gives, for the working tree, the event loop's share (the main thread: the request path)
and the other threads' (the committer thread: the batch's inserts and ``COMMIT``).

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
from typing import NamedTuple

from bench.instructions_driver import CONCURRENT
from bench.revisions import head_revision
from bench.server_report import machine, replace_section

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "RESULTS.md"
DRIVER = ROOT / "bench" / "instructions_driver.py"  # run as a script: see its docstring
MARKER = "instructions"
# call -> (small, large) number of calls; the quota of 100 sites per region bounds CreateSite.
COUNTS = {"GetSite": (640, 1920), "ListSites": (640, 1920), "CreateSite": (320, 1280), "LookupEvents": (320, 960)}


class Count(NamedTuple):
    """Instructions of one driver run: in all, and on its main thread (the event loop, which runs the
    request path; the others are the group commit's committer thread and whatever else runs)."""

    total: int
    loop: int


def count_instructions(tree: Path | None, call: str, count: int, scratch: Path) -> Count:
    """Instructions of one driver run (``tree``: another revision's checkout, ahead of this one)."""
    name = f"{'before' if tree else 'after'}-{call}-{count}"
    out = scratch / f"callgrind.{name}"
    command = ["valgrind", "--tool=callgrind", "--separate-threads=yes", f"--callgrind-out-file={out}"]
    command += [sys.executable, str(DRIVER), call, str(count), "--tree", str(tree or ROOT)]
    env = {**os.environ, "PYTHONHASHSEED": "0"}  # the same dict and set orders in every run
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{name} failed: {done.stderr[-2000:]}")
    return count_of(out)


def count_of(out: Path) -> Count:
    """The ``Count`` of a run made with ``--separate-threads=yes``: one file per thread, ``<out>-01``
    (the main thread), ``<out>-02`` and on."""
    threads = sorted(out.parent.glob(f"{out.name}-[0-9]*"), key=lambda path: int(path.name.rsplit("-", 1)[1]))
    if not threads:
        raise RuntimeError(f"callgrind wrote no thread files {out.name}-NN")
    totals = [total_of(path.read_text()) for path in threads]
    return Count(total=sum(totals), loop=totals[0])


def total_of(callgrind_out: str) -> int:
    """The instructions a callgrind output file counts in all (its ``summary:`` or ``totals:`` line)."""
    found = re.search(r"^(?:summary|totals): (\d+)", callgrind_out, re.MULTILINE)
    if found is None:
        raise RuntimeError("no instruction total in the callgrind output")
    return int(found.group(1))


class PerCall(NamedTuple):
    """A call's instructions per call: before, after, and of after the event loop's share."""

    before: float
    after: float
    after_loop: float


def per_call(tree: Path, calls: list[str], scratch: Path) -> dict[str, PerCall]:
    """call -> its ``PerCall``; each count's two revisions run side by side."""
    found: dict[str, PerCall] = {}
    with ThreadPoolExecutor(max_workers=2) as pool:
        for call in calls:
            small, large = COUNTS[call]
            runs: dict[int, tuple[Count, Count]] = {}
            for count in (small, large):
                before = pool.submit(count_instructions, tree, call, count, scratch)
                after = pool.submit(count_instructions, None, call, count, scratch)
                runs[count] = (before.result(), after.result())
            calls_between = large - small
            found[call] = PerCall(
                before=(runs[large][0].total - runs[small][0].total) / calls_between,
                after=(runs[large][1].total - runs[small][1].total) / calls_between,
                after_loop=(runs[large][1].loop - runs[small][1].loop) / calls_between,
            )
            print(f"  {call:<12} {found[call].before:>12,.0f} -> {found[call].after:>12,.0f} instructions per call")
    return found


def section(found: dict[str, PerCall], rev: str, head: str, started: datetime) -> str:
    lines = [
        f"<!-- {MARKER}:begin -->",
        f"## Two revisions by instructions per call (`make bench-instructions REV={rev}`)",
        "",
        f"- run: {started:%Y-%m-%d %H:%M} UTC; `valgrind --tool=callgrind --separate-threads=yes`, in process, "
        f"{CONCURRENT} calls at a time, root caller; per call = difference between a small and a large run "
        "(startup cancels out)",
        *machine(("botocore", "orjson")),
        f"- before = `{rev}` (a git worktree), after = the working tree at `{head}`",
        "",
        "| call | before | after | after / before | after: event loop / other threads (the committer) |",
        "|---|---|---|---|---|",
        *(
            f"| {call} | {n.before:,.0f} | {n.after:,.0f} | {n.after / n.before:.3f} "
            f"| {n.after_loop:,.0f} / {n.after - n.after_loop:,.0f} |"
            for call, n in found.items()
        ),
        f"<!-- {MARKER}:end -->",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rev", help="the git revision to compare the working tree with")
    parser.add_argument("--calls", default=",".join(COUNTS), help="comma-separated calls")
    parser.add_argument("--no-write", action="store_true", help="print the section instead of writing it")
    args = parser.parse_args(argv)
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
