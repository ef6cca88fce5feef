"""The garbage collector settings of serving processes (``trailpost.collector``)."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

from tests.support.server import ServerProcess

SETTLED = re.compile(r"garbage collector settled: (\d+) startup objects frozen")

PROBE = """
import gc, weakref
from trailpost import collector
import trailpost.server  # what a serving process has loaded before it settles
collector.settle()
assert gc.get_threshold() == (collector.YOUNG_THRESHOLD, *collector.OLDER_THRESHOLDS), gc.get_threshold()
frozen = gc.get_freeze_count()
assert frozen > 10_000, frozen

class Node:
    pass

gone = []
a, b = Node(), Node()
a.other, b.other = b, a  # a cycle made after settling: still the collector's
weakref.finalize(a, gone.append, "a")
del a, b
gc.collect()
assert gone == ["a"], gone
assert gc.get_freeze_count() == frozen  # what startup froze stays frozen; nothing new joins it
print("ok", frozen)
"""


def test_settle_freezes_startup_objects_and_still_collects_new_cycles() -> None:
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ok ")


def test_the_writer_and_every_reader_settle_after_startup(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data", args=["--workers", "2", "--log-level", "debug"]).start()
    try:
        server.client("outposts").list_sites()  # served after startup, settled or not
        # The writer answers once every reader is linked; a reader settles just after linking. Stopping
        # before then would stop a reader in its startup, which is not what this test is about.
        deadline = time.monotonic() + 30
        while len(SETTLED.findall(server.log())) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        server.stop()
    counts = [int(n) for n in SETTLED.findall(server.log())]
    assert len(counts) == 3, server.log()[-3000:]  # the writer and its two readers, once each
    assert all(n > 10_000 for n in counts), counts
