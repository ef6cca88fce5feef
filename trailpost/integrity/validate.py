"""The validation algorithm of ``aws cloudtrail validate-logs`` (reference 4.6), on any ``ObjectSource``.

Same walk as the AWS CLI (``awscli/customizations/cloudtrail/validation.py``):

1. list the trail's digest keys of the source region from the marker ``start - 1 min`` on, keep
   those matching the key layout of this account/region/trail/home region whose end stamp is in
   ``[start, end + 1 h]``; load the public keys of ``[start, end + 2 h]`` (none: the CLI's
   ``No public keys found between ...`` error);
2. from the newest digest walk back: fetch + gunzip + JSON (``INVALID: invalid format``), metadata
   ``signature``/``signature-algorithm`` (else ``INVALID: signature verification failed``), the
   six required fields, ``digestS3Bucket/digestS3Object`` equal to where it was read (``INVALID:
   has been moved from its original location``), the key by fingerprint (``INVALID: public key not
   found in region <home> for fingerprint <fp>``), the signature over the string to sign;
3. every log file of a valid digest: fetch, gunzip, SHA-256 of the uncompressed bytes (``INVALID:
   hash value doesn't match`` / ``not found`` / ``invalid format`` / ``unexpected data after end
   of compressed stream``);
4. follow ``previousDigestS3Object``; a null link is a chain start: the next older listed digest
   continues the walk, reported as ``No log files were delivered by CloudTrail between ...``; a
   missing or invalid digest is reported and the next older listed digest continues the walk;
   stop when a digest starts before ``start``.

Additions (never change AWS's lines or counts): listed digests and each digest's log files are
fetched ahead by a thread pool, digest
bytes may come without metadata in a local copy (the signature then comes from the successor's
``previousDigestSignature``, which that successor's signature covers), keys may be SPKI as well as
PKCS#1 DER, and each bad log file gets ``forensics`` lines when a ``Forensics`` is given.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from trailpost.integrity.digest_format import (
    DIGEST_FOLDER,
    KEY_STAMP,
    digest_key_regex,
    digest_prefix,
    key_stamp,
    string_to_sign,
)
from trailpost.integrity.report import Report, display
from trailpost.integrity.sources import Fetched, ObjectSource, Saver

REQUIRED = (
    "digestPublicKeyFingerprint",
    "digestS3Bucket",
    "digestS3Object",
    "previousDigestSignature",
    "digestEndTime",
    "digestStartTime",
)


class DigestError(Exception):
    """A digest failed a check; the message is the AWS CLI's full status line."""


class ValidationSetupError(Exception):
    """Validation cannot run (no public keys...): the AWS CLI's error message, exit code 255."""


@dataclass
class Target:
    """What to validate: the trail, the time range, where its files are."""

    trail_arn: str
    start: datetime
    end: datetime
    bucket: str
    prefix: str | None
    account_id: str
    source_region: str

    @property
    def home_region(self) -> str:
        return self.trail_arn.split(":")[3]

    @property
    def trail_name(self) -> str:
        return self.trail_arn.split("/")[-1]


@dataclass
class BadLog:
    """A log file that failed, for ``forensics``."""

    entry: dict[str, Any]
    reason: str
    body: bytes | None = None


