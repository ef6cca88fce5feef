"""Delivery's fast path gives byte for byte what the parsed path gives.

The fast path decides selectors from the ``events`` columns (``delivery.selection``) and writes each
chunk of rows into its region's files as it reads them, cutting them from lengths alone and
streaming them through SHA-256 and deflate (``logfiles.FileWriter``). The parsed path parses every
record and gives it to ``selectors.selects``, as delivery did before. Both run here on the same
stored events -- unicode, escapes, nested resources, data, global service and network activity
events, three regions, another account -- for many selector configurations and two file caps, and
must deliver the same files: same regions, key layout, events, digests of the uncompressed JSON, and
that JSON equal to ``{"Records":[...]}`` of ``orjson.dumps`` of the selected records in stream
order.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import random
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from isal import igzip

from tests.delivery.support import Local
from tests.support.records import ACCOUNT, identity, record
from trailpost.delivery import passes
from trailpost.delivery.destinations import open_destination
from trailpost.delivery.logfiles import KEY_PATTERN, FileBody, FileWriter, encode, gzip_file, write_files
from trailpost.delivery.reader import RECORD, EventReader
from trailpost.delivery.selection import Selection
from trailpost.services.cloudtrail import selectors, trail_docs
from trailpost.services.s3.policy import service_allowed

OTHER = "210987654321"
S3_OBJECT = "arn:aws:s3:::media-bucket/photos/é/cat.jpg"
LAMBDA = "arn:aws:lambda:us-west-2:123456789012:function:resize"


def parsed(trail: dict[str, Any], rec: dict[str, Any]) -> bool:
    """``selectors.selects`` under another name: delivery parses every record for it."""
    return selectors.selects(trail, rec)


def corpus() -> list[dict[str, Any]]:
    """Records of every kind delivery meets, in stream order."""
    at = time.time() - 5
    texts = [
        "plain",
        "é è ü ß",
        "日本語テキスト",
        "emoji 🚀🔥",
        'quote " and \\ backslash',
        "ctl \t\n\r\x01\x1f",
        "\u2028\u2029",
    ]
    found: list[dict[str, Any]] = []
    for index, text in enumerate(texts):
        region = ("us-east-1", "us-west-2", "eu-west-1")[index % 3]
        rec = record("CreateSite", at=at, region=region, who=identity("IAMUser", f"user-{text[:3]}"))
        rec["requestParameters"] = {"name": text, "tags": [{"key": text, "value": {"nested": [text, 1, None, True]}}]}
        rec["responseElements"] = {"site": {"siteId": f"os-{index:017x}", "notes": text, "numbers": [1.5, -2, 10**15]}}
        rec["resources"] = [
            {
                "accountId": ACCOUNT,
                "type": "AWS::Outposts::Site",
                "ARN": f"arn:aws:outposts:{region}:{ACCOUNT}:site/{text}",
            }
        ]
        found.append(rec)
        found.append(record("ListSites", at=at, region=region, read_only=True, agent=f"agent/{text}"))
    found.append(record("Decrypt", at=at, source="kms.amazonaws.com", read_only=True))
    found.append(record("ExecuteStatement", at=at, source="rdsdata.amazonaws.com"))
    found.append(record("CreateUser", at=at, source="iam.amazonaws.com"))
    found.append(record("CreateDistribution", at=at, source="cloudfront.amazonaws.com"))
    for host in ("sts.amazonaws.com", "sts.us-east-1.amazonaws.com"):
        sts = record("GetCallerIdentity", at=at, source="sts.amazonaws.com", read_only=True)
        sts["tlsDetails"] = {"tlsVersion": "TLSv1.3", "clientProvidedHostHeader": host}
        found.append(sts)
    found.append(record("AssumeRole", at=at, source="sts.amazonaws.com", region="us-west-2"))
    failed = record("DeleteSite", at=at, region="us-west-2")
    failed["errorCode"], failed["errorMessage"] = "AccessDenied", 'User: "x" is not authorized…'
    found.append(failed)
    for name, read_only, arn in (("GetObject", True, S3_OBJECT), ("PutObject", False, S3_OBJECT + ".bak")):
        found.append(
            record(
                name,
                at=at,
                source="s3.amazonaws.com",
                category="Data",
                read_only=read_only,
                resources=[
                    {"type": "AWS::S3::Object", "ARN": arn},
                    {"accountId": ACCOUNT, "type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::media-bucket"},
                ],
            )
        )
    found.append(
        record(
            "ListObjects",
            at=at,
            source="s3.amazonaws.com",
            category="Data",
            read_only=True,
            resources=[{"accountId": ACCOUNT, "type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::media-bucket"}],
        )
    )
    invoke = record(
        "Invoke",
        at=at,
        region="us-west-2",
        source="lambda.amazonaws.com",
        category="Data",
        resources=[{"type": "AWS::Lambda::Function", "ARN": LAMBDA}],
        who=identity("AssumedRole", "deployer/ci-42"),
    )
    invoke["sessionCredentialFromConsole"] = "true"
    found.append(invoke)
    vpce = record("GetObject", at=at, source="s3.amazonaws.com", category="NetworkActivity", read_only=True)
    vpce.update(errorCode="VpceAccessDenied", vpcEndpointId="vpce-0123456789abcdef0")
    found.append(vpce)
    found.append(record("CreateSite", at=at, account=OTHER))
    found.append(record("PutThing", at=at, region="eu-west-1", pad=6000))  # alone in a file under the small cap
    found += [
        record(f"Bulk{i}", at=at, region=("us-east-1", "eu-west-1")[i % 2], read_only=i % 3 == 0) for i in range(60)
    ]
    return found


def management(read_only: str | None = None, **extra: list[str]) -> dict[str, Any]:
    fields: list[dict[str, Any]] = [{"Field": "eventCategory", "Equals": ["Management"]}]
    if read_only is not None:
        fields.append({"Field": "readOnly", "Equals": [read_only]})
    fields += [{"Field": "eventSource", op: values} for op, values in extra.items()]
    return {"Name": "management", "FieldSelectors": fields}


ADVANCED = {
    "management writes": [management("false", NotEquals=["kms.amazonaws.com", "rdsdata.amazonaws.com"])],
    "management reads": [management("true")],
    "data S3 objects under a prefix, read only": [
        {
            "FieldSelectors": [
                {"Field": "eventCategory", "Equals": ["Data"]},
                {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
                {"Field": "resources.ARN", "StartsWith": ["arn:aws:s3:::media-bucket/photos/"]},
                {"Field": "readOnly", "Equals": ["true"]},
            ]
        }
    ],
    "data lambda by user and name, or management": [
        {
            "FieldSelectors": [
                {"Field": "eventCategory", "Equals": ["Data"]},
                {"Field": "resources.type", "Equals": ["AWS::Lambda::Function"]},
                {"Field": "eventName", "EndsWith": ["voke"], "NotStartsWith": ["Get"]},
                {"Field": "userIdentity.arn", "StartsWith": [f"arn:aws:sts::{ACCOUNT}:assumed-role/deployer/"]},
                {"Field": "sessionCredentialFromConsole", "Equals": ["true"]},
            ]
        },
        management(),
    ],
    "network activity denied": [
        {
            "FieldSelectors": [
                {"Field": "eventCategory", "Equals": ["NetworkActivity"]},
                {"Field": "eventSource", "Equals": ["s3.amazonaws.com"]},
                {"Field": "errorCode", "Equals": ["VpceAccessDenied"]},
            ]
        }
    ],
    "event names": [
        {
            "FieldSelectors": [
                {"Field": "eventCategory", "Equals": ["Management"]},
                {"Field": "eventName", "StartsWith": ["Create", "Bulk1"], "NotEndsWith": ["9"]},
            ]
        }
    ],
}
BASIC = {
    "writes only": [{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True, "DataResources": []}],
    "reads without kms": [
        {
            "ReadWriteType": "ReadOnly",
            "IncludeManagementEvents": True,
            "ExcludeManagementEventSources": ["kms.amazonaws.com"],
        }
    ],
    "data only": [
        {
            "ReadWriteType": "All",
            "IncludeManagementEvents": False,
            "DataResources": [
                {"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::media-bucket/"]},
                {"Type": "AWS::Lambda::Function", "Values": [LAMBDA]},
            ],
        }
    ],
    "no data resources": [{"ReadWriteType": "All", "IncludeManagementEvents": False, "DataResources": []}],
}
CONFIGS: dict[str, dict[str, Any]] = {
    "default": {},
    "default without global events": {"include_global_service_events": False},
}
CONFIGS |= {f"advanced: {name}": {"advanced_event_selectors": value} for name, value in ADVANCED.items()}
CONFIGS |= {f"basic: {name}": {"event_selectors": value} for name, value in BASIC.items()}
CONFIGS["advanced management writes without global events"] = {
    "advanced_event_selectors": ADVANCED["management writes"],
    "include_global_service_events": False,
}


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Local, list[dict[str, Any]]]]:
    local = Local(tmp_path_factory.mktemp("fast") / "data")
    records = local.append(*corpus())
    yield local, records
    local.close()


def deliver(local: Local, config: dict[str, Any], selects: passes.Selects, limit: int, bucket: str) -> passes.Outcome:
    local.bucket(bucket)
    trail = trail_docs.new_trail(bucket, ACCOUNT, "us-east-1", time.time())
    trail.update(s3_bucket_name=bucket, is_multi_region_trail=True, is_logging=True, start_logging_time=1.0, **config)
    reader = EventReader(local.root / "state.db")
    try:
        outcome = passes.deliver(
            trail,
            None,
            reader,
            lambda name: open_destination(local.settings, local.storage, name),
            covers=selectors.covers_region,
            selects=selects,
            service_allowed=service_allowed,
            limit=limit,
        )
    finally:
        reader.close()
    assert not outcome.failed and not outcome.more
    return outcome


def shape(outcome: passes.Outcome) -> list[tuple[Any, ...]]:
    """What a delivery's files hold, without the random part of their keys and their gzip header time."""
    found = []
    for log_file, _ in outcome.files:
        match = KEY_PATTERN.match(log_file.key)
        assert match is not None
        data = gzip.decompress(log_file.body)
        times = (log_file.oldest_event_time, log_file.newest_event_time)
        found.append(
            (log_file.region, match["region"], match["account"], log_file.events, log_file.sha256, data, *times)
        )
    return found


