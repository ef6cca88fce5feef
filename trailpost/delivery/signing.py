"""Digest signing keys: one RSA-2048 key pair at a time per region, rotated, kept in the data directory.

Layout: ``<data-dir>/keys/<region>/<fingerprint>.pem`` (the private key, PKCS#8 PEM) and
``<fingerprint>.json`` (``{"fingerprint", "validity_start", "validity_end"}``, epoch seconds).
Directories are created 0700 and files 0600, each written to a temporary file beside it, fsynced
and renamed (a key counts once its ``.json`` exists, and that is written last).

Rules (reference section 4.4/4.5, docs/decisions.md "Digest signing keys"):

* a region's key is created on first need: the first digest signed there (``KeyRing.current``, in
  the digest worker's thread) or the first ListPublicKeys call (``KeyRing.current_now``);
* RSA generation (50-100 ms) never runs on the event loop and never under the ring's lock: a
  daemon thread keeps ``SPARES`` freshly generated private keys ready for the event loop
  (started by ``prefill``, at server startup); the loop's ``current_now`` (ListPublicKeys) takes
  one (microseconds) and writes the key's two small files; with no spare ready (the first moments
  after startup, or a burst of new regions) it waits for the key the filler is generating. A
  worker thread's ``current`` (the digest worker) generates its own key and leaves the spares to
  the loop;
* a key signs for ``signing_key_days``; the first need after that creates the next key. Each key's
  validity window is ``[created, created + days + overlap]`` with ``overlap = min(days, 1 day)``,
  so consecutive windows overlap and the old key stays listed until its ValidityEndTime;
  keys are never deleted: validators ask for keys of past ranges;
* the public value is the PKCS#1 ``RSAPublicKey`` DER (what the AWS CLI loads with
  ``rsa.PublicKey.load_pkcs1(..., format="DER")``); the fingerprint is the lowercase hex MD5 of
  those DER bytes; a signature is RSASSA-PKCS1-v1_5 over SHA-256 ("SHA256withRSA"), lowercase hex.

Thread-safe: the digest worker signs from worker threads while ListPublicKeys reads; the lock is
held only for lookups and the writing of a new key's two small files, never for RSA generation.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from trailpost.store.private_files import write_private

KEY_DIR = "keys"
DAY = 86400.0
SIGNATURE_ALGORITHM = "SHA256withRSA"
_REGION = re.compile(r"^[a-z0-9][a-z0-9-]{0,40}$")
SPARES = 2  # pre-generated private keys the filler thread keeps ready
SPARE_WAIT = 10.0  # seconds the event loop waits for a spare before generating one itself (never expected)
log = logging.getLogger("trailpost.signing")


def generate_private_key() -> rsa.RSAPrivateKey:
    """A new RSA-2048 key (50-100 ms of CPU: call it from a thread, never from the event loop)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_der(public_key: rsa.RSAPublicKey) -> bytes:
    """The PKCS#1 ``RSAPublicKey`` DER encoding (``MIIBCgKCAQEA...`` in base64)."""
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)


def fingerprint_of(der: bytes) -> str:
    """A public key's fingerprint: lowercase hex MD5 of its DER bytes (as ListPublicKeys returns them)."""
    return hashlib.md5(der, usedforsecurity=False).hexdigest()


def sign_with(private_key: rsa.RSAPrivateKey, data: bytes) -> str:
    """SHA256withRSA (PKCS#1 v1.5) signature of ``data``, lowercase hex."""
    return private_key.sign(data, padding.PKCS1v15(), hashes.SHA256()).hex()


@dataclass(frozen=True)
class SigningKey:
    """One key pair of a region and its validity window."""

    region: str
    fingerprint: str
    validity_start: float
    validity_end: float
    private_key: rsa.RSAPrivateKey

    @property
    def public_der(self) -> bytes:
        return public_der(self.private_key.public_key())

    def sign(self, data: bytes) -> str:
        return sign_with(self.private_key, data)

    def overlaps(self, start: float, end: float) -> bool:
        return self.validity_start <= end and self.validity_end >= start


