"""``trailpost validate-logs --local-dir``: the AWS CLI's checks and messages on a directory copy.

Each test builds a bucket copy with a signed chain (``chains``), tampers with it as an attacker
would, and checks the lines, counts and exit code the AWS CLI gives for that case.
"""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner, Result

from tests.integrity.chains import ARN, BUCKET, PERIOD, T0, Bucket
from trailpost.delivery.signing import KeyRing
from trailpost.integrity.command import validate_logs
from trailpost.integrity.digest_format import iso, stamp_epoch
from trailpost.integrity.sources import METADATA_SUFFIX


@pytest.fixture
def bucket(tmp_path: Path) -> Bucket:
    b = Bucket(tmp_path / "bucket", KeyRing(tmp_path / "keys", 30))
    b.chain([2, 0, 1, 1])
    return b


def run(b: Bucket, *extra: str, end: float = T0 + 10 * PERIOD) -> Result:
    keys = b.public_keys_file(b.root.parent / "keys.json")
    args = [
        "--trail-arn",
        ARN,
        "--start-time",
        iso(T0),
        "--end-time",
        iso(end),
        "--s3-bucket",
        BUCKET,
        "--local-dir",
        str(b.root),
        "--public-keys",
        str(keys),
        "--no-progress",
        *extra,
    ]
    return CliRunner().invoke(validate_logs, args)


def digest_url(key: str) -> str:
    return f"s3://{BUCKET}/{key}"


def test_untouched_copy_is_valid_with_aws_summary(bucket: Bucket) -> None:
    result = run(bucket, "--verbose")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.startswith(f"Validating log files for trail {ARN} between {iso(T0)} and {iso(T0 + 10 * PERIOD)}\n\n")
    for key in bucket.digests:
        assert f"Digest file\t{digest_url(key)}\tvalid\n" in out
    for key in bucket.logs:
        assert f"Log file\t{digest_url(key)}\tvalid\n" in out
    assert f"Results found for {iso(T0)} to {iso(T0 + 4 * PERIOD)}:\n" in out
    assert out.endswith("\n4/4 digest files valid\n4/4 log files valid\n")
    assert result.stderr == ""


def test_modified_log_file_names_the_changed_events_from_an_intact_copy(bucket: Bucket, tmp_path: Path) -> None:
    reference = tmp_path / "replica"
    shutil.copytree(bucket.root, reference)
    key = next(iter(bucket.logs))
    records = list(bucket.logs[key])
    records[0] = {**records[0], "eventName": "DeleteSite"}
    (bucket.root / key).write_bytes(gzip.compress(orjson.dumps({"Records": records[:2]})))
    result = run(bucket, "--reference-dir", str(reference))
    assert result.exit_code == 1
    assert f"Log file\t{digest_url(key)}\tINVALID: hash value doesn't match\n\n" in result.stderr
    assert f"changed: {records[0]['eventID']}" in result.stderr
    assert f"removed: {bucket.logs[key][2]['eventID']}" in result.stderr
    assert "3/4 log files valid, 1/4 log files INVALID" in result.stdout


def test_deleted_log_file(bucket: Bucket) -> None:
    key = list(bucket.logs)[-1]
    (bucket.root / key).unlink()
    result = run(bucket)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Log file\t{digest_url(key)}\tINVALID: not found\n\n")
    assert "3/4 log files valid, 1/4 log files INVALID" in result.stdout


def test_deleted_digest_and_two_consecutive_deleted_digests(bucket: Bucket) -> None:
    (bucket.root / bucket.digests[2]).unlink()
    result = run(bucket)
    assert result.exit_code == 1
    assert result.stderr == f"Digest file\t{digest_url(bucket.digests[2])}\tINVALID: not found\n\n"
    assert "3/4 digest files valid, 1/4 digest files INVALID" in result.stdout
    (bucket.root / bucket.digests[1]).unlink()
    result = run(bucket)
    # As the AWS CLI: the missing link is reported; the walk resumes at the next older digest listed.
    assert result.exit_code == 1
    assert f"{digest_url(bucket.digests[2])}\tINVALID: not found" in result.stderr
    assert "2/3 digest files valid, 1/3 digest files INVALID" in result.stdout


