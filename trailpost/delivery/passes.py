"""One delivery pass of one trail, run in a worker thread: which events, which files, which puts.

The cursor (kind ``delivery.cursor``, scope ``""``, key = trail ARN) says how far a trail's
delivery has come::

    {"trail_arn", "created",        # the trail incarnation it belongs to (a re-created trail starts afresh)
     "started",                     # the start_logging_time of the logging session it follows
     "epoch",                       # the trail's logging_epoch last seen (labels the session's files)
     "seq",                         # every event of the account at or below it is handled, in every region
     "regions": {"<region>": seq},  # regions that got further than ``seq`` (a failure held another back)
     "closed", "stopped"}           # the session ended (at ``stopped``) and its last events are delivered

Handled means: delivered in a log file of the trail, or not for the trail (another account,
a region the trail does not cover, not selected, outside a logging session).

Logging sessions (AWS: "a trail logs events from when logging starts"):

* a trail's first cursor starts just before its StartLogging event (found in the stream by name,
  time and success): that event and every later one; nothing earlier. When the stream does not
  hold it (a trail document written by other means), from the second StartLogging was received in;
* while the trail logs, a pass covers ``(cursor, head]``;
* after StopLogging the next pass delivers the pending events up to the StopLogging event itself
  (commit order; or, without that event, those whose time is at most ``stop_logging_time`` + 1 s),
  then closes the cursor; events while stopped are never delivered;
* a new StartLogging (``start_logging_time`` differs from the cursor's ``started``) first closes the
  old session if it was still open (events up to its stop, and only below the new session's start
  position, so no event is in both), then follows the new one from ``position_at(start)``;
* a whole session that began and ended between two rounds (the trail keeps only its latest start
  and stop) is closed the same way, with the events up to its stop: its events are delivered, and
  so are those of the stopped time before it that were appended after the previous round (the
  trail document does not say when that session began; delivery errs on the side of delivering).

A pass reads at most ``max_rows`` events; when it stops short, the caller runs the next one at
once. The pass writes the selected records of each region into files as it reads them
(``logfiles.FileWriter``; files never span two sessions), names each file at the moment it is put,
and puts the files region by region in stream order. The first failure ends the pass: the regions
not finished keep their position, the others move on, so a retry never writes an event twice. The
caller commits the outcome (cursor, ``delivery.log_file`` documents, status) in one group commit, after the puts.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

from trailpost.delivery.destinations import DeliveryError, Destination
from trailpost.delivery.logfiles import CONTENT_ENCODING, CONTENT_TYPE, FileBody, FileWriter, LogFile, build_log_file
from trailpost.delivery.reader import EVENT_TIME, RECORD, REGION, SEQ, EventReader, Row
from trailpost.delivery.selection import Selection

log = logging.getLogger("trailpost.delivery")

SERVICE = "cloudtrail.amazonaws.com"
STOP_SLACK = 1.0  # event times are whole seconds: StopLogging's own event may fall in the next one
CHUNK = 2000

Covers = Callable[[dict[str, Any], str], bool]
Selects = Callable[[dict[str, Any], dict[str, Any]], bool]
Opener = Callable[[str], "Destination | None"]
Allowed = Callable[..., bool]


@dataclass(frozen=True)
class Segment:
    """Stream positions ``(lo, hi]`` of one logging session; a session that ended takes events up to
    its StopLogging event (``last``) or, when the stream does not hold that event, up to a time
    (``until``)."""

    lo: int
    hi: int
    until: float | None
    epoch: int
    last: int | None = None

    @property
    def closing(self) -> bool:
        return self.until is not None or self.last is not None


def _closing(trail: dict[str, Any], lo: int, hi: int, stop: float, epoch: int, reader: EventReader) -> Segment:
    last = reader.control_event(trail, "StopLogging", stop)
    if last is not None:
        return Segment(lo, hi, None, epoch, last=last)
    return Segment(lo, hi, stop + STOP_SLACK, epoch)


@dataclass
class Attempt:
    """What happened in one region during a pass (for the status document)."""

    at: float
    delivered: float | None = None
    error: str | None = None


@dataclass
class Outcome:
    """A pass's result, for the commit: the new cursor, the files put, the attempts per region."""

    trail: dict[str, Any]
    old_cursor: dict[str, Any] | None
    cursor: dict[str, Any] | None
    files: list[tuple[LogFile, float]] = field(default_factory=list)
    attempts: dict[str, Attempt] = field(default_factory=dict)
    failed: bool = False
    more: bool = False

    @property
    def bucket(self) -> str:
        return str(self.trail.get("s3_bucket_name"))


def fresh_cursor(trail: dict[str, Any], cursor: dict[str, Any] | None) -> dict[str, Any] | None:
    """``cursor`` if it belongs to this incarnation of the trail, else ``None``."""
    if cursor is None or cursor.get("created") != trail.get("created"):
        return None
    return cursor


