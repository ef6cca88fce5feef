"""CPU per audited call of the request pipeline, in process: where the server's own cost stands.

``make bench-cpu`` (``python -m bench.cpu_per_call``) builds trailpost in process (a temporary data
directory, ``server.create_app`` and the garbage collector's settings exactly as ``trailpost serve``
does), signs requests once with botocore's ``SigV4Auth`` as the root user and replays them, one
after the other, into
``await Gateway.handle(request)``: routing, SigV4, parsing, validation, dispatch, the record, the
event insert and the group commit (with its fsync), without HTTP. CPU per call is the process CPU
time (``time.process_time``: every thread, so the committer thread's work counts) divided by the
calls; the best of ``--rounds`` rounds is reported, with the 1-minute load average, since other
load on the machine inflates it.

Calls: CreateSite (10 regions x 100 sites, so the quota count sees 0-99 sites), ListSites of an
empty region, LookupEvents with ``MaxResults`` 50 over the events the run itself made. Sequential
calls make one commit batch each, the worst case for group commit; ``make bench-api`` measures the
concurrent case over HTTP. The section it writes in ``bench/RESULTS.md`` is ``cpu-per-call``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import botocore.session
from botocore.credentials import Credentials

from bench.server_report import machine, replace_section
from tests.support.signed import Request, signed
from trailpost import collector
from trailpost.config import Settings
from trailpost.server import create_app

RESULTS = Path(__file__).with_name("RESULTS.md")
MARKER = "cpu-per-call"
# CreateSite's regions: the first ten Outposts regions of botocore's model, 100 sites each (the quota).
_REGIONS = botocore.session.get_session().get_available_regions("outposts")
SITE_REGIONS = tuple(_REGIONS[:10])
# ListSites lists a region CreateSite leaves empty (until session 13 it listed ap-southeast-1, one of the
# ten: 100 sites per call, which is why ListSites cost more than CreateSite in every earlier run).
LIST_REGION = next(region for region in _REGIONS if region not in SITE_REGIONS)
LOOKUP_TARGET = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents"


def calls(creds: Credentials) -> dict[str, list[Request]]:
    create = [
        signed(
            "outposts",
            "POST",
            "/sites",
            {"Content-Type": "application/json"},
            json.dumps({"Name": f"s{n}"}).encode(),
            creds,
            region,
        )
        for region in SITE_REGIONS
        for n in range(100)
    ]
    listing = [signed("outposts", "GET", "/sites", {}, b"", creds, LIST_REGION)] * 1000
    lookup = [
        signed(
            "cloudtrail",
            "POST",
            "/",
            {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": LOOKUP_TARGET},
            b'{"MaxResults": 50}',
            creds,
            "us-east-1",
        )
    ] * 1000
    return {"CreateSite": create, "ListSites": listing, "LookupEvents": lookup}


async def measure(rounds: int, scale: float) -> dict[str, int]:
    with tempfile.TemporaryDirectory(prefix="trailpost-bench-cpu-") as tmp:
        app = create_app(Settings.load(data_dir=Path(tmp) / "data"))
        collector.settle()  # as ``trailpost serve`` does once started
        gateway = app.gateway
        creds = Credentials(app.root_key.access_key_id, app.root_key.secret_access_key)
        found: dict[str, int] = {}
        for name, factories in calls(creds).items():
            factories = factories[: max(20, int(len(factories) * scale))]
            requests = [make() for make in factories]
            if name != "CreateSite":  # warm up (CreateSite is not repeatable: every call makes a site)
                for request in requests[:20]:
                    await gateway.handle(request)
            best = None
            for _ in range(1 if name == "CreateSite" else rounds):
                batch = [make() for make in factories]
                start = time.process_time()
                for request in batch:
                    response = await gateway.handle(request)
                    if response.status >= 300:
                        raise RuntimeError(f"{name} answered {response.status}: {response.body[:300]!r}")
                per_call = (time.process_time() - start) / len(batch) * 1e6
                best = per_call if best is None else min(best, per_call)
            found[name] = round(best or 0)
        await gateway.commits.run(lambda: None)
        gateway.commits.close()
        app.store.close()
    return found


def section(figures: dict[str, int], load: float, command: str) -> str:
    lines = [
        f"<!-- {MARKER}:begin -->",
        "## CPU per audited call, in process (`make bench-cpu`)",
        "",
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; command: `{command}`",
        *machine(("botocore", "orjson")),
        f"- 1-minute load average while measuring: {load:.1f} (other load inflates CPU per call)",
        "- ceiling for comparison: the bare ASGI app's server CPU per call, measured over HTTP by `make bench-api` "
        "(its `bare ASGI` rows in this file; 27-112 µs on the machines measured so far)",
        "",
        "| call | CPU per call |",
        "|---|---|",
        *(f"| {name} | {micros:,} µs |" for name, micros in figures.items()),
        f"<!-- {MARKER}:end -->",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="rounds per repeatable call (best reported)")
    parser.add_argument("--quick", action="store_true", help="a tenth of the calls, one round")
    parser.add_argument("--no-write", action="store_true", help="print the section instead of writing it")
    args = parser.parse_args()
    rounds, scale = (1, 0.1) if args.quick else (args.rounds, 1.0)
    figures = asyncio.run(measure(rounds, scale))
    text = section(figures, os.getloadavg()[0], "python -m bench.cpu_per_call" + (" --quick" if args.quick else ""))
    if args.no_write:
        print(text)
    else:
        replace_section(RESULTS, MARKER, text)
        print(json.dumps(figures))


if __name__ == "__main__":
    main()
