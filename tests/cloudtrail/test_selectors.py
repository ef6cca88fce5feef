"""``selectors``: which records a trail takes, for every basic and advanced rule, on records built as the
gateway builds them (management calls of Outposts, IAM, STS, KMS; S3 object and bucket data events);
``data_event_wanted`` and ``all_trails`` on a real state store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.cloudtrail.conftest import record
from tests.support.records import ACCOUNT, identity
from trailpost.services.cloudtrail import trail_docs
from trailpost.services.cloudtrail.selectors import (
    all_trails,
    covers_region,
    data_event_wanted,
    is_global_service_event,
    selects,
)
from trailpost.store.sqlite import SqliteStateStore

NOW = 1_790_000_000.0


def trail(**changes: Any) -> dict[str, Any]:
    doc = trail_docs.new_trail("audit", ACCOUNT, "us-east-1", NOW)
    doc.update(s3_bucket_name="logs", **changes)
    return doc


def s3_data(
    name: str, bucket: str, key: str | None, *, read_only: bool, region: str = "us-east-1", **extra: Any
) -> dict:
    """An S3 data event as S3 records it: object and bucket resources, category Data, not a management event."""
    resources = [{"accountId": ACCOUNT, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket}"}]
    if key is not None:
        resources.insert(0, {"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{bucket}/{key}"})
    rec = record(
        NOW, name, source="s3.amazonaws.com", read_only=read_only, region=region, resources=resources, category="Data"
    )
    rec.update(extra)
    return rec


def management(name: str, source: str = "outposts.amazonaws.com", *, read_only: bool = False, **kw: Any) -> dict:
    return record(NOW, name, source=source, read_only=read_only, **kw)


GET = s3_data("GetObject", "photos", "2026/cat.jpg", read_only=True)
PUT = s3_data("PutObject", "photos", "2026/dog.jpg", read_only=False)
OTHER_PUT = s3_data("PutObject", "ledger", "books/2026.csv", read_only=False)
LIST = s3_data("ListObjects", "photos", None, read_only=True)
CREATE_SITE = management("CreateSite")
LIST_SITES = management("ListSites", read_only=True)
KMS_DECRYPT = management("Decrypt", "kms.amazonaws.com", read_only=True)
IAM_CREATE_USER = management("CreateUser", "iam.amazonaws.com")
STS_GLOBAL = management("GetCallerIdentity", "sts.amazonaws.com", read_only=True)
STS_REGIONAL = {
    **management("GetCallerIdentity", "sts.amazonaws.com", read_only=True),
    "tlsDetails": {"tlsVersion": "TLSv1.3", "clientProvidedHostHeader": "sts.us-east-1.amazonaws.com"},
}


def basic(**selector: Any) -> dict[str, Any]:
    return trail(event_selectors=[selector])


def advanced(*field_selectors: dict[str, Any]) -> dict[str, Any]:
    return trail(advanced_event_selectors=[{"Name": "test", "FieldSelectors": list(field_selectors)}])


def f(field: str, **operators: list[str]) -> dict[str, Any]:
    return {"Field": field, **operators}


# -- region coverage and defaults -----------------------------------------------------------------


def test_covers_region() -> None:
    assert covers_region(trail(), "us-east-1") and not covers_region(trail(), "eu-west-1")
    assert covers_region(trail(is_multi_region_trail=True), "eu-west-1")


def test_default_trail_takes_every_management_event_and_no_data_event() -> None:
    default = trail()
    assert all(selects(default, r) for r in (CREATE_SITE, LIST_SITES, KMS_DECRYPT, IAM_CREATE_USER, STS_GLOBAL))
    assert not any(selects(default, r) for r in (GET, PUT, LIST))


def test_global_service_events_excluded_when_switched_off() -> None:
    regional = trail(include_global_service_events=False)
    assert is_global_service_event(IAM_CREATE_USER) and is_global_service_event(STS_GLOBAL)
    assert not is_global_service_event(STS_REGIONAL) and not is_global_service_event(CREATE_SITE)
    assert not selects(regional, IAM_CREATE_USER) and not selects(regional, STS_GLOBAL)
    assert selects(regional, STS_REGIONAL) and selects(regional, CREATE_SITE)
    sts_elsewhere = {**STS_GLOBAL, "awsRegion": "eu-west-1"}
    assert selects(regional, sts_elsewhere)  # a regional STS endpoint's event is no global service event
    everything = trail(include_global_service_events=False, event_selectors=[{"DataResources": []}])
    assert not selects(everything, IAM_CREATE_USER)  # whatever the selectors say


# -- basic selectors ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("read_write", "taken"),
    [("All", {"CreateSite", "ListSites"}), ("ReadOnly", {"ListSites"}), ("WriteOnly", {"CreateSite"})],
)
def test_read_write_type(read_write: str, taken: set[str]) -> None:
    doc = basic(ReadWriteType=read_write, IncludeManagementEvents=True)
    assert {r["eventName"] for r in (CREATE_SITE, LIST_SITES) if selects(doc, r)} == taken


def test_management_events_off_and_excluded_sources() -> None:
    assert not selects(basic(IncludeManagementEvents=False), CREATE_SITE)
    no_kms = basic(ExcludeManagementEventSources=["kms.amazonaws.com"])
    assert not selects(no_kms, KMS_DECRYPT) and selects(no_kms, CREATE_SITE)


@pytest.mark.parametrize(
    ("values", "taken"),
    [
        (["arn:aws:s3"], {"photos/2026/cat.jpg", "photos/2026/dog.jpg", "ledger/books/2026.csv", "photos/"}),
        (["arn:aws:s3:::"], {"photos/2026/cat.jpg", "photos/2026/dog.jpg", "ledger/books/2026.csv", "photos/"}),
        (["arn:aws:s3:::photos/"], {"photos/2026/cat.jpg", "photos/2026/dog.jpg", "photos/"}),
        (["arn:aws:s3:::photos/2026/c"], {"photos/2026/cat.jpg"}),
        (["arn:aws:s3:::ledger/", "arn:aws:s3:::photos/2026/d"], {"photos/2026/dog.jpg", "ledger/books/2026.csv"}),
        (["arn:aws:s3:::photo/"], set()),  # a prefix of the bucket name is not the bucket
        ([], set()),
    ],
)
def test_s3_data_resources(values: list[str], taken: set[str]) -> None:
    doc = basic(DataResources=[{"Type": "AWS::S3::Object", "Values": values}])
    events = {
        "photos/2026/cat.jpg": GET,
        "photos/2026/dog.jpg": PUT,
        "ledger/books/2026.csv": OTHER_PUT,
        "photos/": LIST,
    }
    assert {name for name, r in events.items() if selects(doc, r)} == taken


def test_data_resources_respect_read_write_type_and_type() -> None:
    writes = basic(ReadWriteType="WriteOnly", DataResources=[{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3"]}])
    assert selects(writes, PUT) and not selects(writes, GET)
    assert selects(writes, CREATE_SITE) and not selects(writes, LIST_SITES)  # management defaults still apply
    lambdas = basic(DataResources=[{"Type": "AWS::Lambda::Function", "Values": ["arn:aws:lambda"]}])
    assert not selects(lambdas, PUT)


def test_basic_selectors_are_or_ed() -> None:
    doc = trail(
        event_selectors=[
            {
                "IncludeManagementEvents": False,
                "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::ledger/"]}],
            },
            {"ReadWriteType": "ReadOnly", "IncludeManagementEvents": True},
        ]
    )
    assert selects(doc, OTHER_PUT) and selects(doc, LIST_SITES)
    assert not selects(doc, CREATE_SITE) and not selects(doc, PUT)


def test_insights_events_never_match_basic_selectors() -> None:
    insight = {**CREATE_SITE, "eventCategory": "Insight", "eventType": "AwsCloudTrailInsight"}
    assert not selects(trail(), insight) and not selects(basic(), insight)


# -- advanced selectors -------------------------------------------------------------------------


def test_advanced_management_only() -> None:
    doc = advanced(f("eventCategory", Equals=["Management"]))
    assert selects(doc, CREATE_SITE) and selects(doc, KMS_DECRYPT) and not selects(doc, PUT)


def test_advanced_management_without_kms_write_only() -> None:
    doc = advanced(
        f("eventCategory", Equals=["Management"]),
        f("eventSource", NotEquals=["kms.amazonaws.com", "rdsdata.amazonaws.com"]),
        f("readOnly", Equals=["false"]),
    )
    assert selects(doc, CREATE_SITE)
    assert not selects(doc, LIST_SITES) and not selects(doc, KMS_DECRYPT)
    kms_write = management("CreateKey", "kms.amazonaws.com")
    assert not selects(doc, kms_write)


def test_advanced_s3_objects_of_all_but_one_bucket() -> None:
    doc = advanced(
        f("eventCategory", Equals=["Data"]),
        f("resources.type", Equals=["AWS::S3::Object"]),
        f("eventName", Equals=["PutObject", "DeleteObject"]),
        f("resources.ARN", NotStartsWith=["arn:aws:s3:::ledger/"]),
    )
    assert selects(doc, PUT)
    assert not selects(doc, OTHER_PUT)  # excluded bucket
    assert not selects(doc, GET)  # not a listed event name
    assert not selects(doc, LIST)  # no object resource
    assert not selects(doc, CREATE_SITE)


@pytest.mark.parametrize(
    ("operator", "values", "taken"),
    [
        ("Equals", ["arn:aws:s3:::photos/2026/cat.jpg"], {"GetObject"}),
        ("StartsWith", ["arn:aws:s3:::photos/"], {"GetObject", "PutObject"}),
        ("EndsWith", [".csv", ".jpg"], {"GetObject", "PutObject", "PutObject-ledger"}),
        ("NotEquals", ["arn:aws:s3:::photos/2026/cat.jpg"], {"PutObject", "PutObject-ledger"}),
        ("NotStartsWith", ["arn:aws:s3:::photos/"], {"PutObject-ledger"}),
        ("NotEndsWith", [".jpg"], {"PutObject-ledger"}),
    ],
)
def test_every_operator_on_resource_arns(operator: str, values: list[str], taken: set[str]) -> None:
    doc = advanced(
        f("eventCategory", Equals=["Data"]),
        f("resources.type", Equals=["AWS::S3::Object"]),
        f("resources.ARN", **{operator: values}),
    )
    events = {"GetObject": GET, "PutObject": PUT, "PutObject-ledger": OTHER_PUT}
    assert {name for name, r in events.items() if selects(doc, r)} == taken


def test_operators_inside_one_field_selector_are_and_ed() -> None:
    doc = advanced(
        f("eventCategory", Equals=["Data"]),
        f("resources.type", Equals=["AWS::S3::Object"]),
        f("resources.ARN", StartsWith=["arn:aws:s3:::photos/"], NotEndsWith=["dog.jpg"]),
    )
    assert selects(doc, GET) and not selects(doc, PUT) and not selects(doc, OTHER_PUT)


def test_advanced_event_source_name_and_type_fields() -> None:
    doc = advanced(
        f("eventCategory", Equals=["Data"]),
        f("resources.type", Equals=["AWS::S3::Object"]),
        f("eventSource", Equals=["s3.amazonaws.com"]),
        f("eventName", StartsWith=["Get"]),
        f("eventType", Equals=["AwsApiCall"]),
        f("readOnly", Equals=["true"]),
    )
    assert selects(doc, GET) and not selects(doc, PUT)


def test_advanced_identity_and_console_fields() -> None:
    alice = s3_data("GetObject", "photos", "a.jpg", read_only=True, userIdentity=identity("IAMUser", "alice"))
    console = {**alice, "sessionCredentialFromConsole": "true"}
    by_user = advanced(
        f("eventCategory", Equals=["Data"]),
        f("resources.type", Equals=["AWS::S3::Object"]),
        f("userIdentity.arn", EndsWith=[":user/alice"]),
    )
    assert selects(by_user, alice) and not selects(by_user, GET)  # GET is the root user's
    from_console = advanced(
        f("eventCategory", Equals=["Data"]),
        f("resources.type", Equals=["AWS::S3::Object"]),
        f("sessionCredentialFromConsole", Equals=["true"]),
    )
    assert selects(from_console, console) and not selects(from_console, alice)
    not_console = advanced(
        f("eventCategory", Equals=["Data"]),
        f("resources.type", Equals=["AWS::S3::Object"]),
        f("sessionCredentialFromConsole", NotEquals=["true"]),
    )
    assert selects(not_console, alice) and not selects(not_console, console)


def test_advanced_resource_type_must_match() -> None:
    doc = advanced(f("eventCategory", Equals=["Data"]), f("resources.type", Equals=["AWS::Lambda::Function"]))
    assert not selects(doc, PUT)
    buckets = advanced(f("eventCategory", Equals=["Data"]), f("resources.type", Equals=["AWS::S3::Object"]))
    assert selects(buckets, PUT) and not selects(buckets, LIST)


def test_advanced_selectors_are_or_ed_and_empty_takes_nothing() -> None:
    doc = trail(
        advanced_event_selectors=[
            {"FieldSelectors": [f("eventCategory", Equals=["Management"]), f("readOnly", Equals=["true"])]},
            {"FieldSelectors": [f("eventCategory", Equals=["Data"]), f("resources.type", Equals=["AWS::S3::Object"])]},
        ]
    )
    assert selects(doc, LIST_SITES) and selects(doc, PUT)
    assert not selects(doc, CREATE_SITE)
    nothing = trail(advanced_event_selectors=[])
    assert not any(selects(nothing, r) for r in (CREATE_SITE, LIST_SITES, PUT))


def test_missing_fields_meet_only_negative_operators() -> None:
    no_identity = {key: value for key, value in GET.items() if key != "userIdentity"}
    positive = advanced(f("eventCategory", Equals=["Data"]), f("userIdentity.arn", StartsWith=["arn:"]))
    negative = advanced(f("eventCategory", Equals=["Data"]), f("userIdentity.arn", NotStartsWith=["arn:aws:iam::1"]))
    assert not selects(positive, no_identity) and selects(negative, no_identity)


# -- the store: data_event_wanted and all_trails ------------------------------------------------


@pytest.fixture
def store(tmp_path: Path) -> Any:
    state = SqliteStateStore(tmp_path / "state.db")
    yield state
    state.close()


def test_data_event_wanted_follows_logging_trails_and_their_writes(store: Any) -> None:
    assert not data_event_wanted(store, PUT)
    doc = trail(event_selectors=[{"DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::photos/"]}]}])
    trail_docs.save(store, doc)
    assert not data_event_wanted(store, PUT)  # the trail does not log yet
    doc["is_logging"] = True
    trail_docs.save(store, doc)  # the write drops the cached trails
    assert data_event_wanted(store, PUT) and data_event_wanted(store, GET)
    assert not data_event_wanted(store, OTHER_PUT)
    elsewhere = s3_data("PutObject", "photos", "x.jpg", read_only=False, region="eu-west-1")
    assert not data_event_wanted(store, elsewhere)  # single-region trail of us-east-1
    doc["is_multi_region_trail"] = True
    trail_docs.save(store, doc)
    assert data_event_wanted(store, elsewhere)
    other_account = {**PUT, "recipientAccountId": "210987654321"}
    assert not data_event_wanted(store, other_account)
    trail_docs.remove(store, doc)
    assert not data_event_wanted(store, PUT)


def test_all_trails_lists_every_account_and_region(store: Any) -> None:
    first = trail()
    second = trail_docs.new_trail("west", "210987654321", "us-west-2", NOW)
    trail_docs.save(store, first)
    trail_docs.save(store, second)
    assert [(t["account_id"], t["name"]) for t in all_trails(store)] == [(ACCOUNT, "audit"), ("210987654321", "west")]
