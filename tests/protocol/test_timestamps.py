"""Timestamps on the wire: Java ``Double.toString`` output, client input forms, and botocore round trips.

AWS's Java services write epoch seconds as ``Double.toString`` (fact A.1 of the AWS-recorded reference:
``1.486505154426E9``, trailing zeros dropped as in ``1.54820483703E9``); botocore must read back the
same instant, and trailpost must read every form clients send (epoch numbers, numeric strings, ISO-8601).
"""

from __future__ import annotations

import math
import random
import struct
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import orjson
import pytest
from botocore.awsrequest import HeadersDict
from botocore.parsers import create_parser

from trailpost.protocol.serializers import SERIALIZERS
from trailpost.protocol.specs import load_service_model
from trailpost.protocol.timestamps import epoch_fragment, iso8601, iso8601_epoch, java_double, parse_timestamp

CLOUDTRAIL = load_service_model("cloudtrail")
OUTPOSTS = load_service_model("outposts")

# GetTrailStatus as AWS sent it (reference entry cc-test_cloudtrail_set_logging-cloudtrail.GetTrailStatus_2,
# body rebuilt byte-exactly from the recorded Content-Length).
RECORDED_GET_TRAIL_STATUS = (
    b'{"LatestDeliveryAttemptTime":"","LatestNotificationAttemptSucceeded":"","LatestDeliveryAttemptSucceeded":"",'
    b'"IsLogging":true,"TimeLoggingStarted":"2017-02-07T22:05:54Z","StartLoggingTime":1.486505154426E9,'
    b'"LatestNotificationAttemptTime":"","TimeLoggingStopped":""}'
)


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (1486505154.426, "1.486505154426E9"),  # recorded GetTrailStatus StartLoggingTime
        (1548204837.03, "1.54820483703E9"),  # trailing zeros dropped
        (1470611276.058, "1.470611276058E9"),
        (1700000000, "1.7E9"),
        (1700000000.5, "1.7000000005E9"),
        (10_000_000.0, "1.0E7"),  # Java switches to scientific at 10^7
        (9_999_999.0, "9999999.0"),
        (1234567.0, "1234567.0"),
        (100, "100.0"),
        (0.5, "0.5"),
        (0.001, "0.001"),  # ... and below 10^-3
        (0.0001, "1.0E-4"),
        (0.00012345, "1.2345E-4"),
        (0, "0.0"),
        (-0.0, "-0.0"),
        (-1.5e9, "-1.5E9"),
        (-0.0001, "-1.0E-4"),
        (1e16, "1.0E16"),
        (1e21, "1.0E21"),
        (4102444800.999, "4.102444800999E9"),  # 2100-01-01
    ],
)
def test_java_double_matches_java_double_to_string(seconds: float, expected: str) -> None:
    assert java_double(seconds) == expected
    assert float(expected) == float(seconds)


def test_epoch_fragment_is_a_raw_json_number() -> None:
    value = datetime(2017, 2, 7, 22, 5, 54, 426000, tzinfo=UTC)
    assert orjson.dumps({"t": epoch_fragment(value)}) == b'{"t":1.486505154426E9}'


def test_recorded_aws_body_is_reproduced_byte_for_byte_in_length() -> None:
    operation = CLOUDTRAIL.operation_model("GetTrailStatus")
    parser = create_parser("json")
    parsed = parser.parse(
        {"status_code": 200, "headers": HeadersDict(), "body": RECORDED_GET_TRAIL_STATUS}, operation.output_shape
    )
    parsed.pop("ResponseMetadata")
    assert parsed["StartLoggingTime"] == datetime(2017, 2, 7, 22, 5, 54, 426000, tzinfo=UTC)

    body = SERIALIZERS["json"]().serialize(operation, parsed).body

    assert b'"StartLoggingTime":1.486505154426E9' in body
    assert len(body) == len(RECORDED_GET_TRAIL_STATUS)
    assert orjson.loads(body) == orjson.loads(RECORDED_GET_TRAIL_STATUS)


INSTANTS = [
    datetime(2017, 2, 7, 22, 5, 54, 426000, tzinfo=UTC),
    datetime(2019, 1, 23, 0, 53, 57, 30000, tzinfo=UTC),
    datetime(2024, 1, 1, tzinfo=UTC),
    datetime(2024, 2, 29, 23, 59, 59, 999000, tzinfo=UTC),
    datetime(1969, 12, 31, 23, 59, 58, 500000, tzinfo=UTC),
    datetime(2100, 1, 1, 0, 0, 0, 1000, tzinfo=UTC),
]


