"""The reviewed readOnly table covers every operation of every pinned model, and matches what AWS records."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from trailpost.audit.readonly import is_read_only, readonly_table
from trailpost.protocol.specs import load_service_model

SERVICES = ("outposts", "cloudtrail", "iam", "sts", "s3")
RECORDED = Path(__file__).resolve().parents[3] / "shared" / "reference" / "aws-recorded"


@pytest.mark.parametrize("service", SERVICES)
def test_table_has_every_operation_of_the_pinned_model(service: str) -> None:
    operations = set(load_service_model(service).operation_names)
    table = set(readonly_table()[service])
    assert operations - table == set(), f"operations missing from trailpost/audit/readonly.json: {operations - table}"
    assert table - operations == set(), f"operations the model no longer has: {table - operations}"


def test_counts_match_the_reference() -> None:
    # api-surface.md: Outposts 45 operations (24 R / 21 M), CloudTrail 60 (26 R / 34 M).
    for service, (reads, writes) in {"outposts": (24, 21), "cloudtrail": (26, 34)}.items():
        values = list(readonly_table()[service].values())
        assert (values.count(True), values.count(False)) == (reads, writes)


def _recorded_events() -> list[dict]:
    records = []
    for path in sorted(RECORDED.glob("*-event-records.json")):
        data = json.loads(path.read_text())
        entries = data if isinstance(data, list) else next(v for v in data.values() if isinstance(v, list))
        records += [e["record"] for e in entries if isinstance(e, dict) and isinstance(e.get("record"), dict)]
    return records


def test_agrees_with_every_recorded_aws_event() -> None:
    sources = {
        "outposts.amazonaws.com": "outposts",
        "cloudtrail.amazonaws.com": "cloudtrail",
        "iam.amazonaws.com": "iam",
        "sts.amazonaws.com": "sts",
        "s3.amazonaws.com": "s3",
    }
    checked = 0
    for record in _recorded_events():
        service = sources.get(record.get("eventSource"))
        if service is None or "readOnly" not in record or record["eventName"] not in readonly_table()[service]:
            continue
        assert is_read_only(service, record["eventName"]) is record["readOnly"], record["eventName"]
        checked += 1
    if not RECORDED.exists():
        pytest.skip("shared/reference is not beside the repository")
    assert checked >= 10
