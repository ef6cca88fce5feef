"""Helpers of the end-to-end delivery tests: buckets, trails, log files and event ids over real HTTP."""

from __future__ import annotations

import gzip
import subprocess
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import orjson

from tests.support.records import ACCOUNT, cloudtrail_policy
from tests.support.server import ServerProcess, free_port
from trailpost.delivery.logfiles import KEY_PATTERN

T = TypeVar("T")


def wait_for(check: Callable[[], T], timeout: float = 20.0, every: float = 0.2, what: str = "condition") -> T:
    """Poll ``check`` until it returns something truthy; its last value, or AssertionError after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(every)


def make_bucket(server: ServerProcess, name: str, prefix: str | None = None, region: str = "us-east-1") -> None:
    s3 = server.client("s3", region=region)
    if region == "us-east-1":
        s3.create_bucket(Bucket=name)
    else:
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})
    s3.put_bucket_policy(Bucket=name, Policy=cloudtrail_policy(name, prefix=prefix))


def log_files(s3: Any, bucket: str, prefix: str = "") -> dict[str, list[dict[str, Any]]]:
    """Every object under ``prefix`` read as a log file: key -> records (gzip JSON ``{"Records": [...]}``)."""
    found: dict[str, list[dict[str, Any]]] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            body = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
            data = orjson.loads(gzip.decompress(body))
            assert list(data) == ["Records"], item["Key"]
            found[item["Key"]] = data["Records"]
    return found


def delivered(files: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    return [record for records in files.values() for record in records]


def check_keys(files: Iterable[str], prefix: str | None = None) -> None:
    """Every key follows reference 3.1 and its records are of the key's account and region."""
    for key in files:
        match = KEY_PATTERN.match(key)
        assert match, key
        assert match["account"] == ACCOUNT
        assert match["prefix"] == prefix, key


def lookup_ids(server: ServerProcess, region: str, start: float) -> list[dict[str, Any]]:
    """Management events of ``region`` since ``start`` (whole second), newest first, as records."""
    ct = server.client("cloudtrail", region=region)
    events = []
    for page in ct.get_paginator("lookup_events").paginate(StartTime=int(start)):
        events += [orjson.loads(event["CloudTrailEvent"]) for event in page["Events"]]
    return events


def session_events(events: list[dict[str, Any]], trail: str) -> list[dict[str, Any]]:
    """The events (newest first) from the trail's StartLogging to its StopLogging, both included."""

    def names(record: dict[str, Any], event: str) -> bool:
        return (
            record["eventName"] == event
            and "errorCode" not in record
            and (record.get("requestParameters") or {}).get("name") == trail
        )

    ordered = list(reversed(events))
    starts = [i for i, record in enumerate(ordered) if names(record, "StartLogging")]
    first = starts[0] if starts else 0
    stops = [i for i, record in enumerate(ordered) if names(record, "StopLogging") and i >= first]
    last = stops[0] if stops else len(ordered) - 1
    return ordered[first : last + 1]


class MotoServer:
    """moto's standalone S3-compatible server on a free port (pinned moto 5.2.5)."""

    def __init__(self, binary: str, port: int | None = None) -> None:
        self.binary = binary
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> MotoServer:
        import urllib3

        self.process = subprocess.Popen(
            [self.binary, "-H", "127.0.0.1", "-p", str(self.port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        http = urllib3.PoolManager()

        def up() -> bool:
            try:
                return http.request("GET", f"{self.endpoint}/moto-api/", timeout=1.0, retries=False).status < 500
            except urllib3.exceptions.HTTPError:
                return False

        wait_for(up, timeout=30, every=0.1, what="moto_server")
        return self

    def client(self) -> Any:
        import boto3

        return boto3.session.Session().client(
            "s3",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
