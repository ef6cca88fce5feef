"""Sample values built from model shapes, for protocol round-trip tests.

``sample_input(operation)`` / ``sample_output(operation)`` fill *every* member of the shape, recursively:
strings satisfy the model's length, pattern and enum (patterned strings come from ``PATTERNED``, a table
keyed by shape name; a patterned shape missing from it is an error, never a guess), numbers sit inside
their range, lists get two items (repeated query keys) and maps two entries, within their bounds.
``variant`` picks other table entries and enum values, so a second pass exercises IDs instead of ARNs.

Free-text strings carry UTF-8 and URL-significant characters (``/ ? & = + % #``) so every wire location
proves its encoding. Timestamps have millisecond precision (what botocore and AWS keep).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from botocore.model import OperationModel, Shape

from trailpost.protocol.validation import compile_pattern

ARN_OUTPOST = "arn:aws:outposts:us-east-1:123456789012:outpost/op-0123456789abcdef0"
ARN_SITE = "arn:aws:outposts:us-east-1:123456789012:site/os-0123456789abcdef0"
ARN_QUOTE = "arn:aws:outposts:us-east-1:123456789012:quote/oq-0123456789abcdef0"
FREE_TEXT = "Zürich/東京 ✓ a+b=c&d?e#f %41"
TIMESTAMP = datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)

# Values for every patterned string shape of the Outposts and CloudTrail models. Where one name occurs in
# both models with different constraints the values satisfy both. The first entries of identifier shapes
# that accept an ARN are ARNs, so URI labels carry percent-encoded ``:`` and ``/``.
PATTERNED: dict[str, list[str]] = {
    # -- Outposts
    "AccountId": ["123456789012", "210987654321"],
    "AddressLine1": ["Bahnhofstraße 7", "1 Main St"],
    "AddressLine2": ["Floor 3, Suite #4"],
    "AddressLine3": ["c/o Müller & Söhne"],
    "Arn": [ARN_OUTPOST, ARN_SITE],
    "AssetId": ["1234567890", "0987654321"],
    "AssetIdInput": ["1234567890", "0987654321"],
    "AutoFillIdempotencyToken": ["b4b3c4a6-0f6d-4b4e-9a43-1b0a6e1c9f00"],
    "AvailabilityZone": ["us-east-1a", "us-east-1b"],
    "AvailabilityZoneId": ["use1-az1", "use1-az2"],
    "CIDR": ["10.0.0.0/16", "192.168.10.0/24"],
    "CapacityTaskId": ["cap-0123456789abcdef0", "cap-fedcba98765432100"],
    "City": ["São Paulo & Zürich+1 %2F", "Seattle"],
    "ConnectionId": ["Y29ubmVjdGlvbi0x+/=", "abc123"],
    "ConstraintValue": ["42 kVA\nmax"],
    "ContactName": ["Jane Doe-Müller"],
    "ContactPhoneNumber": ["+12065550100"],
    "CountryCode": ["US", "DE"],
    "DeviceSerialNumber": ["SN1234567"],
    "DistrictOrCounty": ["King County"],
    "ErrorMessage": ["Something went wrong: ünïcode"],
    "Family": ["m5", "c6gd"],
    "HostId": ["h-0123456789", "h-abcdef"],
    "InstanceFamilyName": ["m5", "family/c5"],
    "InstanceId": ["i-0123456789abcdef0", "i-0fedcba9876543210"],
    "InstanceTypeName": ["m5.large", "c5.xlarge"],
    "LifeCycleStatus": ["ACTIVE", "RETIRING"],
    "LineItemId": ["ooi-0123456789abcdef0", "ooi-fedcba98765432100"],
    "MacAddress": ["0a:1b:2c:3d:4e:5f", "0A-1B-2C-3D-4E-5F"],
    "Municipality": ["Bezirk Mitte"],
    "OrderId": ["oo-0123456789abcdef0", "oo-fedcba98765432100"],
    "OrderIdentifier": ["oo-0123456789abcdef0"],
    "OutpostArn": [ARN_OUTPOST],
    "OutpostDescription": ["Rack in hall 2 · rows 3/4 & more"],
    "OutpostId": [ARN_OUTPOST, "op-0123456789abcdef0"],
    "OutpostIdOnly": ["op-0123456789abcdef0"],
    "OutpostIdentifier": [ARN_OUTPOST, "op-0123456789abcdef0"],
    "OutpostIdentifierOrEmpty": ["op-0123456789abcdef0", ARN_OUTPOST],
    "OutpostInstanceType": ["m5.large", "c5.xlarge"],
    "OutpostName": ["Outpost Zürich #1"],
    "OwnerId": ["123456789012"],
    "PostalCode": ["98101-1234"],
    "QuoteDescription": ["Quote for two racks\nsecond line ✓"],
    "QuoteId": ["oq-0123456789abcdef0"],
    "QuoteIdentifier": [ARN_QUOTE, "oq-0123456789abcdef0"],
    "QuoteOptionIdentifier": ["oqo-0123456789abcdef0", "oqo-fedcba98765432100"],
    "RackId": ["RACK-001", "RACK 002"],
    "RoleArn": ["arn:aws:iam::123456789012:role/outposts/ConnectivityRole"],
    "ServerEndpoint": ["203.0.113.7:51820"],
    "SiteArn": [ARN_SITE],
    "SiteDescription": ["Main site · Zürich"],
    "SiteId": [ARN_SITE, "os-0123456789abcdef0"],
    "SiteName": ["Site Zürich/東京 #1 a+b=c&d"],
    "SiteNotes": ["Loading dock at the back.\nCall ahead."],
    "SkuCode": ["OR-ABCDEF1", "OR-1234567"],
    "StateOrRegion": ["WA", "Bayern"],
    "StatusMessage": ["All good"],
    "String": ["some value ✓", "another/value"],
    "SubnetId": ["subnet-0123abcd", "subnet-4567ef01"],
    "TagKey": ["team", "cost:center/a"],
    "TagValue": ["platform", "Zürich ✓"],
    "Token": ["1##abc", "2##next+page/="],
    "TrackingId": ["1Z999AA10123456784"],
    "UnderlayIpAddress": ["10.1.2.3"],
    "VpcEndpointId": ["vpce-0123abcd"],
    "VpcId": ["vpc-0123abcd"],
    "WireGuardPublicKey": ["xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg="],
    # -- CloudTrail
    "ChannelArn": ["arn:aws:cloudtrail:us-east-1:123456789012:channel/01234567-89ab-cdef-0123-456789abcdef"],
    "ChannelName": ["my-channel.1"],
    "DashboardArn": ["arn:aws:cloudtrail:us-east-1:123456789012:dashboard/my-dashboard"],
    "DashboardName": ["my_dashboard-1"],
    "DeliveryS3Uri": ["s3://my-bucket/prefix/ü"],
    "ErrorCode": ["AccessDenied", "Invalid.Parameter: x"],
    "EventDataStoreArn": ["arn:aws:cloudtrail:us-east-1:123456789012:eventdatastore/01234567-89ab-cdef"],
    "EventDataStoreKmsKeyId": ["alias/my-key"],
    "EventDataStoreName": ["my-event-data-store"],
    "EventName": ["CreateTrail", "StartLogging"],
    "EventSource": ["cloudtrail.amazonaws.com", "outposts.amazonaws.com"],
    "FederationRoleArn": ["arn:aws:iam::123456789012:role/federation@x=y"],
    "Location": ["s3://bucket/prefix/*"],
    "OperatorValue": ["Management", "Data ✓"],
    "PaginationToken": ["token-abc/+=", "next page token"],
    "PartitionKeyName": ["eventTime"],
    "PartitionKeyType": ["timestamp"],
    "Prompt": ["Show me the top 5 users\nthis week"],
    "QueryAlias": ["my.alias_1"],
    "QueryParameter": ["2024-01-01 ✓"],
    "QueryParameterKey": ["$start$", "key:1"],
    "QueryParameterValue": ["value-1", "arn:aws:x"],
    "QueryStatement": ["SELECT eventID FROM eds\nWHERE userName = 'ü'"],
    "RefreshId": ["1234567890"],
    "ResourceArn": ["arn:aws:cloudtrail:us-east-1:123456789012:trail/my-trail"],
    "SearchSampleQueriesSearchPhrase": ["top users"],
    "SelectorField": ["eventCategory", "resources.type"],
    "SelectorName": ["Log all management events ✓"],
    "Source": ["my-source ✓"],
    "TimeOfDay": ["00:00", "23:59"],
    "UUID": ["01234567-89ab-cdef-0123-456789abcdef"],
    "ViewPropertiesKey": ["View.Type"],
    "ViewPropertiesValue": ["Table view"],
}

MAX_DEPTH = 8


def _satisfies(shape: Shape, value: str) -> bool:
    meta = shape.metadata
    if len(value) < meta.get("min", 0) or len(value) > meta.get("max", len(value)):
        return False
    return "pattern" not in meta or compile_pattern(meta["pattern"]).search(value) is not None


def sample_string(shape: Shape, variant: int = 0) -> str:
    """A string of ``shape`` satisfying its enum, pattern and length."""
    if shape.enum:
        return shape.enum[variant % len(shape.enum)]
    meta = shape.metadata
    if "pattern" in meta:
        if shape.name not in PATTERNED:
            raise KeyError(f"no sample for patterned shape {shape.name} ({meta['pattern']!r}): add one to PATTERNED")
        choices = PATTERNED[shape.name]
        value = choices[variant % len(choices)]
        if not _satisfies(shape, value):
            raise ValueError(f"sample {value!r} does not satisfy {shape.name} {meta}")
        return value
    text = f"{FREE_TEXT} {variant}"
    text = text[: meta.get("max", len(text))]
    return text + "x" * max(0, meta.get("min", 0) - len(text))


def _sample_number(shape: Shape, variant: int) -> int | float:
    meta = shape.metadata
    low = meta.get("min", 0)
    high = meta.get("max", low + 1000)
    if shape.type_name in ("integer", "long"):
        if shape.type_name == "long" and "max" not in meta:
            return 2**40 + variant
        return min(high, int(low) + 3 + variant)
    return min(float(high), low + 12.5 + variant)


def sample_value(shape: Shape, variant: int = 0, depth: int = 0) -> Any:
    """A value of ``shape`` with every member present (down to ``MAX_DEPTH``)."""
    kind = shape.type_name
    if kind == "structure":
        if depth >= MAX_DEPTH:
            return {}
        return {name: sample_value(member, variant, depth + 1) for name, member in shape.members.items()}
    if kind == "list":
        count = max(shape.metadata.get("min", 0), min(2, shape.metadata.get("max", 2)))
        return [sample_value(shape.member, variant + i, depth + 1) for i in range(count)]
    if kind == "map":
        count = max(shape.metadata.get("min", 0), min(2, shape.metadata.get("max", 2)))
        keys = [_distinct_key(shape.key, variant + i, i) for i in range(count)]
        return {key: sample_value(shape.value, variant + i, depth + 1) for i, key in enumerate(keys)}
    if kind == "string":
        return sample_string(shape, variant)
    if kind in ("integer", "long", "float", "double"):
        return _sample_number(shape, variant)
    if kind == "boolean":
        return variant % 2 == 0
    if kind == "timestamp":
        return TIMESTAMP.replace(second=variant % 60)
    if kind == "blob":
        return b"\x00\xffblob" + bytes([variant % 256])
    raise TypeError(f"no sample for shape type {kind} ({shape.name})")


def _distinct_key(shape: Shape, variant: int, index: int) -> str:
    value = sample_string(shape, variant)
    if shape.enum or "pattern" in shape.metadata:
        return value
    return f"key{index}-{value}"[: shape.metadata.get("max", 1000)]


def sample_input(operation: OperationModel, variant: int = 0) -> dict[str, Any]:
    """A valid input for ``operation`` with every member set."""
    shape = operation.input_shape
    return sample_value(shape, variant) if shape is not None else {}


def sample_output(operation: OperationModel, variant: int = 0) -> dict[str, Any]:
    """A full output for ``operation`` with every member set."""
    shape = operation.output_shape
    return sample_value(shape, variant) if shape is not None else {}


def normalize(value: Any) -> Any:
    """``value`` with timestamps as epoch milliseconds (compare instants) and bytearrays as bytes."""
    if isinstance(value, dict):
        return {key: normalize(item) for key, item in value.items()}
    if isinstance(value, list):
        return [normalize(item) for item in value]
    if isinstance(value, datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return ("instant", round(aware.timestamp() * 1000))
    if isinstance(value, bytearray):
        return bytes(value)
    return value