@dataclass
class Validator:
    target: Target
    source: ObjectSource
    public_keys: Callable[[datetime, datetime], dict[str, dict[str, Any]]]
    report: Report
    explain: Callable[[BadLog], list[str]] | None = None
    saver: Saver | None = None
    workers: int = 8
    chain_signatures: bool = False  # local copies: a digest without metadata takes its successor's record
    _signatures: dict[str, str] = field(default_factory=dict)
    _ahead: dict[str, Future[Fetched | None]] = field(default_factory=dict)

    # -- listing ----------------------------------------------------------------------------------

    def digest_keys(self) -> list[str]:
        t = self.target
        marker_time = t.start - timedelta(minutes=1)
        marker = (
            f"{digest_prefix(t.prefix, t.account_id, t.source_region)}{marker_time:%Y/%m/%d}/"
            f"{t.account_id}_{DIGEST_FOLDER}_{t.source_region}_{t.trail_name}_{t.home_region}_"
            f"{marker_time.strftime(KEY_STAMP)}.json.gz"
        )
        regex = digest_key_regex(t.prefix, t.account_id, t.source_region, t.trail_name, t.home_region)
        low, high = t.start.strftime(KEY_STAMP), (t.end + timedelta(hours=1)).strftime(KEY_STAMP)
        keys = []
        for key in self.source.list_keys(t.bucket, digest_prefix(t.prefix, t.account_id, t.source_region)[:-1], marker):
            if not regex.match(key):
                continue  # other trails, and backfill digests (trailpost writes none)
            stamp = key_stamp(key)
            if stamp > high:
                break
            if stamp >= low:
                keys.append(key)
        return keys

    # -- one digest -------------------------------------------------------------------------------

    def load(self, keys: dict[str, dict[str, Any]], bucket: str, key: str) -> dict[str, Any] | None:
        """The validated digest, ``None`` if missing; ``DigestError`` with AWS's line if invalid."""
        ahead = self._ahead.pop(f"{bucket}/{key}", None)
        fetched = ahead.result() if ahead is not None else self.source.get(bucket, key)
        if fetched is None:
            return None
        if self.saver is not None:
            self.saver.save(key, fetched)
        where = f"Digest file\ts3://{bucket}/{key}\tINVALID:"
        try:
            raw = zlib.decompress(fetched.body, zlib.MAX_WBITS | 16)
            digest = orjson.loads(raw)
        except (ValueError, zlib.error):
            raise DigestError(f"{where} invalid format") from None
        if not isinstance(digest, dict):
            raise DigestError(f"{where} invalid format")
        signature = fetched.metadata.get("signature")
        if signature is None or "signature-algorithm" not in fetched.metadata:
            signature = self._signatures.get(f"{bucket}/{key}") if self.chain_signatures else None
        if not signature:
            raise DigestError(f"{where} signature verification failed")
        if any(name not in digest for name in REQUIRED):
            raise DigestError(f"{where} invalid format")
        if digest["digestS3Bucket"] != bucket or digest["digestS3Object"] != key:
            raise DigestError(f"{where} has been moved from its original location")
        fingerprint = digest["digestPublicKeyFingerprint"]
        entry = keys.get(fingerprint)
        if entry is None:
            raise DigestError(
                f"{where} public key not found in region {self.target.home_region} for fingerprint {fingerprint}"
            )
        try:
            public = _load_key(entry["Value"])
        except ValueError:
            raise DigestError(f"{where} Unable to load PKCS #1 key with fingerprint {fingerprint}") from None
        try:
            public.verify(bytes.fromhex(signature), string_to_sign(digest, raw), padding.PKCS1v15(), hashes.SHA256())
        except (InvalidSignature, ValueError):
            raise DigestError(f"{where} signature verification failed") from None
        previous_key, previous_signature = digest.get("previousDigestS3Object"), digest.get("previousDigestSignature")
        if previous_key and previous_signature:
            self._signatures[f"{digest.get('previousDigestS3Bucket')}/{previous_key}"] = previous_signature
        return digest

    # -- log files ---------------------------------------------------------------------------------

    def check_log(self, entry: dict[str, Any]) -> BadLog | None:
        fetched = self.source.get(entry["s3Bucket"], entry["s3Object"])
        if fetched is None:
            return BadLog(entry, "not found")
        if self.saver is not None:
            self.saver.save(entry["s3Object"], fetched)
        self.report.log_bytes += len(fetched.body)
        try:
            inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
            data = inflater.decompress(fetched.body) + inflater.flush()
        except zlib.error:
            return BadLog(entry, "invalid format", fetched.body)
        if inflater.unused_data:
            return BadLog(entry, "unexpected data after end of compressed stream", data)
        if hashlib.sha256(data).hexdigest() != entry.get("hashValue"):
            return BadLog(entry, "hash value doesn't match", data)
        return None

    def check_logs(self, pool: ThreadPoolExecutor, entries: list[dict[str, Any]]) -> None:
        self.report.more_files(len(entries))
        for entry, bad in zip(entries, pool.map(self.check_log, entries), strict=True):
            where = f"Log file\ts3://{entry['s3Bucket']}/{entry['s3Object']}"
            if bad is None:
                self.report.valid_logs += 1
                self.report.status(f"{where}\tvalid")
            else:
                self.report.invalid_logs += 1
                self.report.status(f"{where}\tINVALID: {bad.reason}", True)
                if self.explain is not None:
                    self.report.detail(self.explain(bad))
            self.report.step()

    # -- the walk ----------------------------------------------------------------------------------

    def run(self) -> int:
        t, report = self.target, self.report
        report.startup(t.trail_arn, t.start, t.end)
        digests = self.digest_keys()
        keys = self.public_keys(t.start, t.end + timedelta(hours=2))
        if not keys:
            raise ValidationSetupError(
                f"No public keys found between {display(t.start)} and {display(t.end + timedelta(hours=2))}"
            )
        report.begin(len(digests))
        bucket = t.bucket
        try:
            with ThreadPoolExecutor(self.workers, thread_name_prefix="validate") as pool:
                for listed in digests:  # fetched ahead: the walk mostly goes from one listed digest to the one before
                    self._ahead[f"{bucket}/{listed}"] = pool.submit(self.source.get, bucket, listed)
                key, end_date = _last(digests)
                last_start = end_date
                # ``_last`` gives a key and its date or neither: while there is a key, ``last_start`` is a date
                while key and last_start is not None and t.start <= last_start:
                    try:
                        digest = self.load(keys, bucket, key)
                    except DigestError as exc:
                        report.invalid_digests += 1
                        report.status(str(exc), True)
                        report.step()
                        key, end_date = _last(digests, key)
                        continue
                    report.step()
                    if digest is None:
                        report.invalid_digests += 1
                        report.status(f"Digest file\ts3://{bucket}/{key}\tINVALID: not found", True)
                        key, end_date = _last(digests, key)
                        continue
                    last_start = _parse(digest["digestStartTime"])
                    report.track(last_start, _parse(digest["digestEndTime"]), t.start, t.end)
                    report.valid_digests += 1
                    report.status(f"Digest file\ts3://{digest['digestS3Bucket']}/{digest['digestS3Object']}\tvalid")
                    if digest.get("logFiles"):
                        self.check_logs(pool, digest["logFiles"])
                    previous_key = digest.get("previousDigestS3Object")
                    previous_bucket = digest.get("previousDigestS3Bucket")
                    if previous_bucket is None or previous_key is None:
                        next_key, next_end = _last(digests, key)
                        if next_key:
                            assert next_end is not None  # ``_last`` gives a key with its date
                            report.status(
                                f"No log files were delivered by CloudTrail between {display(next_end)} and "
                                f"{display(last_start)}",
                                True,
                            )
                        key, end_date = next_key, next_end
                    else:
                        key, bucket = previous_key, previous_bucket
        finally:
            report.finish()
        report.summary(t.start, t.end)
        return report.exit_code


def _load_key(der: bytes) -> rsa.RSAPublicKey:
    """PKCS#1 ``RSAPublicKey`` DER (what AWS returns) or X.509 SubjectPublicKeyInfo DER (reference 4.5)."""
    key = serialization.load_der_public_key(der)  # cryptography reads both encodings
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("not an RSA key")
    return key


def _parse(text: str) -> datetime:
    from dateutil import parser

    value = parser.parse(text)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _stamp_date(key: str) -> datetime:
    return datetime.strptime(key_stamp(key), KEY_STAMP).replace(tzinfo=UTC)


def _last(digests: list[str], before: str | None = None) -> tuple[str | None, datetime | None]:
    """The AWS CLI's ``_get_last_digest``: pop the newest listed key (older than ``before``)."""
    if not digests:
        return None, None
    if before is None:
        key = digests.pop()
        return key, _stamp_date(key)
    limit = _stamp_date(before)
    while digests:
        key = digests.pop()
        date = _stamp_date(key)
        if date < limit:
            return key, date
    return None, None
