"""Where a trail's files go: a bucket of trailpost's embedded S3, or one on an external S3 endpoint.

``open_destination(settings, storage, bucket)`` answers the ``Destination`` of a bucket name (shared
contract 3), or ``None`` when the bucket exists nowhere. A bucket named in
``settings.external_buckets_file`` is external (the mapping is explicit configuration, so it wins
over an embedded bucket of the same name); otherwise an embedded bucket of that name is local.

The external file is JSON, one entry per bucket::

    {"trail-logs": {"endpoint_url": "https://s3.example.net", "region": "eu-west-1",
                    "access_key_id": "...", "secret_access_key": "...", "session_token": "...",
                    "addressing_style": "path"}}

``endpoint_url`` (http or https) is required; ``region`` defaults to ``us-east-1``; the access key
id and secret come together or not at all (then botocore's own credential chain decides);
``session_token`` is optional; ``addressing_style`` is ``path`` (default), ``virtual`` or ``auto``.
Unknown fields are refused so that a typo is not silently ignored. ``load_external_buckets`` raises
``ValueError`` naming the file and the bucket at fault; ``server.create_app`` calls it at startup
(a malformed file is a startup error). Later, the file is re-read when it changes; a change that
does not parse is logged and the last good mapping stays in use.

Rules of the destinations:

* every method may be called from a worker thread (boto3 clients are thread-safe; each client is
  made once per bucket entry, under a lock);
* failures of ``put``/``get``/``list`` raise ``DeliveryError`` whose ``code`` is the S3 error code
  (``NoSuchBucket``, ``AccessDenied``...), or ``ServiceUnavailable`` when the endpoint cannot be
  reached; the message has the details for the server log;
* external requests have short timeouts and at most two attempts, so a dead endpoint costs seconds,
  never minutes;
* ``exists()`` is ``False`` only when the bucket is known not to exist (embedded: no bucket;
  external: the endpoint answers 404); an unreachable external endpoint counts as existing,
  because the mapping says so and delivery will report the error;
* ``policy()`` is the embedded bucket's policy document; an external bucket's policy is the
  external store's business (its credentials decide), so it is ``None`` there and ``embedded`` is
  ``False``.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import boto3
import botocore.config
import botocore.exceptions
import orjson

log = logging.getLogger("trailpost.delivery")

ADDRESSING_STYLES = ("path", "virtual", "auto")
FIELDS = {"endpoint_url", "region", "access_key_id", "secret_access_key", "session_token", "addressing_style"}
CONNECT_TIMEOUT = 2.0
READ_TIMEOUT = 10.0
MAX_ATTEMPTS = 2
UNREACHABLE = "ServiceUnavailable"


class DeliveryError(Exception):
    """A write or read at a destination failed; ``code`` is the S3 error code shown as LatestDeliveryError."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class Destination(Protocol):
    """A bucket trail files are written to (shared contract 3)."""

    name: str
    embedded: bool

    def exists(self) -> bool: ...

    def policy(self) -> str | None: ...

    def put(
        self,
        key: str,
        body: bytes,
        *,
        metadata: dict[str, str] | None = None,
        content_type: str | None = None,
        content_encoding: str | None = None,
    ) -> None: ...

    def get(self, key: str) -> bytes | None: ...

    def list(self, prefix: str, start_after: str = "", max_keys: int = 1000) -> list[str]: ...


@dataclass(frozen=True)
class ExternalBucket:
    """One validated entry of the external buckets file."""

    bucket: str
    endpoint_url: str
    region: str = "us-east-1"
    access_key_id: str | None = None
    secret_access_key: str | None = None
    session_token: str | None = None
    addressing_style: str = "path"


# -- the external buckets file --------------------------------------------------------------------


