"""Log file keys, names, content and the size cap (``trailpost.delivery.logfiles``)."""

from __future__ import annotations

import calendar
import gzip
import hashlib
import itertools

import orjson

from trailpost.delivery.logfiles import (
    KEY_PATTERN,
    FileBody,
    build_log_file,
    encode,
    log_file_key,
    unique_string,
    write_files,
)

AT = calendar.timegm((2015, 8, 1, 2, 10, 59))  # the guide's example: 20150801T0210Z


def test_key_layout_is_the_guides() -> None:
    key = log_file_key(None, "111122223333", "us-east-2", AT, unique="Mu0KsOhtH1ar15ZZ")
    assert key == (
        "AWSLogs/111122223333/CloudTrail/us-east-2/2015/08/01/"
        "111122223333_CloudTrail_us-east-2_20150801T0210Z_Mu0KsOhtH1ar15ZZ.json.gz"
    )
    assert KEY_PATTERN.match(key)


def test_prefix_is_joined_with_one_slash() -> None:
    plain = log_file_key("logs/team-a", "111122223333", "eu-west-1", AT, unique="A" * 16)
    slashed = log_file_key("logs/team-a/", "111122223333", "eu-west-1", AT, unique="A" * 16)
    assert plain == slashed
    assert plain.startswith("logs/team-a/AWSLogs/111122223333/CloudTrail/eu-west-1/2015/08/01/")
    match = KEY_PATTERN.match(plain)
    assert match and match["prefix"] == "logs/team-a" and match["region"] == "eu-west-1"


def test_date_folders_and_stamp_are_utc_delivery_time() -> None:
    new_year = calendar.timegm((2025, 12, 31, 23, 59, 30))
    key = log_file_key(None, "111122223333", "us-east-1", new_year, unique="B" * 16)
    assert "/2025/12/31/" in key and "_20251231T2359Z_" in key


def test_unique_strings_are_16_alphanumerics_and_differ() -> None:
    values = {unique_string() for _ in range(200)}
    assert len(values) == 200
    assert all(len(v) == 16 and v.isascii() and v.isalnum() for v in values)


def test_content_is_the_stored_bytes_in_a_records_wrapper() -> None:
    records = [orjson.dumps({"eventID": "a", "eventTime": "2015-08-01T02:00:00Z"}), b'{"eventID":"b","x":"\\u00e9"}']
    assert encode(records) == b'{"Records":[' + records[0] + b"," + records[1] + b"]}"
    (body,) = write_files([(1, 100, records[0]), (2, 50, records[1])], "us-east-1", 1 << 20, epoch=3)
    log_file = build_log_file(body, None, "111122223333", AT)
    data = gzip.decompress(log_file.body)
    assert KEY_PATTERN.match(log_file.key) and log_file.key.startswith("AWSLogs/111122223333/CloudTrail/us-east-1/")
    assert data == encode(records)
    assert log_file.sha256 == hashlib.sha256(data).hexdigest()
    assert (log_file.oldest_event_time, log_file.newest_event_time) == ("1970-01-01T00:00:50Z", "1970-01-01T00:01:40Z")
    assert (log_file.events, log_file.last_seq, log_file.epoch) == (2, 2, 3)


def test_size_cap_splits_in_order_and_never_exceeds() -> None:
    items = [(seq, 0, orjson.dumps({"eventID": str(seq), "pad": "x" * (seq % 7 * 40)})) for seq in range(1, 301)]
    limit = 2048
    files = [_records(body) for body in write_files(items, "us-east-1", limit)]
    assert len(files) > 5
    assert [r for f in files for r in f] == [item[2] for item in items]
    for records in files:
        assert len(encode(records)) <= limit
    # each file is full: the next record would not have fit
    for records, following in itertools.pairwise(files):
        assert len(encode(records)) + 1 + len(following[0]) > limit


def test_a_record_larger_than_the_cap_goes_alone() -> None:
    big = orjson.dumps({"eventID": "big", "pad": "x" * 5000})
    small = orjson.dumps({"eventID": "s"})
    files = write_files([(1, 0, small), (2, 0, big), (3, 0, small)], "us-east-1", 1024)
    assert [f.events for f in files] == [1, 1, 1]
    assert [_records(f) for f in files] == [[small], [big], [small]]


def _records(body: FileBody) -> list[bytes]:
    """The records of a file, as the bytes they were written from."""
    return [
        orjson.dumps(r) for r in orjson.loads(gzip.decompress(build_log_file(body, None, "1" * 12, AT).body))["Records"]
    ]
