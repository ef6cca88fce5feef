"""The digest file format shared by the writer (``trailpost.delivery.digests``) and the validator.

Reference section 4: key layout and name, every JSON field, the string to sign. Rules:

* key: ``[prefix/]AWSLogs/<account>/CloudTrail-Digest/<region>/YYYY/MM/DD/<account>_CloudTrail-Digest_
  <region>_<trail>_<home-region>_<YYYYMMDDTHHMMSSZ>.json.gz``; the date folders and the stamp are
  the digest END time (seconds precision);
* the JSON is serialized once (``encode_digest``); those exact bytes are hashed (SHA-256, hex) for
  the string to sign and for the next digest's ``previousDigestHashValue``, and gzip-uploaded;
* string to sign: ``digestEndTime \\n bucket/key \\n sha256(bytes) \\n previousDigestSignature``
  (the 4 characters ``null`` for a starting digest), UTF-8, no trailing newline;
* times are UTC ``YYYY-MM-DDTHH:MM:SSZ``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

HASH_ALGORITHM = "SHA-256"
SIGNATURE_ALGORITHM = "SHA256withRSA"
DIGEST_FOLDER = "CloudTrail-Digest"
KEY_STAMP = "%Y%m%dT%H%M%SZ"
ISO = "%Y-%m-%dT%H:%M:%SZ"


def iso(epoch: float) -> str:
    """``YYYY-MM-DDTHH:MM:SSZ`` of an epoch time (truncated to the second)."""
    return datetime.fromtimestamp(int(epoch), UTC).strftime(ISO)


def parse_iso(text: str) -> float:
    return datetime.strptime(text, ISO).replace(tzinfo=UTC).timestamp()


def digest_prefix(prefix: str | None, account: str, region: str) -> str:
    """The folder of a region's digests: ``[prefix/]AWSLogs/<account>/CloudTrail-Digest/<region>/``."""
    head = f"{prefix.rstrip('/')}/" if prefix and prefix.rstrip("/") else ""  # as log file keys (delivery)
    return f"{head}AWSLogs/{account}/{DIGEST_FOLDER}/{region}/"


def digest_key(prefix: str | None, account: str, region: str, trail: str, home_region: str, end: float) -> str:
    moment = datetime.fromtimestamp(int(end), UTC)
    name = f"{account}_{DIGEST_FOLDER}_{region}_{trail}_{home_region}_{moment.strftime(KEY_STAMP)}.json.gz"
    return f"{digest_prefix(prefix, account, region)}{moment:%Y/%m/%d}/{name}"


def digest_key_regex(prefix: str | None, account: str, region: str, trail: str, home_region: str) -> re.Pattern[str]:
    """The keys of one trail's standard digests in one region (as the AWS CLI filters its listing)."""
    head = re.escape(f"{prefix.rstrip('/')}/") if prefix and prefix.rstrip("/") else ""
    account, region, trail, home = (re.escape(v) for v in (account, region, trail, home_region))
    return re.compile(
        rf"^{head}AWSLogs/{account}/CloudTrail\-Digest/{region}/\d+/\d+/\d+/"
        rf"{account}_CloudTrail\-Digest_{region}_{trail}_{home}_(\d{{8}}T\d{{6}}Z)\.json\.gz$"
    )


def key_stamp(key: str) -> str:
    """The ``YYYYMMDDTHHMMSSZ`` end stamp in a standard digest key."""
    return key[-24:-8]


def stamp_epoch(stamp: str) -> float:
    return datetime.strptime(stamp, KEY_STAMP).replace(tzinfo=UTC).timestamp()


@dataclass(frozen=True)
class Previous:
    """What the next digest records of the one before it."""

    bucket: str
    key: str
    hash: str
    signature: str


def build_digest(
    *,
    account: str,
    start: float,
    end: float,
    bucket: str,
    key: str,
    fingerprint: str,
    previous: Previous | None,
    log_files: list[dict[str, Any]],
) -> dict[str, Any]:
    """The digest document (fields in AWS's order); ``log_files`` are ``delivery.log_file`` docs."""
    entries = [
        {
            "s3Bucket": f["bucket"],
            "s3Object": f["key"],
            "hashValue": f["sha256"].lower(),
            "hashAlgorithm": HASH_ALGORITHM,
            "newestEventTime": f["newest_event_time"],
            "oldestEventTime": f["oldest_event_time"],
        }
        for f in log_files
    ]
    return {
        "awsAccountId": account,
        "digestStartTime": iso(start),
        "digestEndTime": iso(end),
        "digestS3Bucket": bucket,
        "digestS3Object": key,
        "digestPublicKeyFingerprint": fingerprint,
        "digestSignatureAlgorithm": SIGNATURE_ALGORITHM,
        "newestEventTime": max((e["newestEventTime"] for e in entries), default=None),
        "oldestEventTime": min((e["oldestEventTime"] for e in entries), default=None),
        "previousDigestS3Bucket": previous.bucket if previous else None,
        "previousDigestS3Object": previous.key if previous else None,
        "previousDigestHashValue": previous.hash if previous else None,
        "previousDigestHashAlgorithm": HASH_ALGORITHM if previous else None,
        "previousDigestSignature": previous.signature if previous else None,
        "logFiles": entries,
    }


def encode_digest(digest: dict[str, Any]) -> bytes:
    """The one serialization of a digest: these bytes are hashed, signed over and uploaded."""
    return orjson.dumps(digest)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def string_to_sign(digest: dict[str, Any], raw: bytes) -> bytes:
    """Reference 4.4: end time, ``bucket/key``, SHA-256 of the stored bytes, previous signature or ``null``."""
    previous = digest.get("previousDigestSignature")
    return (
        f"{digest['digestEndTime']}\n{digest['digestS3Bucket']}/{digest['digestS3Object']}\n"
        f"{sha256_hex(raw)}\n{previous if previous is not None else 'null'}"
    ).encode()