def idle(trail: dict[str, Any], cursor: dict[str, Any] | None) -> bool:
    """Whether the trail has nothing to deliver: not logging, and no session left open."""
    cursor = fresh_cursor(trail, cursor)
    if trail.get("is_logging"):
        return False
    stop = trail.get("stop_logging_time")
    if cursor is None:
        return trail.get("start_logging_time") is None or stop is None
    return bool(cursor.get("closed")) and (stop is None or stop <= (cursor.get("stopped") or 0.0))


def _session(trail: dict[str, Any], base: int) -> dict[str, Any]:
    return {
        "trail_arn": trail["trail_arn"],
        "created": trail.get("created"),
        "started": trail.get("start_logging_time"),
        "epoch": int(trail.get("logging_epoch") or 0),
        "seq": base,
        "regions": {},
        "closed": False,
    }


def plan(trail: dict[str, Any], cursor: dict[str, Any] | None, reader: EventReader) -> tuple[dict, list[Segment]]:
    """The cursor to start from and the segments this pass covers (see the module docstring).

    When the pass has to close an old session first, the first segment has an ``until``.
    """
    cursor = fresh_cursor(trail, cursor)
    logging_now = bool(trail.get("is_logging"))
    start, stop = trail.get("start_logging_time"), trail.get("stop_logging_time")
    epoch = int(trail.get("logging_epoch") or 0)
    if cursor is None:
        if start is None or (not logging_now and (stop is None or stop < start)):
            return {}, []
        head = reader.head()
        base = reader.position_at(start, trail)
        if not logging_now:  # a whole first session between two rounds
            assert stop is not None  # not logging without a stop returned above
            return _session(trail, base), [_closing(trail, base, head, stop, epoch, reader)]
        return _session(trail, base), [Segment(base, head, None, epoch)]
    seq, closed = int(cursor["seq"]), bool(cursor.get("closed"))
    if closed and stop is not None and stop > (cursor.get("stopped") or 0.0):
        closed = False  # a whole session began and ended between two rounds: close it too
    old_epoch = int(cursor.get("epoch") or 0)
    if cursor.get("started") != start:
        if not logging_now:
            if closed or stop is None:
                return cursor, []
            return cursor, [_closing(trail, seq, reader.head(), stop, old_epoch, reader)]
        head = reader.head()
        assert start is not None  # StartLogging sets ``is_logging`` and ``start_logging_time`` together
        new_base = max(seq, reader.position_at(start, trail))
        if closed:
            return _session(trail, new_base), [Segment(new_base, head, None, epoch)]
        old = cursor.get("started") or 0.0
        if stop is not None and stop >= old:
            ending = _closing(trail, seq, new_base, stop, old_epoch, reader)
        else:
            ending = Segment(seq, new_base, None, old_epoch, last=new_base)  # started again without a stop
        return cursor, [ending, Segment(new_base, head, None, epoch)]
    if logging_now:
        return cursor, [Segment(seq, reader.head(), None, epoch)]
    if not closed and stop is not None:
        return cursor, [_closing(trail, seq, reader.head(), stop, old_epoch, reader)]
    return cursor, []


def collect(
    trail: dict[str, Any],
    cursor: dict[str, Any],
    segments: list[Segment],
    reader: EventReader,
    covers: Covers,
    selects: Selects,
    limit: int,
    max_rows: int,
) -> tuple[dict[str, list[FileBody]], int, bool]:
    """The files per region (in stream order), the position the pass reached, and whether it stopped short.

    Rows stay SQLite's tuples; the trail's selectors are decided from the rows' columns when they
    can be (``selection``); each scanned chunk's taken rows go, grouped per region, into that
    region's ``FileWriter`` at once, and a segment's files are closed when it ends or when the pass
    stops short. So the pass holds one chunk of rows and the compressed files, never its records.
    """
    account = trail["account_id"]
    seq = int(cursor["seq"])
    regions: dict[str, int] = cursor.get("regions") or {}
    files: dict[str, list[FileBody]] = {}
    coverage: dict[str, bool] = {}
    selection = Selection(trail, selects)
    takes, columns = selection.takes, selection.columns
    remaining = max_rows
    reached = seq
    for segment in segments:
        writers: dict[str, FileWriter] = {}
        last, until = segment.last, segment.until
        position = segment.lo
        while position < segment.hi and remaining > 0:
            want = min(remaining, CHUNK)
            rows = reader.scan(position, segment.hi, account, want, selector_columns=columns)
            remaining -= len(rows)
            taken: dict[str, list[Row]] = {}
            for row in rows:
                region = row[REGION]
                if row[SEQ] <= (regions.get(region, seq) if regions else seq):
                    continue
                if last is not None and row[SEQ] > last:
                    continue
                if until is not None and row[EVENT_TIME] > until:
                    continue
                covered = coverage.get(region)
                if covered is None:
                    covered = coverage[region] = covers(trail, region)
                if not covered or not takes(row):
                    continue
                group = taken.get(region)
                if group is None:
                    group = taken[region] = []
                group.append(row)
            for region, group in taken.items():
                writer = writers.get(region)
                if writer is None:
                    writer = writers[region] = FileWriter(region, segment.epoch, limit)
                writer.add(*(list(map(itemgetter(index), group)) for index in (SEQ, EVENT_TIME, RECORD)))
            position = segment.hi if len(rows) < want else rows[-1][SEQ]
            del rows, taken  # released before the next chunk is read
        reached = position
        for region, writer in writers.items():
            files.setdefault(region, []).extend(writer.close())
        if position < segment.hi:
            return files, reached, True
    return files, reached, False


