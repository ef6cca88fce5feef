"""docs/coverage.md is exactly what ``python -m trailpost.tools.coverage`` prints, and that output is right."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from trailpost.audit.readonly import readonly_table
from trailpost.protocol.specs import load_service_model
from trailpost.services.registry import build_services
from trailpost.tools.coverage import (
    IMPLEMENTED,
    MISSING,
    NOT_SERVED,
    PLANNED,
    collect,
    coverage_of,
    read_only_by_name,
    render,
)

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "coverage.md"


def test_committed_document_is_up_to_date() -> None:
    expected = render(collect())
    assert DOC.exists(), "docs/coverage.md is missing: run `make coverage-doc`"
    assert DOC.read_text(encoding="utf-8") == expected, "docs/coverage.md is stale: run `make coverage-doc`"


def test_module_entry_point_prints_the_document() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "trailpost.tools.coverage"], cwd=ROOT, capture_output=True, check=True, timeout=120
    )
    assert result.stdout.decode("utf-8") == render(collect())


def test_every_operation_of_every_served_and_planned_service_has_one_row() -> None:
    services = {service.name: service for service in collect()}
    served = {binding.name: binding for binding in build_services()}
    assert set(services) == set(served) | set(PLANNED)
    for name, service in services.items():
        model = load_service_model(name)
        assert [row.operation for row in service.rows] == sorted(model.operation_names)
        if name in served:
            handlers = set(served[name].handlers)
            assert {r.operation for r in service.rows if r.status == IMPLEMENTED} == handlers
            assert {r.operation for r in service.rows if r.status == MISSING} == set(model.operation_names) - handlers
        else:
            assert {row.status for row in service.rows} == {NOT_SERVED}


def test_document_lists_outposts_routes_and_planned_services() -> None:
    text = render(collect())
    assert "| GetOutpostBillingInformation | `GET /outpost/{OutpostIdentifier}/billing-information` |" in text
    assert "| UntagResource | `DELETE /tags/{ResourceArn}` |" in text
    assert "| LookupEvents | `POST /` target `LookupEvents` | read-only |" in text
    assert "| CreateUser | `POST /` Action=`CreateUser` | mutating |" in text
    assert "| GetCallerIdentity | `POST /` Action=`GetCallerIdentity` | read-only |" in text
    assert "| PutObject | `PUT /{Bucket}/{Key+}` | mutating |" in text
    assert "Targets are `X-Amz-Target: com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.<Operation>`." in text


def test_reviewed_column_comes_from_the_reviewed_table() -> None:
    for service in collect():
        table = readonly_table().get(service.name, {})
        for row in service.rows:
            expected = "" if row.operation not in table else ("read-only" if table[row.operation] else "mutating")
            assert row.reviewed.strip("*") == expected, (service.name, row.operation)
            assert row.reviewed.startswith("**") == (bool(expected) and expected != row.by_name)
    outposts = {row.operation: row for row in coverage_of("outposts", []).rows}
    reads = [row for row in outposts.values() if row.reviewed == "read-only"]
    assert (len(reads), len(outposts) - len(reads)) == (24, 21)  # api-surface 4.1: 24 R / 21 M
    assert outposts["StartCapacityTask"].reviewed == "mutating"  # mutating even with DryRun


def test_reviewed_exceptions_are_marked() -> None:
    sts = {row.operation: row for row in coverage_of("sts", None).rows}
    assert (sts["AssumeRole"].by_name, sts["AssumeRole"].reviewed) == ("mutating", "**read-only**")
    assert (sts["GetFederationToken"].by_name, sts["GetFederationToken"].reviewed) == ("read-only", "**mutating**")
    assert sts["GetCallerIdentity"].reviewed == "read-only"


def test_status_for_a_partially_served_service() -> None:
    rows = {row.operation: row.status for row in coverage_of("cloudtrail", ["LookupEvents", "GetTrail"]).rows}
    assert rows["LookupEvents"] == rows["GetTrail"] == IMPLEMENTED
    assert rows["CreateTrail"] == MISSING
    assert len(rows) == 60


def test_read_only_heuristic() -> None:
    assert read_only_by_name("GetSite") and read_only_by_name("ListTrails") and read_only_by_name("LookupEvents")
    assert read_only_by_name("DescribeTrails") and read_only_by_name("HeadObject")
    assert not read_only_by_name("CreateSite") and not read_only_by_name("StartLogging")
