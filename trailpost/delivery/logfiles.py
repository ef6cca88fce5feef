"""Log files: their object keys and names, their content, and how records are written into files.

Key layout (reference 3.1)::

    [<prefix>/]AWSLogs/<account>/CloudTrail/<region>/<YYYY>/<MM>/<DD>/
        <account>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<UniqueString>.json.gz

* the date folders and the ``YYYYMMDDTHHmmZ`` stamp are the **delivery** time in UTC;
* ``UniqueString`` is 16 random letters and digits (meaningless, avoids overwrites);
* a key prefix is used as given, with one ``/`` between it and ``AWSLogs`` (a trailing ``/`` of the
  prefix is not doubled), as the bucket policy resource ``<bucket>/<prefix>/AWSLogs/<account>/*``.

Content (reference 3.2): ``{"Records":[...]}`` in compact JSON whose records are the stored record
JSON bytes exactly as the event store holds them (never re-serialized), gzip-compressed by ISA-L
(``isal``) at ``GZIP_LEVEL`` 2, its default (about seven times the speed of zlib's fastest levels
for files about 3 % larger; docs/decisions.md, "Delivery: deflate by ISA-L"; what AWS uses is not
specified). The JSON is never made in one piece: ``FileWriter`` streams each region's records
through deflate and SHA-256 as a pass reads them. One file holds one account and one region.
``delivery_max_file_bytes`` caps a file's uncompressed JSON; a single record larger than the cap
goes alone into a file of its own (a record is never split). A file is named, and its gzip header
dated, when it is put (``build_log_file``).
The digest needs the SHA-256 of the uncompressed bytes and the oldest and newest ``eventTime``.
"""

from __future__ import annotations

import hashlib
import operator
import re
import secrets
import string
import struct
import time
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import accumulate, repeat

from isal import isal_zlib

ALPHANUMERIC = string.ascii_letters + string.digits
UNIQUE_LENGTH = 16
HEAD, TAIL, COMMA = b'{"Records":[', b"]}", b","
EMPTY_SIZE = len(HEAD) + len(TAIL)
CONTENT_TYPE = "application/json"
CONTENT_ENCODING = "gzip"
GZIP_LEVEL = 2  # ISA-L's levels are 0-3
_GZIP_HEADER, _GZIP_TRAILER = struct.Struct("<BBBBLBB"), struct.Struct("<LL")
_XFL = {0: 4}  # the gzip header's "extra flags": "fastest" for level 0, as ``isal.igzip`` writes
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
class FileBody:
    """One log file's content, compressed and not yet named: the raw deflate stream of its JSON and
    what the gzip trailer, the digest and the cursor need."""

    region: str
    epoch: int  # the trail's logging_epoch the records were logged under
    deflated: bytes
    crc: int  # CRC-32 and length of the uncompressed JSON, for the gzip trailer
    size: int
    sha256: str  # of the uncompressed JSON (what digest files hash)
    events: int
    oldest: int
    newest: int
    last_seq: int


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


class FileWriter:
    """The log files of one region in one logging session, written while the records arrive.

    ``add`` takes the region's next records in stream order (parallel lists of positions, times and
    JSON bytes, a scanned chunk's worth), which go at once through SHA-256, CRC-32 and deflate into
    the file being written, which is closed when the next record would take its JSON past ``limit``
    bytes (a record that alone exceeds ``limit`` goes alone). So a pass holds each region's
    compressed output, never its records: memory stays at a chunk of rows plus a seventh of the JSON.

    The cuts are found without a call per record: within a chunk, records ``[i, j)`` add
    ``ends[j] - ends[i]`` bytes to a file (``ends[k]``: the first ``k`` records' lengths plus one
    comma each), so where the file fills up is a bisection. This is the greedy cut, the same
    wherever the chunks begin and end (a test pins both). ``close`` ends the open file and returns
    every file, in order.
    """

    def __init__(self, region: str, epoch: int, limit: int) -> None:
        self.region, self.epoch, self.limit = region, epoch, limit
        self.files: list[FileBody] = []
        self._open: _OpenFile | None = None

    def add(self, seqs: list[int], times: list[int], records: list[bytes]) -> None:
        """Write the next records (positions, whole-second times, JSON bytes), closing files as they fill."""
        ends = list(accumulate(map(operator.add, map(len, records), repeat(1)), initial=0))
        start, count = 0, len(records)
        while start < count:
            if self._open is not None:  # the open file takes what fits after a comma each
                end = max(bisect_right(ends, ends[start] + self.limit - self._open.size, start) - 1, start)
                if end > start:  # the empty first element puts a comma before them
                    self._open.write(COMMA.join([b"", *records[start:end]]), times[start:end], seqs[end - 1])
            else:  # a new file takes at least one record
                end = max(bisect_right(ends, ends[start] + self.limit - EMPTY_SIZE + 1, start + 1) - 1, start + 1)
                self._open = _OpenFile()
                self._open.write(COMMA.join(records[start:end]), times[start:end], seqs[end - 1])
            if end < count:
                self._finish()
            start = end

    def close(self) -> list[FileBody]:
        """End the open file; every file written, in order."""
        if self._open is not None:
            self._finish()
        return self.files

    def _finish(self) -> None:
        done, self._open = self._open, None  # its deflate state (~0.4 MB in ISA-L) goes with it
        assert done is not None
        self.files.append(done.finish(self.region, self.epoch))