@pytest.mark.parametrize("limit", [50 * 2**20, 4096], ids=["one file per region", "4 KiB files"])
@pytest.mark.parametrize("name", list(CONFIGS))
def test_fast_path_delivers_what_the_parsed_path_delivers(
    stored: tuple[Local, list[dict[str, Any]]], name: str, limit: int
) -> None:
    local, records = stored
    config = CONFIGS[name]
    slug = f"{abs(hash((name, limit))):x}"[:12]
    fast = deliver(local, config, selectors.selects, limit, f"fast-{slug}")
    slow = deliver(local, config, parsed, limit, f"slow-{slug}")
    assert shape(fast) == shape(slow)
    # and the JSON is what re-serializing the selected records, in stream order, gives
    trail = {"include_global_service_events": True, "advanced_event_selectors": None, "event_selectors": None} | config
    for region in ("us-east-1", "us-west-2", "eu-west-1"):
        expected = [
            orjson.dumps(rec)
            for rec in records
            if rec["recipientAccountId"] == ACCOUNT and rec["awsRegion"] == region and selectors.selects(trail, rec)
        ]
        bodies = [gzip.decompress(f.body) for f, _ in fast.files if f.region == region]
        assert b"".join(bodies) == b"".join(
            b'{"Records":[' + b",".join(part) + b"]}" for part in _parts(expected, bodies)
        )
        assert all(len(body) <= limit or body.count(b'"eventID"') == 1 for body in bodies)


