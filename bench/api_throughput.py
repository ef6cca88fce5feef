"""API benchmark: audited calls against audit off, the bare ceiling and moto, in one run (``make bench-api``).

Run ``python -m bench.api_throughput [--quick]`` from the repository root. In this order, each
server alone on 127.0.0.1 (``bench.harness``: started and stopped by pid, CPU and other load
measured per run, disturbed runs waited out and repeated within a budget):

1. ``trailpost audited``: ``python -m trailpost serve`` as shipped;
2. ``trailpost audit off``: the same with ``TRAILPOST_BENCH_AUDIT_OFF=1`` (benchmark only: the
   gateway skips the record and the group commit; a write then commits on its own);
3. ``bare ASGI``: ``bench/bare_app.py`` under uvicorn with the flags trailpost uses, replaying the
   very bytes of trailpost's requests: the ceiling of the server stack;
4. ``moto``: moto 5.2.5's standalone server (``.venv/bin/moto_server``), CloudTrail DescribeTrails
   and CreateTrail, S3 PutObject of 5 KB (the closest calls it has; it has no Outposts).

For each call (``bench/api_targets.py``: GetSite, ListSites, CreateSite, TagResource, LookupEvents),
repetition and connection count (1, 16, 64) it runs ``wrk -t1 --latency -s bench/replay.lua``,
re-signing the call's request file first (SigV4 holds 15 minutes). The server's RSS is taken idle
after seeding, sampled during the 64-connection runs and taken again after the runs; if
``bench/out/lookup-events-10000000`` holds a complete 10M-event data dir (``make bench-lookup``),
trailpost is also started on it for RSS idle and under LookupEvents/ListSites load at 64
connections. Then the event store alone is timed (``bench/durability.py``).

The section ``api-throughput:<mode>`` of ``bench/RESULTS.md`` is replaced (``bench/api_report.py``).
Full mode: 3 x 5 s per point, about 16 minutes on a quiet machine; quick: 1 x 1 s, under 3 minutes.
"""

from __future__ import annotations

import argparse
import re
import resource
import signal
import sys
import tempfile
import time
import traceback
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.api_report import AUDIT_OFF, AUDITED, BARE, MOTO, WORKERS, ApiResults, section
from bench.api_targets import (
    MOTO_KEY,
    MOTO_OPS,
    TRAILPOST_OPS,
    MotoTargets,
    Operation,
    Replay,
    TrailpostTargets,
    bare_replay,
    client,
    prepare_trailpost_data,
)
from bench.durability import store_rates
from bench.harness import (
    PY,
    RESULTS,
    ROOT,
    MachineCpu,
    Plan,
    Run,
    Server,
    Stack,
    idle_noise,
    kernel_seconds,
    pss_mib,
    rss_mib,
    run_wrk,
)
from bench.lookup_data import ROOT_KEY, complete
from bench.server_report import fmt_us, replace_section
from bench.server_stack import UVICORN
from bench.signing import REPLAY_LUA, capture, resign, write_requests

CONNS = (1, 16, 64)
OUT = ROOT / "bench" / "out"
BIG = 10_000_000
RETRY_BUDGET = {"full": 20, "quick": 6}
MAX_WAIT = {"full": 600.0, "quick": 60.0}
DEFAULT_RATES = {"trailpost": 4000.0, "moto": 600.0}
SERVE = (PY, "-m", "trailpost", "serve", "--port", "{port}", "--data-dir", "{data}", "--log-level", "warning")
STACKS = {
    AUDITED: Stack("trailpost", "audited", SERVE),
    AUDIT_OFF: Stack("trailpost", "audit-off", SERVE, env=(("TRAILPOST_BENCH_AUDIT_OFF", "1"),)),
    WORKERS: Stack("trailpost", "workers-2", (*SERVE, "--workers", "2")),
    BARE: Stack(
        "bare",
        "uvicorn",
        (PY, "-m", "uvicorn", "bench.bare_app:app", "--host", "127.0.0.1", "--port", "{port}", *UVICORN),
    ),
    MOTO: Stack(
        "moto",
        "server",
        (str(Path(PY).parent / "moto_server"), "-H", "127.0.0.1", "-p", "{port}"),
        health_path="/moto-api/",
    ),
}
_REPLAY_LINE = re.compile(r"replay: requests (\d+) sent (\d+) over_cap (\d+)")


