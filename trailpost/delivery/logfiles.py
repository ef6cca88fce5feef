"""Log files: their object keys and names, their content, and how a batch of records is cut into files.

Key layout (reference 3.1)::

    [<prefix>/]AWSLogs/<account>/CloudTrail/<region>/<YYYY>/<MM>/<DD>/
        <account>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<UniqueString>.json.gz

* the date folders and the ``YYYYMMDDTHHmmZ`` stamp are the **delivery** time in UTC;
* ``UniqueString`` is 16 random letters and digits (meaningless, avoids overwrites);
* a key prefix is used as given, with one ``/`` between it and ``AWSLogs`` (a trailing ``/`` of the
  prefix is not doubled), as the bucket policy resource ``<bucket>/<prefix>/AWSLogs/<account>/*``.

Content (reference 3.2): ``{"Records":[...]}`` in compact JSON whose records are the stored record
JSON bytes exactly as the event store holds them (never re-serialized), gzip-compressed. One file
holds one account and one region. ``delivery_max_file_bytes`` caps a file's uncompressed JSON; a
single record larger than the cap goes alone into a file of its own (a record is never split).
The digest needs the SHA-256 of the uncompressed bytes and the oldest and newest ``eventTime``.
"""

from __future__ import annotations

import gzip
import hashlib
import re
import secrets
import string
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

ALPHANUMERIC = string.ascii_letters + string.digits
UNIQUE_LENGTH = 16
HEAD, TAIL, COMMA = b'{"Records":[', b"]}", b","
EMPTY_SIZE = len(HEAD) + len(TAIL)
CONTENT_TYPE = "application/json"
CONTENT_ENCODING = "gzip"
GZIP_LEVEL = 6
KEY_PATTERN = re.compile(
    r"^(?:(?P<prefix>.+)/)?AWSLogs/(?P<account>\d{12})/CloudTrail/(?P<region>[a-z0-9-]+)/"
    r"(?P<year>\d{4})/(?P<month>\d{2})/(?P<day>\d{2})/"
    r"(?P=account)_CloudTrail_(?P=region)_(?P=year)(?P=month)(?P=day)T(?P<hour>\d{2})(?P<minute>\d{2})Z_"
    r"(?P<unique>[A-Za-z0-9]{16})\.json\.gz$"
)


def unique_string() -> str:
    """16 random letters and digits."""
    return "".join(secrets.choice(ALPHANUMERIC) for _ in range(UNIQUE_LENGTH))


def log_file_key(prefix: str | None, account: str, region: str, delivered: float, unique: str | None = None) -> str:
    """The object key of a log file delivered at ``delivered`` (epoch seconds)."""
    at = time.gmtime(delivered)
    day = time.strftime("%Y/%m/%d", at)
    stamp = time.strftime("%Y%m%dT%H%MZ", at)
    head = f"{prefix.rstrip('/')}/" if prefix and prefix.rstrip("/") else ""
    name = f"{account}_CloudTrail_{region}_{stamp}_{unique or unique_string()}.json.gz"
    return f"{head}AWSLogs/{account}/CloudTrail/{region}/{day}/{name}"


def iso_time(epoch: int) -> str:
    """Whole epoch seconds as ``YYYY-MM-DDTHH:MM:SSZ``."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


@dataclass
class Batch:
    """Records of one account and region on their way into one log file."""

    region: str
    epoch: int  # the trail's logging_epoch the records were logged under
    records: list[bytes] = field(default_factory=list)
    size: int = EMPTY_SIZE
    oldest: int | None = None
    newest: int | None = None
    last_seq: int = 0

    def fits(self, record: bytes, limit: int) -> bool:
        """Whether ``record`` can join without the JSON exceeding ``limit`` (an empty batch takes anything)."""
        return not self.records or self.size + len(record) + len(COMMA) <= limit

    def add(self, seq: int, event_time: int, record: bytes) -> None:
        if self.records:
            self.size += len(COMMA)
        self.records.append(record)
        self.size += len(record)
        self.oldest = event_time if self.oldest is None else min(self.oldest, event_time)
        self.newest = event_time if self.newest is None else max(self.newest, event_time)
        self.last_seq = seq

    def __len__(self) -> int:
        return len(self.records)


@dataclass(frozen=True)
class LogFile:
    """A log file ready to put: its key, gzip body and what the digest and the cursor need."""

    region: str
    key: str
    body: bytes
    sha256: str
    events: int
    oldest_event_time: str
    newest_event_time: str
    last_seq: int
    epoch: int


def encode(records: Iterable[bytes]) -> bytes:
    """``{"Records":[...]}`` of already-serialized records."""
    return HEAD + COMMA.join(records) + TAIL


def build_log_file(batch: Batch, prefix: str | None, account: str, delivered: float) -> LogFile:
    """The log file of a non-empty batch, named for delivery at ``delivered``."""
    assert batch.records and batch.oldest is not None and batch.newest is not None
    data = encode(batch.records)
    return LogFile(
        region=batch.region,
        key=log_file_key(prefix, account, batch.region, delivered),
        body=gzip.compress(data, compresslevel=GZIP_LEVEL, mtime=int(delivered)),
        sha256=hashlib.sha256(data).hexdigest(),
        events=len(batch.records),
        oldest_event_time=iso_time(batch.oldest),
        newest_event_time=iso_time(batch.newest),
        last_seq=batch.last_seq,
        epoch=batch.epoch,
    )


def split(records: Iterable[tuple[int, int, bytes]], region: str, limit: int, epoch: int = 0) -> Iterator[Batch]:
    """Cut ``(seq, event_time, record)`` items, in order, into batches of at most ``limit`` JSON bytes."""
    batch = Batch(region, epoch)
    for seq, event_time, record in records:
        if not batch.fits(record, limit):
            yield batch
            batch = Batch(region, epoch)
        batch.add(seq, event_time, record)
    if batch.records:
        yield batch
