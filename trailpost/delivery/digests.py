"""The digest worker: signed, chained digest files for every trail with log file validation.

Per trail with ``log_file_validation_enabled`` and per region it writes to, a chain of digests
(reference section 4), each listing the ``delivery.log_file`` documents (contract 3) delivered in
``[digestStartTime, digestEndTime)``. The chain lives in the state store, kind ``digest.chain``,
scope ``<trail_arn>|<region>``, key ``chain``: the trail's identity (``created``, ``logging_epoch``),
the next digest's start, the position in the log file documents (``after_seq``), the previous
digest (bucket, key, hash, signature) and whether the chain is closed. It survives restarts: a
restarted server continues the chain (the first digest after a downtime covers the whole downtime).

Rules:

* regions: a single-region trail, its home region only; a multi-region trail, every CloudTrail
  region of its home region's partition (botocore's endpoint data, computed once per partition:
  34 regions of ``aws``), plus any other region a log file was delivered for. Every chain starts
  when validation/logging starts, as the home region's: idle regions get empty digests, which is
  how an auditor proves that no log file was delivered there;
* a chain starts (null ``previousDigest*``) when validation is on and the trail logs, with a new
  ``logging_epoch`` (StartLogging, validation switched on) or a new trail; its digests end every
  ``digest_interval`` seconds (whole seconds) after its start; a digest that finds no new log file
  is written too (empty ``logFiles``, null event times);
* a log file belongs to the chain of its ``logging_epoch``: files of older epochs (delivered while
  validation was off) are never digested; the log file cursor moves only over listed files, so a
  file is listed in exactly one digest; a digest lists only files whose document exists, and the
  delivery worker writes that document after the object is durable: no digest names a file that
  is not in the bucket;
* final digest: when validation is switched off or the trail is deleted, at once; when logging
  stops, once ``delivery_interval`` (+2 s) has passed after ``stop_logging_time``, so the last log
  file (events up to StopLogging) is in it; later files of that epoch (a delivery that was retried)
  get one more digest continuing the closed chain;
* a final digest of a chain whose trail was deleted or moved on is tried once: if its put fails,
  the chain is closed without it (the error is in GetTrailStatus) so the trail's new chain can start;
* the JSON is serialized once; those bytes are hashed, signed (SHA256withRSA, the region's current
  key from ``signing``), gzip-compressed and put with user metadata ``signature`` and
  ``signature-algorithm``; the chain moves, and ``latest_digest_delivery_time`` is set in the
  ``cloudtrail.trail_status`` document of the region, in one group commit after the put succeeded;
  a failed put records ``latest_digest_delivery_error`` and is retried at the next poll (same key);
* one round (a poll) is one group commit: every chain started, advanced or abandoned and every
  status document of the round, after all its digests were written;
* nothing blocks the event loop: key generation (lazy, per region), signing, gzip and the puts of
  a round run in one worker thread, one digest after the other.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gzip
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import botocore.session

from trailpost.delivery.signing import keyring
from trailpost.integrity.digest_format import (
    SIGNATURE_ALGORITHM,
    Previous,
    build_digest,
    digest_key,
    encode_digest,
    sha256_hex,
    string_to_sign,
)
from trailpost.services.cloudtrail import trail_docs
from trailpost.store.base import StateStore

log = logging.getLogger("trailpost.digests")

CHAIN_KIND = "digest.chain"
CHAIN_KEY = "chain"
LOG_FILE_KIND = "delivery.log_file"
STOP_GRACE = 2.0


def chain_scope(trail_arn: str, region: str) -> str:
    return f"{trail_arn}|{region}"


@dataclass
class Job:
    """One digest to write: the chain it extends, its end, the log files it lists."""

    chain: dict[str, Any]
    region: str
    end: int
    files: list[dict[str, Any]]
    last_seq: int
    close: bool
    stale: bool = False  # the chain's trail was deleted or moved on to a new chain


def _new_chain(trail: dict[str, Any], region: str, now: float, after_seq: int) -> dict[str, Any]:
    return {
        "trail_arn": trail["trail_arn"],
        "trail_created": trail["created"],
        "account": trail["account_id"],
        "name": trail["name"],
        "home_region": trail["home_region"],
        "bucket": trail["s3_bucket_name"],
        "prefix": trail.get("s3_key_prefix") or None,
        "epoch": trail["logging_epoch"],
        "region": region,
        "start": int(now),
        "after_seq": after_seq,
        "previous": None,
        "closed": False,
        "digests": 0,
    }


def pending_files(store: StateStore, chain: dict[str, Any], end: float | None) -> tuple[list[dict[str, Any]], int]:
    """The log files the chain's next digest lists (delivered before ``end``; any if None), and the new cursor."""
    files: list[dict[str, Any]] = []
    last = chain["after_seq"]
    scope = chain_scope(chain["trail_arn"], chain["region"])
    after = chain["after_seq"]
    while True:
        batch = store.list(LOG_FILE_KIND, scope, after_seq=after, limit=500)
        for entry in batch:
            epoch = entry.doc.get("logging_epoch", chain["epoch"])
            if epoch < chain["epoch"] or entry.doc["delivered"] < chain["trail_created"]:
                last = entry.seq  # delivered while validation was off, or for a deleted trail of that name
                continue
            if epoch > chain["epoch"] or (end is not None and entry.doc["delivered"] >= end):
                return files, last
            files.append(entry.doc)
            last = entry.seq
        if len(batch) < 500:
            return files, last
        after = batch[-1].seq


