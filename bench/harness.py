"""What every wrk-driven benchmark here shares: servers started and stopped by pid, wrk runs, CPU and noise.

* ``Stack`` / ``Server``: one server command (``{port}`` and ``{data}`` filled in at start, extra
  environment, a health path), started with ``subprocess.Popen`` and stopped by its pid with
  SIGTERM (SIGKILL after 10 s), then every descendant that outlived it by its own pid (checked by
  pid and start time). Nothing is ever stopped by name.
* ``run_wrk``: one ``timeout … wrk -t1 -cC -dDs --latency [-s script] url [-- args]`` run, with
  req/s, p50, p99, non-2xx answers and socket errors from wrk's output; the server's CPU
  (utime+stime of its process tree, all threads, from ``/proc``); wrk's CPU (rusage of the reaped
  child); how busy the machine was and the **other load** (other processes' CPU plus steal, from
  ``/proc/stat``, kernel threads excluded since the server's own fsyncs wake them); optionally the
  peak RSS of the server's tree, sampled every ``RSS_INTERVAL`` s while wrk runs.
* ``Plan``: repetitions and run length, waiting for other load to go away before a server
  (``wait_quiet``) and repeating a disturbed run (``measure``), both within a budget, so that the
  total time stays bounded; a point whose runs stayed disturbed is flagged by the reports.

The machine has 2 cores shared with wrk and with other sessions: see bench/README.md.
"""

from __future__ import annotations

import http.client
import os
import re
import resource
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "RESULTS.md"
PY = sys.executable
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
DISTURBED_CORES = 0.3  # other processes' CPU during a run above which the run is repeated
RSS_INTERVAL = 0.25


# -- processes ------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _stat(pid: int) -> list[str] | None:
    """Fields of /proc/<pid>/stat after the command name (index 0 = state), or None if gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rindex(")") + 2 :].split()


def process_tree(root: int) -> dict[int, str]:
    """``root`` and all its descendants, each with its start time (to tell a reused pid apart)."""
    parents: dict[int, list[int]] = {}
    starts: dict[int, str] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (fields := _stat(int(entry))) is not None:
            parents.setdefault(int(fields[1]), []).append(int(entry))
            starts[int(entry)] = fields[19]
    tree, todo = {}, [root]
    while todo:
        pid = todo.pop()
        if pid in starts:
            tree[pid] = starts[pid]
            todo.extend(parents.get(pid, []))
    return tree


def kernel_seconds() -> float:
    """CPU of the kernel's threads (children of kthreadd): journal commits, flushes, softirq work
    that the server's own fsyncs and traffic cause, so it is not counted as other load."""
    return cpu_seconds(process_tree(2))


def cpu_seconds(pids: dict[int, str] | Sequence[int]) -> float:
    """utime+stime of the given processes (all their threads), in seconds."""
    ticks = 0
    for pid in pids:
        if (fields := _stat(pid)) is not None:
            ticks += int(fields[11]) + int(fields[12])
    return ticks / CLK_TCK


