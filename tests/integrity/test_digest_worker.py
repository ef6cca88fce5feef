"""The digest worker on a real state store and group commit, its digests validated by the validator.

The delivery worker's side is played by writing ``delivery.log_file`` documents (contract 3) and
their objects; the bucket is a directory (the layout ``--local-dir`` reads). Times are driven
explicitly (``tick(now)``), so periods, a restart, a stop and a restart of logging are exact.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import itertools
import time
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import orjson
from click.testing import CliRunner

from tests.integrity.chains import Bucket
from trailpost.config import Settings
from trailpost.delivery.digests import CHAIN_KIND, LOG_FILE_KIND, DigestWorker
from trailpost.delivery.signing import keyring
from trailpost.integrity.command import validate_logs
from trailpost.integrity.digest_format import iso
from trailpost.integrity.sources import METADATA_SUFFIX
from trailpost.services.cloudtrail.trail_docs import STATUS_KIND, new_trail, remove, save
from trailpost.store.commit import GroupCommit
from trailpost.store.sqlite import SqliteStateStore

T = TypeVar("T")
ACCOUNT, REGION, BUCKET = "123456789012", "us-east-1", "digest-bucket"


class DirDestination:
    """A bucket that is a directory: ``root/<key>`` plus the user metadata beside it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.puts: list[str] = []

    def put(self, key: str, body: bytes, *, metadata: dict[str, str] | None = None, **_: Any) -> None:
        path = self.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
        path.with_name(path.name + METADATA_SUFFIX).write_bytes(orjson.dumps(metadata or {}))
        self.puts.append(key)