@functools.cache
def _partition_regions(partition: str) -> frozenset[str]:
    return frozenset(botocore.session.get_session().get_available_regions("cloudtrail", partition))


@functools.cache
def partition_regions(region: str) -> frozenset[str]:
    """Every CloudTrail region of ``region``'s partition (botocore's endpoint data; ``region`` included)."""
    try:
        partition = botocore.session.get_session().get_partition_for_region(region)
    except Exception:  # noqa: BLE001 - a region botocore does not know: the aws partition's regions
        partition = "aws"
    return _partition_regions(partition) | {region}


def _regions(store: StateStore, trail: dict[str, Any], chain_scopes: set[str]) -> list[str]:
    regions = {trail["home_region"]}
    if trail.get("is_multi_region_trail"):
        regions |= partition_regions(trail["home_region"])
        head = f"{trail['trail_arn']}|"
        for scope in store.scopes(LOG_FILE_KIND) + sorted(chain_scopes):
            if scope.startswith(head):
                regions.add(scope[len(head) :])
    return sorted(regions)


def plan(store: StateStore, settings: Any, trails: list[dict[str, Any]], now: float) -> tuple[list[Job], list[dict]]:
    """What to do now: digests to write, and chains to start (documents to store)."""
    interval = max(1, round(settings.digest_interval))
    jobs: list[Job] = []
    starts: list[dict[str, Any]] = []
    chain_scopes = set(store.scopes(CHAIN_KIND))
    seen: set[str] = set()
    for trail in trails:
        for region in _regions(store, trail, chain_scopes):
            scope = chain_scope(trail["trail_arn"], region)
            seen.add(scope)
            chain = store.get(CHAIN_KIND, scope, CHAIN_KEY)
            same = (
                chain is not None
                and chain["trail_created"] == trail["created"]
                and chain["epoch"] == trail["logging_epoch"]
            )
            if chain is not None and same:
                chain["bucket"] = trail["s3_bucket_name"]  # UpdateTrail moves later digests
                chain["prefix"] = trail.get("s3_key_prefix") or None
            active = bool(trail.get("log_file_validation_enabled")) and bool(trail.get("is_logging"))
            if chain is not None and not chain["closed"] and not same:
                jobs.append(_final(store, chain, region, now, stale=True))  # the trail moved on: close the old chain
                continue
            if active and (chain is None or not same):
                after = chain["after_seq"] if chain is not None and chain["trail_created"] == trail["created"] else 0
                starts.append(_new_chain(trail, region, now, after))
            # active: the branch above took a missing chain, so ``chain is not None`` only narrows the type
            elif active and chain is not None and now >= chain["start"] + interval:
                end = chain["start"] + interval * math.floor((now - chain["start"]) / interval)
                files, last = pending_files(store, chain, end)
                jobs.append(Job(chain, region, end, files, last, close=False))
            elif chain is not None and same and not chain["closed"]:
                stopped = trail.get("stop_logging_time") or now
                if not trail.get("log_file_validation_enabled") or now >= (
                    stopped + settings.delivery_interval + STOP_GRACE
                ):
                    jobs.append(_final(store, chain, region, now))
            elif chain is not None and same and chain["closed"] and trail.get("log_file_validation_enabled"):
                files, last = pending_files(store, chain, None)
                if files:  # a log file of the closed epoch delivered after its final digest
                    jobs.append(Job(chain, region, max(int(now), chain["start"] + 1), files, last, close=True))
    for scope in chain_scopes - seen:  # trails deleted: their open chains get a final digest
        chain = store.get(CHAIN_KIND, scope, CHAIN_KEY)
        if chain is not None and not chain["closed"]:
            jobs.append(_final(store, chain, chain["region"], now, stale=True))
    return [job for job in jobs if job.end > job.chain["start"] and job.end <= now], starts


