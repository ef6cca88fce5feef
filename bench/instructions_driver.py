"""The in-process driver that ``make bench-instructions`` counts under callgrind, run as a script.

``python bench/instructions_driver.py CALL COUNT [--tree DIR]`` builds trailpost as ``trailpost
serve`` does (a temporary data dir, ``server.create_app``, the collector settled), signs requests
once as the root user and replays ``COUNT`` of them, 64 at a time, into ``Gateway.handle``. What it
signs does not depend on ``COUNT`` (CreateSite: one request per region, replayed up to the site quota), so
botocore's signing cancels out of the difference between two runs; until session 16 CreateSite signed one
request per call, and its "instructions per call" carried ~590,000 of botocore's.

It is a script of its own, importing nothing of trailpost or of ``bench`` at the top, because the
revision it measures is chosen by ``sys.path``: run as a file, Python puts this directory (not the
checkout) first, and ``main`` then puts ``--tree`` (another revision's checkout) or this checkout
ahead of everything before the first ``trailpost`` import. A driver that imported trailpost before
reading ``--tree`` would count a mix of the two revisions (``bench/instructions.py`` did, until
session 8: seven modules came from the working tree in every "before").
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import botocore.session

ROOT = Path(__file__).resolve().parent.parent
CONCURRENT = 64
# CreateSite's regions: every Outposts region of botocore's model but us-east-1 (where the run's first site is).
SITE_REGIONS = tuple(r for r in botocore.session.get_session().get_available_regions("outposts") if r != "us-east-1")
LOOKUP_TARGET = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents"
CALLS = ("GetSite", "ListSites", "CreateSite", "LookupEvents")


def drive(call: str, count: int) -> None:
    """Run ``count`` calls of ``call`` through the gateway of a fresh trailpost, 64 at a time
    (trailpost imported from whichever tree ``main`` put first on ``sys.path``)."""
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
                # One request per region, signed whatever ``count`` is and replayed 99 times (the site
                # quota): botocore's signing is the client's work, and it must cancel out between runs.
                per_region = [
                    signed("outposts", "POST", "/sites", json_body, b'{"Name":"s"}', creds, region)
                    for region in SITE_REGIONS
                ]
                factories = [per_region[n // 99 % len(per_region)] for n in range(count)]
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("call", choices=CALLS)
    parser.add_argument("count", type=int)
    parser.add_argument("--tree", type=Path, default=ROOT, help="the checkout to run (default: this one)")
    parser.add_argument("--where", action="store_true", help="print where trailpost was imported from and stop")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(args.tree.resolve()))
    if args.where:
        import trailpost

        print(Path(trailpost.__file__).resolve().parent.parent)
        return 0
    drive(args.call, args.count)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
