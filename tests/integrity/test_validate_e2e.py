"""End to end: the REAL ``aws cloudtrail validate-logs`` and ``trailpost validate-logs`` on trailpost's digests.

One server (``--digest-interval 2 --delivery-interval 1``) and one trail with log file validation:
activity in some digest periods and none in others, a server restart in between, then StopLogging
(final digest). Both validators must find every digest and log file valid with identical output;
then each tampering case (applied through the S3 API, undone afterwards) must be reported by both
with the AWS message and exit code 1.
"""

from __future__ import annotations

import base64
import gzip
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa as crypto_rsa

from tests.support.records import cloudtrail_policy
from tests.support.server import ServerProcess
from trailpost.delivery.signing import fingerprint_of, public_der, sign_with
from trailpost.integrity.digest_format import encode_digest, string_to_sign

AWS = str(Path(sys.executable).parent / "aws")
ACCOUNT, REGION, BUCKET, TRAIL = "123456789012", "us-east-1", "digest-trail-bucket", "audit"
ARN = f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/{TRAIL}"


@dataclass
class Trail:
    server: ServerProcess
    start: str
    end: str
    digests: list[str]
    logs: list[str]

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "AWS_ENDPOINT_URL": self.server.endpoint,
            "AWS_SHARED_CREDENTIALS_FILE": str(self.server.data_dir / "credentials"),
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ACCESS_KEY_ID": "",
            "AWS_SECRET_ACCESS_KEY": "",
        }

    def aws(self, *extra: str) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in self.env().items() if v}
        args = ["cloudtrail", "validate-logs", "--trail-arn", ARN, "--start-time", self.start, "--end-time", self.end]
        return subprocess.run([AWS, *args, *extra], capture_output=True, text=True, env=env, timeout=120)

    def trailpost(self, *extra: str) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in self.env().items() if v}
        args = ["validate-logs", "--trail-arn", ARN, "--start-time", self.start, "--end-time", self.end]
        command = [sys.executable, "-m", "trailpost", *args, "--no-progress", *extra]
        return subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)


def _keys(s3: Any, prefix: str) -> list[str]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
    return [item["Key"] for page in pages for item in page.get("Contents", [])]


