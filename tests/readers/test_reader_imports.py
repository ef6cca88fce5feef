"""A reader process loads only what it runs: not the writer's server module, the console, digest
signing, cryptography or boto3 (each would cost every reader several MiB; docs/decisions.md, "What a
reader process loads"). Checked in a fresh interpreter, after building a reader's gateway exactly
as ``readers.process`` does, on a data directory a writer prepared."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson

from trailpost.config import Settings
from trailpost.server import create_app

NOT_IN_A_READER = (
    "trailpost.server",
    "trailpost.console",
    "trailpost.delivery.signing",
    "trailpost.delivery.digests",
    "trailpost.delivery.worker",
    "trailpost.delivery.destinations",
    "boto3",
    "s3transfer",
    "cryptography",
    "jinja2",
    "starlette",
    "rich",
)
PROBE = """
import sys, orjson
from pathlib import Path
from trailpost.config import Settings
from trailpost.readers.process import reader_gateway
gateway, link = reader_gateway(Settings(data_dir=Path(sys.argv[1])), "reader-1")
print(orjson.dumps(sorted(sys.modules)).decode())
"""


def test_a_reader_gateway_loads_none_of_the_writers_modules(tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path / "data"))  # the writer prepares the data directory
    app.gateway.store.close()
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(tmp_path / "data")], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    loaded = set(orjson.loads(done.stdout.strip().splitlines()[-1]))
    assert "trailpost.readers.process" in loaded and "trailpost.serving" in loaded
    assert "trailpost.services.cloudtrail.public_keys" in loaded  # every service is there, just not its extras
    assert [name for name in NOT_IN_A_READER if name in loaded] == []