def replay_counts(run: Run) -> tuple[int, int, int]:
    """(distinct requests, sent, sent over the per-request budget) as ``bench/replay.lua`` printed them."""
    match = _REPLAY_LINE.search(run.output)
    return (int(match[1]), int(match[2]), int(match[3])) if match else (0, 0, 0)


class Bench:
    """One run of the API benchmark: the plan, the servers, and everything measured."""

    def __init__(self, plan: Plan, results: ApiResults, scratch: Path) -> None:
        self.plan, self.results, self.scratch = plan, results, scratch
        self.audited_targets: TrailpostTargets | None = None

    def log(self, config: str, op: str, run: Run, rep: int) -> None:
        print(
            f"  {config:20} {op:14} c={run.conns:<3} rep {rep + 1}: {run.rps:9,.0f} req/s  p50 "
            f"{fmt_us(run.p50_us):>8}  p99 {fmt_us(run.p99_us):>8}  server {run.server_cores:.2f} / wrk "
            f"{run.wrk_cores:.2f} cores  other {run.other_cores:.2f}"
            + (f"  ERRORS {run.errors}" if run.errors else ""),
            flush=True,
        )

    def measure(self, server: Server, conns: int, replay: Replay) -> Run:
        """One point; a CreateSite-style run whose budget ran out is repeated once with a bigger one."""
        sample = conns == max(self.plan.conns)
        run = self.plan.measure(server, conns, replay, sample_rss=sample)
        _, sent, over = replay_counts(run)
        if over and self.plan.retries_left > 0:
            print(f"    {over} requests over the quota budget: repeating with a bigger one", flush=True)
            self.plan.retries_left -= 1
            self.plan.repeated += 1
            replay.expected = sent * 1.3
            run = self.plan.measure(server, conns, replay, sample_rss=sample)
        return run

    def series(self, config: str, server: Server, replays: dict[str, Replay], default_rate: float) -> None:
        """Every call x repetition x connection count on one server; RSS sampled at the top count."""
        best: dict[int, float] = {}
        memory = self.results.memory.setdefault(config, {"idle": rss_mib(server.pids)})
        for name, replay in replays.items():
            runs = self.results.runs.setdefault((config, name), [])
            for rep in range(self.plan.reps):
                for c in self.plan.conns:
                    replay.expected = best.get(c, default_rate) * self.plan.seconds
                    run = self.measure(server, c, replay)
                    best[c] = max(best.get(c, 0.0), run.rps)
                    if run.rss_peak_mib:
                        memory["load"] = max(memory.get("load", 0.0), run.rss_peak_mib)
                    self.log(config, name, run, rep)
                    runs.append(run)
            if not server.alive():
                raise RuntimeError(f"{config} died during {name}:\n{server.log_tail()}")
        memory["after"] = rss_mib(server.pids)

    def start(self, config: str, prepare: Any = None) -> Server:
        workdir = self.scratch / config.replace(" ", "-")
        workdir.mkdir()
        server = Server(STACKS[config], workdir)
        if prepare is not None:
            prepare(server.data_dir)
        self.plan.wait_quiet()
        server.start(timeout=60)
        return server

    def trailpost(self, config: str, ops: Sequence[Operation]) -> None:
        server = self.start(config, prepare_trailpost_data)
        try:
            targets = TrailpostTargets(server)
            targets.seed()
            if config == AUDITED:
                self.audited_targets = targets
            replays = {op.name: targets.replay(op, server.workdir) for op in ops}
            run_wrk(server, 16, 1, *targets.replay(TRAILPOST_OPS[1], server.workdir).fresh())  # warm-up
            self.series(config, server, replays, DEFAULT_RATES["trailpost"])
            self.results.notes.append(
                f"{config}: CreateSite budget {targets.sites_budgeted:,} sites in {targets.accounts_made} fresh "
                f"accounts x {len(targets.regions)} regions"
            )
        finally:
            server.stop()

    def bare(self, ops: Sequence[Operation]) -> None:
        if self.audited_targets is None:
            raise RuntimeError("the bare app replays trailpost's requests: the audited server must run first")
        server = self.start(BARE)
        try:
            replays = {op.name: bare_replay(self.audited_targets, op, server, server.workdir) for op in ops}
            run_wrk(server, 16, 1, *next(iter(replays.values())).fresh())
            self.series(BARE, server, replays, 20_000.0)
        finally:
            server.stop()

    def moto(self) -> None:
        server = self.start(MOTO)
        try:
            targets = MotoTargets(server)
            targets.seed()
            replays = {op.name: targets.replay(op, server.workdir) for op in MOTO_OPS}
            run_wrk(server, 16, 1, *replays["DescribeTrails"].fresh())
            self.series(MOTO, server, replays, DEFAULT_RATES["moto"])
            self.results.peers.update({op.name: op.peer for op in MOTO_OPS})
        finally:
            server.stop()

    def big_store(self) -> None:
        """RSS of trailpost on the 10M-event data dir of ``make bench-lookup``, idle and under load, and
        LookupEvents throughput there, as shipped and with ``--workers 2``."""
        data = OUT / f"lookup-events-{BIG}"
        if not complete(data, BIG):
            self.results.memory_10m = (
                f"skipped: no complete {data.relative_to(ROOT)} (`make bench-lookup` builds it: about 20 min, 19 GiB)"
            )
            return
        argv = (*SERVE[:7], str(data), "--event-retention-days", "3650", "--log-level", "warning")
        for arrangement, extra in (("one process", ()), ("`--workers 2`", ("--workers", "2"))):
            workdir = self.scratch / f"trailpost-10m-{len(extra)}"
            workdir.mkdir()
            server = Server(Stack("trailpost", "10m", (*argv, *extra)), workdir)
            self.plan.wait_quiet()
            server.start(timeout=180)
            try:
                time.sleep(2)
                figures = {"idle": rss_mib(server.pids), "events": float(BIG)}
                for name, run in self._big_store_runs(server, workdir):
                    figures["load"] = max(figures.get("load", 0.0), run.rss_peak_mib)
                    figures["pss"] = max(figures.get("pss", 0.0), pss_mib(server.pids))  # right after the run
                    if name == "LookupEvents":
                        self.results.lookups_10m[arrangement] = run.rps
                    print(
                        f"  10M events, {arrangement}, {name} c=64: {run.rps:,.0f} req/s, "
                        f"RSS peak {run.rss_peak_mib:.0f} MiB"
                    )
                if extra:
                    self.results.memory_10m_workers = figures
                else:
                    self.results.memory_10m = figures  # the memory target is for trailpost as shipped
            finally:
                server.stop()

    def _big_store_runs(self, server: Server, workdir: Path) -> list[tuple[str, Run]]:
        endpoint = f"http://127.0.0.1:{server.port}"
        calls = {
            "LookupEvents": capture(client("cloudtrail", endpoint, ROOT_KEY), "lookup_events", MaxResults=50),
            "ListSites": capture(client("outposts", endpoint, ROOT_KEY), "list_sites"),
        }
        runs = []
        for name, captured in calls.items():
            path = workdir / f"{name}.requests"
            service = "cloudtrail" if name == "LookupEvents" else "outposts"
            signed = resign(
                captured.request, access_key=ROOT_KEY[0], secret_key=ROOT_KEY[1], region="us-east-1", service=service
            )
            write_requests(path, [signed])
            run = run_wrk(server, 64, self.plan.seconds, endpoint + "/", REPLAY_LUA, (str(path), "0"), sample_rss=True)
            runs.append((name, run))
        return runs


