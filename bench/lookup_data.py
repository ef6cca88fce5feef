"""Synthetic but realistic CloudTrail history for the LookupEvents benchmark (``bench/lookup_events.py``).

``fill(data_dir, count)`` prepares a trailpost data directory (state store, default account and
its credentials, exactly as ``trailpost serve`` would) and bulk-inserts ``count`` records through
the event store (``SqliteEventStore.append_many``), in big transactions, oldest first, spread
evenly over the last ``SPAN_DAYS`` days. The mix follows what a busy Outposts account produces:

* 3 accounts (the default one gets 80 %), 4 regions (us-east-1 half of it), IAM calls in us-east-1;
* callers: root (10 %), 20 IAM users with 1-2 access keys each (60 %), role sessions of 3 roles
  with rotating session names and temporary ``ASIA`` keys (30 %);
* ~40 operations over Outposts, IAM, STS and CloudTrail, reads far more frequent than writes,
  3 % failing with an error code; Outposts calls on a site or outpost carry ``resources``
  (pools of 2,000 sites and 5,000 outposts per account and region);
* records shaped like ``audit.record.build_record``'s (about 1 KB of JSON each).

The generator is seeded, so a data directory is reproducible; a ``bench-meta.json`` marker in it
records the count once loading finished, so a complete directory is reused between runs. A
directory with a state store but no marker holds an interrupted load: ``fill`` removes it and
starts over (appending to it would leave more events than asked). Two fills of one directory at
once are refused (a lock file beside it), since both would append to the same store.
"""

from __future__ import annotations

import fcntl
import itertools
import json
import random
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trailpost.config import Settings
from trailpost.protocol.timestamps import iso8601_epoch
from trailpost.server import create_app
from trailpost.store.events import event_store

SPAN_DAYS = 89
BATCH = 50_000
META = "bench-meta.json"
ACCOUNT = "123456789012"
OTHER_ACCOUNTS = ("210987654321", "345678901234")
REGIONS = (("us-east-1", 50), ("us-west-2", 25), ("eu-west-1", 15), ("ap-southeast-2", 10))
ROOT_KEY = ("AKIABENCHROOT0000001", "benchmark/secret/key/for/the/root/user/0001")
# (event source, operation, read-only, weight, resource kind or None)
OPERATIONS: tuple[tuple[str, str, bool, int, str | None], ...] = (
    ("outposts", "ListSites", True, 900, None),
    ("outposts", "ListOutposts", True, 900, None),
    ("outposts", "GetSite", True, 600, "site"),
    ("outposts", "GetOutpost", True, 700, "outpost"),
    ("outposts", "GetSiteAddress", True, 150, "site"),
    ("outposts", "ListOrders", True, 300, None),
    ("outposts", "GetOrder", True, 200, None),
    ("outposts", "ListCatalogItems", True, 250, None),
    ("outposts", "GetCatalogItem", True, 120, None),
    ("outposts", "ListAssets", True, 250, "outpost"),
    ("outposts", "ListCapacityTasks", True, 100, None),
    ("outposts", "GetCapacityTask", True, 60, "outpost"),
    ("outposts", "ListTagsForResource", True, 200, "site"),
    ("outposts", "GetOutpostInstanceTypes", True, 150, "outpost"),
    ("outposts", "CreateSite", False, 12, "site"),
    ("outposts", "UpdateSite", False, 25, "site"),
    ("outposts", "UpdateSiteAddress", False, 8, "site"),
    ("outposts", "DeleteSite", False, 4, "site"),
    ("outposts", "CreateOutpost", False, 10, "outpost"),
    ("outposts", "UpdateOutpost", False, 20, "outpost"),
    ("outposts", "DeleteOutpost", False, 3, "outpost"),
    ("outposts", "CreateOrder", False, 5, "outpost"),
    ("outposts", "CancelOrder", False, 1, None),
    ("outposts", "StartCapacityTask", False, 4, "outpost"),
    ("outposts", "TagResource", False, 30, "site"),
    ("outposts", "UntagResource", False, 10, "site"),
    ("cloudtrail", "LookupEvents", True, 800, None),
    ("cloudtrail", "DescribeTrails", True, 200, None),
    ("cloudtrail", "GetTrailStatus", True, 150, None),
    ("cloudtrail", "CreateTrail", False, 1, None),
    ("iam", "GetUser", True, 200, None),
    ("iam", "ListUsers", True, 150, None),
    ("iam", "ListRoles", True, 150, None),
    ("iam", "GetRole", True, 120, None),
    ("iam", "CreateAccessKey", False, 3, None),
    ("iam", "AttachRolePolicy", False, 2, None),
    ("sts", "GetCallerIdentity", True, 500, None),
    ("sts", "AssumeRole", True, 400, None),
)
AGENTS = (
    "Boto3/1.44.5 md/Botocore#1.44.5 ua/2.1 os/linux#6.8.0 md/arch#x86_64 lang/python#3.11.7 "
    "md/pyimpl#CPython cfg/retry-mode#standard Botocore/1.44.5",
    "aws-cli/1.46.3 md/Botocore#1.43.62 ua/2.1 os/linux#6.8.0 md/arch#x86_64 lang/python#3.11.7 "
    "md/pyimpl#CPython cfg/retry-mode#legacy botocore/1.43.62",
    "aws-sdk-go-v2/1.30.3 os/linux lang/go#1.22.5 md/GOOS#linux md/GOARCH#amd64 api/outposts#1.40.0",
    "terraform-provider-aws/5.60.0 (+https://registry.terraform.io/providers/hashicorp/aws) "
    "aws-sdk-go-v2/1.30.3 os/linux lang/go#1.22.5",
)
ERRORS = (
    ("NotFoundException", "Site not found"),
    ("ValidationException", "1 validation error detected: Value at 'siteId' failed to satisfy constraint"),
    ("AccessDenied", "User is not authorized to perform this action"),
    ("ConflictException", "The resource is in use"),
)


