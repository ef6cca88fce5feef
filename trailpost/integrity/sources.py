"""Where ``trailpost validate-logs`` reads digests, log files, public keys and trail facts from.

* ``S3Source``: the bucket over the S3 API with boto3 (the user's profile, credentials, region and
  ``--endpoint-url``, as the AWS CLI would use them); a missing object is ``None``.
* ``LocalSource``: a directory holding a copy of the bucket, one file per key (what
  ``aws s3 sync s3://bucket DIR`` writes). A copy made that way has no S3 user metadata, so a
  digest's signature is read from ``<key>.metadata.json`` beside it (``{"signature": ...,
  "signature-algorithm": ...}``, as ``--save-to`` writes it); without it the validator takes the
  signature the next digest of the chain recorded (``previousDigestSignature``).
* Public keys come from ``ListPublicKeys`` (``api_public_keys``) or from a file
  (``file_public_keys``): the JSON ``aws cloudtrail list-public-keys`` prints (``PublicKeyList``
  with base64 ``Value``s), or a JSON list of such entries.
* ``Saver`` keeps a copy of every object read (``--save-to``), with the metadata sidecars, so the
  copy can be validated again offline.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import orjson

METADATA_SUFFIX = ".metadata.json"


@dataclass(frozen=True)
class Fetched:
    body: bytes
    metadata: dict[str, str]


class ObjectSource(Protocol):
    def list_keys(self, bucket: str, prefix: str, start_after: str) -> Iterator[str]: ...

    def get(self, bucket: str, key: str) -> Fetched | None: ...


class S3Source:
    """A bucket over the S3 API (boto3)."""

    def __init__(self, session: Any, region: str | None, endpoint_url: str | None) -> None:
        import botocore.config

        self.client = session.client(
            "s3",
            region_name=region,
            endpoint_url=endpoint_url,
            config=botocore.config.Config(max_pool_connections=16, retries={"max_attempts": 3}),
        )

    def list_keys(self, bucket: str, prefix: str, start_after: str) -> Iterator[str]:
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix, StartAfter=start_after):
            for item in page.get("Contents", []):
                yield item["Key"]

    def get(self, bucket: str, key: str) -> Fetched | None:
        try:
            response = self.client.get_object(Bucket=bucket, Key=key)
        except self.client.exceptions.NoSuchKey:
            return None
        return Fetched(response["Body"].read(), dict(response.get("Metadata") or {}))


class LocalSource:
    """A directory copy of the bucket: ``DIR/<key>`` (every bucket name maps to the same directory)."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def _path(self, key: str) -> Path | None:
        path = (self.root / key).resolve()
        return path if path.is_relative_to(self.root) else None

    def list_keys(self, bucket: str, prefix: str, start_after: str) -> Iterator[str]:
        base = self.root / prefix.rsplit("/", 1)[0] if "/" in prefix else self.root
        if not base.is_dir():
            return
        keys = []
        for dirpath, _dirs, files in os.walk(base):
            for name in files:
                if name.endswith(METADATA_SUFFIX):
                    continue
                key = Path(dirpath, name).relative_to(self.root).as_posix()
                if key.startswith(prefix) and key > start_after:
                    keys.append(key)
        yield from sorted(keys)

    def get(self, bucket: str, key: str) -> Fetched | None:
        path = self._path(key)
        if path is None or not path.is_file():
            return None
        metadata: dict[str, str] = {}
        sidecar = path.with_name(path.name + METADATA_SUFFIX)
        if sidecar.is_file():
            metadata = {str(k): str(v) for k, v in orjson.loads(sidecar.read_bytes()).items()}
        return Fetched(path.read_bytes(), metadata)


class Saver:
    """Writes every object read into ``root`` (``root/<key>`` and its metadata sidecar)."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def save(self, key: str, fetched: Fetched) -> None:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root):
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(fetched.body)
        if fetched.metadata:
            path.with_name(path.name + METADATA_SUFFIX).write_bytes(orjson.dumps(fetched.metadata))


def api_public_keys(client: Any, start: datetime, end: datetime) -> dict[str, dict[str, Any]]:
    """Fingerprint -> key entry, from ``ListPublicKeys`` (the ``Value`` as DER bytes)."""
    keys: dict[str, dict[str, Any]] = {}
    params: dict[str, Any] = {"StartTime": start, "EndTime": end}
    while True:
        answer = client.list_public_keys(**params)
        for entry in answer.get("PublicKeyList", []):
            keys[entry["Fingerprint"]] = entry
        if not answer.get("NextToken"):
            return keys
        params["NextToken"] = answer["NextToken"]


def file_public_keys(path: Path) -> dict[str, dict[str, Any]]:
    """Fingerprint -> key entry from a saved ``list-public-keys`` answer (base64 ``Value``s)."""
    data = orjson.loads(path.read_bytes())
    entries = data.get("PublicKeyList", []) if isinstance(data, dict) else data
    keys = {}
    for entry in entries:
        value = entry["Value"]
        entry = {**entry, "Value": base64.b64decode(value) if isinstance(value, str) else value}
        keys[entry["Fingerprint"]] = entry
    return keys
