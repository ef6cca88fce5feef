"""The delivery worker: every ``delivery_interval`` each logging trail's new events become log files.

Rounds fall on the clock's grid of the interval (``next_round``: at the default 300 s, at :00, :05,
:10... of every hour, as AWS's log file stamps do), whenever the server started; a round that
stops short of the stream's head (a backlog) is followed by the next at once.

Per tick, on the event loop, it looks at the trails (``selectors.all_trails``) and their cursors
(cheap state-store reads); trails with nothing to do (not logging, no session left open) cost
nothing, and with no trail logging a tick does no other work at all. Otherwise it reads them again
inside a group commit: once that returns, everything it read is committed (a StopLogging and the
StopLogging event of the same batch, say), so the events reader, which sees committed data only,
sees the events the trail documents speak of. The passes themselves (reading events
on the worker's own read-only connection, selectors, JSON, gzip, puts) run in a thread
(``asyncio.to_thread``), one trail after another (``passes.deliver``). Each pass's outcome is then
committed through the group commit (``gateway.commits.run``), one commit per trail: the
``delivery.log_file`` documents of the files put (in delivery order), the cursor, and the
``cloudtrail.trail_status`` document of every region attempted (``latest_delivery_time``,
``latest_delivery_attempt_time``, ``latest_delivery_attempt_succeeded``, ``latest_delivery_error``,
which a success clears; the digest fields belong to the digest worker and are kept).

Failures (bucket gone, a policy that does not let ``cloudtrail.amazonaws.com`` write, an external
endpoint down) leave the cursor where it is and record the S3 error code as
``latest_delivery_error``; the trail is retried with exponential backoff (1 s, 2 s, 4 s... capped
at the interval) while other trails go on; the server stays healthy and nothing is lost.

Shutdown (``stop``, an ``on_shutdown`` hook that runs before the group commit and the store
close): the loop finishes the pass it is in, then one final pass per trail delivers what is
pending (one attempt each, even for trails in backoff).

Cursors of trails that no longer exist are deleted (a deleted trail's pending events are not
delivered, as in AWS); a re-created trail of the same name starts afresh (``created`` differs).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from trailpost.delivery import passes
from trailpost.delivery.destinations import open_destination
from trailpost.delivery.reader import EventReader
from trailpost.services.cloudtrail import trail_docs
from trailpost.store.base import iter_all
from trailpost.store.events import event_store

log = logging.getLogger("trailpost.delivery")

CURSOR_KIND = "delivery.cursor"
LOG_FILE_KIND = "delivery.log_file"
FIRST_RETRY = 1.0
FLUSH_PASSES = 20  # at shutdown, at most this many passes per trail (each reads up to MAX_ROWS events)
MAX_ROWS = 50_000


def log_file_scope(trail_arn: str, region: str) -> str:
    return f"{trail_arn}|{region}"


def next_round(now: float, interval: float) -> float:
    """The first multiple of ``interval`` seconds since the epoch after ``now``: rounds fall on the
    clock's grid (every 5 minutes at the default, :00, :05, ...), so log file names carry
    the ``HHmm`` stamps AWS's do, whenever the server started."""
    return (math.floor(now / interval) + 1) * interval


def backoff(failures: int, interval: float) -> float:
    """Seconds before retry number ``failures`` (1, 2, 4... capped at the interval)."""
    first = min(FIRST_RETRY, interval)
    return float(min(interval, first * 2 ** max(0, failures - 1)))


def apply(store: Any, outcome: passes.Outcome) -> None:
    """Commit a pass: log file documents, cursor, status per region attempted (inside a group commit)."""
    trail = outcome.trail
    arn, account = trail["trail_arn"], trail["account_id"]
    for log_file, delivered in outcome.files:
        store.put(
            LOG_FILE_KIND,
            log_file_scope(arn, log_file.region),
            log_file.key,
            {
                "bucket": outcome.bucket,
                "key": log_file.key,
                "sha256": log_file.sha256,
                "oldest_event_time": log_file.oldest_event_time,
                "newest_event_time": log_file.newest_event_time,
                "delivered": delivered,
                "events": log_file.events,
                "logging_epoch": log_file.epoch,
            },
        )
    if outcome.cursor and outcome.cursor != outcome.old_cursor:
        store.put(CURSOR_KIND, "", arn, outcome.cursor)
    for region, attempt in outcome.attempts.items():
        fields: dict[str, Any] = {
            "latest_delivery_attempt_time": attempt.at,
            "latest_delivery_error": attempt.error,
            "latest_delivery_attempt_succeeded": attempt.error is None,
        }
        if attempt.delivered is not None:
            fields["latest_delivery_time"] = attempt.delivered
        trail_docs.update_status(store, account, region, arn, **fields)


@dataclass
class _Retry:
    failures: int = 0
    due: float = 0.0


def _selectors() -> Any:
    from trailpost.services.cloudtrail import selectors

    return selectors


def _policy_check() -> Callable[..., bool] | None:
    try:
        from trailpost.services.s3.policy import service_allowed
    except ImportError:  # pragma: no cover - the embedded S3 is part of the server
        return None
    return service_allowed


