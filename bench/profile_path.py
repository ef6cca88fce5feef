"""Where the CPU of an audited call goes: py-spy on a running trailpost under wrk load (``make bench-profile``).

Run ``python -m bench.profile_path`` from the repository root. It starts trailpost as shipped on a
fresh data dir seeded like the API benchmark's (``bench/api_targets.py``), and for each profiled
call (audited CreateSite and ListSites by default) replays its signed requests with
``wrk -t1 -c16`` for ``--seconds`` while ``py-spy record --nonblocking --threads --format raw``
samples the server (py-spy 0.4.3, pinned in requirements-bench.lock; it needs ptrace, i.e. root or
``CAP_SYS_PTRACE``). The same wrk run gives the server's CPU per request, so each function's share
of the samples becomes microseconds per call.

Functions are aggregated by name and file (lines dropped). For each call it reports the top
functions by **self** samples (the frame on top of the stack: where the CPU is actually spent; time
inside SQLite's C code counts for the Python function that called it) and trailpost's functions by
**inclusive** samples (anywhere on the stack: what a step costs in all), as shares of all the
server's non-idle samples, and the split between the event loop and the commit thread.
The section ``profile`` of ``bench/RESULTS.md`` is replaced.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bench.api_targets import TRAILPOST_OPS, TrailpostTargets, prepare_trailpost_data
from bench.harness import PY, RESULTS, ROOT, Run, Server, Stack, process_tree, run_wrk
from bench.server_report import machine, replace_section

PYSPY = Path(PY).parent / "py-spy"
SERVE = (PY, "-m", "trailpost", "serve", "--port", "{port}", "--data-dir", "{data}", "--log-level", "warning")
_FRAME = re.compile(r"^(?P<name>.*?) \((?P<file>[^()]*?)(?::\d+)?\)$")
TOP = 20
_ENTRY = {"serve (trailpost/server.py)", "serve (trailpost/cli.py)", "<module> (trailpost/__main__.py)"}


def short(frame: str) -> str:
    """``func (path/to/file.py:12)`` -> ``func (file path relative to the repo or site-packages)``."""
    match = _FRAME.match(frame.strip())
    if match is None:
        return frame.strip()
    path = match["file"]
    for prefix in (f"{ROOT}/", "site-packages/", "lib/python3.11/"):
        if prefix in path:
            path = path.split(prefix, 1)[1]
    return f"{match['name']} ({path})"


@dataclass
class Profile:
    """Aggregated py-spy samples of one call."""

    call: str
    run: Run
    writer_pid: int = 0
    samples: int = 0
    processes: Counter[str] = field(default_factory=Counter)
    self_: Counter[str] = field(default_factory=Counter)
    inclusive: Counter[str] = field(default_factory=Counter)
    # Samples per (process, thread), and which threads showed the event loop or the commit loop:
    # py-spy does not always see below a coroutine that uvloop's C code resumed, so a thread is
    # told by any of its samples, not by each.
    by_thread: Counter[tuple[str, str]] = field(default_factory=Counter)
    loop_threads: set[tuple[str, str]] = field(default_factory=set)
    commit_threads: set[tuple[str, str]] = field(default_factory=set)

    @property
    def threads(self) -> Counter[str]:
        """Samples of the event loop threads, the commit threads and the others."""
        split: Counter[str] = Counter()
        for thread, count in self.by_thread.items():
            if thread in self.commit_threads:
                split["commit thread"] += count
            elif thread in self.loop_threads:
                split["event loop"] += count
            else:
                split["other threads"] += count
        return split

    def add(self, stack: str, count: int) -> None:
        parts = stack.split(";")
        frames = [f for f in parts if not f.startswith(("thread ", "process "))]
        if not frames:
            return
        self.samples += count
        process = next((f for f in parts if f.startswith("process ")), "")
        if process:  # several processes: the writer is the server's own pid, the rest are readers
            pid = process[len("process ") :].split(":", 1)[0]
            self.processes["writer" if pid == str(self.writer_pid) else "readers"] += count
        thread = (process, next((f for f in parts if f.startswith("thread ")), ""))
        self.by_thread[thread] += count
        if any(f.startswith("GroupCommit._commit_loop (") for f in frames):
            self.commit_threads.add(thread)
        elif any(f.startswith(("Runner.run (", "run (asyncio/runners.py")) for f in frames):
            self.loop_threads.add(thread)
        self.self_[short(frames[-1])] += count
        for name in {short(f) for f in frames}:
            if "(trailpost/" in name and name not in _ENTRY:
                self.inclusive[name] += count


def parse_raw(text: str, profile: Profile, process: int | None = None) -> Profile:
    """Add py-spy's raw stacks to ``profile``; ``process``: the pid they were sampled in (several processes)."""
    prefix = f"process {process}:;" if process is not None else ""
    for line in text.splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            profile.add(prefix + stack, int(count))
    return profile


