"""Delivery to external S3-compatible endpoints started by the tests: a second trailpost's S3 and
moto's standalone server; an endpoint that is down (LatestDeliveryError, then recovery with nothing
lost); and the external buckets file's validation at startup."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.delivery.remote import MotoServer, check_keys, delivered, log_files, lookup_ids, session_events, wait_for
from tests.delivery.test_end_to_end import FAST, event_ids, outposts_calls
from tests.support.server import ServerProcess, free_port
from trailpost.delivery.destinations import parse_external_buckets

MOTO = str(Path(sys.executable).with_name("moto_server"))


def mapping(path: Path, **buckets: dict[str, Any]) -> Path:
    path.write_bytes(orjson.dumps({name.replace("_", "-"): entry for name, entry in buckets.items()}))
    return path


def run_session(server: ServerProcess, bucket: str, trail: str = "outside") -> tuple[float, str]:
    ct = server.client("cloudtrail")
    arn = ct.create_trail(Name=trail, S3BucketName=bucket, IsMultiRegionTrail=True)["TrailARN"]
    started = time.time()
    ct.start_logging(Name=trail)
    outposts_calls(server, "us-east-1")
    outposts_calls(server, "eu-central-1")
    return started, arn


def expected_ids(server: ServerProcess, started: float, trail: str = "outside") -> set[str]:
    east = session_events(lookup_ids(server, "us-east-1", started), trail)
    central = [e for e in lookup_ids(server, "eu-central-1", started) if e["eventName"] != "LookupEvents"]
    return set(event_ids(east + central))


def assert_exactly_once(s3: Any, bucket: str, expected: set[str]) -> None:
    wait_for(lambda: expected <= set(event_ids(delivered(log_files(s3, bucket)))), what=f"delivery to {bucket}")
    time.sleep(2.5)
    files = log_files(s3, bucket)
    check_keys(files)
    got = event_ids(delivered(files))
    assert len(got) == len(set(got)) and set(got) == expected


def test_delivery_to_a_second_trailpost(make_server: Callable[..., ServerProcess], tmp_path: Path) -> None:
    target = make_server()
    target.client("s3").create_bucket(Bucket="remote-logs")
    key, secret = target.root_credentials()
    entry = {"endpoint_url": target.endpoint, "region": "us-east-1", "access_key_id": key, "secret_access_key": secret}
    server = make_server(*FAST, "--external-buckets-file", str(mapping(tmp_path / "ext.json", remote_logs=entry)))
    started, _ = run_session(server, "remote-logs")
    server.client("cloudtrail").stop_logging(Name="outside")
    assert_exactly_once(target.client("s3"), "remote-logs", expected_ids(server, started))
    # nothing went into an embedded bucket of the delivering server
    assert server.client("s3").list_buckets()["Buckets"] == []


def test_delivery_to_moto_and_recovery_after_the_endpoint_was_down(
    make_server: Callable[..., ServerProcess], tmp_path: Path
) -> None:
    moto = MotoServer(MOTO)  # not started yet: the endpoint is down
    entry = {
        "endpoint_url": moto.endpoint,
        "region": "us-east-1",
        "access_key_id": "testing",
        "secret_access_key": "testing",
        "addressing_style": "path",
    }
    server = make_server(*FAST, "--external-buckets-file", str(mapping(tmp_path / "ext.json", moto_logs=entry)))
    try:
        started, arn = run_session(server, "moto-logs")
        ct = server.client("cloudtrail")
        status = wait_for(
            lambda: (s := ct.get_trail_status(Name=arn)).get("LatestDeliveryError") and s, what="a delivery error"
        )
        assert status["LatestDeliveryError"] == "ServiceUnavailable"
        assert status["IsLogging"] is True and "LatestDeliveryTime" not in status
        assert server.client("outposts").list_sites()["Sites"]  # the server stays healthy meanwhile
        moto.start()
        moto.client().create_bucket(Bucket="moto-logs")
        wait_for(lambda: "LatestDeliveryError" not in ct.get_trail_status(Name=arn), what="the error to clear")
        ct.stop_logging(Name="outside")
        assert_exactly_once(moto.client(), "moto-logs", expected_ids(server, started))
        status = ct.get_trail_status(Name=arn)
        assert status["LatestDeliveryAttemptSucceeded"] == status["LatestDeliveryAttemptTime"] != ""
        body = moto.client().get_object(Bucket="moto-logs", Key=next(iter(log_files(moto.client(), "moto-logs"))))
        assert body["ContentType"] == "application/json" and body["ContentEncoding"] == "gzip"
    finally:
        moto.stop()


def test_missing_external_bucket_is_no_such_bucket(make_server: Callable[..., ServerProcess], tmp_path: Path) -> None:
    target = make_server()
    target.client("s3").create_bucket(Bucket="will-vanish")
    key, secret = target.root_credentials()
    entry = {"endpoint_url": target.endpoint, "access_key_id": key, "secret_access_key": secret}
    server = make_server(*FAST, "--external-buckets-file", str(mapping(tmp_path / "ext.json", will_vanish=entry)))
    ct = server.client("cloudtrail")
    arn = ct.create_trail(Name="gone", S3BucketName="will-vanish")["TrailARN"]
    target.client("s3").delete_bucket(Bucket="will-vanish")
    ct.start_logging(Name="gone")
    status = wait_for(
        lambda: (s := ct.get_trail_status(Name=arn)).get("LatestDeliveryError") and s, what="a delivery error"
    )
    assert status["LatestDeliveryError"] == "NoSuchBucket"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "not valid JSON"),
        (b"[]", "must be a JSON object"),
        (b'{"b1-logs": {"region": "us-east-1"}}', "bucket 'b1-logs': endpoint_url is required"),
        (b'{"b1-logs": {"endpoint_url": "ftp://x"}}', "is not an http(s) URL"),
        (b'{"b1-logs": {"endpoint_url": "http://x", "acess_key_id": "k"}}', "unknown field(s) acess_key_id"),
        (b'{"b1-logs": {"endpoint_url": "http://x", "access_key_id": "k"}}', "give both access_key_id"),
        (b'{"b1-logs": {"endpoint_url": "http://x", "addressing_style": "host"}}', "addressing_style must be"),
    ],
)
def test_external_file_validation(content: bytes, message: str, tmp_path: Path) -> None:
    path = tmp_path / "ext.json"
    with pytest.raises(ValueError, match=r"ext\.json") as caught:
        parse_external_buckets(path, content)
    assert message in str(caught.value)


def test_malformed_external_file_is_a_startup_error(tmp_path: Path) -> None:
    path = tmp_path / "ext.json"
    path.write_text('{"b1-logs": {"endpoint_url": "http://127.0.0.1:1", "bogus": 1}}')
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "trailpost",
            "serve",
            "--port",
            str(free_port()),
            "--data-dir",
            str(tmp_path / "data"),
            "--external-buckets-file",
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert str(path) in result.stderr and "b1-logs" in result.stderr and "bogus" in result.stderr


def test_mapping_is_reread_when_the_file_changes_and_a_bad_change_keeps_the_last_good(tmp_path: Path) -> None:
    from trailpost.config import Settings
    from trailpost.delivery.destinations import ExternalDestination, external_buckets, open_destination

    path = tmp_path / "ext.json"
    path.write_text('{"first-logs": {"endpoint_url": "http://127.0.0.1:1"}}')
    settings = Settings(data_dir=tmp_path / "data", external_buckets_file=path)
    assert set(external_buckets(settings)) == {"first-logs"}
    path.write_text('{"second-logs": {"endpoint_url": "http://127.0.0.1:2", "region": "eu-west-1"}}')
    mapping_now = external_buckets(settings)
    assert set(mapping_now) == {"second-logs"} and mapping_now["second-logs"].region == "eu-west-1"
    path.write_text('{"third-logs": {"endpoint_url": "nope"}} and more')
    assert set(external_buckets(settings)) == {"second-logs"}
    destination = open_destination(settings, None, "second-logs")
    assert isinstance(destination, ExternalDestination) and destination.embedded is False
    assert destination.policy() is None
    assert open_destination(settings, None, "unknown-logs") is None