def _final(store: StateStore, chain: dict[str, Any], region: str, now: float, stale: bool = False) -> Job:
    files, last = pending_files(store, chain, None)
    return Job(chain, region, max(int(now), chain["start"] + 1), files, last, close=True, stale=stale)


@dataclass
class Written:
    key: str
    hash: str
    signature: str


DestinationFor = Callable[[str], Any]


def write_digest(settings: Any, job: Job, destination_for: DestinationFor) -> Written:
    """Build, sign, compress and put one digest (runs in a worker thread)."""
    chain = job.chain
    key = keyring(settings).current(job.region)
    previous = Previous(**chain["previous"]) if chain["previous"] else None
    object_key = digest_key(chain["prefix"], chain["account"], job.region, chain["name"], chain["home_region"], job.end)
    digest = build_digest(
        account=chain["account"],
        start=chain["start"],
        end=job.end,
        bucket=chain["bucket"],
        key=object_key,
        fingerprint=key.fingerprint,
        previous=previous,
        log_files=job.files,
    )
    raw = encode_digest(digest)
    signature = key.sign(string_to_sign(digest, raw))
    destination = destination_for(chain["bucket"])
    if destination is None:
        raise LookupError("NoSuchBucket")
    if getattr(destination, "embedded", False) and not _allowed(destination.policy(), chain, object_key):
        raise LookupError("AccessDenied")
    destination.put(
        object_key,
        gzip.compress(raw, compresslevel=6, mtime=0),
        metadata={"signature": signature, "signature-algorithm": SIGNATURE_ALGORITHM},
        content_type="application/json",
        content_encoding="gzip",  # as the log files (delivery.logfiles)
    )
    return Written(object_key, sha256_hex(raw), signature)


def _allowed(policy: str | None, chain: dict[str, Any], key: str) -> bool:
    """The embedded bucket's policy lets CloudTrail put the digest (the same statement as log files)."""
    from trailpost.services.s3.policy import service_allowed

    context = {
        "aws:SourceArn": chain["trail_arn"],
        "aws:SourceAccount": chain["account"],
        "s3:x-amz-acl": "bucket-owner-full-control",
    }
    resource = f"arn:aws:s3:::{chain['bucket']}/{key}"
    return service_allowed(
        policy, service="cloudtrail.amazonaws.com", action="s3:PutObject", resource=resource, context=context
    )


def _delivery_error(exc: BaseException) -> str:
    code = getattr(exc, "code", None) or (exc.args[0] if isinstance(exc, LookupError) and exc.args else None)
    if code is None and hasattr(exc, "response"):
        code = exc.response.get("Error", {}).get("Code")  # botocore ClientError (external bucket)
    return str(code or type(exc).__name__)