def main_thread_seconds(pid: int) -> float:
    """utime+stime of ``pid``'s main thread alone (a trailpost server's event loop), in seconds."""
    try:
        raw = Path(f"/proc/{pid}/task/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = raw[raw.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def rss_mib(pids: dict[int, str] | Sequence[int]) -> float:
    """Resident set size of the given processes together, in MiB (``/proc/<pid>/statm``)."""
    pages = 0
    for pid in pids:
        try:
            pages += int(Path(f"/proc/{pid}/statm").read_text().split()[1])
        except (OSError, IndexError, ValueError):
            continue
    return pages * PAGE / 2**20


def pss_mib(pids: dict[int, str] | Sequence[int]) -> float:
    """Proportional set size of the given processes together, in MiB (``/proc/<pid>/smaps_rollup``):
    a page shared by n of them counts 1/n in each, so shared libraries count once for the tree."""
    kib = 0
    for pid in pids:
        try:
            text = Path(f"/proc/{pid}/smaps_rollup").read_text()
        except OSError:
            continue
        for line in text.splitlines():
            if line.startswith("Pss:"):
                kib += int(line.split()[1])
                break
    return kib / 1024


@dataclass(frozen=True)
class MachineCpu:
    """Whole-machine CPU counters from /proc/stat, in seconds summed over all cores."""

    busy: float  # everything but idle, iowait and steal
    tasks: float  # user + nice + system: time charged to processes (no irq, softirq)
    steal: float  # taken by the hypervisor for other guests: CPU this machine did not get
    total: float

    @classmethod
    def read(cls) -> MachineCpu:
        v = [int(x) / CLK_TCK for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
        return cls(busy=sum(v) - v[3] - v[4] - v[7], tasks=v[0] + v[1] + v[2], steal=v[7], total=sum(v))

    def cores_since(self, before: MachineCpu) -> tuple[float, float, float]:
        """(busy, task, steal) cores between ``before`` and now (this snapshot)."""
        scale = (os.cpu_count() or 1) / max(self.total - before.total, 1e-9)
        busy, tasks, steal = self.busy - before.busy, self.tasks - before.tasks, self.steal - before.steal
        return busy * scale, tasks * scale, steal * scale


@dataclass(frozen=True)
class Stack:
    """One server configuration: which app, under which server, started how."""

    app: str  # "bare" | "trailpost" | "moto" | ...
    server: str
    argv: tuple[str, ...]  # "{port}" and "{data}" are filled in at start
    env: tuple[tuple[str, str], ...] = ()
    health_path: str = ""
    # Where it runs (default: this checkout). A server started with ``python -m`` imports the
    # package of its working directory first, and so do the reader processes it starts.
    cwd: Path | None = None

    @property
    def name(self) -> str:
        return f"{self.app}/{self.server}"

    @property
    def health(self) -> str:
        return self.health_path or ("/_trailpost/health" if self.app == "trailpost" else "/")

    def command(self, port: int | str, data: Path | str) -> list[str]:
        return [a.format(port=port, data=data) for a in self.argv]


@dataclass
class Server:
    """A server process started by this script, stopped by pid (its whole tree)."""

    stack: Stack
    workdir: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    tree: dict[int, str] = field(default_factory=dict)

    @property
    def data_dir(self) -> Path:
        return self.workdir / "data"

    @property
    def log_path(self) -> Path:
        return self.workdir / "server.log"

    @property
    def pids(self) -> dict[int, str]:
        return process_tree(self.process.pid) if self.process else {}

    def start(self, timeout: float = 30.0) -> None:
        env = {
            **os.environ,
            "TRAILPOST_DATA_DIR": str(self.data_dir),
            "TRAILPOST_LOG_LEVEL": "warning",
            **dict(self.stack.env),
        }
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                self.stack.command(self.port, self.data_dir),
                cwd=self.stack.cwd or ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.stack.name} exited with {self.process.returncode}:\n{self.log_tail()}")
            if get(self.port, self.stack.health)[0] == 200:
                self.tree = process_tree(self.process.pid)
                return
            time.sleep(0.05)
        raise RuntimeError(f"{self.stack.name} did not answer within {timeout}s:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.process is None:
            return
        tree = {**self.tree, **process_tree(self.process.pid)}
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for pid, started in tree.items():  # workers that outlived their parent
            fields = _stat(pid)
            if pid != self.process.pid and fields is not None and fields[19] == started:
                os.kill(pid, signal.SIGKILL)
        self.process = None

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-2000:] if self.log_path.exists() else ""


def get(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    """One GET over a fresh connection; status 0 if nothing answers."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    except OSError:
        return 0, b""
    finally:
        conn.close()


# -- wrk ------------------------------------------------------------------------------------------

_UNITS = {"us": 1.0, "ms": 1e3, "s": 1e6, "m": 6e7}


def _micros(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if match is None:
        raise ValueError(f"unparsed wrk latency {text!r}")
    return float(match[1]) * _UNITS[match[2]]


@dataclass
class Run:
    """One wrk run against one server."""

    conns: int
    rps: float
    p50_us: float
    p99_us: float
    requests: int
    non2xx: int
    socket_errors: int
    server_cores: float
    server_us_per_req: float
    wrk_cores: float
    machine_cores: float
    other_cores: float  # process CPU of everything but the server and wrk, plus steal: load disturbing the run
    rss_peak_mib: float = 0.0  # peak RSS of the server's tree during the run (0 = not sampled)
    # CPU per request of the server's main thread alone: a trailpost server's event loop (with
    # ``--workers``, the writer's); the rest of server_us_per_req is its other threads and processes.
    loop_us_per_req: float = 0.0
    output: str = field(default="", repr=False)  # wrk's stdout (a Lua done() may print figures there)

    @property
    def disturbed(self) -> bool:
        return self.other_cores > DISTURBED_CORES

    @property
    def errors(self) -> int:
        return self.non2xx + self.socket_errors


def _field(pattern: str, output: str) -> str:
    match = re.search(pattern, output, re.M)
    if match is None:
        raise RuntimeError(f"wrk output lacks {pattern!r}:\n{output}")
    return match[1]


def parse_wrk(output: str) -> dict[str, Any]:
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    return {
        "rps": float(_field(r"Requests/sec:\s+([\d.]+)", output)),
        "p50_us": _micros(_field(r"^\s+50%\s+(\S+)", output)),
        "p99_us": _micros(_field(r"^\s+99%\s+(\S+)", output)),
        "requests": int(_field(r"(\d+) requests in", output)),
        "non2xx": int(non2xx[1]) if non2xx else 0,
        "socket_errors": sum(int(x) for x in errors.groups()) if errors else 0,
    }


def wrk_command(conns: int, seconds: int, url: str, script: Path | None, script_args: Sequence[str] = ()) -> list[str]:
    lua = ["-s", str(script)] if script else []
    extra = ["--", *script_args] if script_args else []
    return ["timeout", str(seconds + 15), "wrk", "-t1", f"-c{conns}", f"-d{seconds}s", "--latency", *lua, url, *extra]


class _RssSampler(threading.Thread):
    """Peak RSS of a process tree, sampled in the background until ``stop``."""

    def __init__(self, pids: dict[int, str]) -> None:
        super().__init__(daemon=True)
        self.pids, self.peak, self._done = pids, 0.0, threading.Event()

    def run(self) -> None:
        while not self._done.wait(RSS_INTERVAL):
            self.peak = max(self.peak, rss_mib(self.pids))

    def stop(self) -> float:
        self._done.set()
        self.join()
        return max(self.peak, rss_mib(self.pids))


def run_wrk(
    server: Server,
    conns: int,
    seconds: int,
    url: str,
    script: Path | None,
    script_args: Sequence[str] = (),
    *,
    sample_rss: bool = False,
) -> Run:
    pids = server.pids
    sampler = _RssSampler(pids) if sample_rss else None
    before_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    server_before, kernel_before, machine_before = cpu_seconds(pids), kernel_seconds(), MachineCpu.read()
    root = server.process.pid if server.process else 0
    loop_before = main_thread_seconds(root)
    if sampler:
        sampler.start()
    started = time.monotonic()
    done = subprocess.run(
        wrk_command(conns, seconds, url, script, script_args), capture_output=True, text=True, check=False
    )
    wall = time.monotonic() - started
    rss = sampler.stop() if sampler else 0.0
    server_after, kernel_after, machine_after = cpu_seconds(pids), kernel_seconds(), MachineCpu.read()
    loop_cpu = main_thread_seconds(root) - loop_before
    after_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"wrk exited with {done.returncode}:\n{done.stdout}\n{done.stderr}")
    parsed = parse_wrk(done.stdout)
    wrk_cpu = sum(getattr(after_children, f) - getattr(before_children, f) for f in ("ru_utime", "ru_stime"))
    server_cpu = server_after - server_before
    busy, tasks, steal = machine_after.cores_since(machine_before)
    return Run(
        conns=conns,
        server_cores=server_cpu / wall,
        server_us_per_req=server_cpu * 1e6 / max(parsed["requests"], 1),
        wrk_cores=wrk_cpu / wall,
        machine_cores=busy,
        other_cores=max(0.0, tasks - (server_cpu + wrk_cpu + kernel_after - kernel_before) / wall) + steal,
        rss_peak_mib=rss,
        loop_us_per_req=loop_cpu * 1e6 / max(parsed["requests"], 1),
        output=done.stdout,
        **parsed,
    )


def idle_noise(seconds: float = 1.0) -> float:
    """Other load (other processes' CPU plus steal, in cores) while nothing of ours runs."""
    before, kernel = MachineCpu.read(), kernel_seconds()
    time.sleep(seconds)
    after, kernel = MachineCpu.read(), kernel_seconds() - kernel
    _, tasks, steal = after.cores_since(before)
    return max(0.0, tasks - kernel / max(after.total - before.total, 1e-9) * (os.cpu_count() or 1)) + steal


# -- repetitions, waiting and retrying within a budget ----------------------------------------------


class Target(Protocol):
    """What wrk requests: ``fresh()`` gives (url, Lua script or None, script args), signed anew if needed."""

    def fresh(self) -> tuple[str, Path | None, Sequence[str]]: ...


@dataclass
class Plan:
    """How much to run: points, repetitions, run length, and the budget for repeating disturbed runs."""

    mode: str
    conns: tuple[int, ...]
    reps: int
    seconds: int
    retries_left: int
    wait_left: float  # seconds we may still wait for other load to go away
    threshold: float = DISTURBED_CORES
    budget: int = 0  # repeats allowed in all (for the report)
    repeated: int = 0
    waited: float = 0.0

    def wait_quiet(self, quiet_samples: int = 2) -> None:
        """Sleep in 1 s samples until other load stays low for ``quiet_samples`` in a row, within the budget."""
        samples = quiet = 0
        while self.wait_left > 0 and quiet < quiet_samples:
            started = time.monotonic()
            other = idle_noise()
            self.wait_left -= time.monotonic() - started
            if other <= DISTURBED_CORES:
                quiet += 1
                continue
            quiet = 0
            self.waited += time.monotonic() - started
            if samples % 10 == 0:
                print(f"    waiting: other processes and steal take {other:.2f} cores", flush=True)
            samples += 1

    def measure(self, server: Server, conns: int, target: Target, *, sample_rss: bool = False) -> Run:
        """One run; repeated (within budget, after a pause) while other load disturbs it."""
        run = run_wrk(server, conns, self.seconds, *target.fresh(), sample_rss=sample_rss)
        while run.disturbed and self.retries_left > 0:
            print(f"    other load {run.other_cores:.2f} cores during the run: repeating it", flush=True)
            self.retries_left -= 1
            self.repeated += 1
            self.wait_quiet()
            run = run_wrk(server, conns, self.seconds, *target.fresh(), sample_rss=sample_rss)
        return run
