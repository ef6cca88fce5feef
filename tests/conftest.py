"""Shared fixtures: one real trailpost server per test session, and fresh ones on demand.

The suite's AWS clients are boto3 as ``pip install boto3`` gives it: botocore signs in Python.
trailpost itself depends on awscrt (its CRC32C and CRC64NVME), and botocore switches to awscrt's
signers whenever it can import it; ``BOTO_DISABLE_CRT`` (botocore's own opt-out) keeps the default
client here and in every process the tests start. ``tests/test_crt_clients.py`` runs boto3 with
awscrt's signers too, as ``boto3[crt]`` users have it.
"""

from __future__ import annotations

import os

os.environ["BOTO_DISABLE_CRT"] = "true"  # before botocore is imported (see the module docstring)

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import botocore.compat
import pytest

from tests.support.server import ServerProcess

assert not botocore.compat.HAS_CRT, "botocore was imported before BOTO_DISABLE_CRT was set"

FAST_LIFECYCLE = ["--lifecycle-seconds", "0.3"]
# The shared server serves hundreds of tests, each making its own sites and outposts: its quotas are
# raised as an AWS customer would have them raised (the quota tests use dedicated servers).
SHARED_QUOTAS = ["--quotas", "outposts.sites=5000,outposts.outposts=5000"]


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """The shared server (fast lifecycle: 0.3 s per order or task step)."""
    proc = ServerProcess(tmp_path_factory.mktemp("shared") / "data", args=[*FAST_LIFECYCLE, *SHARED_QUOTAS]).start()
    yield proc
    proc.stop()


@pytest.fixture
def make_server(tmp_path: Path) -> Iterator[Callable[..., ServerProcess]]:
    """Start a dedicated server (its own data dir) for tests that restart or reconfigure it."""
    started: list[ServerProcess] = []

    def make(*args: str, env: dict[str, str] | None = None, data_dir: Path | None = None) -> ServerProcess:
        proc = ServerProcess(data_dir or tmp_path / f"data{len(started)}", args=list(args), env=env or {})
        started.append(proc)
        return proc.start()

    yield make
    for proc in started:
        proc.stop()


@pytest.fixture
def outposts(server: ServerProcess) -> Any:
    """A boto3 Outposts client (root of the default account, us-east-1)."""
    return server.client("outposts")