def profile_call(server: Server, targets: TrailpostTargets, call: str, seconds: int, conns: int) -> Profile:
    """Replay ``call`` with wrk while one py-spy samples each process of the server's tree."""
    op = next(op for op in TRAILPOST_OPS if op.name == call)
    replay = targets.replay(op, server.workdir)
    replay.expected = 5000.0 * seconds
    assert server.process is not None
    # One py-spy per process (the writer and, with --workers, its readers): py-spy's own
    # --subprocesses did not follow the readers when attached with --pid.
    pids = list(process_tree(server.process.pid))
    spies = {pid: _spy(pid, server.workdir / f"{call}-{pid}.pyspy", seconds) for pid in pids}
    try:
        time.sleep(0.3)
        run = run_wrk(server, conns, seconds, *replay.fresh())
    finally:
        errors = {pid: spy.communicate(timeout=seconds + 30)[1] for pid, spy in spies.items()}
    profile = Profile(call, run, writer_pid=server.process.pid)
    for pid, spy in spies.items():
        out = server.workdir / f"{call}-{pid}.pyspy"
        if spy.returncode != 0 or not out.exists():
            raise RuntimeError(f"py-spy failed ({spy.returncode}): {errors[pid].decode(errors='replace')[-500:]}")
        parse_raw(out.read_text(), profile, process=pid if len(spies) > 1 else None)
    return profile


def _spy(pid: int, out: Path, seconds: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            str(PYSPY),
            "record",
            "--pid",
            str(pid),
            "--duration",
            str(seconds),
            "--rate",
            "200",
            "--nonblocking",
            "--threads",
            "--format",
            "raw",
            "--output",
            str(out),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def table(profile: Profile, counter: Counter[str], what: str) -> list[str]:
    us = profile.run.server_us_per_req
    lines = [f"| {what} | share of samples | µs per call |", "|---|---|---|"]
    for name, count in counter.most_common(TOP):
        share = count / max(profile.samples, 1)
        lines.append(f"| `{name}` | {share:.1%} | {share * us:.0f} |")
    return lines


def section(profiles: list[Profile], started: datetime, seconds: int, conns: int, workers: int = 1) -> str:
    served = f"`trailpost serve --workers {workers}` (every process)" if workers > 1 else "`trailpost serve`"
    out = [
        f"<!-- {_marker(workers)}:begin -->",
        "## Profile of the audited request path (py-spy)" + (f", `--workers {workers}`" if workers > 1 else ""),
        "",
        f"- run: {started:%Y-%m-%d %H:%M} UTC; `py-spy record --nonblocking --threads --rate 200 --format raw` "
        f"on {served} while `wrk -t1 -c{conns} -d{seconds}s` replays the call (bench/replay.lua)"
        + ("; one py-spy per process" if workers > 1 else ""),
        *machine(("uvicorn", "uvloop", "httptools", "botocore", "orjson", "py-spy")),
        "- reproduce: `make bench-profile` (= `python -m bench.profile_path`)",
        "- shares are of all the server's non-idle samples (every thread); µs per call = share x the server's "
        "CPU per request measured in the same wrk run. The machine is shared with other sessions: shares are "
        "robust to that, absolute µs less so. A thread waiting in a system call py-spy does not know as idle "
        "(the commit thread's fdatasync in `SqliteStateStore.sync`, its WAL writes in `commit`) is sampled as "
        "busy: those rows are wall time of that thread, not CPU.",
        "",
    ]
    for p in profiles:
        split = p.processes.most_common(2) + p.threads.most_common(3)
        threads = ", ".join(f"{name} {count / max(p.samples, 1):.0%}" for name, count in split)
        out += [
            f"### {p.call} (audited): {p.run.rps:,.0f} req/s at c={conns}, server CPU {p.run.server_us_per_req:.0f} "
            f"µs per call, {p.samples:,} samples ({threads})",
            "",
            *table(p, p.self_, "self (where the CPU is spent)"),
            "",
            *table(p, p.inclusive, "inclusive, trailpost's functions (the function and what it calls)"),
            "",
        ]
    out.append(f"<!-- {_marker(workers)}:end -->")
    return "\n".join(out) + "\n"


def _marker(workers: int) -> str:
    """The RESULTS.md section of a profile: one process, or ``--workers N``."""
    return "profile" if workers == 1 else f"profile-workers-{workers}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", default="CreateSite,ListSites", help="comma-separated calls to profile")
    parser.add_argument("--seconds", type=int, default=8, help="profiling time per call")
    parser.add_argument("--conns", type=int, default=16, help="wrk connections")
    parser.add_argument("--workers", type=int, default=1, help="profile `serve --workers N` (every process)")
    parser.add_argument("--no-write", action="store_true", help="print the section instead of writing it")
    args = parser.parse_args(argv)
    if not PYSPY.exists():
        print(f"{PYSPY} is missing: pip install -r requirements-bench.lock", file=sys.stderr)
        return 1
    started = datetime.now(UTC)
    profiles = []
    with tempfile.TemporaryDirectory(prefix="trailpost-profile-") as scratch:
        argv = (*SERVE, "--workers", str(args.workers)) if args.workers > 1 else SERVE
        server = Server(Stack("trailpost", "profiled", argv), Path(scratch))
        prepare_trailpost_data(server.data_dir)
        server.start(timeout=60)
        try:
            targets = TrailpostTargets(server)
            targets.seed()
            for call in args.calls.split(","):
                profile = profile_call(server, targets, call, args.seconds, args.conns)
                print(f"{call}: {profile.run.rps:,.0f} req/s, {profile.samples} samples", flush=True)
                profiles.append(profile)
        finally:
            server.stop()
    text = section(profiles, started, args.seconds, args.conns, args.workers)
    if args.no_write:
        print(text)
    else:
        replace_section(RESULTS, _marker(args.workers), text)
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