class DigestWorker:
    """Polls the trails and writes due digests; ``start``/``stop`` are the server's lifespan hooks."""

    def __init__(
        self,
        settings: Any,
        store: StateStore,
        commits: Any,
        destination_for: DestinationFor | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.commits = commits
        self._destination_for = destination_for
        self.poll = max(0.2, min(5.0, settings.digest_interval / 8))
        self._task: asyncio.Task[None] | None = None

    def destination_for(self, bucket: str) -> Any:
        if self._destination_for is None:
            from trailpost.delivery.destinations import open_destination
            from trailpost.services.s3.storage import BucketStorage

            storage = BucketStorage.for_settings(self.store, self.settings)
            self._destination_for = lambda name: open_destination(self.settings, storage, name)
        return self._destination_for(bucket)

    def trails(self) -> list[dict[str, Any]]:
        from trailpost.services.cloudtrail.selectors import all_trails

        return all_trails(self.store)

    async def tick(self, now: float | None = None) -> int:
        """Write every digest due at ``now`` (one thread, then one commit); returns how many were written."""
        now = time.time() if now is None else now
        jobs, starts = plan(self.store, self.settings, self.trails(), now)
        outcomes = await asyncio.to_thread(self._write_all, jobs) if jobs else []
        if starts or outcomes:
            await self.commits.run(lambda: self._record(starts, outcomes))
        return sum(1 for _, result, _ in outcomes if isinstance(result, Written))

    def _write_all(self, jobs: list[Job]) -> list[tuple[Job, Written | str, float]]:
        """Write the round's digests one after the other (a worker thread): each one's result or error code."""
        outcomes: list[tuple[Job, Written | str, float]] = []
        for job in jobs:
            try:
                result: Written | str = write_digest(self.settings, job, self.destination_for)
            except Exception as exc:  # noqa: BLE001 - reported in GetTrailStatus, retried next poll
                log.warning("digest for %s in %s failed: %s", job.chain["trail_arn"], job.region, exc)
                result = _delivery_error(exc)
            outcomes.append((job, result, time.time()))
        return outcomes

    def _record(self, starts: list[dict[str, Any]], outcomes: list[tuple[Job, Written | str, float]]) -> None:
        """The round's state changes, in the round's one commit."""
        self._store_chains(starts)
        for job, result, at in outcomes:
            if isinstance(result, Written):
                self._advance(job, result, at)
                continue
            self._status(job, error=result)
            if job.stale:  # never retried: the trail's new chain must not wait for the old bucket
                self._abandon(job)

    def _store_chains(self, chains: list[dict[str, Any]]) -> None:
        for chain in chains:
            self.store.put(CHAIN_KIND, chain_scope(chain["trail_arn"], chain["region"]), CHAIN_KEY, chain)

    def _advance(self, job: Job, result: Written, at: float) -> None:
        chain = dict(job.chain)
        chain["start"] = job.end
        chain["after_seq"] = job.last_seq
        chain["previous"] = {
            "bucket": chain["bucket"],
            "key": result.key,
            "hash": result.hash,
            "signature": result.signature,
        }
        chain["closed"] = chain["closed"] or job.close
        chain["digests"] = chain.get("digests", 0) + 1
        self.store.put(CHAIN_KIND, chain_scope(chain["trail_arn"], job.region), CHAIN_KEY, chain)
        self._status(job, delivered=at)

    def _abandon(self, job: Job) -> None:
        chain = {**job.chain, "closed": True}
        self.store.put(CHAIN_KIND, chain_scope(chain["trail_arn"], job.region), CHAIN_KEY, chain)

    def _status(self, job: Job, *, delivered: float | None = None, error: str | None = None) -> None:
        fields: dict[str, Any] = {"latest_digest_delivery_error": error}
        if delivered is not None:
            fields["latest_digest_delivery_time"] = delivered
        trail_docs.update_status(self.store, job.chain["account"], job.region, job.chain["trail_arn"], **fields)

    async def _run(self) -> None:
        while True:
            try:
                await self.tick()
            except Exception:
                log.exception("digest worker poll failed")
            await asyncio.sleep(self.poll)

    def start(self) -> None:
        keyring(self.settings).prefill()  # spare keys for first needs (ListPublicKeys, new regions)
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