class KeyRing:
    """The signing keys of every region under ``root`` (``<data-dir>/keys``)."""

    def __init__(self, root: Path, key_days: float) -> None:
        self.root = root
        self.key_seconds = key_days * DAY
        self.overlap_seconds = min(self.key_seconds, DAY)
        self._lock = threading.RLock()
        self._cache: dict[str, list[SigningKey]] = {}
        self._changed = threading.Condition(self._lock)
        self._spares: list[rsa.RSAPrivateKey] = []
        self._filler: threading.Thread | None = None

    @classmethod
    def for_settings(cls, settings: Any) -> KeyRing:
        return cls(settings.data_path(KEY_DIR), settings.signing_key_days)

    def _region_dir(self, region: str) -> Path:
        if not _REGION.match(region):
            raise ValueError(f"not a region name: {region!r}")
        return self.root / region

    def _load(self, region: str) -> list[SigningKey]:
        keys = self._cache.get(region)
        if keys is not None:
            return keys
        keys = []
        directory = self._region_dir(region)
        if directory.is_dir():
            for meta_path in sorted(directory.glob("*.json")):
                meta = orjson.loads(meta_path.read_bytes())
                pem = (directory / f"{meta['fingerprint']}.pem").read_bytes()
                private = serialization.load_pem_private_key(pem, password=None)
                assert isinstance(private, rsa.RSAPrivateKey)
                keys.append(
                    SigningKey(region, meta["fingerprint"], meta["validity_start"], meta["validity_end"], private)
                )
        keys.sort(key=lambda k: k.validity_start)
        self._cache[region] = keys
        return keys

    def keys(self, region: str) -> list[SigningKey]:
        """Every key the region ever had, oldest first."""
        with self._lock:
            return list(self._load(region))

    def in_range(self, region: str, start: float, end: float) -> list[SigningKey]:
        """The region's keys whose validity window overlaps ``[start, end]``, oldest first."""
        return [key for key in self.keys(region) if key.overlaps(start, end)]

    def _valid(self, region: str, now: float) -> SigningKey | None:
        keys = self._load(region)
        if keys and now < keys[-1].validity_start + self.key_seconds:
            return keys[-1]
        return None

    def current(self, region: str, now: float | None = None) -> SigningKey:
        """The key that signs now; created (first key, or rotation after ``key_days``) when needed.

        Generates the new key itself (the spares are kept for the event loop): call it from a thread.
        """
        now = time.time() if now is None else now
        with self._lock:
            key = self._valid(region, now)
            if key is not None:
                return key
        return self._install(region, now, generate_private_key())  # generated outside the lock

    def current_now(self, region: str, now: float | None = None) -> SigningKey:
        """``current`` for the event loop: never generates; a new key comes from the spares."""
        now = time.time() if now is None else now
        with self._lock:
            key = self._valid(region, now)
            if key is not None:
                return key
        private = self._take_spare()
        if private is None:  # the filler thread is gone (it never is, but the loop must not hang)
            log.error("no spare signing key after %s s; generating one on the caller's thread", SPARE_WAIT)
            private = generate_private_key()
        return self._install(region, now, private)

    def _install(self, region: str, now: float, private: rsa.RSAPrivateKey) -> SigningKey:
        with self._lock:
            key = self._valid(region, now)
            if key is not None:  # another thread created it meanwhile: keep the private key as a spare
                self._spares.append(private)
                return key
            key = self._create(region, now, private)
            self._load(region).append(key)
            return key

    # -- spares ------------------------------------------------------------------------------

    def prefill(self) -> None:
        """Start the daemon thread that keeps ``SPARES`` generated keys ready (idempotent)."""
        with self._lock:
            if self._filler is None or not self._filler.is_alive():
                self._filler = threading.Thread(target=self._fill, name="trailpost-keygen", daemon=True)
                self._filler.start()

    def _take_spare(self) -> rsa.RSAPrivateKey | None:
        """A spare key, waiting (at most ``SPARE_WAIT`` s) for the one being generated if none is ready."""
        self.prefill()
        with self._lock:
            if not self._changed.wait_for(lambda: bool(self._spares), timeout=SPARE_WAIT):
                return None
            private = self._spares.pop(0)
            self._changed.notify_all()  # below target: the filler generates the next one
            return private

    def _fill(self) -> None:
        while True:
            with self._lock:
                while len(self._spares) >= SPARES:
                    self._changed.wait()
            private = generate_private_key()  # outside the lock
            with self._lock:
                self._spares.append(private)
                self._changed.notify_all()

    def _create(self, region: str, now: float, private: rsa.RSAPrivateKey) -> SigningKey:
        directory = self._region_dir(region)
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        directory.mkdir(mode=0o700, exist_ok=True)
        os.chmod(self.root, 0o700)
        os.chmod(directory, 0o700)
        fingerprint = fingerprint_of(public_der(private.public_key()))
        start = float(int(now))
        end = start + self.key_seconds + self.overlap_seconds
        pem = private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        write_private(directory / f"{fingerprint}.pem", pem)
        meta = {"fingerprint": fingerprint, "validity_start": start, "validity_end": end}
        write_private(directory / f"{fingerprint}.json", orjson.dumps(meta))
        return SigningKey(region, fingerprint, start, end, private)


_RINGS: dict[Path, KeyRing] = {}
_RINGS_LOCK = threading.Lock()


def keyring(settings: Any) -> KeyRing:
    """The process's one ``KeyRing`` for ``settings``' data directory (shared by the API and the worker)."""
    root = settings.data_path(KEY_DIR)
    with _RINGS_LOCK:
        ring = _RINGS.get(root)
        if ring is None or ring.key_seconds != settings.signing_key_days * DAY:
            ring = _RINGS[root] = KeyRing(root, settings.signing_key_days)
        return ring
