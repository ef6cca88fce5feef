"""Builds a bucket copy in a directory (log files + a signed digest chain) for validator tests."""

from __future__ import annotations

import base64
import gzip
import hashlib
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from trailpost.delivery.signing import KeyRing
from trailpost.integrity.digest_format import Previous, build_digest, digest_key, encode_digest, iso, string_to_sign
from trailpost.integrity.sources import METADATA_SUFFIX

ACCOUNT, REGION, TRAIL, BUCKET = "123456789012", "us-east-1", "audit", "trail-bucket"
ARN = f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/{TRAIL}"
T0 = 1_700_000_000  # 2023-11-14T22:13:20Z
PERIOD = 3600


def record(at: float, name: str = "ListSites") -> dict[str, Any]:
    return {
        "eventVersion": "1.11",
        "eventTime": iso(at),
        "eventSource": "outposts.amazonaws.com",
        "eventName": name,
        "awsRegion": REGION,
        "eventID": str(uuid.uuid4()),
        "recipientAccountId": ACCOUNT,
    }


@dataclass
class Bucket:
    """A directory copy of a trail bucket and the keys that signed its digests."""

    root: Path
    ring: KeyRing
    digests: list[str] = field(default_factory=list)
    logs: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def put(self, key: str, body: bytes, metadata: dict[str, str] | None = None) -> None:
        path = self.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
        if metadata:
            path.with_name(path.name + METADATA_SUFFIX).write_bytes(orjson.dumps(metadata))

    def log_file(self, at: float, events: int) -> dict[str, Any]:
        records = [record(at - 30 + i) for i in range(events)]
        raw = orjson.dumps({"Records": records})
        day = iso(at)[:10].replace("-", "/")
        stamp = iso(at)[:16].replace("-", "").replace(":", "")
        name = f"{ACCOUNT}_CloudTrail_{REGION}_{stamp}Z_{uuid.uuid4().hex[:16]}"
        key = f"AWSLogs/{ACCOUNT}/CloudTrail/{REGION}/{day}/{name}.json.gz"
        self.put(key, gzip.compress(raw))
        self.logs[key] = records
        return {
            "bucket": BUCKET,
            "key": key,
            "sha256": hashlib.sha256(raw).hexdigest(),
            "oldest_event_time": records[0]["eventTime"],
            "newest_event_time": records[-1]["eventTime"],
        }

    def chain(self, periods: list[int], start: float = T0, previous: Previous | None = None) -> Previous | None:
        """One digest per period; ``periods[i]`` log files (of 3 events) delivered in period i."""
        for i, files in enumerate(periods):
            begin, end = start + i * PERIOD, start + (i + 1) * PERIOD
            logs = [self.log_file(begin + 60 * (n + 1), 3) for n in range(files)]
            key = digest_key(None, ACCOUNT, REGION, TRAIL, REGION, end)
            signer = self.ring.current(REGION, end)
            digest = build_digest(
                account=ACCOUNT,
                start=begin,
                end=end,
                bucket=BUCKET,
                key=key,
                fingerprint=signer.fingerprint,
                previous=previous,
                log_files=logs,
            )
            raw = encode_digest(digest)
            signature = signer.sign(string_to_sign(digest, raw))
            self.put(key, gzip.compress(raw), {"signature": signature, "signature-algorithm": "SHA256withRSA"})
            self.digests.append(key)
            previous = Previous(BUCKET, key, hashlib.sha256(raw).hexdigest(), signature)
        return previous

    def public_keys_file(self, path: Path, region: str = REGION) -> Path:
        entries = [
            {
                "Value": base64.b64encode(k.public_der).decode(),
                "ValidityStartTime": k.validity_start,
                "ValidityEndTime": k.validity_end,
                "Fingerprint": k.fingerprint,
            }
            for k in self.ring.keys(region)
        ]
        path.write_bytes(orjson.dumps({"PublicKeyList": entries}))
        return path