class DeliveryWorker:
    """Runs delivery passes on a timer; ``flush`` and ``stop`` deliver what is pending."""

    def __init__(self, settings: Any, store: Any, commits: Any, storage: Any = None) -> None:
        self.settings = settings
        self.store = store
        self.commits = commits
        self.storage = storage
        self.reader = EventReader(store.path)
        self.events = event_store(store)
        self.interval = float(settings.delivery_interval)
        self.max_rows = MAX_ROWS
        self._retries: dict[str, _Retry] = {}
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._stopping = False
        self.passes = 0  # passes run (for tests and benchmarks)

    # -- one round --------------------------------------------------------------------------------

    def _open(self, bucket: str) -> Any:
        return open_destination(self.settings, self._storage(), bucket)

    def _storage(self) -> Any:
        if self.storage is None:
            from trailpost.services.s3.storage import BucketStorage

            self.storage = BucketStorage.for_settings(self.store, self.settings)
        return self.storage

    def _jobs(self, now: float, force: bool, retries_only: bool) -> list[tuple[dict[str, Any], dict[str, Any] | None]]:
        """The trails to run now, with their cursors; deletes the cursors of trails that are gone."""
        selectors = _selectors()
        trails = {trail["trail_arn"]: trail for trail in selectors.all_trails(self.store)}
        cursors = {entry.key: entry.doc for entry in iter_all(self.store, CURSOR_KIND, "")}
        for arn in cursors:
            if arn not in trails:
                self.store.delete(CURSOR_KIND, "", arn)
        jobs = []
        for arn, trail in trails.items():
            cursor = cursors.get(arn)
            if passes.idle(trail, cursor):
                self._retries.pop(arn, None)
                continue
            retry = self._retries.get(arn)
            if not force and retry is not None and retry.due > now:
                continue
            if retries_only and retry is None:
                continue
            jobs.append((trail, cursor))
        return jobs

    def _busy(self) -> bool:
        """Whether anything may need delivery: a trail logging, a session left open, a cursor to drop.

        Read outside any commit (it may see a batch that is not committed yet): it only decides
        whether a round is worth a commit; the round itself reads inside one (``run_once``).
        """
        trails = {trail["trail_arn"]: trail for trail in _selectors().all_trails(self.store)}
        cursors = {entry.key: entry.doc for entry in iter_all(self.store, CURSOR_KIND, "")}
        if any(arn not in trails for arn in cursors):
            return True
        return not all(passes.idle(trail, cursors.get(arn)) for arn, trail in trails.items())

    def _deliver(self, jobs: list[tuple[dict[str, Any], dict[str, Any] | None]]) -> list[passes.Outcome]:
        selectors = _selectors()
        allowed = _policy_check()
        outcomes = []
        for trail, cursor in jobs:
            try:
                outcome = passes.deliver(
                    trail,
                    cursor,
                    self.reader,
                    self._open,
                    covers=selectors.covers_region,
                    selects=selectors.selects,
                    service_allowed=allowed,
                    limit=self.settings.delivery_max_file_bytes,
                    max_rows=self.max_rows,
                )
            except Exception:
                log.exception("delivery pass of trail %s failed", trail.get("trail_arn"))
                outcome = passes.Outcome(trail, cursor, cursor, failed=True)
            outcomes.append(outcome)
        return outcomes

    async def run_once(self, now: float | None = None, *, force: bool = False, retries_only: bool = False) -> bool:
        """One round over the due trails; returns whether some trail has more to deliver at once.

        ``force``: every trail with something to deliver, backoff or not; ``retries_only``: only
        the failed trails whose retry is due (between ticks).
        """
        now = time.time() if now is None else now
        if not self._busy():
            return False
        # Read inside a group commit: when it returns, everything read (a StopLogging and its event,
        # say) is committed, so the reader's own connection sees the same events.
        jobs, ceiling = await self.commits.run(lambda: (self._jobs(now, force, retries_only), self.events.head()))
        # Acknowledged, so synced: every event up to ``ceiling`` is durable and may be delivered.
        self.reader.ceiling = ceiling
        if not jobs:
            return False
        outcomes = await asyncio.to_thread(self._deliver, jobs)
        self.passes += len(outcomes)
        more = False
        for outcome in outcomes:
            arn = outcome.trail["trail_arn"]
            try:
                await self.commits.run(partial(apply, self.store, outcome))
            except Exception:
                log.exception("could not record the delivery of trail %s; it will be delivered again", arn)
                outcome.failed = True
            if outcome.failed:
                retry = self._retries.setdefault(arn, _Retry())
                retry.failures += 1
                retry.due = time.time() + backoff(retry.failures, self.interval)
            else:
                self._retries.pop(arn, None)
                more = more or outcome.more
        return more

    def next_retry(self) -> float | None:
        return min((retry.due for retry in self._retries.values()), default=None)

    # -- lifecycle --------------------------------------------------------------------------------

    async def _run(self) -> None:
        next_tick = next_round(time.time(), self.interval)
        while not self._stopping:
            wake = min(next_tick, self.next_retry() or next_tick)
            delay = max(0.0, wake - time.time())
            if delay > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), delay)
            if self._stopping:
                return
            now = time.time()
            tick = now >= next_tick
            if tick:
                next_tick = next_round(now, self.interval)
            try:
                more = await self.run_once(now, retries_only=not tick)
            except Exception:
                log.exception("delivery round failed")
                more = False
            if more:
                next_tick = time.time()

    def start(self) -> None:
        if self._task is None:
            self._wake = asyncio.Event()
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def flush(self) -> None:
        """Deliver everything pending now (one attempt per trail, however long its backoff)."""
        for _ in range(FLUSH_PASSES):
            if not await self.run_once(force=True):
                return

    async def stop(self) -> None:
        """Finish the pass in progress, deliver what is pending, close the reader."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        try:
            await self.flush()
        except Exception:
            log.exception("delivery at shutdown failed; pending events are delivered after the next start")
        await asyncio.to_thread(self.reader.close)
