"""ListPublicKeys over HTTP (boto3 and the AWS CLI) against reference section 4.5."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import rsa

from tests.support.errors import aws_error
from tests.support.server import ServerProcess

AWS = str(Path(sys.executable).parent / "aws")


def test_current_key_is_pkcs1_der_with_md5_fingerprint(server: ServerProcess) -> None:
    client = server.client("cloudtrail", region="eu-west-3")
    keys = client.list_public_keys()["PublicKeyList"]
    assert len(keys) == 1
    key = keys[0]
    assert set(key) == {"Value", "ValidityStartTime", "ValidityEndTime", "Fingerprint"}
    assert base64.b64encode(key["Value"]).startswith(b"MIIBCgKCAQEA")  # PKCS#1 RSAPublicKey, 2048 bits
    assert rsa.PublicKey.load_pkcs1(key["Value"], format="DER").n.bit_length() == 2048
    assert key["Fingerprint"] == hashlib.md5(key["Value"]).hexdigest()
    now = datetime.now(UTC)
    assert key["ValidityStartTime"] <= now < key["ValidityEndTime"]
    assert key["ValidityEndTime"] - key["ValidityStartTime"] == timedelta(days=31)  # 30 days + 1 day overlap
    assert client.list_public_keys()["PublicKeyList"] == keys  # the same key until rotation
    other = server.client("cloudtrail", region="ap-south-1").list_public_keys()["PublicKeyList"]
    assert other[0]["Fingerprint"] != key["Fingerprint"]  # one key pair per region
    assert "NextToken" not in client.list_public_keys(StartTime=now - timedelta(days=400))


def test_time_range_errors(server: ServerProcess) -> None:
    client = server.client("cloudtrail")
    now = datetime.now(UTC)
    error = aws_error(
        "InvalidTimeRangeException",
        400,
        client.list_public_keys,
        StartTime=now,
        EndTime=now - timedelta(seconds=1),
    )
    assert error["Error"]["Message"] == "Start time must be before or at the end time."
    aws_error("InvalidTokenException", 400, client.list_public_keys, NextToken="abc")
    # a range that ended before the region's first key existed lists nothing
    old = client.list_public_keys(StartTime=now - timedelta(days=900), EndTime=now - timedelta(days=800))
    assert old["PublicKeyList"] == []


def test_rotation_inside_the_range_and_cli_output(make_server, tmp_path: Path) -> None:
    server = make_server("--signing-key-days", str(3 / 86400))  # a new key every 3 seconds
    client = server.client("cloudtrail")
    first = client.list_public_keys()["PublicKeyList"]
    assert len(first) == 1
    time.sleep(3.2)
    now = client.list_public_keys()["PublicKeyList"]
    # the old key stays listed until its ValidityEndTime (windows of 3 s + 3 s overlap)
    assert now[0]["Fingerprint"] == first[0]["Fingerprint"] and len(now) == 2
    old, new = now
    assert new["ValidityStartTime"] < old["ValidityEndTime"]
    time.sleep(3.2)
    later = client.list_public_keys()["PublicKeyList"]
    assert first[0]["Fingerprint"] not in {k["Fingerprint"] for k in later}
    ranged = client.list_public_keys(StartTime=first[0]["ValidityStartTime"], EndTime=datetime.now(UTC))[
        "PublicKeyList"
    ]
    fingerprints = [k["Fingerprint"] for k in ranged]
    assert fingerprints[:2] == [old["Fingerprint"], new["Fingerprint"]] and len(fingerprints) == 3
    assert [k["ValidityStartTime"] for k in ranged] == sorted(k["ValidityStartTime"] for k in ranged)
    key_id, secret = server.root_credentials()
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": key_id,
        "AWS_SECRET_ACCESS_KEY": secret,
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    out = subprocess.run(
        [
            AWS,
            "--endpoint-url",
            server.endpoint,
            "cloudtrail",
            "list-public-keys",
            "--start-time",
            first[0]["ValidityStartTime"].isoformat(),
        ],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout
    listed = json.loads(out)["PublicKeyList"]
    assert [k["Fingerprint"] for k in listed][:3] == fingerprints
    assert all(hashlib.md5(base64.b64decode(k["Value"])).hexdigest() == k["Fingerprint"] for k in listed)
