"""The requests of the API benchmark (``bench/api_throughput.py``): which calls, how they are seeded and signed.

trailpost (audited, audit off) answers five calls: Outposts ``GetSite`` and ``ListSites`` (reads),
``CreateSite`` and ``TagResource`` (writes), CloudTrail ``LookupEvents``. Before the server starts,
its data dir gets the benchmark's default account and root key plus ``HISTORY_EVENTS`` synthetic
events (``bench.lookup_data.fill``), so that LookupEvents returns 50 events with audit on or off.
After it starts, ``TrailpostTargets.seed`` makes ``SEED_SITES`` sites with boto3 and captures each
call's request as a template (``bench.signing.capture``), checking the answer.

Quotas: trailpost enforces AWS's 100 sites per account and region (the ``outposts.sites`` quota), so a CreateSite
request replayed without end would be refused after 100 sites. Before every CreateSite run the
benchmark creates fresh accounts in the server's data dir (``AccountRegistry.create_account``,
accepted at once by the running server) and signs one CreateSite per account and each of the 26
commercial regions botocore lists for Outposts; ``bench/replay.lua`` sends each 100 times in a row
(one key and one region at a time, as one client would).
The number of accounts follows the run's expected request count (the fastest rate seen on the
server so far at that connection count, times the run length, with a margin); sends beyond the
budget are counted (``over_cap``) and the run is repeated with a bigger budget.

The bare app (``bench/bare_app.py``) replays the same request bytes. moto 5.2.5's server answers
the closest calls it has: CloudTrail ``DescribeTrails`` (9 trails), ``CreateTrail`` (a distinct
name per request) and S3 ``PutObject`` of 5 KB (distinct keys, cycled). moto does not check
signatures; the requests are signed by botocore all the same.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import botocore.config
import botocore.session

from bench.harness import Server
from bench.lookup_data import ROOT_KEY, fill
from bench.signing import REPLAY_LUA, Captured, SignedRequest, capture, resign, write_requests

HISTORY_EVENTS = 2000
SEED_SITES = 5
SITES_PER_ACCOUNT_REGION = 100  # the outposts.sites quota (AWS's default; trailpost --quotas)
MARGIN = 1.5
MOTO_TRAILS = 9
MOTO_BUCKET = "bench-trail-bucket"
PUT_BYTES = 5 * 1024
DEFAULT_RATE = 4000.0  # req/s assumed for a write budget before anything was measured


@dataclass(frozen=True)
class Operation:
    name: str
    service: str  # signing name
    kind: str  # "read" | "write"
    peer: str = ""  # the trailpost call a moto call is compared with


TRAILPOST_OPS = (
    Operation("GetSite", "outposts", "read"),
    Operation("ListSites", "outposts", "read"),
    Operation("CreateSite", "outposts", "write"),
    Operation("TagResource", "outposts", "write"),
    Operation("LookupEvents", "cloudtrail", "read"),
)
MOTO_OPS = (
    Operation("DescribeTrails", "cloudtrail", "read", peer="ListSites"),
    Operation("CreateTrail", "cloudtrail", "write", peer="CreateSite"),
    Operation("PutObject", "s3", "write", peer="CreateSite"),
)


def client(service: str, endpoint: str, key: tuple[str, str], region: str = "us-east-1", **config: Any) -> Any:
    return boto3.session.Session().client(
        service,
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=key[0],
        aws_secret_access_key=key[1],
        config=botocore.config.Config(retries={"max_attempts": 1, "mode": "standard"}, **config),
    )


@dataclass
class Replay:
    """What wrk replays for one operation on one server: a request file signed anew for each run."""

    server: Server
    op: Operation
    sign: Any  # (expected requests) -> (list of SignedRequest, cap per request)
    workdir: Path
    expected: float = 0.0  # requests the next run is expected to send (for write budgets)
    cap: int = 0
    variants: int = 0

    def fresh(self) -> tuple[str, Path | None, Sequence[str]]:
        requests, self.cap = self.sign(self.expected)
        self.variants = len(requests)
        path = self.workdir / f"{self.op.name}.requests"
        write_requests(path, requests)
        return f"http://127.0.0.1:{self.server.port}/", REPLAY_LUA, (str(path), str(self.cap))


def prepare_trailpost_data(data_dir: Path) -> None:
    """The benchmark's default account (``ROOT_KEY``) and ``HISTORY_EVENTS`` events, before the server starts."""
    fill(data_dir, HISTORY_EVENTS, log=lambda _: None)