def deliver(
    trail: dict[str, Any],
    cursor: dict[str, Any] | None,
    reader: EventReader,
    open_destination: Opener,
    *,
    covers: Covers,
    selects: Selects,
    service_allowed: Allowed | None,
    limit: int,
    max_rows: int = 50_000,
) -> Outcome:
    """Run one pass of ``trail`` (in a worker thread); nothing here touches the state store."""
    start_cursor, segments = plan(trail, cursor, reader)
    outcome = Outcome(trail, cursor, start_cursor or None)
    if not segments:
        return outcome
    files, reached, short = collect(trail, start_cursor, segments, reader, covers, selects, limit, max_rows)
    outcome.more = short
    seq = int(start_cursor["seq"])
    old_regions: dict[str, int] = dict(start_cursor.get("regions") or {})
    done: dict[str, int] = {}  # regions held back by a failure: how far they got
    if files:
        done = _put_all(trail, files, open_destination, service_allowed, outcome, seq, old_regions)
    new_seq = min([reached, *done.values()])
    positions = {**{r: max(p, reached) for r, p in old_regions.items()}, **dict.fromkeys(files, reached), **done}
    new_regions = {region: position for region, position in positions.items() if position > new_seq}
    new_cursor = {**start_cursor, "seq": new_seq, "regions": new_regions}
    if segments[0].closing and new_seq >= segments[0].hi:
        # The old session is delivered: follow the new one, or stay closed while the trail is stopped.
        new_cursor.update(started=trail.get("start_logging_time"), closed=not trail.get("is_logging"))
        if new_cursor["closed"]:
            new_cursor["stopped"] = trail.get("stop_logging_time")
    if new_cursor.get("started") == trail.get("start_logging_time") and trail.get("is_logging"):
        new_cursor["epoch"] = int(trail.get("logging_epoch") or 0)
    outcome.cursor = new_cursor
    return outcome


def _put_all(
    trail: dict[str, Any],
    files: dict[str, list[FileBody]],
    open_destination: Opener,
    service_allowed: Allowed | None,
    outcome: Outcome,
    seq: int,
    old_regions: dict[str, int],
) -> dict[str, int]:
    """Put every region's files in order; on the first failure stop. Returns the held-back regions."""
    bucket = trail["s3_bucket_name"]
    prefix = trail.get("s3_key_prefix")
    account = trail["account_id"]
    done: dict[str, int] = {}
    failure: DeliveryError | None = None
    destination: Destination | None = None
    policy: str | None = None
    try:
        destination = open_destination(bucket)
        if destination is None:
            raise DeliveryError("NoSuchBucket", f"The specified bucket does not exist: {bucket}")
        policy = destination.policy() if destination.embedded else None
    except DeliveryError as exc:
        failure = exc
    except Exception as exc:  # a broken mapping, a bug: the pass fails, the events wait
        log.exception("cannot open the destination %s of trail %s", bucket, trail["trail_arn"])
        failure = DeliveryError("InternalError", str(exc))
    for region, region_files in files.items():
        attempt = outcome.attempts[region] = Attempt(at=time.time())
        if failure is not None:
            attempt.error = failure.code
            done[region] = max(seq, old_regions.get(region, seq))
            continue
        assert destination is not None
        for body in region_files:
            delivered = time.time()
            log_file = build_log_file(body, prefix, account, delivered)
            try:
                if destination.embedded and service_allowed is not None:
                    _check_policy(service_allowed, policy, trail, bucket, log_file.key)
                destination.put(
                    log_file.key, log_file.body, content_type=CONTENT_TYPE, content_encoding=CONTENT_ENCODING
                )
            except DeliveryError as exc:
                failure = exc
            except Exception as exc:
                log.exception("delivery of %s to %s failed", log_file.key, bucket)
                failure = DeliveryError("InternalError", str(exc))
            if failure is not None:
                log.warning("trail %s: delivery to bucket %s failed: %s", trail["trail_arn"], bucket, failure)
                attempt.error = failure.code
                done[region] = max(
                    seq, old_regions.get(region, seq), *(f.last_seq for f, _ in outcome.files if f.region == region)
                )
                break
            outcome.files.append((log_file, delivered))
            attempt.delivered = delivered
    outcome.failed = failure is not None
    return done


def _check_policy(service_allowed: Allowed, policy: str | None, trail: dict[str, Any], bucket: str, key: str) -> None:
    context = {
        "aws:SourceArn": trail["trail_arn"],
        "aws:SourceAccount": trail["account_id"],
        "s3:x-amz-acl": "bucket-owner-full-control",
    }
    if not service_allowed(
        policy, service=SERVICE, action="s3:PutObject", resource=f"arn:aws:s3:::{bucket}/{key}", context=context
    ):
        raise DeliveryError("AccessDenied", f"the policy of bucket {bucket} does not let {SERVICE} write {key}")