def _entry(path: Path, bucket: Any, raw: Any) -> ExternalBucket:
    where = f"{path}: bucket {bucket!r}"
    if not isinstance(bucket, str) or not 3 <= len(bucket) <= 255 or "/" in bucket:
        raise ValueError(f"{where}: not a bucket name (3-255 characters, no '/')")
    if not isinstance(raw, dict):
        raise ValueError(f"{where}: the entry must be a JSON object with at least endpoint_url")
    unknown = sorted(set(raw) - FIELDS)
    if unknown:
        raise ValueError(f"{where}: unknown field(s) {', '.join(unknown)} (allowed: {', '.join(sorted(FIELDS))})")
    for name, value in raw.items():
        if value is not None and not isinstance(value, str):
            raise ValueError(f"{where}: {name} must be a string")
    endpoint = raw.get("endpoint_url")
    if not endpoint:
        raise ValueError(f"{where}: endpoint_url is required")
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{where}: endpoint_url {endpoint!r} is not an http(s) URL")
    key_id, secret = raw.get("access_key_id"), raw.get("secret_access_key")
    if bool(key_id) != bool(secret):
        raise ValueError(f"{where}: give both access_key_id and secret_access_key, or neither")
    style = raw.get("addressing_style") or "path"
    if style not in ADDRESSING_STYLES:
        raise ValueError(f"{where}: addressing_style must be one of {', '.join(ADDRESSING_STYLES)}")
    return ExternalBucket(
        bucket=bucket,
        endpoint_url=endpoint,
        region=raw.get("region") or "us-east-1",
        access_key_id=key_id or None,
        secret_access_key=secret or None,
        session_token=raw.get("session_token") or None,
        addressing_style=style,
    )


def parse_external_buckets(path: Path, text: bytes) -> dict[str, ExternalBucket]:
    """The entries of an external buckets file's content; ``ValueError`` naming the file and bucket."""
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: must be a JSON object mapping bucket names to endpoints")
    return {bucket: _entry(path, bucket, raw) for bucket, raw in data.items()}


def load_external_buckets(settings: Any) -> dict[str, ExternalBucket]:
    """The external bucket mapping of ``settings`` ({} when none is configured); ``ValueError`` if unusable."""
    path = settings.external_buckets_file
    if path is None:
        return {}
    try:
        text = Path(path).read_bytes()
    except OSError as exc:
        raise ValueError(f"{path}: cannot read the external buckets file: {exc.strerror or exc}") from None
    buckets = parse_external_buckets(Path(path), text)
    with _LOCK:
        _MAPPINGS[str(path)] = (_stamp(Path(path)), buckets)
    return buckets


_LOCK = threading.Lock()
_MAPPINGS: dict[str, tuple[tuple[int, int] | None, dict[str, ExternalBucket]]] = {}
_CLIENTS: dict[ExternalBucket, Any] = {}


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return (info.st_mtime_ns, info.st_size)


def external_buckets(settings: Any) -> dict[str, ExternalBucket]:
    """The current mapping, re-read when the file changed; the last good one if the change is unusable."""
    path = settings.external_buckets_file
    if path is None:
        return {}
    stamp = _stamp(Path(path))
    with _LOCK:
        known = _MAPPINGS.get(str(path))
    if known is not None and known[0] == stamp:
        return known[1]
    try:
        return load_external_buckets(settings)
    except ValueError as exc:
        if known is None:
            raise
        log.warning("%s; keeping the previous external bucket mapping", exc)
        with _LOCK:
            _MAPPINGS[str(path)] = (stamp, known[1])
        return known[1]


def _client(entry: ExternalBucket) -> Any:
    with _LOCK:
        client = _CLIENTS.get(entry)
        if client is None:
            config = botocore.config.Config(
                region_name=entry.region,
                connect_timeout=CONNECT_TIMEOUT,
                read_timeout=READ_TIMEOUT,
                retries={"max_attempts": MAX_ATTEMPTS, "mode": "standard"},
                s3={"addressing_style": entry.addressing_style},
                signature_version="s3v4",
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
            )
            client = _CLIENTS[entry] = boto3.session.Session().client(
                "s3",
                endpoint_url=entry.endpoint_url,
                aws_access_key_id=entry.access_key_id,
                aws_secret_access_key=entry.secret_access_key,
                aws_session_token=entry.session_token,
                config=config,
            )
        return client


# -- the two destinations -------------------------------------------------------------------------