@dataclass
class Caller:
    identity: dict[str, Any]
    keys: list[str]


def _hex(rng: random.Random, digits: int) -> str:
    return f"{rng.getrandbits(digits * 4):0{digits}x}"


def _uuid(rng: random.Random) -> str:
    h = _hex(rng, 32)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"


def _key(rng: random.Random, prefix: str) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    return prefix + "".join(rng.choice(alphabet) for _ in range(16))


def _callers(rng: random.Random, account: str) -> tuple[Caller, list[Caller], list[tuple[str, str, str]]]:
    root = Caller(
        {"type": "Root", "principalId": account, "arn": f"arn:aws:iam::{account}:root", "accountId": account},
        [ROOT_KEY[0] if account == ACCOUNT else _key(rng, "AKIA")],
    )
    users = []
    for index in range(20):
        name = f"{rng.choice(['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace'])}{index}"
        uid = "AIDA" + _key(rng, "")
        users.append(
            Caller(
                {
                    "type": "IAMUser",
                    "principalId": uid,
                    "arn": f"arn:aws:iam::{account}:user/{name}",
                    "accountId": account,
                    "userName": name,
                },
                [_key(rng, "AKIA") for _ in range(rng.choice((1, 2)))],
            )
        )
    roles = [(name, "AROA" + _key(rng, ""), account) for name in ("OutpostsAdmin", "ReadOnly", "ci-deploy")]
    return root, users, roles


def _role_session(rng: random.Random, role: tuple[str, str, str], at: float) -> Caller:
    name, role_id, account = role
    session = f"{name.lower()}-{int(at) // 3600}-{rng.randrange(4)}"
    issued = iso8601_epoch(at - rng.randrange(3600))
    identity = {
        "type": "AssumedRole",
        "principalId": f"{role_id}:{session}",
        "arn": f"arn:aws:sts::{account}:assumed-role/{name}/{session}",
        "accountId": account,
        "sessionContext": {
            "sessionIssuer": {
                "type": "Role",
                "principalId": role_id,
                "arn": f"arn:aws:iam::{account}:role/{name}",
                "accountId": account,
                "userName": name,
            },
            "webIdFederationData": {},
            "attributes": {"creationDate": issued, "mfaAuthenticated": "false"},
        },
    }
    return Caller(identity, [_key(random.Random(session + account), "ASIA")])


