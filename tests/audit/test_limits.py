"""CloudTrail's documented size limits, end to end and at the record builder.

userAgent, errorCode, errorMessage and requestID are cut to 1 KB (UTF-8 bytes); requestParameters
and responseElements whose JSON exceeds 100 KB are replaced by CloudTrail's omission marker
``{"reason": "<field> too large", "omitted": true}``; no record exceeds 256 KB. The client's own
answer is never cut: limits apply to the record only.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from tests.audit.stored import all_records, record_of
from tests.audit.test_records import call
from trailpost.audit.record import PARAMETERS_LIMIT, RECORD_LIMIT, build_record, cap, omitted, truncate
from trailpost.config import Settings
from trailpost.gateway.context import RequestContext
from trailpost.http import HttpRequest
from trailpost.identity.principal import Principal
from trailpost.services import outposts as outposts_service

KB = 1024


def test_long_user_agent_is_cut_to_1_kb(server: Any) -> None:
    client = server.client("outposts", user_agent_extra="audit/" + "x" * 3000)
    done = call(client, "ListSites", MaxResults=1)
    assert done.error is None and len(done.user_agent.encode()) > 3000
    record = record_of(server.data_dir, done.request_id)
    assert record["userAgent"] == done.user_agent[:KB]
    assert len(record["userAgent"].encode()) == KB


def test_long_error_message_is_cut_to_1_kb_in_the_record_only(server: Any, outposts: Any) -> None:
    done = call(outposts, "CreateSite", Name="n" * 1500)
    assert done.error is not None and done.error["Code"] == "ValidationException"
    assert len(done.error["Message"]) > 1500  # the caller gets the whole message
    record = record_of(server.data_dir, done.request_id)
    assert record["errorMessage"] == done.error["Message"][:KB]
    assert record["errorCode"] == "ValidationException"
    assert record["requestParameters"] == {"Name": "n" * 1500}  # far below 100 KB: kept whole


def test_request_parameters_up_to_100_kb_are_kept_and_above_are_omitted(server: Any, outposts: Any) -> None:
    overhead = len(orjson.dumps({"Name": "n", "Notes": ""}))
    at_limit = call(outposts, "CreateSite", Name="n", Notes="x" * (PARAMETERS_LIMIT - overhead))
    over = call(outposts, "CreateSite", Name="n", Notes="x" * (PARAMETERS_LIMIT - overhead + 1))
    for done in (at_limit, over):  # Notes is at most 2000 characters: both calls fail validation
        assert done.error is not None and done.error["Code"] == "ValidationException"
    kept = record_of(server.data_dir, at_limit.request_id)
    assert len(orjson.dumps(kept["requestParameters"])) == PARAMETERS_LIMIT
    assert kept["requestParameters"]["Notes"] == "x" * (PARAMETERS_LIMIT - overhead)
    dropped = record_of(server.data_dir, over.request_id)
    assert dropped["requestParameters"] == {"reason": "requestParameters too large", "omitted": True}
    assert dropped["responseElements"] is None
    assert len(dropped["errorMessage"].encode()) == KB
    for record in (kept, dropped):
        assert len(orjson.dumps(record)) <= RECORD_LIMIT


def test_big_request_within_the_body_limit_still_gives_a_small_record(server: Any, outposts: Any) -> None:
    done = call(outposts, "CreateSite", Name="big", Notes="y" * (2 * 1024 * 1024))
    assert done.error is not None and done.error["Code"] == "ValidationException"
    record = record_of(server.data_dir, done.request_id)
    assert record["requestParameters"] == omitted("requestParameters")
    assert len(orjson.dumps(record)) < 8 * KB


def test_no_stored_record_exceeds_256_kb(server: Any) -> None:
    sizes = [len(orjson.dumps(record)) for record in all_records(server.data_dir)]
    assert sizes and max(sizes) <= RECORD_LIMIT


# -- the builder itself: payloads no Outposts call can reach ---------------------------------------


def _context(result: dict[str, Any], wire: dict[str, Any]) -> RequestContext:
    binding = outposts_service.binding()
    ctx = RequestContext(
        request=HttpRequest("POST", "/sites", headers={"user-agent": "u" * 2000}, client_host="192.0.2.10"),
        store=None,  # type: ignore[arg-type]  # the builder performs no I/O
        settings=Settings(),
    )
    ctx.service, ctx.operation, ctx.region = binding, binding.model.operation_model("CreateSite"), "eu-west-1"
    ctx.principal = Principal("123456789012", "Root", "arn:aws:iam::123456789012:root", "123456789012", "AKIAX")
    ctx.wire_params, ctx.result = wire, result
    return ctx


def test_response_elements_over_100_kb_are_omitted() -> None:
    arn = "arn:aws:outposts:eu-west-1:123456789012:site/os-0123456789abcdef0"
    result = {"Site": {"SiteId": "os-0123456789abcdef0", "SiteArn": arn, "Notes": "z" * (150 * KB)}}
    record = build_record(_context(result, {"Name": "n"}), event_id="e", event_time=0.0)
    assert record["responseElements"] == {"reason": "responseElements too large", "omitted": True}
    assert record["requestParameters"] == {"Name": "n"}
    assert record["resources"] == [{"accountId": "123456789012", "type": "AWS::Outposts::Site", "ARN": arn}]
    assert len(record["userAgent"]) == KB and record["sourceIPAddress"] == "192.0.2.10"


def test_cap_drops_the_bulkiest_payload_first() -> None:
    record = {
        "eventVersion": "1.11",
        "requestParameters": {"a": "p" * (200 * KB)},
        "responseElements": {"b": "r" * (120 * KB)},
        "additionalEventData": {"c": "d" * (20 * KB)},
        "eventCategory": "Management",
    }
    capped = cap(record)
    assert capped["requestParameters"] == omitted("requestParameters")
    assert capped["responseElements"] == {"b": "r" * (120 * KB)}  # once under 256 KB, the rest stays
    assert capped["additionalEventData"] == {"c": "d" * (20 * KB)}
    assert len(orjson.dumps(capped)) <= RECORD_LIMIT
    assert list(capped) == list(record)


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [("abc", 3, "abc"), ("abcd", 3, "abc"), ("aé", 2, "a"), ("aé", 3, "aé"), ("€€", 4, "€"), ("", 1, "")],
)
def test_truncate_counts_utf8_bytes_and_never_splits_a_character(text: str, limit: int, expected: str) -> None:
    assert truncate(text, limit) == expected
