"""Failed calls are events with errorCode and errorMessage; requests with no caller or no operation are not.

Each kind of failure a caller can meet is produced for real (boto3, or raw HTTP where boto3
refuses to send the request) and its stored record is checked field by field: validation (Coral
wording), not found, conflict, quota, serialization, internal error. Requests that fail
authentication, and authenticated requests that name no operation, leave no record; the server
log says why.
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from contextlib import closing
from typing import Any

import pytest

from tests.audit.stored import all_records, record_of, records_with
from tests.audit.test_records import OUTPOST, SITE, call, check_record
from tests.gateway.rawhttp import Request, send, sign

MISSING_SITE = "os-0123456789abcdef0"


def test_validation_error_is_recorded_with_aws_wording(server: Any, outposts: Any) -> None:
    site = outposts.create_site(Name=f"v-{uuid.uuid4().hex[:6]}")["Site"]
    done = call(outposts, "CreateOutpost", Name="n", SiteId=site["SiteId"], SupportedHardwareType="DESK")
    assert done.error == {
        "Code": "ValidationException",
        "Message": "1 validation error detected: Value 'DESK' at 'supportedHardwareType' failed to satisfy "
        "constraint: Member must satisfy enum value set: [RACK, SERVER]",
    }
    record = check_record(server, done, [(SITE, site["SiteArn"])])
    assert record["requestParameters"] == {"Name": "n", "SiteId": site["SiteId"], "SupportedHardwareType": "DESK"}


def test_invalid_identifier_names_no_resource(server: Any, outposts: Any) -> None:
    done = call(outposts, "GetSite", SiteId="site-that-is-not-an-id")
    assert done.error is not None and done.error["Code"] == "ValidationException"
    assert "Member must satisfy regular expression pattern" in done.error["Message"]
    check_record(server, done, [])


def test_not_found_is_recorded_with_the_named_resource(server: Any, outposts: Any) -> None:
    done = call(outposts, "GetSite", SiteId=MISSING_SITE)
    assert done.error == {"Code": "NotFoundException", "Message": f"Site {MISSING_SITE} not found."}
    account = outposts.create_site(Name="account-of-the-caller")["Site"]["AccountId"]
    check_record(server, done, [(SITE, f"arn:aws:outposts:us-east-1:{account}:site/{MISSING_SITE}")])


def test_conflict_is_recorded(server: Any, outposts: Any) -> None:
    site = outposts.create_site(Name=f"busy-{uuid.uuid4().hex[:6]}")["Site"]
    outposts.create_outpost(Name="holds", SiteId=site["SiteId"])
    done = call(outposts, "DeleteSite", SiteId=site["SiteId"])
    assert done.error is not None and done.error["Code"] == "ConflictException"
    assert done.response["ResourceType"] == "OUTPOST"
    record = check_record(server, done, [(SITE, site["SiteArn"])])
    assert "ResourceType" not in json.dumps(record)  # the error's extra members are the caller's, not the record's


def test_quota_error_is_recorded(make_server: Any) -> None:
    dedicated = make_server()
    client = dedicated.client("outposts")
    for n in range(100):
        client.create_site(Name=f"s{n}")
    done = call(client, "CreateSite", Name="one too many")
    assert done.error is not None and done.error["Code"] == "ServiceQuotaExceededException"
    check_record(dedicated, done, [])
    assert len([r for r in all_records(dedicated.data_dir) if r["eventName"] == "CreateSite"]) == 101


def test_serialization_error_records_no_parameters(server: Any) -> None:
    """A value of the wrong JSON type: the input could not be read, so there are no parameters to show."""
    client = server.client("outposts", parameter_validation=False)
    done = call(client, "ListSites", MaxResults="many")
    assert done.error is not None and done.error["Code"] == "SerializationException"
    record = record_of(server.data_dir, done.request_id)
    assert (record["errorCode"], record["errorMessage"]) == (done.error["Code"], done.error["Message"])
    assert record["requestParameters"] is None and record["responseElements"] is None
    assert record["readOnly"] is True and "resources" not in record

    body = json.dumps({"Name": "typed", "Tags": ["not", "a", "map"], "OperatingAddress": "nowhere"}).encode()
    reply = send(
        server.port,
        sign(
            Request("POST", "/sites", headers={"Content-Type": "application/json"}, body=body),
            f"127.0.0.1:{server.port}",
            server.root_credentials(),
        ),
    )
    assert (reply.status, reply.code) == (400, "SerializationException")
    raw = record_of(server.data_dir, reply.request_id)
    assert (raw["eventName"], raw["errorCode"], raw["errorMessage"]) == ("CreateSite", reply.code, reply.message)
    assert raw["requestParameters"] is None and raw["responseElements"] is None


def test_internal_error_is_recorded(make_server: Any) -> None:
    """A stored document the handler cannot read: InternalServerException 500, recorded; the log has why."""
    dedicated = make_server()
    client = dedicated.client("outposts")
    site = client.create_site(Name="to-be-corrupted")["Site"]
    with closing(sqlite3.connect(dedicated.data_dir / "state.db", timeout=10)) as db, db:
        changed = db.execute(
            "UPDATE state SET doc = ? WHERE kind = 'outposts.site' AND key = ?", (b"[1, 2, 3]", site["SiteId"])
        ).rowcount
    assert changed == 1
    done = call(client, "GetSite", SiteId=site["SiteId"])
    assert done.error == {"Code": "InternalServerException", "Message": "An internal error occurred."}
    check_record(dedicated, done, [(SITE, site["SiteArn"])])
    assert "internal error in outposts GetSite" in dedicated.log()
    assert "Traceback" in dedicated.log() and "Traceback" not in json.dumps(
        record_of(dedicated.data_dir, done.request_id)
    )
    assert client.create_site(Name="after")["Site"]["SiteId"]  # the server keeps serving


def test_mutating_failure_keeps_parameters_and_has_no_response(server: Any, outposts: Any) -> None:
    outpost = outposts.create_outpost(Name="x", SiteId=outposts.create_site(Name="f")["Site"]["SiteId"])["Outpost"]
    outposts.start_outpost_decommission(OutpostIdentifier=outpost["OutpostId"])
    done = call(outposts, "StartOutpostDecommission", OutpostIdentifier=outpost["OutpostId"], ValidateOnly=False)
    assert done.error is not None and done.error["Code"] == "ConflictException"
    record = check_record(server, done, [(OUTPOST, outpost["OutpostArn"])])
    assert record["requestParameters"] and record["responseElements"] is None and record["readOnly"] is False


# -- not events --------------------------------------------------------------------------------------


def _signed(server: Any, request: Request, credentials: tuple[str, str]) -> Any:
    return send(server.port, sign(request, f"127.0.0.1:{server.port}", credentials))


@pytest.mark.parametrize("failure", ["unknown key", "bad signature", "no signature"])
def test_authentication_failures_are_not_events(server: Any, failure: str) -> None:
    key, secret = server.root_credentials()
    unknown = "AKIA" + uuid.uuid4().hex[:16].upper()
    request = Request("GET", "/sites")
    if failure == "unknown key":
        reply = _signed(server, request, (unknown, secret))
        expected = ("UnrecognizedClientException", 403)
    elif failure == "bad signature":
        reply = _signed(server, request, (key, secret[::-1]))
        expected = ("InvalidSignatureException", 403)
    else:
        reply = send(server.port, Request("GET", "/sites", headers={"Host": f"127.0.0.1:{server.port}"}))
        expected = ("MissingAuthenticationTokenException", 403)
    assert (reply.code, reply.status) == expected
    assert reply.request_id
    assert records_with(server.data_dir, reply.request_id) == []
    assert not any(r["userIdentity"].get("accessKeyId") == unknown for r in all_records(server.data_dir))


def test_a_request_naming_no_operation_is_logged_not_recorded(make_server: Any) -> None:
    """An authenticated request that matches no operation: AWS could not name an eventName, so no event."""
    dedicated = make_server("--log-level", "info")
    path = f"/no-such-resource-{uuid.uuid4().hex[:8]}"
    reply = _signed(dedicated, Request("GET", path), dedicated.root_credentials())
    assert (reply.status, reply.code) == (404, "UnknownOperationException")
    assert records_with(dedicated.data_dir, reply.request_id) == []
    assert all_records(dedicated.data_dir) == []
    deadline = time.monotonic() + 5
    while f"No operation matches GET {path}" not in dedicated.log() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "request to no known operation of outposts" in dedicated.log()
    assert f"No operation matches GET {path}" in dedicated.log()