@pytest.mark.parametrize("instant", INSTANTS, ids=lambda d: d.isoformat())
@pytest.mark.parametrize("form", ["datetime", "epoch"])
@pytest.mark.parametrize("service", ["outposts", "cloudtrail"])
def test_timestamps_round_trip_through_botocore(instant: datetime, form: str, service: str) -> None:
    model = OUTPOSTS if service == "outposts" else CLOUDTRAIL
    name, member = (
        ("GetCapacityTask", "CreationDate") if service == "outposts" else ("GetTrailStatus", "StartLoggingTime")
    )
    operation = model.operation_model(name)
    value = instant if form == "datetime" else instant.timestamp()

    response = SERIALIZERS[model.protocol]().serialize(operation, {member: value})
    parsed = create_parser(model.protocol).parse(
        {"status_code": 200, "headers": HeadersDict(response.headers), "body": response.body}, operation.output_shape
    )

    assert abs(parsed[member] - instant) < timedelta(microseconds=1)
    assert f'"{member}":{java_double(instant.timestamp())}'.encode() in response.body


@pytest.mark.parametrize(
    ("wire", "expected"),
    [
        (1704067200, datetime(2024, 1, 1, tzinfo=UTC)),
        (1704198615.5, datetime(2024, 1, 2, 12, 30, 15, 500000, tzinfo=UTC)),
        ("1704067200", datetime(2024, 1, 1, tzinfo=UTC)),
        ("1.486505154426E9", datetime(2017, 2, 7, 22, 5, 54, 426000, tzinfo=UTC)),
        ("2024-01-01T00:00:00Z", datetime(2024, 1, 1, tzinfo=UTC)),
        ("2024-01-01T00:00:00.250Z", datetime(2024, 1, 1, 0, 0, 0, 250000, tzinfo=UTC)),
        ("2024-01-01T02:00:00+02:00", datetime(2024, 1, 1, tzinfo=UTC)),
        ("2024-01-01T00:00:00", datetime(2024, 1, 1, tzinfo=UTC)),  # no zone: UTC
    ],
)
def test_parse_timestamp_accepts_every_client_form(wire: object, expected: datetime) -> None:
    parsed = parse_timestamp(wire)
    assert parsed == expected
    assert parsed.utcoffset() == timedelta(0)


@pytest.mark.parametrize("wire", [True, "yesterday", None, [1], "2024-13-01T00:00:00Z"])
def test_parse_timestamp_rejects_non_timestamps(wire: object) -> None:
    with pytest.raises(ValueError):
        parse_timestamp(wire)


def test_iso8601_is_utc_with_z_and_no_fraction() -> None:
    value = datetime(2024, 1, 1, 2, 3, 4, 999999, tzinfo=timezone(timedelta(hours=2)))
    assert iso8601(value) == "2024-01-01T00:03:04Z"


def test_iso8601_epoch() -> None:
    assert iso8601_epoch(1486505154.426) == "2017-02-07T22:05:54Z"
    assert iso8601_epoch(0) == "1970-01-01T00:00:00Z"


def _java_double_by_decimal(value: float) -> str:
    """The scientific form as ``Decimal`` spells repr's digits: the reference ``java_double`` once was."""
    sign, digits, exponent = Decimal(repr(value)).as_tuple()
    significant = "".join(map(str, digits)).rstrip("0") or "0"
    power = len(digits) + int(exponent) - 1
    return f"{'-' if sign else ''}{significant[0]}.{significant[1:] or '0'}E{power}"


def test_java_double_reads_the_scientific_form_off_repr_as_decimal_would() -> None:
    rng = random.Random(7)
    values = [1763978400.123, 1e16, 1e7, 0.000123, 1.5e-07, 1e-05, -1763978400.5, 1e300, 5e-324, 0.00099999]
    values += [rng.uniform(1e9, 2e9) for _ in range(2000)]
    values += [round(rng.uniform(1e9, 2e9), rng.randint(0, 6)) for _ in range(2000)]
    values += [rng.uniform(-1, 1) * 10.0 ** rng.randint(-300, 300) for _ in range(4000)]
    bits = (struct.unpack("d", struct.pack("Q", rng.getrandbits(64)))[0] for _ in range(8000))
    values += [value for value in bits if math.isfinite(value)]
    for value in values:
        if value != 0 and not 1e-3 <= abs(value) < 1e7:
            assert java_double(value) == _java_double_by_decimal(value), value
