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
import signal
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.harness import (  # noqa: F401 - also imported from here by older callers
    DISTURBED_CORES,
    PY,
    RESULTS,
    ROOT,
    MachineCpu,
    Plan,
    Run,
    Server,
    Stack,
    cpu_seconds,
    free_port,
    get,
    idle_noise,
    parse_wrk,
    process_tree,
    run_wrk,
    wrk_command,
)
from bench.server_report import fmt_us, section, write_section

CONNS = (1, 16, 64)
SEED_SITES = 5
RESIGN_SECONDS = 600  # SigV4 signatures are accepted for 15 minutes; sign anew well before
RETRY_BUDGET = {"full": 12, "quick": 6}  # default for repeated runs at most, to keep the total time bounded

UVICORN = ["--workers", "1", "--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level", "warning"]
GRANIAN = ["-m", "granian", "--interface", "asgi", "--host", "127.0.0.1", "--workers", "1", "--no-log"]
GRANIAN_ST = ["--runtime-mode", "st", "--runtime-threads", "1"]


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


# -- one stack, all runs --------------------------------------------------------------------------


@dataclass
class Target:
    """What wrk requests from a server: any path of the bare app, or trailpost's signed ListSites."""

    server: Server
    signed_at: float = -1e9
    script: Path | None = None
    url: str = ""

    def fresh(self) -> tuple[str, Path | None, Sequence[str]]:
        """(url, Lua script, no script args), signed anew when the signature nears its 15-minute validity."""
        if self.server.stack.app != "trailpost":
            return f"http://127.0.0.1:{self.server.port}/", None, ()
        if time.monotonic() - self.signed_at > RESIGN_SECONDS:
            path, headers = signed_list_sites(self.server)
            self.script = self.server.workdir / "list_sites.lua"
            self.script.write_text(lua_script(path, headers))
            self.url, self.signed_at = f"http://127.0.0.1:{self.server.port}{path}", time.monotonic()
        return self.url, self.script, ()


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