class Generator:
    """Records in time order; deterministic for a given seed."""

    def __init__(self, count: int, now: float, seed: int = 7) -> None:
        self.rng = random.Random(seed)
        self.count = count
        self.start = now - SPAN_DAYS * 86400
        self.step = SPAN_DAYS * 86400 / max(count, 1)
        self.accounts = [ACCOUNT, *OTHER_ACCOUNTS]
        self.people = {account: _callers(self.rng, account) for account in self.accounts}
        self.ops = list(OPERATIONS)
        self.op_weights = list(itertools.accumulate(op[3] for op in OPERATIONS))
        self.sessions: dict[tuple[str, str, int], Caller] = {}
        self.pools = {
            (account, region, kind): [f"{prefix}-{_hex(self.rng, 17)}" for _ in range(size)]
            for account in self.accounts
            for region, _ in REGIONS
            for kind, prefix, size in (("site", "os", 2000), ("outpost", "op", 5000))
        }

    def caller(self, account: str, at: float) -> Caller:
        root, users, roles = self.people[account]
        draw = self.rng.random()
        if draw < 0.1:
            return root
        if draw < 0.7:
            return self.rng.choice(users)
        role = self.rng.choice(roles)
        slot = (role[2], role[0], int(at) // 3600 * 4 + self.rng.randrange(4))
        session = self.sessions.get(slot)
        if session is None:
            if len(self.sessions) > 1000:
                self.sessions.clear()
            session = self.sessions[slot] = _role_session(self.rng, role, at)
        return session

    def records(self) -> Iterator[dict[str, Any]]:
        rng = self.rng
        regions = [r for r, _ in REGIONS]
        region_weights = list(itertools.accumulate(w for _, w in REGIONS))
        for index in range(self.count):
            at = self.start + index * self.step
            account = ACCOUNT if rng.random() < 0.8 else rng.choice(OTHER_ACCOUNTS)
            source, name, read_only, _, kind = rng.choices(self.ops, cum_weights=self.op_weights)[0]
            region = "us-east-1" if source == "iam" else rng.choices(regions, cum_weights=region_weights)[0]
            yield self.record(at, account, region, source, name, read_only, kind)

    def record(
        self, at: float, account: str, region: str, source: str, name: str, read_only: bool, kind: str | None
    ) -> dict[str, Any]:
        rng = self.rng
        caller = self.caller(account, at)
        identity = dict(caller.identity, accessKeyId=rng.choice(caller.keys))
        resource_id = rng.choice(self.pools[(account, region, kind)]) if kind else None
        params: dict[str, Any] | None = None
        if resource_id:
            params = {"SiteId" if kind == "site" else "OutpostId": resource_id}
        elif name.startswith("List"):
            params = {"MaxResults": 50}
        record: dict[str, Any] = {
            "eventVersion": "1.11",
            "userIdentity": identity,
            "eventTime": iso8601_epoch(at),
            "eventSource": f"{source}.amazonaws.com",
            "eventName": name,
            "awsRegion": region,
            "sourceIPAddress": f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}",
            "userAgent": rng.choice(AGENTS),
        }
        failed = rng.random() < 0.03
        if failed:
            record["errorCode"], record["errorMessage"] = rng.choice(ERRORS)
        record["requestParameters"] = params
        record["responseElements"] = None if read_only or failed else dict(params or {}, requestId=_uuid(rng))
        record["requestID"] = _uuid(rng)
        record["eventID"] = _uuid(rng)
        record["readOnly"] = read_only
        if resource_id:
            arn_type = "site" if kind == "site" else "outpost"
            record["resources"] = [
                {
                    "accountId": account,
                    "type": f"AWS::Outposts::{arn_type.capitalize()}",
                    "ARN": f"arn:aws:outposts:{region}:{account}:{arn_type}/{resource_id}",
                }
            ]
        record["eventType"] = "AwsApiCall"
        record["managementEvent"] = True
        record["recipientAccountId"] = account
        record["eventCategory"] = "Management"
        record["tlsDetails"] = {
            "tlsVersion": "TLSv1.3",
            "cipherSuite": "TLS_AES_128_GCM_SHA256",
            "clientProvidedHostHeader": f"{source}.{region}.amazonaws.com",
        }
        return record


def complete(data_dir: Path, count: int) -> bool:
    """Whether ``data_dir`` holds a finished load of ``count`` events."""
    marker = data_dir / META
    return marker.exists() and json.loads(marker.read_text()).get("count") == count


def fill(data_dir: Path, count: int, *, log: Any = print) -> dict[str, Any]:
    """Create ``data_dir`` and insert ``count`` synthetic events (an interrupted load left there is
    removed first); ``RuntimeError`` if another process is filling it."""
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    with open(data_dir.parent / f".{data_dir.name}.lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RuntimeError(f"another process is filling {data_dir}") from None
        if (data_dir / "state.db").exists() and not (data_dir / META).exists():
            log(f"  removing the interrupted load in {data_dir}")
            shutil.rmtree(data_dir)
        return _load(data_dir, count, log)


def _load(data_dir: Path, count: int, log: Any) -> dict[str, Any]:
    settings = Settings.load(
        data_dir=data_dir, root_access_key_id=ROOT_KEY[0], root_secret_access_key=ROOT_KEY[1], account_id=ACCOUNT
    )
    app = create_app(settings)
    store = app.store
    events = event_store(store)
    conn = store.connection
    conn.execute("PRAGMA synchronous=OFF")  # bulk load only; the server reopens with FULL
    conn.execute("PRAGMA cache_size=-2000000")  # 2 GB of page cache for the index inserts
    began = time.monotonic()
    now = time.time()
    generator = Generator(count, now)
    stream = generator.records()
    loaded = 0
    while loaded < count:
        chunk = [record for _, record in zip(range(min(BATCH, count - loaded)), stream, strict=False)]
        loaded += events.append_many(chunk)
        if loaded % (BATCH * 20) == 0 or loaded == count:
            rate = loaded / (time.monotonic() - began)
            log(f"  {loaded:,} / {count:,} events ({rate:,.0f}/s)")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    meta = {
        "count": count,
        "generated_at": now,
        "seconds": round(time.monotonic() - began, 1),
        "db_bytes": (data_dir / "state.db").stat().st_size,
    }
    (data_dir / META).write_text(json.dumps(meta))
    return meta
