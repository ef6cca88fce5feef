"""Signing keys: PKCS#1 DER public values the AWS CLI loads, MD5 fingerprints, rotation, private files."""

from __future__ import annotations

import hashlib
import stat
import threading
import time
from pathlib import Path

import pytest
import rsa

from trailpost.delivery import signing
from trailpost.delivery.signing import DAY, KeyRing


def test_key_is_pkcs1_der_with_md5_fingerprint_and_verifiable_by_the_aws_cli_library(tmp_path: Path) -> None:
    ring = KeyRing(tmp_path / "keys", 30)
    key = ring.current("us-east-1", 1_700_000_000.5)
    der = key.public_der
    assert der[:4] == bytes.fromhex("3082010a")  # SEQUENCE of an RSAPublicKey (base64 "MIIBCgKCAQEA")
    assert key.fingerprint == hashlib.md5(der).hexdigest()
    public = rsa.PublicKey.load_pkcs1(der, format="DER")  # exactly what validation.py does
    assert public.n.bit_length() == 2048
    data = b"2015-08-12T04:01:31Z\nbucket/key\n" + b"0" * 64 + b"\nnull"
    assert rsa.verify(data, bytes.fromhex(key.sign(data)), public) == "SHA-256"
    assert (key.validity_start, key.validity_end) == (1_700_000_000.0, 1_700_000_000.0 + 31 * DAY)


def test_rotation_overlapping_windows_and_persistence(tmp_path: Path) -> None:
    ring = KeyRing(tmp_path / "keys", 1)
    first = ring.current("eu-west-1", 1000.0)
    assert ring.current("eu-west-1", 1000.0 + DAY - 1) is first
    second = ring.current("eu-west-1", 1000.0 + DAY)
    assert second.fingerprint != first.fingerprint
    assert second.validity_start < first.validity_end  # overlapping windows
    assert [k.fingerprint for k in ring.in_range("eu-west-1", 1000.0 + DAY + 10, 1000.0 + DAY + 20)] == [
        first.fingerprint,
        second.fingerprint,
    ]
    assert [k.fingerprint for k in ring.in_range("eu-west-1", 1000.0 + 2.5 * DAY, 1000.0 + 3 * DAY)] == [
        second.fingerprint
    ]
    assert ring.in_range("us-west-2", 0, 1e12) == []  # keys are per region
    again = KeyRing(tmp_path / "keys", 1)  # another process: same keys from the files
    assert [k.fingerprint for k in again.keys("eu-west-1")] == [first.fingerprint, second.fingerprint]
    assert again.current("eu-west-1", 1000.0 + DAY + 5).fingerprint == second.fingerprint


def test_private_key_files_are_owner_only(tmp_path: Path) -> None:
    ring = KeyRing(tmp_path / "keys", 30)
    key = ring.current("us-east-1")
    directory = tmp_path / "keys" / "us-east-1"
    assert stat.S_IMODE((tmp_path / "keys").stat().st_mode) == 0o700
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    for name in (f"{key.fingerprint}.pem", f"{key.fingerprint}.json"):
        assert stat.S_IMODE((directory / name).stat().st_mode) == 0o600
    assert b"PRIVATE KEY" in (directory / f"{key.fingerprint}.pem").read_bytes()
    assert not list(directory.glob(".*"))  # no temporary file left behind


def test_region_names_cannot_escape_the_key_directory(tmp_path: Path) -> None:
    ring = KeyRing(tmp_path / "keys", 30)
    for region in ("../x", "a/b", ""):
        try:
            ring.current(region)
        except ValueError:
            continue
        raise AssertionError(f"{region!r} accepted")


def test_first_need_on_the_loop_takes_a_spare_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ring = KeyRing(tmp_path / "keys", 30)
    ring.prefill()
    deadline = time.monotonic() + 30
    while len(ring._spares) < signing.SPARES:  # the filler thread generates them
        assert time.monotonic() < deadline
        time.sleep(0.05)
    spares = list(ring._spares)
    caller = threading.get_ident()
    generated_by: list[int] = []
    real = signing.generate_private_key

    def spy() -> object:
        generated_by.append(threading.get_ident())
        return real()

    monkeypatch.setattr(signing, "generate_private_key", spy)
    key = ring.current_now("ap-southeast-7", 1_700_000_000.0)
    assert key.private_key is spares[0]  # taken, not generated in the call
    assert ring.current_now("ap-southeast-7", 1_700_000_001.0) is key
    second = ring.current_now("ca-west-1", 1_700_000_000.0)
    assert second.private_key is spares[1] and second.fingerprint != key.fingerprint
    # more first needs than spares: each waits for the filler thread, never generates itself
    keys = [ring.current_now(region, 1_700_000_000.0) for region in ("eu-south-2", "mx-central-1", "il-central-1")]
    assert len({k.fingerprint for k in keys}) == 3
    assert generated_by and caller not in generated_by
    reloaded = KeyRing(tmp_path / "keys", 30)  # every key taken from the spares was persisted
    assert reloaded.keys("ap-southeast-7")[0].fingerprint == key.fingerprint
    assert [k.fingerprint for k in reloaded.keys("il-central-1")] == [keys[2].fingerprint]