def test_modified_digest_fails_its_signature(bucket: Bucket) -> None:
    key = bucket.digests[2]
    path = bucket.root / key
    digest = orjson.loads(gzip.decompress(path.read_bytes()))
    digest["logFiles"] = []  # hide a log file
    path.write_bytes(gzip.compress(orjson.dumps(digest)))
    result = run(bucket)
    assert result.exit_code == 1
    assert "3/4 digest files valid, 1/4 digest files INVALID" in result.stdout
    assert f"Digest file\t{digest_url(key)}\tINVALID: signature verification failed\n\n" in result.stderr


def test_digest_moved_to_another_key(bucket: Bucket) -> None:
    key = bucket.digests[1]
    moved = key[:-24] + iso(stamp_epoch(key[-24:-8]) - 1).replace("-", "").replace(":", "") + ".json.gz"
    (bucket.root / key).rename(bucket.root / moved)
    (bucket.root / (key + METADATA_SUFFIX)).rename(bucket.root / (moved + METADATA_SUFFIX))
    result = run(bucket)
    assert result.exit_code == 1
    assert f"Digest file\t{digest_url(key)}\tINVALID: not found" in result.stderr
    assert f"Digest file\t{digest_url(moved)}\tINVALID: has been moved from its original location" in result.stderr


def test_forged_digest_signed_with_another_key(bucket: Bucket, tmp_path: Path) -> None:
    forger = Bucket(tmp_path / "forged", KeyRing(tmp_path / "forger-keys", 30))
    forger.chain([1, 1])
    for key in (bucket.digests[1], bucket.digests[1] + METADATA_SUFFIX):
        shutil.copy(forger.root / key, bucket.root / key)
    fingerprint = forger.ring.keys("us-east-1")[0].fingerprint
    result = run(bucket)
    assert result.exit_code == 1
    assert (
        f"Digest file\t{digest_url(bucket.digests[1])}\tINVALID: public key not found in region us-east-1 "
        f"for fingerprint {fingerprint}"
    ) in result.stderr


def test_chain_start_reports_a_gap_without_failing(tmp_path: Path) -> None:
    b = Bucket(tmp_path / "bucket", KeyRing(tmp_path / "keys", 30))
    b.chain([1, 1])
    b.chain([1], start=T0 + 5 * PERIOD)  # logging restarted: a new chain, null previous fields
    result = run(b)
    assert result.exit_code == 0
    assert result.stderr == (
        f"No log files were delivered by CloudTrail between {iso(T0 + 2 * PERIOD)} and {iso(T0 + 5 * PERIOD)}\n\n"
    )
    assert "3/3 digest files valid" in result.stdout


def test_copy_without_metadata_uses_the_chain_but_not_for_the_newest(bucket: Bucket) -> None:
    for key in bucket.digests[:-1]:
        (bucket.root / (key + METADATA_SUFFIX)).unlink()
    assert run(bucket).exit_code == 0  # each signature recorded by its (verified) successor
    (bucket.root / (bucket.digests[-1] + METADATA_SUFFIX)).unlink()
    result = run(bucket)
    assert result.exit_code == 1
    assert f"{digest_url(bucket.digests[-1])}\tINVALID: signature verification failed" in result.stderr


def test_no_digest_in_range_and_bad_arguments(bucket: Bucket) -> None:
    result = run(bucket, end=T0 - 2 * PERIOD)
    assert "Invalid time range specified: start-time must occur before end-time" in result.stderr
    assert result.exit_code == 255
    result = CliRunner().invoke(validate_logs, ["--trail-arn", "nope", "--start-time", iso(T0)])
    assert result.exit_code == 255 and "Invalid trail ARN provided: nope" in result.stderr