class LocalDestination:
    """A bucket of trailpost's embedded S3 (``BucketStorage``)."""

    embedded = True

    def __init__(self, storage: Any, name: str) -> None:
        self.storage = storage
        self.name = name

    def exists(self) -> bool:
        return self.storage.get_bucket(self.name) is not None

    def policy(self) -> str | None:
        bucket = self.storage.get_bucket(self.name)
        return bucket.get("policy") if bucket else None

    def put(
        self,
        key: str,
        body: bytes,
        *,
        metadata: dict[str, str] | None = None,
        content_type: str | None = None,
        content_encoding: str | None = None,
    ) -> None:
        try:
            self.storage.put_object(
                self.name, key, body, metadata=metadata, content_type=content_type, content_encoding=content_encoding
            )
        except OSError as exc:
            raise DeliveryError("InternalError", f"cannot write {key} into bucket {self.name}: {exc}") from None
        except Exception as exc:
            if type(exc).__name__ == "NoSuchBucket" or self.storage.get_bucket(self.name) is None:
                raise DeliveryError("NoSuchBucket", f"The specified bucket does not exist: {self.name}") from None
            raise

    def get(self, key: str) -> bytes | None:
        stored = self.storage.get_object(self.name, key)
        return None if stored is None else bytes(stored.body)

    def list(self, prefix: str, start_after: str = "", max_keys: int = 1000) -> list[str]:
        if self.storage.get_bucket(self.name) is None:
            raise DeliveryError("NoSuchBucket", f"The specified bucket does not exist: {self.name}")
        return [item.key for item in self.storage.list_objects(self.name, prefix, start_after, max_keys)]


def _failure(exc: Exception, bucket: str) -> DeliveryError:
    if isinstance(exc, botocore.exceptions.ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code") or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or "Unknown")
        if code == "404":
            code = "NoSuchBucket"
        elif code == "403":
            code = "AccessDenied"
        return DeliveryError(code, f"bucket {bucket}: {error.get('Message') or exc}")
    return DeliveryError(UNREACHABLE, f"bucket {bucket}: {exc}")


_NETWORK_ERRORS = (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError, OSError)


class ExternalDestination:
    """A bucket on an external S3-compatible endpoint, written through boto3."""

    embedded = False

    def __init__(self, entry: ExternalBucket) -> None:
        self.entry = entry
        self.name = entry.bucket

    @property
    def client(self) -> Any:
        return _client(self.entry)

    def exists(self) -> bool:
        try:
            self.client.head_bucket(Bucket=self.name)
        except botocore.exceptions.ClientError as exc:
            # 403: it exists but these credentials may not look at it; delivery will tell.
            return _failure(exc, self.name).code not in ("NoSuchBucket", "NotFound")
        except _NETWORK_ERRORS as exc:
            log.warning("external bucket %s at %s cannot be reached: %s", self.name, self.entry.endpoint_url, exc)
        return True

    def policy(self) -> str | None:
        return None

    def put(
        self,
        key: str,
        body: bytes,
        *,
        metadata: dict[str, str] | None = None,
        content_type: str | None = None,
        content_encoding: str | None = None,
    ) -> None:
        extra: dict[str, Any] = {"ACL": "bucket-owner-full-control"}
        if metadata:
            extra["Metadata"] = metadata
        if content_type:
            extra["ContentType"] = content_type
        if content_encoding:
            extra["ContentEncoding"] = content_encoding
        try:
            self.client.put_object(Bucket=self.name, Key=key, Body=body, **extra)
        except _NETWORK_ERRORS as exc:
            raise _failure(exc, self.name) from None

    def get(self, key: str) -> bytes | None:
        try:
            return bytes(self.client.get_object(Bucket=self.name, Key=key)["Body"].read())
        except botocore.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise _failure(exc, self.name) from None
        except _NETWORK_ERRORS as exc:
            raise _failure(exc, self.name) from None

    def list(self, prefix: str, start_after: str = "", max_keys: int = 1000) -> list[str]:
        args: dict[str, Any] = {"Bucket": self.name, "Prefix": prefix, "MaxKeys": max_keys}
        if start_after:
            args["StartAfter"] = start_after
        try:
            answer = self.client.list_objects_v2(**args)
        except _NETWORK_ERRORS as exc:
            raise _failure(exc, self.name) from None
        return [item["Key"] for item in answer.get("Contents", [])]


def open_destination(settings: Any, storage: Any, bucket: str) -> Destination | None:
    """The destination of ``bucket``: external if the external file maps it, else embedded if it exists."""
    entry = external_buckets(settings).get(bucket)
    if entry is not None:
        return ExternalDestination(entry)
    if storage is not None and storage.get_bucket(bucket) is not None:
        return LocalDestination(storage, bucket)
    return None