def _parts(expected: list[bytes], bodies: list[bytes]) -> Iterator[list[bytes]]:
    """``expected`` cut where the delivered files were cut (by their record counts)."""
    start = 0
    for body in bodies:
        count = len(orjson.loads(body)["Records"])
        yield expected[start : start + count]
        start += count
    assert start == len(expected)


@pytest.mark.parametrize("name", list(CONFIGS))
def test_column_verdicts_agree_with_selects_and_parse_only_when_needed(
    stored: tuple[Local, list[dict[str, Any]]], name: str
) -> None:
    local, _ = stored
    trail = {"include_global_service_events": True, "advanced_event_selectors": None, "event_selectors": None}
    trail |= CONFIGS[name]
    reader = EventReader(local.root / "state.db")
    rows = reader.scan(0, reader.head(), ACCOUNT, 10_000)
    reader.close()
    selection = Selection(trail, selectors.selects)
    for row in rows:
        assert selection.takes(row) == selectors.selects(trail, orjson.loads(row[RECORD])), row[RECORD][:200]
    needs_record = {"resources.type", "resources.ARN", "userIdentity.arn", "errorCode", "sessionCredentialFromConsole"}
    fields = {f["Field"] for s in trail["advanced_event_selectors"] or () for f in s["FieldSelectors"]}
    if trail["event_selectors"] is None and not fields & needs_record and trail["include_global_service_events"]:
        assert selection.parsed == 0
    assert selection.parsed < len(rows)
    assert Selection(trail, parsed).columns is False