def deliver(store: SqliteStateStore, root: Path, trail: dict[str, Any], at: float, epoch: int) -> str:
    raw = orjson.dumps({"Records": [{"eventID": f"e{at}", "eventTime": iso(at - 1)}]})
    key = f"AWSLogs/{ACCOUNT}/CloudTrail/{REGION}/2026/01/01/{ACCOUNT}_CloudTrail_{REGION}_{int(at)}_x.json.gz"
    (root / key).parent.mkdir(parents=True, exist_ok=True)
    (root / key).write_bytes(gzip.compress(raw))
    doc = {
        "bucket": BUCKET,
        "key": key,
        "sha256": hashlib.sha256(raw).hexdigest(),
        "oldest_event_time": iso(at - 1),
        "newest_event_time": iso(at - 1),
        "delivered": at,
        "events": 1,
        "logging_epoch": epoch,
    }
    store.put(LOG_FILE_KIND, f"{trail['trail_arn']}|{REGION}", key, doc)
    return key


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` in a thread of its own: a test before may have left a loop running in this one
    (Playwright's sync API does)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def digest_docs(root: Path, destination: DirDestination) -> list[dict[str, Any]]:
    return [orjson.loads(gzip.decompress((root / key).read_bytes())) for key in destination.puts]


def test_periods_restart_stop_and_new_chain_validate(tmp_path: Path) -> None:
    settings = Settings.load(data_dir=tmp_path / "data", digest_interval=10, delivery_interval=5)
    settings.data_root.mkdir(parents=True)
    store = SqliteStateStore(settings.data_path("state.db"))
    root = tmp_path / "bucket"
    destination = DirDestination(root)
    t0 = float(int(time.time()) - 500)
    trail = new_trail("audit", ACCOUNT, REGION, t0 - 100)
    trail.update(s3_bucket_name=BUCKET, log_file_validation_enabled=True, is_logging=True, logging_epoch=1)
    save(store, trail)

    async def scenario() -> list[str]:
        commits = GroupCommit(store)
        worker = DigestWorker(settings, store, commits, destination_for=lambda name: destination)
        assert await worker.tick(t0) == 0  # the chain starts
        logs = [deliver(store, root, trail, t0 + 3, 1)]
        assert await worker.tick(t0 + 10) == 1  # [t0, t0+10): one file
        assert await worker.tick(t0 + 25) == 1  # [t0+10, t0+20): empty
        worker = DigestWorker(settings, store, commits, destination_for=lambda name: destination)  # a restart
        assert await worker.tick(t0 + 47) == 1  # [t0+20, t0+40): the downtime, the chain goes on
        logs.append(deliver(store, root, trail, t0 + 41, 1))
        trail.update(is_logging=False, stop_logging_time=t0 + 42)
        save(store, trail)
        assert await worker.tick(t0 + 44) == 0  # waits for the delivery of the last log file
        logs.append(deliver(store, root, trail, t0 + 45, 1))
        assert await worker.tick(t0 + 50) == 1  # final digest [t0+40, t0+50)
        assert await worker.tick(t0 + 70) == 0
        deliver(store, root, trail, t0 + 72, 1)  # a file of the stopped epoch delivered late
        assert await worker.tick(t0 + 73) == 1  # one more digest continues the closed chain
        trail.update(is_logging=True, start_logging_time=t0 + 80, logging_epoch=2)
        save(store, trail)
        assert await worker.tick(t0 + 80) == 0  # a new chain
        logs.append(deliver(store, root, trail, t0 + 85, 2))
        assert await worker.tick(t0 + 90) == 1
        trail.update(log_file_validation_enabled=False)
        save(store, trail)
        assert await worker.tick(t0 + 91.5) == 1  # validation off: final digest at once
        deliver(store, root, trail, t0 + 95, 2)  # delivered while validation is off: never digested
        assert await worker.tick(t0 + 120) == 0
        commits.close()
        return logs

    logs = run(scenario())
    assert all((root / key).is_file() for key in logs)
    digests = digest_docs(root, destination)
    assert [(d["digestStartTime"], d["digestEndTime"]) for d in digests] == [
        (iso(t0 + a), iso(t0 + b)) for a, b in [(0, 10), (10, 20), (20, 40), (40, 50), (50, 73), (80, 90), (90, 91)]
    ]
    assert [len(d["logFiles"]) for d in digests] == [1, 0, 0, 2, 1, 1, 0]
    assert digests[0]["previousDigestSignature"] is None and digests[5]["previousDigestS3Object"] is None
    assert digests[1]["newestEventTime"] is None and digests[1]["logFiles"] == []
    for before, after in itertools.pairwise(digests):
        if after["previousDigestS3Object"] is not None:
            assert after["previousDigestS3Object"] == before["digestS3Object"]
            raw = gzip.decompress((root / before["digestS3Object"]).read_bytes())
            assert after["previousDigestHashValue"] == hashlib.sha256(raw).hexdigest()
    assert destination.puts[0] == (
        f"AWSLogs/{ACCOUNT}/CloudTrail-Digest/{REGION}/{iso(t0 + 10)[:10].replace('-', '/')}/"
        f"{ACCOUNT}_CloudTrail-Digest_{REGION}_audit_{REGION}_{iso(t0 + 10).replace('-', '').replace(':', '')}.json.gz"
    )
    status = store.get(STATUS_KIND, f"{ACCOUNT}/{REGION}", trail["trail_arn"])
    assert status is not None and status["latest_digest_delivery_time"] > 0
    assert status["latest_digest_delivery_error"] is None
    assert store.get(CHAIN_KIND, f"{trail['trail_arn']}|{REGION}", "chain")["closed"] is True

    keys = Bucket(root, keyring(settings)).public_keys_file(tmp_path / "keys.json")
    args = [
        "--trail-arn",
        trail["trail_arn"],
        "--start-time",
        iso(t0 - 60),
        "--end-time",
        iso(t0 + 200),
        "--s3-bucket",
        BUCKET,
        "--local-dir",
        str(root),
        "--public-keys",
        str(keys),
        "--no-progress",
        "--verbose",
    ]
    result = CliRunner().invoke(validate_logs, args)
    assert result.exit_code == 0, result.output
    assert "7/7 digest files valid" in result.stdout and "5/5 log files valid" in result.stdout
    # after verbose lines the AWS CLI writes a blank line first
    assert result.stderr == f"\nNo log files were delivered by CloudTrail between {iso(t0 + 73)} and {iso(t0 + 80)}\n\n"
    store.close()


def test_failed_put_is_reported_and_retried_with_the_same_digest(tmp_path: Path) -> None:
    settings = Settings.load(data_dir=tmp_path / "data", digest_interval=10, delivery_interval=5)
    settings.data_root.mkdir(parents=True)
    store = SqliteStateStore(settings.data_path("state.db"))
    destination = DirDestination(tmp_path / "bucket")
    available = {"ok": False}
    t0 = float(int(time.time()))
    trail = new_trail("audit", ACCOUNT, REGION, t0 - 100)
    trail.update(s3_bucket_name=BUCKET, log_file_validation_enabled=True, is_logging=True, logging_epoch=1)
    save(store, trail)

    async def scenario() -> None:
        commits = GroupCommit(store)
        worker = DigestWorker(
            settings, store, commits, destination_for=lambda n: destination if available["ok"] else None
        )
        await worker.tick(t0)
        assert await worker.tick(t0 + 12) == 0
        status = store.get(STATUS_KIND, f"{ACCOUNT}/{REGION}", trail["trail_arn"])
        assert status["latest_digest_delivery_error"] == "NoSuchBucket"
        available["ok"] = True
        assert await worker.tick(t0 + 13) == 1
        status = store.get(STATUS_KIND, f"{ACCOUNT}/{REGION}", trail["trail_arn"])
        assert status["latest_digest_delivery_error"] is None
        commits.close()

    run(scenario())
    assert destination.puts[0].endswith(f"_{iso(t0 + 10).replace('-', '').replace(':', '')}.json.gz")
    store.close()


def test_deleted_trail_gets_a_final_digest_and_a_recreated_one_a_new_chain(tmp_path: Path) -> None:
    settings = Settings.load(data_dir=tmp_path / "data", digest_interval=10, delivery_interval=5)
    settings.data_root.mkdir(parents=True)
    store = SqliteStateStore(settings.data_path("state.db"))
    root = tmp_path / "bucket"
    destination = DirDestination(root)
    t0 = float(int(time.time()))
    trail = new_trail("audit", ACCOUNT, REGION, t0 - 100)
    trail.update(s3_bucket_name=BUCKET, log_file_validation_enabled=True, is_logging=True, logging_epoch=1)
    save(store, trail)

    async def scenario() -> None:
        commits = GroupCommit(store)
        worker = DigestWorker(settings, store, commits, destination_for=lambda name: destination)
        await worker.tick(t0)
        deliver(store, root, trail, t0 + 2, 1)
        remove(store, trail)
        assert await worker.tick(t0 + 4) == 1  # final digest of the deleted trail, with its file
        again = new_trail("audit", ACCOUNT, REGION, t0 + 5)
        again.update(s3_bucket_name=BUCKET, log_file_validation_enabled=True, is_logging=True, logging_epoch=1)
        save(store, again)
        assert await worker.tick(t0 + 6) == 0  # the new trail's chain starts
        assert await worker.tick(t0 + 16) == 1
        commits.close()

    run(scenario())
    first, second = digest_docs(root, destination)
    assert len(first["logFiles"]) == 1 and first["digestEndTime"] == iso(t0 + 4)
    assert second["previousDigestSignature"] is None and second["digestStartTime"] == iso(t0 + 6)
    store.close()


def test_multi_region_trail_chains_every_partition_region_one_commit_per_round(tmp_path: Path) -> None:
    from trailpost.delivery.digests import partition_regions

    settings = Settings.load(data_dir=tmp_path / "data", digest_interval=10, delivery_interval=5)
    settings.data_root.mkdir(parents=True)
    store = SqliteStateStore(settings.data_path("state.db"))
    root = tmp_path / "bucket"
    destination = DirDestination(root)
    t0 = float(int(time.time()) - 500)
    trail = new_trail("everywhere", ACCOUNT, REGION, t0 - 100)
    trail.update(
        s3_bucket_name=BUCKET,
        log_file_validation_enabled=True,
        is_logging=True,
        logging_epoch=1,
        is_multi_region_trail=True,
    )
    save(store, trail)
    regions = partition_regions(REGION)
    assert len(regions) > 20 and "eu-west-1" in regions and "cn-north-1" not in regions

    async def scenario() -> list[int]:
        commits = GroupCommit(store)
        worker = DigestWorker(settings, store, commits, destination_for=lambda name: destination)
        counts = [commits.commits]
        assert await worker.tick(t0) == 0  # every region's chain starts: one commit
        counts.append(commits.commits)
        deliver(store, root, trail, t0 + 3, 1)  # activity in the home region only
        assert await worker.tick(t0 + 10) == len(regions)  # one round: every region, one commit
        counts.append(commits.commits)
        worker = DigestWorker(settings, store, commits, destination_for=lambda name: destination)  # a restart
        assert await worker.tick(t0 + 25) == len(regions)  # every chain goes on
        trail.update(is_logging=False, stop_logging_time=t0 + 26)
        save(store, trail)
        assert await worker.tick(t0 + 40) == len(regions)  # final digests everywhere
        assert await worker.tick(t0 + 60) == 0
        counts.append(commits.commits)
        commits.close()
        return counts

    counts = run(scenario())
    assert counts[1] - counts[0] == 1 and counts[2] - counts[1] == 1
    docs = digest_docs(root, destination)
    assert len(docs) == 3 * len(regions)
    by_region: dict[str, list[dict[str, Any]]] = {}
    for key, doc in zip(destination.puts, docs, strict=True):
        by_region.setdefault(key.split("/")[3], []).append(doc)
    assert set(by_region) == set(regions)
    for region, chain in by_region.items():
        assert [(d["digestStartTime"], d["digestEndTime"]) for d in chain] == [
            (iso(t0), iso(t0 + 10)),
            (iso(t0 + 10), iso(t0 + 20)),
            (iso(t0 + 20), iso(t0 + 40)),
        ], region
        assert chain[0]["previousDigestSignature"] is None
        assert [len(d["logFiles"]) for d in chain] == ([1, 0, 0] if region == REGION else [0, 0, 0])
        for before, after in itertools.pairwise(chain):
            assert after["previousDigestS3Object"] == before["digestS3Object"]
        assert store.get(CHAIN_KIND, f"{trail['trail_arn']}|{region}", "chain")["closed"] is True
    other = "eu-west-1"
    keys = Bucket(root, keyring(settings)).public_keys_file(tmp_path / "keys.json", region=other)
    args = ["--trail-arn", trail["trail_arn"], "--start-time", iso(t0 - 60), "--end-time", iso(t0 + 200)]
    args += ["--s3-bucket", BUCKET, "--local-dir", str(root), "--public-keys", str(keys), "--region", other]
    result = CliRunner().invoke(validate_logs, [*args, "--no-progress", "--verbose"])
    assert result.exit_code == 0, result.output
    assert "3/3 digest files valid" in result.stdout
    assert result.stdout.count(f"/CloudTrail-Digest/{other}/") == 3
    assert f"/CloudTrail-Digest/{REGION}/" not in result.stdout
    store.close()