def timed_store(quick: bool) -> dict[str, float]:
    """``durability.store_rates`` plus the other load (machine's process CPU minus ours and the kernel's) meanwhile."""
    before, kernel, own = MachineCpu.read(), kernel_seconds(), resource.getrusage(resource.RUSAGE_SELF)
    started = time.monotonic()
    figures = store_rates(*((20_000, 2_000, 5.0) if quick else (100_000, 10_000, 20.0)))
    wall = time.monotonic() - started
    after, kernel, mine = MachineCpu.read(), kernel_seconds() - kernel, resource.getrusage(resource.RUSAGE_SELF)
    _, tasks, steal = after.cores_since(before)
    used = (mine.ru_utime - own.ru_utime + mine.ru_stime - own.ru_stime + kernel) / wall
    figures["other_cores"] = max(0.0, tasks - used) + steal
    return figures


def _shown(argv: Sequence[str]) -> str:
    return " ".join(argv).replace(f"{ROOT}/", "").replace(str(Path(PY).parent) + "/", ".venv/bin/")


def _on_sigterm(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="1 repetition of 1 s per point (default: 3 of 5 s)")
    parser.add_argument("--calls", default="", help="comma-separated trailpost calls to run (default: all five)")
    parser.add_argument(
        "--skip", action="append", default=[], help="skip a server: audited, workers, off, bare, moto, 10m, store"
    )
    parser.add_argument("--max-wait", type=float, default=None, help="seconds to wait in total for other load to go")
    parser.add_argument("--retries", type=int, default=None, help="disturbed runs to repeat at most")
    parser.add_argument("--results", type=Path, default=RESULTS, help="markdown file to write the section into")
    parser.add_argument("--no-write", action="store_true", help="print the section instead of writing it")
    args = parser.parse_args(argv)
    mode = "quick" if args.quick else "full"
    reps, seconds = (1, 1) if args.quick else (3, 5)
    budget = RETRY_BUDGET[mode] if args.retries is None else args.retries
    wait = MAX_WAIT[mode] if args.max_wait is None else args.max_wait
    plan = Plan(mode, CONNS, reps, seconds, retries_left=budget, wait_left=wait, budget=budget)
    wanted = [c for c in args.calls.split(",") if c]
    ops = [op for op in TRAILPOST_OPS if not wanted or op.name in wanted]
    signal.signal(signal.SIGTERM, _on_sigterm)
    started = datetime.now(UTC)
    results = ApiResults(mode, reps, seconds, CONNS, started, budget=budget)
    results.noise.append(idle_noise())
    steps = [
        ("audited", AUDITED, lambda b: b.trailpost(AUDITED, ops)),
        ("workers", WORKERS, lambda b: b.trailpost(WORKERS, ops)),
        ("off", AUDIT_OFF, lambda b: b.trailpost(AUDIT_OFF, ops)),
        ("bare", BARE, lambda b: b.bare(ops)),
        ("moto", MOTO, lambda b: b.moto()),
        ("10m", "trailpost with 10M events", lambda b: b.big_store()),
    ]
    with tempfile.TemporaryDirectory(prefix="trailpost-api-bench-") as scratch:
        bench = Bench(plan, results, Path(scratch))
        for key, name, step in steps:
            if key in args.skip:
                continue
            print(f"{name}:", flush=True)
            try:
                step(bench)
            except Exception as exc:  # noqa: BLE001 - one broken server must not cost the others' figures
                results.failures[name] = f"{type(exc).__name__}: {exc}".strip().splitlines()[0][:300].replace("`", "'")
                print(f"  {name} FAILED:", flush=True)
                traceback.print_exc()
    if "store" not in args.skip:
        print("event store alone:", flush=True)
        results.store_alone = timed_store(args.quick)
        print(f"  {results.store_alone}", flush=True)
    results.noise.append(idle_noise())
    results.repeated, results.waited = plan.repeated, plan.waited
    results.servers = [f"{name:20} {_shown(STACKS[name].command('{port}', '$DATA'))}" for name in STACKS] + [
        f"{'audit off env':20} TRAILPOST_BENCH_AUDIT_OFF=1 (benchmark only; logged as a warning at startup)"
    ]
    results.loads = [
        _shown(
            [
                "timeout",
                str(seconds + 15),
                "wrk",
                "-t1",
                "-c{1,16,64}",
                f"-d{seconds}s",
                "--latency",
                "-s",
                str(REPLAY_LUA),
                "http://127.0.0.1:{port}/",
                "--",
                "CALL.requests",
                "CAP",
            ]
        ),
        f"moto: signed by botocore with a dummy key ({MOTO_KEY[0]}); CreateTrail: one distinct trail name per "
        "request (CAP 1); PutObject: distinct keys, cycled",
    ]
    results.reproduce = " ".join(["python", "-m", "bench.api_throughput", *(sys.argv[1:] if argv is None else argv)])
    text = section(results)
    if args.no_write:
        print(text)
    else:
        replace_section(args.results, f"api-throughput:{mode}", text)
        print(f"wrote the {mode} section of {args.results} ({time.time() - started.timestamp():.0f} s)")
    return 1 if results.failures else 0


if __name__ == "__main__":
    sys.exit(main())
