"""Fixtures for Event history: a dedicated server whose history holds seeded records and live calls.

``history`` is a server of its own (no other test module's events in it) whose data directory
was seeded, before it started, with records written through the event store as the gateway writes
them: callers of every identity type, exact times for the inclusive-bound tests, a burst of
events in one second for ordering, resources, and records older than the 90-day retention.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.support.records import ACCOUNT, identity
from tests.support.records import record as base_record
from tests.support.server import ServerProcess
from trailpost.store.events import event_store
from trailpost.store.sqlite import SqliteStateStore


def record(at: float, name: str, **fields: Any) -> dict[str, Any]:
    """A record shaped like ``audit.record.build_record``'s, at ``at`` (seeded with user agent "seeded")."""
    return base_record(name, at=at, agent="seeded", **fields)


@dataclass
class Seeded:
    """What the seeded history holds, for the tests to look for."""

    base: int  # a whole second one day ago; the bound tests' events are at base, base+10, base+20
    bounds: list[dict[str, Any]] = field(default_factory=list)
    burst: list[dict[str, Any]] = field(default_factory=list)  # same second, in insertion order
    paged: list[dict[str, Any]] = field(default_factory=list)
    users: list[dict[str, Any]] = field(default_factory=list)
    old: list[dict[str, Any]] = field(default_factory=list)
    data: list[dict[str, Any]] = field(default_factory=list)


PAGED = 123


def seed(data_dir: Path) -> Seeded:
    now = int(time.time())
    seeded = Seeded(base=now - 86400)
    base = seeded.base
    seeded.bounds = [record(base + offset, "BoundCall") for offset in (0, 10, 20)]
    seeded.burst = [record(base + 3600, "BurstCall") for _ in range(5)]
    seeded.paged = [record(base + 7200 + index, "PagedCall", read_only=True) for index in range(PAGED)]
    seeded.users = [
        record(
            base + 9000,
            "UserCall",
            who=identity("IAMUser", "alice", "AKIAALICEKEY00000001"),
            resources=[
                {"accountId": ACCOUNT, "type": "AWS::IAM::User", "ARN": f"arn:aws:iam::{ACCOUNT}:user/division/alice"}
            ],
        ),
        record(
            base + 9001,
            "UserCall",
            who=identity("AssumedRole", "Deployer/build-4711", "ASIABUILDKEY00000001"),
            source="iam.amazonaws.com",
        ),
    ]
    seeded.old = [record(now - 100 * 86400, "AncientCall"), record(now - 91 * 86400, "AncientCall")]
    seeded.data = [record(base + 9500, "GetObject", source="s3.amazonaws.com", category="Data", read_only=True)]
    data_dir.mkdir(parents=True)
    state = SqliteStateStore(data_dir / "state.db")
    event_store(state).append_many(
        [*seeded.old, *seeded.bounds, *seeded.burst, *seeded.paged, *seeded.users, *seeded.data]
    )
    state.close()
    return seeded


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, Seeded]]:
    """A dedicated server on a seeded data directory."""
    data_dir = tmp_path_factory.mktemp("history") / "data"
    seeded = seed(data_dir)
    server = ServerProcess(data_dir).start()
    yield server, seeded
    server.stop()


@pytest.fixture(scope="module")
def cloudtrail(history: tuple[ServerProcess, Seeded]) -> Any:
    """A CloudTrail client of the history server (root, us-east-1)."""
    return history[0].client("cloudtrail")