def _wait(predicate: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


@pytest.fixture(scope="module")
def trail(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Trail]:
    server = ServerProcess(
        tmp_path_factory.mktemp("digests") / "data", args=["--digest-interval", "2", "--delivery-interval", "1"]
    ).start()
    try:
        s3, ct = server.client("s3"), server.client("cloudtrail")
        s3.create_bucket(Bucket=BUCKET)
        s3.put_bucket_policy(Bucket=BUCKET, Policy=cloudtrail_policy(BUCKET))
        start = (datetime.now(UTC) - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        ct.create_trail(Name=TRAIL, S3BucketName=BUCKET, EnableLogFileValidation=True)
        ct.start_logging(Name=TRAIL)
        outposts = server.client("outposts")
        for _ in range(3):
            outposts.list_sites()
        time.sleep(5.0)  # activity, then at least one period without any call
        server.restart()  # the chain goes on after a restart
        outposts, ct = server.client("outposts"), server.client("cloudtrail")
        outposts.list_outposts()
        time.sleep(2.5)
        ct.stop_logging(Name=TRAIL)
        stopped = datetime.now(UTC)
        _wait(
            lambda: (
                ct.get_trail_status(Name=TRAIL).get("LatestDigestDeliveryTime", stopped)
                >= stopped + timedelta(seconds=2.9)  # the final digest waits delivery-interval + 2 s
            )
        )
        time.sleep(1.0)
        s3 = server.client("s3")
        digests = _keys(s3, f"AWSLogs/{ACCOUNT}/CloudTrail-Digest/")
        logs = _keys(s3, f"AWSLogs/{ACCOUNT}/CloudTrail/")
        end = (datetime.now(UTC) + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        yield Trail(server, start, end, digests, logs)
    finally:
        server.stop()


def _digest(s3: Any, key: str) -> tuple[dict[str, Any], bytes, dict[str, str]]:
    answer = s3.get_object(Bucket=BUCKET, Key=key)
    raw = gzip.decompress(answer["Body"].read())
    return orjson.loads(raw), raw, answer["Metadata"]


def test_aws_cli_finds_every_digest_and_log_file_valid(trail: Trail) -> None:
    s3 = trail.server.client("s3")
    contents = [_digest(s3, key)[0] for key in trail.digests]
    assert len(contents) >= 4
    assert any(d["logFiles"] for d in contents) and any(not d["logFiles"] for d in contents)
    assert sum(d["previousDigestSignature"] is None for d in contents) == 1  # one chain across the restart
    listed = sorted(f["s3Object"] for d in contents for f in d["logFiles"])
    assert listed == sorted(trail.logs)  # every delivered file in exactly one digest
    result = trail.aws("--verbose")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.count("\tvalid\n") == len(trail.digests) + len(trail.logs)
    n, m = len(trail.digests), len(trail.logs)
    assert f"\n{n}/{n} digest files valid\n{m}/{m} log files valid\n" in result.stdout
    ours = trail.trailpost("--verbose")
    assert ours.returncode == 0, ours.stderr
    assert ours.stdout == result.stdout  # line for line the AWS CLI's output


@pytest.fixture
def tamper(trail: Trail) -> Iterator[Any]:
    """The S3 client; every object of the trail bucket is restored afterwards."""
    s3 = trail.server.client("s3")
    saved = {}
    for key in trail.digests + trail.logs:
        answer = s3.get_object(Bucket=BUCKET, Key=key)
        saved[key] = (answer["Body"].read(), answer["Metadata"])
    yield s3
    current = set(_keys(s3, "AWSLogs/"))
    for key in current - set(saved):
        s3.delete_object(Bucket=BUCKET, Key=key)
    for key, (body, metadata) in saved.items():
        s3.put_object(Bucket=BUCKET, Key=key, Body=body, Metadata=metadata)


def both_report(trail: Trail, *lines: str) -> subprocess.CompletedProcess[str]:
    aws, ours = trail.aws(), trail.trailpost()
    for result in (aws, ours):
        assert result.returncode == 1, result.stdout + result.stderr
        for line in lines:
            assert line in result.stderr, (line, result.stderr)
    assert ours.stdout == aws.stdout  # same summary and counts
    return ours


def _records(s3: Any, key: str) -> list[dict[str, Any]]:
    return orjson.loads(gzip.decompress(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()))["Records"]


def _url(key: str) -> str:
    return f"s3://{BUCKET}/{key}"


def _with_files(trail: Trail, s3: Any) -> list[str]:
    return [key for key in trail.digests if _digest(s3, key)[0]["logFiles"]]


def test_modified_log_file(trail: Trail, tamper: Any) -> None:
    held = {key: _records(tamper, key) for key in trail.logs}
    key = max(held, key=lambda k: len(held[k]))
    records = held[key]
    assert len(records) >= 2
    records[0]["sourceIPAddress"] = "203.0.113.66"
    kept, removed = records[:-1], records[-1]
    tamper.put_object(Bucket=BUCKET, Key=key, Body=gzip.compress(orjson.dumps({"Records": kept})))
    ours = both_report(trail, f"Log file\t{_url(key)}\tINVALID: hash value doesn't match")
    assert f"differs from Event history: {records[0]['eventID']}" in ours.stderr
    assert "but not in it (removed?):" in ours.stderr and removed["eventID"] in ours.stderr


def test_deleted_log_file(trail: Trail, tamper: Any) -> None:
    digest = _digest(tamper, _with_files(trail, tamper)[-1])[0]
    key = digest["logFiles"][0]["s3Object"]
    held = _records(tamper, key)
    tamper.delete_object(Bucket=BUCKET, Key=key)
    ours = both_report(trail, f"Log file\t{_url(key)}\tINVALID: not found")
    assert "candidates it held" in ours.stderr and held[0]["eventID"] in ours.stderr


def test_deleted_digest(trail: Trail, tamper: Any) -> None:
    key = trail.digests[2]
    tamper.delete_object(Bucket=BUCKET, Key=key)
    both_report(trail, f"Digest file\t{_url(key)}\tINVALID: not found")


def test_two_consecutive_deleted_digests(trail: Trail, tamper: Any) -> None:
    first, second = trail.digests[1], trail.digests[2]
    tamper.delete_object(Bucket=BUCKET, Key=first)
    tamper.delete_object(Bucket=BUCKET, Key=second)
    ours = both_report(trail, f"Digest file\t{_url(second)}\tINVALID: not found")
    assert "digest files INVALID" in ours.stdout


def test_modified_digest(trail: Trail, tamper: Any) -> None:
    key = _with_files(trail, tamper)[0]
    digest, _raw, metadata = _digest(tamper, key)
    digest["logFiles"] = digest["logFiles"][1:]  # hide a log file
    tamper.put_object(Bucket=BUCKET, Key=key, Body=gzip.compress(encode_digest(digest)), Metadata=metadata)
    both_report(trail, f"Digest file\t{_url(key)}\tINVALID: signature verification failed")


def test_digest_moved_to_another_key(trail: Trail, tamper: Any) -> None:
    key = trail.digests[2]
    stamp = datetime.strptime(key[-24:-8], "%Y%m%dT%H%M%SZ") - timedelta(seconds=1)
    moved = key[:-24] + stamp.strftime("%Y%m%dT%H%M%SZ") + ".json.gz"
    assert moved not in trail.digests
    original = tamper.get_object(Bucket=BUCKET, Key=key)
    tamper.put_object(Bucket=BUCKET, Key=moved, Body=original["Body"].read(), Metadata=original["Metadata"])
    tamper.delete_object(Bucket=BUCKET, Key=key)
    both_report(
        trail,
        f"Digest file\t{_url(key)}\tINVALID: not found",
        f"Digest file\t{_url(moved)}\tINVALID: has been moved from its original location",
    )


def test_forged_digest_signed_with_another_key(trail: Trail, tamper: Any) -> None:
    key = _with_files(trail, tamper)[0]
    digest, _raw, _metadata = _digest(tamper, key)
    forger = crypto_rsa.generate_private_key(public_exponent=65537, key_size=2048)
    digest["logFiles"] = []
    digest["digestPublicKeyFingerprint"] = fingerprint_of(public_der(forger.public_key()))
    raw = encode_digest(digest)
    signature = sign_with(forger, string_to_sign(digest, raw))
    metadata = {"signature": signature, "signature-algorithm": "SHA256withRSA"}
    tamper.put_object(Bucket=BUCKET, Key=key, Body=gzip.compress(raw), Metadata=metadata)
    both_report(
        trail,
        f"Digest file\t{_url(key)}\tINVALID: public key not found in region {REGION} for fingerprint "
        f"{digest['digestPublicKeyFingerprint']}",
    )


def test_local_directory_copy(trail: Trail, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    saved = trail.trailpost("--save-to", str(copy))
    assert saved.returncode == 0, saved.stderr
    ct = trail.server.client("cloudtrail")
    keys = ct.list_public_keys(StartTime=datetime.now(UTC) - timedelta(hours=1))["PublicKeyList"]
    keys_file = tmp_path / "keys.json"
    keys_file.write_text(
        json.dumps(
            {
                "PublicKeyList": [
                    {
                        **k,
                        "Value": base64.b64encode(k["Value"]).decode(),
                        "ValidityStartTime": k["ValidityStartTime"].timestamp(),
                        "ValidityEndTime": k["ValidityEndTime"].timestamp(),
                    }
                    for k in keys
                ]
            }
        )
    )
    offline = ["--s3-bucket", BUCKET, "--local-dir", str(copy), "--public-keys", str(keys_file)]

    def offline_run() -> subprocess.CompletedProcess[str]:
        """``trailpost validate-logs`` on the local copy, with no AWS configuration at all."""
        command = [sys.executable, "-m", "trailpost", "validate-logs", "--trail-arn", ARN]
        command += ["--start-time", trail.start, "--end-time", trail.end, "--no-progress", *offline]
        env = {**os.environ, "AWS_CONFIG_FILE": os.devnull}
        return subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)

    result = offline_run()
    assert result.returncode == 0, result.stderr
    assert result.stdout == saved.stdout
    victim = copy / trail.logs[0]
    victim.write_bytes(gzip.compress(b'{"Records":[]}'))
    result = offline_run()
    assert result.returncode == 1
    assert f"Log file\t{_url(trail.logs[0])}\tINVALID: hash value doesn't match" in result.stderr
