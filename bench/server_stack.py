"""Server-stack benchmark: uvicorn (uvloop + httptools) against granian, for a bare app and for trailpost.

Run ``python -m bench.server_stack [--quick]`` from the repository root (``make bench-server``).
Each server in ``STACKS`` is started alone on 127.0.0.1, warmed up, loaded with
``timeout … wrk -t1 -cC -dDs --latency`` at every connection count, repeatedly, then stopped:

* ``bare``: ``bench/bare_app.py:app`` (drains the body, answers a 44-byte JSON), the HTTP ceiling;
* ``trailpost``: the real server on a fresh temp data dir seeded with ``SEED_SITES`` sites,
  answering a SigV4-signed Outposts ``ListSites`` GET. The request is made and signed once per
  server by boto3 (captured on ``before-send``, checked to answer 200 with the seeded sites) and
  replayed by wrk through a Lua script that sets the same headers; it is signed anew after
  ``RESIGN_SECONDS`` (SigV4 accepts a signature for 15 minutes).

Per run it records req/s, p50, p99, non-2xx answers, the server's CPU (utime+stime from
``/proc/<pid>/stat`` summed over the server's process tree, every thread included), wrk's CPU
(rusage of the reaped ``timeout``+``wrk`` children), how busy the whole machine was and the other
load (other processes' CPU plus steal, from ``/proc/stat``). The machine has 2 cores that may be
shared with test suites: before each server the script waits for other load to go away, and it
repeats a disturbed run, both within a budget; points still disturbed are flagged. Points are the
median over repetitions with the min-max spread. The result is a markdown section of
``bench/RESULTS.md`` (one per mode, replaced on every run). Every process this script starts is
stopped by pid, also on errors and on SIGINT/SIGTERM.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.server_report import fmt_us, section, write_section

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "RESULTS.md"
CONNS = (1, 16, 64)
SEED_SITES = 5
CLK_TCK = os.sysconf("SC_CLK_TCK")
DISTURBED_CORES = 0.3  # other processes' CPU during a run above which the run is repeated
RESIGN_SECONDS = 600  # SigV4 signatures are accepted for 15 minutes; sign anew well before
RETRY_BUDGET = {"full": 12, "quick": 6}  # default for repeated runs at most, to keep the total time bounded
PY = sys.executable

UVICORN = ["--workers", "1", "--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level", "warning"]
GRANIAN = ["-m", "granian", "--interface", "asgi", "--host", "127.0.0.1", "--workers", "1", "--no-log"]
GRANIAN_ST = ["--runtime-mode", "st", "--runtime-threads", "1"]


@dataclass(frozen=True)
class Stack:
    """One server configuration: which app, under which server, started how."""

    app: str  # "bare" | "trailpost"
    server: str
    argv: tuple[str, ...]  # "{port}" and "{data}" are filled in at start

    @property
    def name(self) -> str:
        return f"{self.app}/{self.server}"

    def command(self, port: int | str, data: Path | str) -> list[str]:
        return [a.format(port=port, data=data) for a in self.argv]


STACKS = (
    Stack("bare", "uvicorn", (PY, "-m", "uvicorn", "bench.bare_app:app", "--host", "127.0.0.1", "--port", "{port}",
                              *UVICORN)),
    Stack("bare", "granian", (PY, *GRANIAN, "--port", "{port}", "bench.bare_app:app")),
    Stack("bare", "granian-st", (PY, *GRANIAN, *GRANIAN_ST, "--port", "{port}", "bench.bare_app:app")),
    Stack("trailpost", "uvicorn", (PY, "-m", "trailpost", "serve", "--port", "{port}", "--data-dir", "{data}",
                                   "--log-level", "warning")),
    Stack("trailpost", "granian", (PY, *GRANIAN, "--factory", "--port", "{port}", "bench.bare_app:trailpost_gateway")),
    Stack("trailpost", "granian-st", (PY, *GRANIAN, *GRANIAN_ST, "--factory", "--port", "{port}",
                                      "bench.bare_app:trailpost_gateway")),
)  # fmt: skip


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


def cpu_seconds(pids: dict[int, str]) -> float:
    """utime+stime of the given processes (all their threads), in seconds."""
    ticks = 0
    for pid in pids:
        if (fields := _stat(pid)) is not None:
            ticks += int(fields[11]) + int(fields[12])
    return ticks / CLK_TCK


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
    def health(self) -> str:
        return "/_trailpost/health" if self.stack.app == "trailpost" else "/"

    def start(self, timeout: float = 30.0) -> None:
        env = {**os.environ, "TRAILPOST_DATA_DIR": str(self.data_dir), "TRAILPOST_LOG_LEVEL": "warning"}
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                self.stack.command(self.port, self.data_dir), cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.stack.name} exited with {self.process.returncode}:\n{self.log_tail()}")
            if get(self.port, self.health)[0] == 200:
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


# -- the signed trailpost request -----------------------------------------------------------------


def signed_list_sites(server: Server) -> tuple[str, dict[str, str]]:
    """Seed sites, then let boto3 sign and send ListSites; return its path and headers as sent."""
    import configparser

    import boto3
    import botocore.config

    creds = configparser.ConfigParser()
    creds.read(server.data_dir / "credentials")
    client = boto3.session.Session().client(
        "outposts",
        endpoint_url=f"http://127.0.0.1:{server.port}",
        region_name="us-east-1",
        aws_access_key_id=creds["default"]["aws_access_key_id"],
        aws_secret_access_key=creds["default"]["aws_secret_access_key"],
        config=botocore.config.Config(retries={"max_attempts": 1, "mode": "standard"}),
    )
    for index in range(SEED_SITES - len(client.list_sites()["Sites"])):
        client.create_site(Name=f"bench-site-{index}", Description="server-stack benchmark", Tags={"bench": "yes"})
    captured: dict[str, Any] = {}

    def capture(request: Any, **_: Any) -> None:
        captured["url"], captured["headers"] = request.url, dict(request.headers)

    client.meta.events.register("before-send.outposts.ListSites", capture)
    sites = client.list_sites()["Sites"]
    if len(sites) != SEED_SITES:
        raise RuntimeError(f"ListSites returned {len(sites)} sites, expected {SEED_SITES}")
    path = "/" + captured["url"].split("/", 3)[3]
    headers = {
        k: v.decode() if isinstance(v, bytes) else v
        for k, v in captured["headers"].items()
        if k.lower() not in ("host", "content-length")
    }
    status, body = get(server.port, path, headers)  # the replay wrk will do, once by hand
    if status != 200 or body.count(b'"SiteId"') != SEED_SITES:
        raise RuntimeError(f"replayed ListSites answered {status}: {body[:300]!r}")
    return path, headers


def lua_script(path: str, headers: dict[str, str]) -> str:
    lines = ['wrk.method = "GET"', f"wrk.path = {_lua(path)}"]
    lines += [f"wrk.headers[{_lua(k)}] = {_lua(v)}" for k, v in headers.items()]
    return "\n".join(lines) + "\n"


def _lua(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


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

    @property
    def disturbed(self) -> bool:
        return self.other_cores > DISTURBED_CORES


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


def wrk_command(conns: int, seconds: int, url: str, script: Path | None) -> list[str]:
    lua = ["-s", str(script)] if script else []
    return ["timeout", str(seconds + 15), "wrk", "-t1", f"-c{conns}", f"-d{seconds}s", "--latency", *lua, url]


def run_wrk(server: Server, conns: int, seconds: int, url: str, script: Path | None) -> Run:
    pids = process_tree(server.process.pid) if server.process else {}
    before_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    server_before, kernel_before, machine_before = cpu_seconds(pids), kernel_seconds(), MachineCpu.read()
    started = time.monotonic()
    done = subprocess.run(wrk_command(conns, seconds, url, script), capture_output=True, text=True, check=False)
    wall = time.monotonic() - started
    server_after, kernel_after, machine_after = cpu_seconds(pids), kernel_seconds(), MachineCpu.read()
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
        **parsed,
    )


def idle_noise(seconds: float = 1.0) -> float:
    """Other load (other processes' CPU plus steal, in cores) while nothing of ours runs."""
    before, kernel = MachineCpu.read(), kernel_seconds()
    time.sleep(seconds)
    after, kernel = MachineCpu.read(), kernel_seconds() - kernel
    _, tasks, steal = after.cores_since(before)
    return max(0.0, tasks - kernel / max(after.total - before.total, 1e-9) * (os.cpu_count() or 1)) + steal


# -- one stack, all runs --------------------------------------------------------------------------


@dataclass
class Target:
    """What wrk requests from a server: any path of the bare app, or trailpost's signed ListSites."""

    server: Server
    signed_at: float = -1e9
    script: Path | None = None
    url: str = ""

    def fresh(self) -> tuple[str, Path | None]:
        """(url, Lua script), signed anew when the signature nears its 15-minute validity."""
        if self.server.stack.app != "trailpost":
            return f"http://127.0.0.1:{self.server.port}/", None
        if time.monotonic() - self.signed_at > RESIGN_SECONDS:
            path, headers = signed_list_sites(self.server)
            self.script = self.server.workdir / "list_sites.lua"
            self.script.write_text(lua_script(path, headers))
            self.url, self.signed_at = f"http://127.0.0.1:{self.server.port}{path}", time.monotonic()
        return self.url, self.script


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

    def measure(self, server: Server, conns: int, target: Target) -> Run:
        """One run; repeated (within budget, after a pause) while other load disturbs it."""
        run = run_wrk(server, conns, self.seconds, *target.fresh())
        while run.disturbed and self.retries_left > 0:
            print(f"    other load {run.other_cores:.2f} cores during the run: repeating it", flush=True)
            self.retries_left -= 1
            self.repeated += 1
            self.wait_quiet()
            run = run_wrk(server, conns, self.seconds, *target.fresh())
        return run


def bench_stack(stack: Stack, plan: Plan, scratch: Path) -> list[Run]:
    workdir = scratch / stack.name.replace("/", "-")
    workdir.mkdir()
    server = Server(stack, workdir)
    try:
        plan.wait_quiet()
        server.start()
        target = Target(server)
        run_wrk(server, 16, 1, *target.fresh())  # warm-up, not recorded
        runs = []
        for rep in range(plan.reps):
            for c in plan.conns:
                run = plan.measure(server, c, target)
                print(
                    f"  {stack.name:22} c={c:<3} rep {rep + 1}: {run.rps:9,.0f} req/s  p50 {fmt_us(run.p50_us):>8}"
                    f"  p99 {fmt_us(run.p99_us):>8}  server {run.server_cores:.2f} / wrk {run.wrk_cores:.2f} cores"
                    + f"  other {run.other_cores:.2f}"
                    + (f"  NON-2XX {run.non2xx}" if run.non2xx else ""),
                    flush=True,
                )
                runs.append(run)
        if server.process is None or server.process.poll() is not None:
            raise RuntimeError(f"{stack.name} died during the runs:\n{server.log_tail()}")
        return runs
    finally:
        server.stop()


# -- main -----------------------------------------------------------------------------------------


def _shown(argv: list[str]) -> str:
    """A command line as documented: the venv's python relative to the repo, all connection counts."""
    text = " ".join(argv).replace(f"{ROOT}/", "")
    return text.replace("-c0 ", "-c{" + ",".join(map(str, CONNS)) + "} ")


def _on_sigterm(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="1 repetition of 3 s per point (default: 3 of 5 s)")
    parser.add_argument("--only", action="append", default=[], help="run stacks whose name contains this (repeatable)")
    parser.add_argument(
        "--max-wait", type=float, default=180.0, help="seconds to wait in total for other load to go away"
    )
    parser.add_argument("--retries", type=int, default=None, help="disturbed runs to repeat at most (12 full, 6 quick)")
    parser.add_argument("--results", type=Path, default=RESULTS, help="markdown file to write the section into")
    parser.add_argument("--no-write", action="store_true", help="print the section instead of writing it")
    args = parser.parse_args(argv)
    mode = "quick" if args.quick else "full"
    reps, seconds = (1, 3) if args.quick else (3, 5)
    budget = RETRY_BUDGET[mode] if args.retries is None else args.retries
    plan = Plan(mode, CONNS, reps, seconds, retries_left=budget, wait_left=args.max_wait, budget=budget)
    signal.signal(signal.SIGTERM, _on_sigterm)
    stacks = [s for s in STACKS if not args.only or any(o in s.name for o in args.only)]
    started = datetime.now(UTC)
    results: dict[str, list[Run]] = {}
    noise = [idle_noise()]
    failures: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="trailpost-bench-") as scratch:
        for stack in stacks:
            print(f"{stack.name}:", flush=True)
            try:
                results[stack.name] = bench_stack(stack, plan, Path(scratch))
            except RuntimeError as exc:  # one broken stack must not cost the others' figures
                failures[stack.name] = str(exc)
                print(f"  {stack.name} FAILED: {exc}", flush=True)
    noise.append(idle_noise())
    servers = [f"{s.name:22} {_shown(s.command('{port}', '$DATA'))}" for s in stacks]
    loads = [
        _shown(wrk_command(0, plan.seconds, "http://127.0.0.1:{port}/", None)),
        _shown(wrk_command(0, plan.seconds, "http://127.0.0.1:{port}/sites", Path("list_sites.lua"))),
    ]
    reproduce = " ".join(["python", "-m", "bench.server_stack", *(sys.argv[1:] if argv is None else argv)])
    text = section(plan, results, started, noise, servers, loads, reproduce, failures)
    if args.no_write:
        print(text)
    else:
        write_section(args.results, mode, text)
        print(f"wrote the {mode} section of {args.results} ({time.time() - started.timestamp():.0f} s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
