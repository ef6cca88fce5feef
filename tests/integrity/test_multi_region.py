"""A multi-region trail gets a digest chain in EVERY region of its partition, empty ones included.

One server (``--digest-interval 2 --delivery-interval 1``), one multi-region trail and one
single-region trail (another prefix of the same bucket), both with log file validation, activity
in us-east-1 only. us-west-2 must have a valid chain of empty digests (checked by the REAL
``aws cloudtrail validate-logs --region us-west-2`` and by ``trailpost validate-logs``), every
CloudTrail region of the ``aws`` partition must have digests of the multi-region trail, and the
single-region trail must have digests of its home region only.
"""

from __future__ import annotations

import gzip
import itertools
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

import boto3
import orjson
import pytest

from tests.support.server import ServerProcess

AWS = str(Path(sys.executable).parent / "aws")
ACCOUNT, HOME, OTHER, BUCKET = "123456789012", "us-east-1", "us-west-2", "multi-region-digests"
EVERYWHERE, SINGLE, SINGLE_PREFIX = "everywhere", "home-only", "single"
ARN = f"arn:aws:cloudtrail:{HOME}:{ACCOUNT}:trail/{EVERYWHERE}"


def policy() -> str:
    statement = {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}}
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {**statement, "Action": "s3:GetBucketAcl", "Resource": f"arn:aws:s3:::{BUCKET}"},
                {**statement, "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{BUCKET}/*"},
            ],
        }
    )


@dataclass
class Run:
    server: ServerProcess
    start: str
    end: str
    keys: list[str]

    def env(self) -> dict[str, str]:
        env = {
            **os.environ,
            "AWS_ENDPOINT_URL": self.server.endpoint,
            "AWS_SHARED_CREDENTIALS_FILE": str(self.server.data_dir / "credentials"),
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_DEFAULT_REGION": HOME,
        }
        return {k: v for k, v in env.items() if k not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}

    def validate(self, command: list[str], region: str) -> subprocess.CompletedProcess[str]:
        args = ["--trail-arn", ARN, "--start-time", self.start, "--end-time", self.end, "--region", region]
        return subprocess.run([*command, *args], capture_output=True, text=True, env=self.env(), timeout=120)

    def digests(self, region: str, prefix: str = "") -> list[str]:
        head = f"{prefix}AWSLogs/{ACCOUNT}/CloudTrail-Digest/{region}/"
        return sorted(key for key in self.keys if key.startswith(head))


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    server = ServerProcess(
        tmp_path_factory.mktemp("regions") / "data", args=["--digest-interval", "2", "--delivery-interval", "1"]
    ).start()
    try:
        s3, ct = server.client("s3"), server.client("cloudtrail")
        s3.create_bucket(Bucket=BUCKET)
        s3.put_bucket_policy(Bucket=BUCKET, Policy=policy())
        start = (datetime.now(UTC) - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        ct.create_trail(Name=EVERYWHERE, S3BucketName=BUCKET, EnableLogFileValidation=True, IsMultiRegionTrail=True)
        ct.create_trail(Name=SINGLE, S3BucketName=BUCKET, S3KeyPrefix=SINGLE_PREFIX, EnableLogFileValidation=True)
        ct.start_logging(Name=EVERYWHERE)
        ct.start_logging(Name=SINGLE)
        server.client("outposts").list_sites()  # activity in the home region only
        time.sleep(6.0)  # a few digest periods (the first round also creates 34 regions' keys)
        # On a busy machine the first rounds can take longer: wait until every region has a periodic digest.
        regions, head = (
            set(boto3.session.Session().get_available_regions("cloudtrail")),
            f"AWSLogs/{ACCOUNT}/CloudTrail-Digest/",
        )
        deadline = time.monotonic() + 90
        while True:
            pages = s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=head)
            found = {item["Key"][len(head) :].split("/")[0] for page in pages for item in page.get("Contents", [])}
            if found >= regions:
                break
            assert time.monotonic() < deadline, f"no periodic digest in {sorted(regions - found)}"
            time.sleep(0.5)
        ct.stop_logging(Name=EVERYWHERE)
        ct.stop_logging(Name=SINGLE)
        stopped = datetime.now(UTC)
        deadline = time.monotonic() + 60
        while ct.get_trail_status(Name=EVERYWHERE).get("LatestDigestDeliveryTime", stopped) < stopped + timedelta(
            seconds=2.9
        ):  # the final digests (all regions: one round, one commit) wait delivery-interval + 2 s
            assert time.monotonic() < deadline, "no final digest"
            time.sleep(0.3)
        time.sleep(1.0)
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET)
        keys = [item["Key"] for page in pages for item in page.get("Contents", [])]
        end = (datetime.now(UTC) + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        yield Run(server, start, end, keys)
    finally:
        server.stop()


def _doc(run: Run, key: str) -> dict[str, Any]:
    body = run.server.client("s3").get_object(Bucket=BUCKET, Key=key)["Body"].read()
    return orjson.loads(gzip.decompress(body))


def test_every_region_of_the_partition_has_a_chain(run: Run) -> None:
    regions = set(boto3.session.Session().get_available_regions("cloudtrail"))
    assert len(regions) > 20 and OTHER in regions
    head = f"AWSLogs/{ACCOUNT}/CloudTrail-Digest/"
    found = {key[len(head) :].split("/")[0] for key in run.keys if key.startswith(head)}
    assert found == regions
    for region in regions:
        assert len(run.digests(region)) >= 2, region  # at least one periodic digest and the final one


def test_idle_region_has_a_chained_chain_of_empty_digests(run: Run) -> None:
    docs = [_doc(run, key) for key in run.digests(OTHER)]
    assert all(f"_CloudTrail-Digest_{OTHER}_{EVERYWHERE}_{HOME}_" in key for key in run.digests(OTHER))
    assert docs[0]["previousDigestSignature"] is None and docs[0]["previousDigestS3Object"] is None
    assert all(doc["logFiles"] == [] and doc["newestEventTime"] is None for doc in docs)
    for before, after in itertools.pairwise(docs):
        assert after["previousDigestS3Object"] == before["digestS3Object"]
        assert after["digestStartTime"] == before["digestEndTime"]
    home = [_doc(run, key) for key in run.digests(HOME)]
    assert sum(len(doc["logFiles"]) for doc in home) >= 1  # the activity was in the home region
    assert home[0]["digestStartTime"] == docs[0]["digestStartTime"]  # both chains start together


def test_aws_cli_and_trailpost_validate_the_idle_region(run: Run) -> None:
    count = len(run.digests(OTHER))
    aws = run.validate([AWS, "cloudtrail", "validate-logs"], OTHER)
    assert aws.returncode == 0, aws.stdout + aws.stderr
    assert f"{count}/{count} digest files valid" in aws.stdout
    ours = run.validate([sys.executable, "-m", "trailpost", "validate-logs", "--no-progress"], OTHER)
    assert ours.returncode == 0, ours.stdout + ours.stderr
    assert ours.stdout == aws.stdout
    home = run.validate([AWS, "cloudtrail", "validate-logs"], HOME)
    assert home.returncode == 0 and "digest files valid" in home.stdout, home.stdout + home.stderr


def test_single_region_trail_has_digests_of_its_home_region_only(run: Run) -> None:
    head = f"{SINGLE_PREFIX}/AWSLogs/{ACCOUNT}/CloudTrail-Digest/"
    regions = {key[len(head) :].split("/")[0] for key in run.keys if key.startswith(head)}
    assert regions == {HOME}
    assert len(run.digests(HOME, f"{SINGLE_PREFIX}/")) >= 2
