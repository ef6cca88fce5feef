"""Helpers of the delivery tests: an in-process delivery setup (records: ``tests.support.records``).

``Local`` is the delivery worker on a real state store, event store, embedded bucket storage and
group commit in a temporary data directory (no server); ``run`` drives it on a fresh event loop.
The end-to-end tests use real servers instead (``tests.support.server``).
"""

from __future__ import annotations

import asyncio
import gzip
import time
from collections.abc import Awaitable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import orjson

from tests.support.records import ACCOUNT, cloudtrail_policy
from trailpost.config import Settings
from trailpost.delivery.logfiles import KEY_PATTERN
from trailpost.delivery.worker import DeliveryWorker
from trailpost.services.cloudtrail import trail_docs
from trailpost.services.s3.storage import BucketStorage
from trailpost.store.commit import GroupCommit
from trailpost.store.events import event_store
from trailpost.store.sqlite import SqliteStateStore

T = TypeVar("T")


def read_log_file(body: bytes) -> list[dict[str, Any]]:
    """The records of a gzip log file, checking the wrapper is exactly ``{"Records": [...]}``."""
    data = orjson.loads(gzip.decompress(body))
    assert list(data) == ["Records"], data.keys()
    return list(data["Records"])


@dataclass
class Local:
    """The delivery worker over a real store, event store and embedded buckets in ``root``."""

    root: Path
    interval: float = 1.0
    max_file_bytes: int = 50 * 1024 * 1024
    settings: Settings = field(init=False)
    store: SqliteStateStore = field(init=False)
    storage: BucketStorage = field(init=False)

    def __post_init__(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.settings = Settings(
            data_dir=self.root, delivery_interval=self.interval, delivery_max_file_bytes=self.max_file_bytes
        )
        self.store = SqliteStateStore(self.root / "state.db")
        self.events = event_store(self.store)
        self.storage = BucketStorage.for_settings(self.store, self.settings)

    def bucket(self, name: str, policy: str | None = None, region: str = "us-east-1") -> None:
        self.storage.create_bucket(name, ACCOUNT, region)
        self.storage.set_policy(name, cloudtrail_policy(name) if policy is None else policy)

    def trail(self, name: str, bucket: str, *, region: str = "us-east-1", **fields: Any) -> dict[str, Any]:
        doc = trail_docs.new_trail(name, ACCOUNT, region, time.time())
        doc.update(s3_bucket_name=bucket, **fields)
        trail_docs.save(self.store, doc)
        return doc

    def start(self, doc: dict[str, Any], at: float | None = None) -> dict[str, Any]:
        doc.update(is_logging=True, start_logging_time=time.time() if at is None else at)
        doc["logging_epoch"] += 1
        trail_docs.save(self.store, doc)
        return doc

    def stop(self, doc: dict[str, Any], at: float | None = None) -> dict[str, Any]:
        doc.update(is_logging=False, stop_logging_time=time.time() if at is None else at)
        trail_docs.save(self.store, doc)
        return doc

    def append(self, *records: dict[str, Any]) -> list[dict[str, Any]]:
        self.events.append_many(records)
        return list(records)

    def objects(self, bucket: str) -> dict[str, list[dict[str, Any]]]:
        """Every log file in ``bucket``: key -> records (each key checked against the layout)."""
        found = {}
        for item in self.storage.list_objects(bucket, "", "", 10000):
            assert KEY_PATTERN.match(item.key.split("/", 1)[-1]) or KEY_PATTERN.match(item.key), item.key
            stored = self.storage.get_object(bucket, item.key)
            assert stored is not None
            found[item.key] = read_log_file(stored.body)
        return found

    def delivered_ids(self, bucket: str) -> list[str]:
        return [rec["eventID"] for records in self.objects(bucket).values() for rec in records]

    def worker(self) -> DeliveryWorker:
        return DeliveryWorker(self.settings, self.store, GroupCommit(self.store), storage=self.storage)

    def deliver(self, *, force: bool = True) -> DeliveryWorker:
        """Run one full round (until nothing is left) of a fresh worker."""
        worker = self.worker()

        async def go() -> None:
            while await worker.run_once(force=force):
                pass
            worker.commits.close()
            worker.reader.close()

        run(go())
        return worker

    def close(self) -> None:
        self.store.close()


def run(awaitable: Awaitable[T]) -> T:
    """Run ``awaitable`` on a fresh event loop in a thread of its own (a test of another module in
    the same worker, Playwright's sync API say, may have a loop running in this thread)."""

    async def main() -> T:
        return await awaitable

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, main()).result()