class _OpenFile:
    """The file a ``FileWriter`` is writing: its JSON so far went through SHA-256, CRC-32 and deflate."""

    def __init__(self) -> None:
        self.deflate = isal_zlib.compressobj(GZIP_LEVEL, isal_zlib.DEFLATED, -isal_zlib.MAX_WBITS)
        self.digest = hashlib.sha256()
        self.digest.update(HEAD)
        self.pieces = [self.deflate.compress(HEAD)]
        self.crc, self.size, self.count, self.last_seq = isal_zlib.crc32(HEAD), EMPTY_SIZE, 0, 0
        self.oldest, self.newest = 2**63, -(2**63)

    def write(self, piece: bytes, times: list[int], last_seq: int) -> None:
        """``piece`` of JSON, holding the records of ``times`` (whole seconds) up to ``last_seq``."""
        self.digest.update(piece)
        self.crc = isal_zlib.crc32(piece, self.crc)
        self.size += len(piece)
        self.pieces.append(self.deflate.compress(piece))
        self.count += len(times)
        self.oldest, self.newest = min(self.oldest, *times), max(self.newest, *times)
        self.last_seq = last_seq

    def finish(self, region: str, epoch: int) -> FileBody:
        self.digest.update(TAIL)
        self.crc = isal_zlib.crc32(TAIL, self.crc)
        self.pieces += (self.deflate.compress(TAIL), self.deflate.flush())
        deflated = b"".join(self.pieces)
        return FileBody(
            region,
            epoch,
            deflated,
            self.crc,
            self.size,
            self.digest.hexdigest(),
            self.count,
            self.oldest,
            self.newest,
            self.last_seq,
        )


def gzip_file(body: FileBody, mtime: int) -> bytes:
    """The gzip file of ``body``: header (with ``mtime``), its deflate stream, CRC-32 and length, as
    ``isal.igzip`` and the standard library's ``gzip`` write a member."""
    header = _GZIP_HEADER.pack(0x1F, 0x8B, 8, 0, mtime, _XFL.get(GZIP_LEVEL, 0), 255)
    return b"".join((header, body.deflated, _GZIP_TRAILER.pack(body.crc, body.size & 0xFFFFFFFF)))


def build_log_file(body: FileBody, prefix: str | None, account: str, delivered: float) -> LogFile:
    """The log file of ``body``, named for delivery at ``delivered``."""
    return LogFile(
        region=body.region,
        key=log_file_key(prefix, account, body.region, delivered),
        body=gzip_file(body, int(delivered)),
        sha256=body.sha256,
        events=body.events,
        oldest_event_time=iso_time(body.oldest),
        newest_event_time=iso_time(body.newest),
        last_seq=body.last_seq,
        epoch=body.epoch,
    )


def write_files(records: Iterable[tuple[int, int, bytes]], region: str, limit: int, epoch: int = 0) -> list[FileBody]:
    """``(seq, event_time, record)`` items, in order, written into files of at most ``limit`` JSON bytes."""
    writer = FileWriter(region, epoch, limit)
    items = list(records)
    if items:
        seqs, times, blobs = (list(column) for column in zip(*items, strict=True))
        writer.add(seqs, times, blobs)
    return writer.close()