@dataclass
class TrailpostTargets:
    """Seeds a running trailpost and signs its five benchmark calls."""

    server: Server
    templates: dict[str, Captured] = field(default_factory=dict)
    regions: list[str] = field(default_factory=lambda: botocore.session.get_session().get_available_regions("outposts"))
    accounts_made: int = 0
    sites_budgeted: int = 0

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"

    def seed(self) -> None:
        outposts = client("outposts", self.endpoint, ROOT_KEY)
        cloudtrail = client("cloudtrail", self.endpoint, ROOT_KEY)
        for index in range(SEED_SITES - 1 - len(outposts.list_sites()["Sites"])):
            outposts.create_site(Name=f"bench-site-{index}", Description="API benchmark", Tags={"bench": "seed"})
        self.templates["CreateSite"] = capture(
            outposts, "create_site", Name="bench-site", Description="API benchmark", Tags={"bench": "api"}
        )
        site = self.templates["CreateSite"].response["Site"]
        self.templates["GetSite"] = capture(outposts, "get_site", SiteId=site["SiteId"])
        self.templates["ListSites"] = capture(outposts, "list_sites")
        self.templates["TagResource"] = capture(
            outposts, "tag_resource", ResourceArn=site["SiteArn"], Tags={"bench": "tagged"}
        )
        self.templates["LookupEvents"] = capture(cloudtrail, "lookup_events", MaxResults=50)
        if len(self.templates["ListSites"].response["Sites"]) != SEED_SITES:
            raise RuntimeError(f"ListSites returned {self.templates['ListSites'].response['Sites']}")
        if len(self.templates["LookupEvents"].response["Events"]) != 50:
            raise RuntimeError("LookupEvents did not return 50 events")

    def replay(self, op: Operation, workdir: Path) -> Replay:
        """The request file for ``op``, signed anew for each run (CreateSite: fresh accounts each time)."""
        template = self.templates[op.name].request

        def root_signed(expected: float) -> tuple[list[SignedRequest], int]:
            signed = resign(
                template, access_key=ROOT_KEY[0], secret_key=ROOT_KEY[1], region="us-east-1", service=op.service
            )
            return [signed], 0

        def create_sites(expected: float) -> tuple[list[SignedRequest], int]:
            return self.site_variants(template, expected), SITES_PER_ACCOUNT_REGION

        return Replay(self.server, op, create_sites if op.name == "CreateSite" else root_signed, workdir)

    def site_variants(self, template: SignedRequest, expected: float) -> list[SignedRequest]:
        """One CreateSite per (fresh account, region), enough for ``expected`` requests within the quota."""
        from trailpost.identity.accounts import AccountRegistry
        from trailpost.store.sqlite import SqliteStateStore

        pairs = max(1, math.ceil(expected * MARGIN / SITES_PER_ACCOUNT_REGION))
        accounts = math.ceil(pairs / len(self.regions))
        store = SqliteStateStore(self.server.data_dir / "state.db")
        try:
            registry = AccountRegistry(store)
            keys = []
            for _ in range(accounts):
                self.accounts_made += 1
                keys.append(registry.create_account(f"bench-{time.time_ns()}-{self.accounts_made}"))
        finally:
            store.close()
        self.sites_budgeted += accounts * len(self.regions) * SITES_PER_ACCOUNT_REGION
        return [
            resign(
                template,
                access_key=key.access_key_id,
                secret_key=key.secret_access_key,
                region=region,
                service="outposts",
            )
            for key in keys
            for region in self.regions
        ]


def bare_replay(targets: TrailpostTargets, op: Operation, server: Server, workdir: Path) -> Replay:
    """The bare app replaying trailpost's request for ``op`` (signed by the root key; it checks nothing)."""
    template = targets.templates[op.name].request

    def sign(expected: float) -> tuple[list[SignedRequest], int]:
        endpoint = f"http://127.0.0.1:{server.port}"
        return [
            resign(
                template,
                access_key=ROOT_KEY[0],
                secret_key=ROOT_KEY[1],
                region="us-east-1",
                service=op.service,
                endpoint=endpoint,
            )
        ], 0

    return Replay(server, op, sign, workdir)


MOTO_KEY = ("AKIAMOTOBENCHMARK001", "moto-does-not-check-signatures")


@dataclass
class MotoTargets:
    """Seeds moto's server (a bucket, ``MOTO_TRAILS`` trails) and signs its three calls."""

    server: Server
    templates: dict[str, Captured] = field(default_factory=dict)
    runs: int = 0

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"

    def seed(self) -> None:
        cloudtrail = client("cloudtrail", self.endpoint, MOTO_KEY)
        s3 = client(
            "s3",
            self.endpoint,
            MOTO_KEY,
            request_checksum_calculation="when_required",
            s3={"addressing_style": "path"},
        )
        s3.create_bucket(Bucket=MOTO_BUCKET)
        for index in range(MOTO_TRAILS - 1):
            cloudtrail.create_trail(Name=f"seed-trail-{index}", S3BucketName=MOTO_BUCKET)
        self.templates["CreateTrail"] = capture(
            cloudtrail, "create_trail", Name="template-trail", S3BucketName=MOTO_BUCKET
        )
        self.templates["DescribeTrails"] = capture(cloudtrail, "describe_trails")
        if len(self.templates["DescribeTrails"].response["trailList"]) != MOTO_TRAILS:
            raise RuntimeError("moto DescribeTrails did not return the seeded trails")
        self.templates["PutObject"] = capture(
            s3, "put_object", Bucket=MOTO_BUCKET, Key="bench/template", Body=b"x" * PUT_BYTES
        )

    def replay(self, op: Operation, workdir: Path) -> Replay:
        template = self.templates[op.name].request

        def sign(expected: float) -> tuple[list[SignedRequest], int]:
            self.runs += 1
            common = {"access_key": MOTO_KEY[0], "secret_key": MOTO_KEY[1], "region": "us-east-1"}
            if op.name == "DescribeTrails":
                return [resign(template, service="cloudtrail", **common)], 0
            count = max(64, math.ceil(expected * MARGIN))
            if op.name == "CreateTrail":  # trail names must be unique: one request each, sent once
                bodies = (
                    json.dumps({"Name": f"run{self.runs}-trail-{i}", "S3BucketName": MOTO_BUCKET}).encode()
                    for i in range(count)
                )
                return [resign(template, service="cloudtrail", body=body, **common) for body in bodies], 1
            paths = (f"/{MOTO_BUCKET}/run{self.runs}/object-{i}" for i in range(min(count, 2000)))
            return [resign(template, service="s3", path=path, **common) for path in paths], 0

        return Replay(self.server, op, sign, workdir)
