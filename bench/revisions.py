"""Two revisions of trailpost side by side over HTTP, interleaved: did a change make calls faster?

``make bench-ab REV=<git revision>`` (``python -m bench.revisions --rev REV``) checks ``REV`` out
into a temporary git worktree and compares it with the working tree (as it is, uncommitted
changes included). Each repetition starts a fresh one-process server of each revision on a fresh
seeded data dir (``bench/api_targets.py``, as the API benchmark does; ``--workers N``: a
``serve --workers N`` tree of processes instead) and replays each call with
``wrk -t1 -c64`` for 5 s; the order of the two revisions alternates between repetitions, so a
machine whose speed drifts (this one does, by 10-15 % over minutes, at times by 30 %) favours
neither. Figures are medians over the repetitions: req/s, p99, server CPU per call and the event
loop's share of it (the server's main thread). The verdict is the median of the repetitions'
own ratios (after / before of the two runs made minutes apart): a drift between repetitions
cancels out of it, where it would not out of a ratio of two medians. Small differences need
many repetitions (session 9 used 6-10 per call: ``BENCH_ARGS="--reps 10 --calls GetSite"``).

Why a separate tool: the API benchmark's runs of different sessions are on different machines
and minutes apart; only runs interleaved in the same minutes tell a change from drift. The
section it writes in ``bench/RESULTS.md`` is ``revisions``.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from bench.api_targets import TRAILPOST_OPS, TrailpostTargets, prepare_trailpost_data
from bench.harness import PY, RESULTS, ROOT, Run, Server, Stack, run_wrk
from bench.server_report import machine, replace_section

MARKER = "revisions"
ARGS = ("serve", "--port", "{port}", "--data-dir", "{data}", "--log-level", "warning")
SECONDS = 5
CONNS = 64


def stack_of(tree: Path | None, name: str, workers: int = 1) -> Stack:
    """``trailpost serve`` of ``tree`` (``None``: this working tree), run from it: ``python -m`` imports
    the package of its working directory ahead of the editable install, in the writer and in every
    reader process it starts alike."""
    args = (*ARGS, "--workers", str(workers)) if workers > 1 else ARGS
    return Stack("trailpost", name, (PY, "-m", "trailpost", *args), cwd=tree)


def measure(stacks: dict[str, Stack], calls: list[str], reps: int) -> dict[tuple[str, str], list[Run]]:
    """``reps`` interleaved rounds of every call against every stack; the runs per (call, stack)."""
    found: dict[tuple[str, str], list[Run]] = {}
    for rep in range(reps):
        order = list(stacks.items()) if rep % 2 == 0 else list(reversed(stacks.items()))
        for name, stack in order:
            for call, run in _round(stack, calls):
                found.setdefault((call, name), []).append(run)
                print(f"  {rep + 1}/{reps} {name:>6} {call:<12} {run.rps:8,.0f} req/s, p99 {run.p99_us / 1000:.1f} ms")
    return found


def _round(stack: Stack, calls: list[str]) -> list[tuple[str, Run]]:
    """One fresh server of ``stack``, seeded, and one wrk run per call."""
    runs = []
    with tempfile.TemporaryDirectory(prefix="trailpost-revisions-") as scratch:
        server = Server(stack, Path(scratch))
        prepare_trailpost_data(server.data_dir)
        server.start(timeout=60)
        try:
            targets = TrailpostTargets(server)
            targets.seed()
            for call in calls:
                replay = targets.replay(next(op for op in TRAILPOST_OPS if op.name == call), server.workdir)
                replay.expected = 5000.0 * SECONDS
                runs.append((call, run_wrk(server, CONNS, SECONDS, *replay.fresh())))
        finally:
            server.stop()
    return runs


def section(
    found: dict[tuple[str, str], list[Run]], calls: list[str], rev: str, reps: int, started: datetime, workers: int = 1
) -> str:
    def median(runs: list[Run], attr: str) -> float:
        return statistics.median(getattr(r, attr) for r in runs)

    lines = [
        f"<!-- {MARKER}:begin -->",
        f"## Two revisions interleaved (`make bench-ab REV={rev}"
        + (f' BENCH_ARGS="--workers {workers}"' if workers > 1 else "")
        + "`)",
        "",
        f"- run: {started:%Y-%m-%d %H:%M} UTC; {reps} repetitions, the two revisions in alternating order, "
        + ("a fresh one-process server each" if workers == 1 else f"a fresh `serve --workers {workers}` each")
        + f"; `wrk -t1 -c{CONNS} -d{SECONDS}s`; medians",
        *machine(("uvicorn", "uvloop", "httptools", "botocore", "orjson")),
        f"- before = `{rev}` (a git worktree), after = the working tree at `{head_revision()}`",
        "",
        "| call | before req/s | after req/s | after / before, paired (range) | p99 before / after "
        "| CPU per call before / after | of which the event loop" + (" (the writer's)" if workers > 1 else "") + " |",
        "|---|---|---|---|---|---|---|",
    ]
    for call in calls:
        before, after = found[(call, "before")], found[(call, "after")]
        rate_b, rate_a = median(before, "rps"), median(after, "rps")
        paired = [a.rps / b.rps for b, a in zip(before, after, strict=False) if b.rps > 0]
        verdict = f"{statistics.median(paired):.3f} ({min(paired):.2f}-{max(paired):.2f})" if paired else "-"
        lines.append(
            f"| {call} | {rate_b:,.0f} | {rate_a:,.0f} | {verdict} | "
            f"{median(before, 'p99_us') / 1000:.1f} / {median(after, 'p99_us') / 1000:.1f} ms | "
            f"{median(before, 'server_us_per_req'):.0f} / {median(after, 'server_us_per_req'):.0f} µs | "
            f"{median(before, 'loop_us_per_req'):.0f} / {median(after, 'loop_us_per_req'):.0f} µs |"
        )
    spread = [
        f"{call} {name} {min(r.rps for r in runs):,.0f}-{max(r.rps for r in runs):,.0f}"
        for (call, name), runs in sorted(found.items())
    ]
    lines += ["", f"Range of req/s over the repetitions: {'; '.join(spread)}.", f"<!-- {MARKER}:end -->", ""]
    return "\n".join(lines)


def head_revision() -> str:
    """The short id of the working tree's HEAD (what "after" is)."""
    done = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    return done.stdout.strip() or "unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rev", required=True, help="the git revision to compare the working tree with")
    parser.add_argument("--calls", default="GetSite,ListSites,CreateSite,LookupEvents", help="comma-separated calls")
    parser.add_argument("--reps", type=int, default=4, help="repetitions (alternating order)")
    parser.add_argument("--workers", type=int, default=1, help="compare `serve --workers N` (readers and writer)")
    parser.add_argument("--no-write", action="store_true", help="print the section instead of writing it")
    args = parser.parse_args(argv)
    calls = args.calls.split(",")
    started = datetime.now(UTC)
    with tempfile.TemporaryDirectory(prefix="trailpost-rev-") as scratch:
        tree = Path(scratch) / "tree"
        subprocess.run(["git", "worktree", "add", "--detach", "-q", str(tree), args.rev], cwd=ROOT, check=True)
        try:
            stacks = {"before": stack_of(tree, "before", args.workers), "after": stack_of(None, "after", args.workers)}
            found = measure(stacks, calls, args.reps)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, check=False)
    text = section(found, calls, args.rev, args.reps, started, args.workers)
    if args.no_write:
        print(text)
    else:
        replace_section(RESULTS, MARKER, text)
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
