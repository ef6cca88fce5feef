"""Log files: their object keys and names, their content, and how a batch of records is cut into files.

Key layout (reference 3.1)::

    [<prefix>/]AWSLogs/<account>/CloudTrail/<region>/<YYYY>/<MM>/<DD>/
        <account>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<UniqueString>.json.gz

* the date folders and the ``YYYYMMDDTHHmmZ`` stamp are the **delivery** time in UTC;
* ``UniqueString`` is 16 random letters and digits (meaningless, avoids overwrites);
* a key prefix is used as given, with one ``/`` between it and ``AWSLogs`` (a trailing ``/`` of the
  prefix is not doubled), as the bucket policy resource ``<bucket>/<prefix>/AWSLogs/<account>/*``.

Content (reference 3.2): ``{"Records":[...]}`` in compact JSON whose records are the stored record
JSON bytes exactly as the event store holds them (never re-serialized), gzip-compressed at
``GZIP_LEVEL`` 3 (zlib's fastest strategy with its best ratio: about 2.2 times the speed of level 6
for files about 23 % larger; what AWS uses is not specified), the parts of the JSON streamed through
deflate and SHA-256 without joining them. One file holds one account and one region.
``delivery_max_file_bytes`` caps a file's uncompressed JSON; a single record larger than the cap
goes alone into a file of its own (a record is never split; ``cut`` finds the cuts by bisection).
The digest needs the SHA-256 of the uncompressed bytes and the oldest and newest ``eventTime``.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import string
import struct
import time
import zlib
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import accumulate, repeat
from operator import add

ALPHANUMERIC = string.ascii_letters + string.digits
UNIQUE_LENGTH = 16
HEAD, TAIL, COMMA = b'{"Records":[', b"]}", b","
EMPTY_SIZE = len(HEAD) + len(TAIL)
CONTENT_TYPE = "application/json"
CONTENT_ENCODING = "gzip"
GZIP_LEVEL = 3
_GZIP_HEADER, _GZIP_TRAILER = struct.Struct("<BBBBLBB"), struct.Struct("<LL")
_XFL = {9: 2, 1: 4}  # the gzip header's "extra flags": slowest / fastest compression
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


def gzip_member(parts: Iterable[bytes], mtime: int) -> bytes:
    """The gzip file of the concatenated ``parts`` at ``GZIP_LEVEL``, byte for byte what
    ``gzip.compress(b"".join(parts), GZIP_LEVEL, mtime=mtime)`` gives (a test pins it) without
    joining them: header, raw deflate stream, CRC-32 and length."""
    deflate = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS)
    pieces = [_GZIP_HEADER.pack(0x1F, 0x8B, 8, 0, mtime, _XFL.get(GZIP_LEVEL, 0), 255)]
    crc = size = 0
    for part in parts:
        crc = zlib.crc32(part, crc)
        size += len(part)
        pieces.append(deflate.compress(part))
    pieces.append(deflate.flush())
    pieces.append(_GZIP_TRAILER.pack(crc, size & 0xFFFFFFFF))
    return b"".join(pieces)


def build_log_file(batch: Batch, prefix: str | None, account: str, delivered: float) -> LogFile:
    """The log file of a non-empty batch, named for delivery at ``delivered``.

    The uncompressed JSON (``encode(batch.records)``) is never made in one piece: its three parts
    (head, the records joined by commas, tail) go through SHA-256 and deflate one after another,
    which saves two copies of the whole file."""
    assert batch.records and batch.oldest is not None and batch.newest is not None
    parts = (HEAD, COMMA.join(batch.records), TAIL)
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part)
    return LogFile(
        region=batch.region,
        key=log_file_key(prefix, account, batch.region, delivered),
        body=gzip_member(parts, int(delivered)),
        sha256=digest.hexdigest(),
        events=len(batch.records),
        oldest_event_time=iso_time(batch.oldest),
        newest_event_time=iso_time(batch.newest),
        last_seq=batch.last_seq,
        epoch=batch.epoch,
    )


def split(records: Iterable[tuple[int, int, bytes]], region: str, limit: int, epoch: int = 0) -> Iterator[Batch]:
    """Cut ``(seq, event_time, record)`` items, in order, into batches of at most ``limit`` JSON bytes."""
    items = list(records)
    if items:
        seqs, times, blobs = (list(column) for column in zip(*items, strict=True))
        yield from cut(seqs, times, blobs, region, limit, epoch)


def cut(seqs: list[int], times: list[int], records: list[bytes], region: str, limit: int, epoch: int) -> list[Batch]:
    """Records in order (parallel lists of positions, times, JSON bytes) cut into batches of at most
    ``limit`` JSON bytes, each as full as it can be (a record that alone exceeds ``limit`` goes
    alone), with no call per record: the batch ``records[i:j]`` holds ``EMPTY_SIZE + ends[j] -
    ends[i] - 1`` bytes, where ``ends[k]`` is the length of the first ``k`` records plus ``k``
    commas, so the end of each batch is a bisection."""
    ends = list(accumulate(map(add, map(len, records), repeat(1)), initial=0))
    batches: list[Batch] = []
    start, count = 0, len(records)
    room = limit - EMPTY_SIZE + 1
    while start < count:
        end = max(bisect_right(ends, ends[start] + room, start + 1) - 1, start + 1)
        span = times[start:end]
        batches.append(
            Batch(
                region,
                epoch,
                records[start:end],
                EMPTY_SIZE + ends[end] - ends[start] - 1,
                min(span),
                max(span),
                seqs[end - 1],
            )
        )
        start = end
    return batches
