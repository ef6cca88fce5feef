"""The garbage collector of a serving process: what startup built is frozen, young objects are collected less often.

A trailpost process holds ~95,000 long-lived objects once it has started (botocore's service
models, compiled routes, the console's templates, IAM's managed policies). CPython's cyclic
collector walks all of them at every full (generation 2) collection: about 33 ms each on this
machine, a pause every call in flight waits out. Serving makes a few of those a minute, and a
youngest-generation collection every 700 net allocations, which the 64 concurrent calls of a
busy server cross all the time although each call frees what it made.

``settle()`` runs once, as the last startup step of ``trailpost serve`` and of each reader process:

* ``gc.freeze()`` moves everything alive then into the permanent generation. Those objects are
  still freed by reference counting when dropped; they are only no longer traversed by the cyclic
  collector (a cycle among them that becomes garbage later is kept: startup objects live as long
  as the process anyway);
* the youngest generation is collected after ``YOUNG_THRESHOLD`` net allocations instead of 700.
  A call's objects are freed by reference counting when it ends, so the count stays far below it
  in steady state, and real cyclic garbage is still collected (at most that many objects late).

Measured in process (GetSite, 64 concurrent calls, four interleaved pairs): no collection at all
instead of ~330 (two of them full, ~33 ms each); 12 % less CPU per call. Over HTTP at 64
connections p99 roughly halves (docs/decisions.md, "The garbage collector of a serving process").
Tests that build apps in the test process never call it: it is a process-wide setting.
"""

from __future__ import annotations

import gc
import logging

log = logging.getLogger("trailpost.server")

YOUNG_THRESHOLD = 10_000
# CPython's defaults for the two older generations: how many collections of the generation below
# trigger one of theirs.
OLDER_THRESHOLDS = (10, 10)


def settle() -> None:
    """Collect once, freeze what survives, and raise the youngest generation's threshold (module docstring)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, *OLDER_THRESHOLDS)
    log.debug(
        "garbage collector settled: %d startup objects frozen, the youngest generation collected every %d allocations",
        gc.get_freeze_count(),
        YOUNG_THRESHOLD,
    )