def _json(body: FileBody) -> bytes:
    """The uncompressed JSON of ``body``, read back by the standard library's gzip (what ``aws cloudtrail
    validate-logs`` and S3 consumers use; it checks the CRC-32 and length of the trailer)."""
    data = gzip.decompress(gzip_file(body, 1_700_000_000))
    assert len(data) == body.size and hashlib.sha256(data).hexdigest() == body.sha256
    return data


def _cut_one_by_one(items: list[tuple[int, int, bytes]], limit: int) -> list[list[tuple[int, int, bytes]]]:
    """The greedy cut a record at a time: a record joins the file if the JSON stays within ``limit``
    (an empty file takes anything)."""
    files: list[list[tuple[int, int, bytes]]] = []
    size = 0
    for item in items:
        if files and size + 1 + len(item[2]) <= limit:
            files[-1].append(item)
            size += 1 + len(item[2])
        else:
            files.append([item])
            size = len(b'{"Records":[]}') + len(item[2])
    return files


@pytest.mark.parametrize("limit", [20, 64, 300, 4096])
def test_file_writer_is_the_record_at_a_time_cut_wherever_chunks_end(limit: int) -> None:
    rng = random.Random(limit)
    items = [(seq, rng.randrange(1000), b"x" * rng.choice([1, 5, 30, 80, 200, 500])) for seq in range(1, 400)]
    for count in (0, 1, 2, 3, len(items)):
        head = items[:count]
        expected = _cut_one_by_one(head, limit)
        for chunking in ("whole", "ones", "random"):
            writer = FileWriter("r", 7, limit)
            start = 0
            while start < count:
                end = {"whole": count, "ones": start + 1, "random": start + rng.randrange(1, 60)}[chunking]
                part = head[start:end]
                writer.add([s for s, _, _ in part], [t for _, t, _ in part], [r for _, _, r in part])
                start = end
            files = writer.close()
            assert [_json(f) for f in files] == [encode([r for _, _, r in f]) for f in expected]
            assert [(f.events, f.last_seq, f.oldest, f.newest) for f in files] == [
                (len(f), f[-1][0], min(t for _, t, _ in f), max(t for _, t, _ in f)) for f in expected
            ]
            assert all((f.region, f.epoch) == ("r", 7) for f in files)


def test_gzip_file_is_one_gzip_member_with_the_delivery_time() -> None:
    rng = random.Random(7)
    records = [bytes(rng.choice(b'{}[]",:abc\\\xc3\xa9 0123') for _ in range(size)) for size in (1, 5000, 70_000, 3)]
    (body,) = write_files([(seq, 0, r) for seq, r in enumerate(records, 1)], "r", 1 << 20)
    data = gzip_file(body, 1_700_000_000)
    assert data[:4] == b"\x1f\x8b\x08\x00" and len(data) < body.size
    with gzip.GzipFile(fileobj=io.BytesIO(data)) as member:
        assert member.read() == b'{"Records":[' + b",".join(records) + b"]}"
        assert member.mtime == 1_700_000_000
    assert igzip.decompress(data) == gzip.decompress(data)


def test_a_pass_holds_compressed_files_not_its_records(tmp_path: Path) -> None:
    """Memory of a pass, by allocations, not time: twice the events add their compressed files to the
    pass's peak, not their records (which would add at least the JSON delivered)."""
    peaks, sizes = [], []
    for count in (8_000, 16_000):
        local = Local(tmp_path / str(count))
        regions = ("us-east-1", "us-west-2", "eu-west-1")
        local.append(*(record("GetSite", at=1000 + i, region=regions[i % 3], agent=f"agent/{i}") for i in range(count)))
        tracemalloc.start()
        try:
            outcome = deliver(local, {}, selectors.selects, 50 * 2**20, "held")
            peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
            local.close()
        assert sum(f.events for f, _ in outcome.files) == count and len(outcome.files) == 3
        sizes.append(sum(len(gzip.decompress(f.body)) for f, _ in outcome.files))
    assert sizes[1] - sizes[0] > 4 * 2**20
    assert peaks[1] - peaks[0] < (sizes[1] - sizes[0]) / 3, (peaks, sizes)
