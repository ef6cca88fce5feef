"""Every Outposts operation's CloudTrail record, field by field, as root.

Each of the 45 operations is called through boto3 against the shared server; its record is read
from ``<data_dir>/state.db`` by the ``x-amzn-RequestId`` the client got and checked against the
reference (cloudtrail-reference.md 1.3, 1.6, 9): key set and order, JSON types, event source,
Region, account, ``requestParameters`` equal to what the client sent (model member names, path,
query and body merged; sensitive members ``"***"``), ``responseElements`` equal to what the client
received for mutating calls and ``null`` otherwise, Java-style dates, ``resources`` and readOnly.
The readOnly expectation here is the reference's own (Get*/List* read, the rest write), not the
server's table.
"""

from __future__ import annotations

import base64
import re
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import botocore.session
import pytest
from botocore import xform_name
from botocore.exceptions import ClientError
from botocore.model import Shape
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from tests.audit.stored import record_of
from tests.outposts.test_orders import (
    C6GD_SERVER,
    M7I_RACK_1,
    create_order,
    new_outpost,
    run_instances,
    wait_for,
    wait_order,
)
from tests.support.outposts import ADDRESS, RACK_PROPERTIES
from trailpost.audit.resources import resources

MODEL = botocore.session.get_session().get_service_model("outposts")
KEY_ORDER = [
    "eventVersion",
    "userIdentity",
    "eventTime",
    "eventSource",
    "eventName",
    "awsRegion",
    "sourceIPAddress",
    "userAgent",
    "errorCode",
    "errorMessage",
    "requestParameters",
    "responseElements",
    "additionalEventData",
    "requestID",
    "eventID",
    "readOnly",
    "resources",
    "eventType",
    "apiVersion",
    "managementEvent",
    "recipientAccountId",
    "serviceEventDetails",
    "sharedEventID",
    "vpcEndpointId",
    "vpcEndpointAccountId",
    "eventCategory",
    "addendum",
    "sessionCredentialFromConsole",
    "edgeDeviceDetails",
    "tlsDetails",
]
ALWAYS = {
    "eventVersion",
    "userIdentity",
    "eventTime",
    "eventSource",
    "eventName",
    "awsRegion",
    "sourceIPAddress",
    "userAgent",
    "requestParameters",
    "responseElements",
    "requestID",
    "eventID",
    "readOnly",
    "eventType",
    "managementEvent",
    "recipientAccountId",
    "eventCategory",
}
EVENT_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
VPC = {"VpcId": "vpc-0a1b2c3d4e5f60789", "SubnetIds": ["subnet-0123456789abcdef0"]}


# -- what the client sent and received -------------------------------------------------------------


@dataclass
class Call:
    """One boto3 call as the client saw it."""

    operation: str
    params: dict[str, Any]
    response: dict[str, Any]
    request_id: str
    user_agent: str
    error: dict[str, str] | None


def call(client: Any, operation: str, **params: Any) -> Call:
    """Call ``operation`` and keep the request id, the user agent sent and the answer."""
    sent: dict[str, str] = {}

    def capture(request: Any, **_: Any) -> None:
        agent = request.headers["User-Agent"]
        sent["user-agent"] = agent.decode() if isinstance(agent, bytes) else agent

    client.meta.events.register("before-send.outposts", capture)
    try:
        response = getattr(client, _method(operation))(**params)
        error = None
    except ClientError as exc:
        response = exc.response
        error = response["Error"]
    finally:
        client.meta.events.unregister("before-send.outposts", capture)
    request_id = response["ResponseMetadata"]["RequestId"]
    body = {k: v for k, v in response.items() if k not in ("ResponseMetadata", "Error")}
    return Call(operation, params, body, request_id, sent["user-agent"], error)


def _method(operation: str) -> str:
    return xform_name(operation)


def java_date(value: datetime) -> str:
    """``Feb 2, 2024, 10:00:00 AM`` in UTC, written with strftime (independent of the server's code)."""
    return value.astimezone(UTC).strftime("%b %-d, %Y, %-I:%M:%S %p")


def as_recorded(shape: Shape | None, value: Any) -> Any:
    """``value`` (boto3's view, model member names) as a record must show it."""
    if shape is None or value is None:
        return value
    if shape.metadata.get("sensitive"):
        return "***"
    if shape.type_name == "structure":
        return {name: as_recorded(shape.members[name], item) for name, item in value.items()}
    if shape.type_name == "list":
        return [as_recorded(shape.member, item) for item in value]
    if shape.type_name == "map":
        return {key: as_recorded(shape.value, item) for key, item in value.items()}
    if shape.type_name == "timestamp":
        return java_date(value)
    return value


def check_record(server: Any, done: Call, resources: list[tuple[str, str]]) -> dict[str, Any]:
    """The stored record of ``done``, checked field by field; returned for further checks."""
    record = record_of(server.data_dir, done.request_id)
    operation = MODEL.operation_model(done.operation)
    key, _ = server.root_credentials()
    account = record["recipientAccountId"]
    failed = done.error is not None
    read_only = done.operation.startswith(("Get", "List"))

    assert list(record) == [k for k in KEY_ORDER if k in record], "keys out of CloudTrail's order"
    present = ALWAYS | ({"errorCode", "errorMessage"} if failed else set()) | ({"resources"} if resources else set())
    assert set(record) == present, set(record) ^ present

    assert record["eventVersion"] == "1.11"
    assert record["userIdentity"] == {
        "type": "Root",
        "principalId": account,
        "arn": f"arn:aws:iam::{account}:root",
        "accountId": account,
        "accessKeyId": key,
    }
    assert re.fullmatch(r"\d{12}", account)
    assert EVENT_TIME.fullmatch(record["eventTime"])
    event_time = datetime.strptime(record["eventTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert abs(event_time.timestamp() - time.time()) < 60
    assert record["eventSource"] == "outposts.amazonaws.com"
    assert record["eventName"] == done.operation
    assert record["awsRegion"] == "us-east-1"
    assert record["sourceIPAddress"] == "127.0.0.1"
    assert record["userAgent"] == done.user_agent
    if failed:
        message = done.error["Message"].encode()[:1024].decode(errors="ignore")  # 1 KB at most
        assert (record["errorCode"], record["errorMessage"]) == (done.error["Code"], message)
    assert record["requestParameters"] == (as_recorded(operation.input_shape, done.params) or None)
    if failed or read_only or not done.response:
        assert record["responseElements"] is None
    else:
        assert record["responseElements"] == as_recorded(operation.output_shape, done.response)
    assert record["requestID"] == done.request_id
    assert uuid.UUID(record["eventID"]).version == 4 and str(uuid.UUID(record["eventID"])) == record["eventID"]
    assert record["readOnly"] is read_only
    expected = [{"accountId": account, "type": kind, "ARN": arn} for kind, arn in resources]
    assert record.get("resources", []) == expected
    assert record["eventType"] == "AwsApiCall"
    assert record["managementEvent"] is True
    assert record["eventCategory"] == "Management"
    return record


# -- the resources the operations act on -------------------------------------------------------------


@dataclass
class World:
    account: str
    site: dict[str, Any]  # with addresses; outposts with orders live here
    quiet_site: dict[str, Any]  # no orders ever: its address and properties can change
    rack: dict[str, Any]  # installed rack outpost with a capacity task waiting for evacuation
    rack_order: dict[str, Any]
    spare_rack: dict[str, Any]  # installed rack outpost, nothing running
    server_asset: dict[str, Any]
    task_id: str
    connection_id: str
    quote: dict[str, Any]
    private: dict[str, Any]  # an outpost with a private connectivity configuration

    def arn(self, kind: str, resource_id: str) -> str:
        return f"arn:aws:outposts:us-east-1:{self.account}:{kind}/{resource_id}"


def _key() -> str:
    public = X25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return base64.b64encode(public).decode()


@pytest.fixture(scope="module")
def world(server: Any) -> World:
    client = server.client("outposts")
    full = {"OperatingAddress": ADDRESS, "ShippingAddress": ADDRESS, "RackPhysicalProperties": RACK_PROPERTIES}
    site = client.create_site(Name=f"audit-{uuid.uuid4().hex[:8]}", **full)["Site"]
    quiet = client.create_site(Name=f"audit-quiet-{uuid.uuid4().hex[:8]}", **full)["Site"]
    placed = []
    for item, hardware in ((M7I_RACK_1, "RACK"), (M7I_RACK_1, "RACK"), (C6GD_SERVER, "SERVER")):
        outpost = client.create_outpost(Name="audit", SiteId=site["SiteId"], SupportedHardwareType=hardware)["Outpost"]
        placed.append((outpost, create_order(client, outpost["OutpostId"], item)))
    (rack, rack_order), (spare, _), (server_outpost, _) = [
        (o, wait_order(client, order["OrderId"])) for o, order in placed
    ]
    run_instances(server, rack["OutpostId"], "m7i.large", 3)
    task = client.start_capacity_task(
        OutpostIdentifier=rack["OutpostId"], InstancePools=[{"InstanceType": "m7i.48xlarge", "Count": 1}]
    )
    wait_for(
        lambda: client.get_capacity_task(OutpostIdentifier=rack["OutpostId"], CapacityTaskId=task["CapacityTaskId"]),
        lambda t: t["CapacityTaskStatus"] == "WAITING_FOR_EVACUATION",
    )
    assets = client.list_assets(OutpostIdentifier=server_outpost["OutpostId"], AssetTypeFilter=["COMPUTE"])["Assets"]
    connection = client.start_connection(
        AssetId=assets[0]["AssetId"], ClientPublicKey=_key(), NetworkInterfaceDeviceIndex=0
    )
    quote = client.create_quote(
        CountryCode="US", RequestedCapacities=[{"QuoteCapacityType": "EC2", "Unit": "m7i.large", "Quantity": 4}]
    )["Quote"]
    private = new_outpost(client)
    client.create_private_connectivity_config(OutpostId=private["OutpostId"], VpcInformationList=[VPC])
    return World(
        account=site["AccountId"],
        site=site,
        quiet_site=quiet,
        rack=rack,
        rack_order=rack_order,
        spare_rack=spare,
        server_asset=assets[0],
        task_id=task["CapacityTaskId"],
        connection_id=connection["ConnectionId"],
        quote=quote,
        private=private,
    )


def fresh_outpost(client: Any, world: World) -> dict[str, Any]:
    return client.create_outpost(Name="fresh", SiteId=world.site["SiteId"])["Outpost"]


def fresh_quote(client: Any) -> dict[str, Any]:
    capacity = [{"QuoteCapacityType": "EC2", "Unit": "m7i.large", "Quantity": 2}]
    return client.create_quote(CountryCode="US", RequestedCapacities=capacity)["Quote"]


OUTPOST, SITE, ORDER, QUOTE = (
    "AWS::Outposts::Outpost",
    "AWS::Outposts::Site",
    "AWS::Outposts::Order",
    "AWS::Outposts::Quote",
)


def _arn(world: World, kind: str, value: str) -> str:
    return value if value.startswith("arn:") else world.arn(kind, value)


def run_case(operation: str, client: Any, world: World) -> tuple[Call, list[tuple[str, str]]]:
    """Call ``operation`` with realistic arguments; the call and the resources its record must name."""
    w, c = world, client
    rack, rack_id = w.rack, w.rack["OutpostId"]
    if operation == "CancelCapacityTask":
        done = call(c, operation, OutpostIdentifier=rack_id, CapacityTaskId=w.task_id)
        return done, [(OUTPOST, w.arn("outpost", rack_id))]
    if operation == "CancelOrder":
        order = create_order(c, fresh_outpost(c, w)["OutpostId"], M7I_RACK_1)
        return call(c, operation, OrderId=order["OrderId"]), [(ORDER, w.arn("order", order["OrderId"]))]
    if operation == "CreateOrder":
        outpost = fresh_outpost(c, w)
        done = call(
            c,
            operation,
            OutpostIdentifier=outpost["OutpostArn"],
            LineItems=[{"CatalogItemId": M7I_RACK_1, "Quantity": 1}],
            PaymentOption="ALL_UPFRONT",
            PaymentTerm="THREE_YEARS",
        )
        order_arn = w.arn("order", done.response["Order"]["OrderId"])
        return done, [(OUTPOST, outpost["OutpostArn"]), (ORDER, order_arn)]
    if operation == "CreateOutpost":
        done = call(
            c,
            operation,
            Name="audited",
            Description="made for the record test",
            SiteId=w.quiet_site["SiteId"],
            SupportedHardwareType="RACK",
            Tags={"team": "audit"},
        )
        created = done.response["Outpost"]["OutpostArn"]
        return done, [(SITE, w.quiet_site["SiteArn"]), (OUTPOST, created)]
    if operation == "CreatePrivateConnectivityConfig":
        outpost = fresh_outpost(c, w)
        done = call(c, operation, OutpostId=outpost["OutpostId"], VpcInformationList=[VPC])
        return done, [(OUTPOST, outpost["OutpostArn"])]
    if operation == "CreateQuote":
        capacity = [{"QuoteCapacityType": "EC2", "Unit": "m7i.large", "Quantity": 4}]
        done = call(c, operation, CountryCode="US", RequestedCapacities=capacity, Description="confidential plans")
        return done, [(QUOTE, w.arn("quote", done.response["Quote"]["QuoteId"]))]
    if operation == "CreateRenewal":
        done = call(
            c,
            operation,
            OutpostIdentifier=rack_id,
            PaymentOption="ALL_UPFRONT",
            PaymentTerm="ONE_YEAR",
            ClientToken=uuid.uuid4().hex,
        )
        return done, [(OUTPOST, rack["OutpostArn"])]
    if operation == "CreateSite":
        done = call(
            c,
            operation,
            Name=f"audit-{uuid.uuid4().hex[:8]}",
            Description="d",
            Notes="n",
            Tags={"k": "v"},
            OperatingAddress=ADDRESS,
            ShippingAddress=ADDRESS,
            RackPhysicalProperties=RACK_PROPERTIES,
        )
        return done, [(SITE, done.response["Site"]["SiteArn"])]
    if operation == "DeleteOutpost":
        outpost = fresh_outpost(c, w)
        return call(c, operation, OutpostId=outpost["OutpostId"]), [(OUTPOST, outpost["OutpostArn"])]
    if operation == "DeleteQuote":
        quote = fresh_quote(c)
        done = call(c, operation, QuoteIdentifier=quote["QuoteId"])
        return done, [(QUOTE, w.arn("quote", quote["QuoteId"]))]
    if operation == "DeleteSite":
        site = c.create_site(Name="doomed")["Site"]
        return call(c, operation, SiteId=site["SiteArn"]), [(SITE, site["SiteArn"])]
    if operation == "GetCapacityTask":
        done = call(c, operation, OutpostIdentifier=rack["OutpostArn"], CapacityTaskId=w.task_id)
        return done, [(OUTPOST, rack["OutpostArn"])]
    if operation == "GetCatalogItem":
        return call(c, operation, CatalogItemId=M7I_RACK_1), []
    if operation == "GetConnection":
        return call(c, operation, ConnectionId=w.connection_id), []
    if operation in ("GetOrder",):
        order_id = w.rack_order["OrderId"]
        return call(c, operation, OrderId=order_id), [(ORDER, w.arn("order", order_id))]
    if operation == "GetOutpost":
        return call(c, operation, OutpostId=rack["OutpostArn"]), [(OUTPOST, rack["OutpostArn"])]
    if operation == "GetOutpostBillingInformation":
        done = call(c, operation, OutpostIdentifier=rack_id, MaxResults=5)
        return done, [(OUTPOST, rack["OutpostArn"])]
    if operation == "GetOutpostInstanceTypes":
        return call(c, operation, OutpostId=rack_id, MaxResults=3), [(OUTPOST, rack["OutpostArn"])]
    if operation == "GetOutpostSupportedInstanceTypes":
        order_id = w.rack_order["OrderId"]
        done = call(c, operation, OutpostIdentifier=rack_id, OrderId=order_id, MaxResults=2)
        return done, [(OUTPOST, rack["OutpostArn"]), (ORDER, w.arn("order", order_id))]
    if operation == "GetPrivateConnectivityConfig":
        done = call(c, operation, OutpostId=w.private["OutpostId"])
        return done, [(OUTPOST, w.private["OutpostArn"])]
    if operation == "GetQuote":
        quote_arn = w.arn("quote", w.quote["QuoteId"])
        return call(c, operation, QuoteIdentifier=quote_arn), [(QUOTE, quote_arn)]
    if operation == "GetRenewalPricing":
        return call(c, operation, OutpostIdentifier=rack_id), [(OUTPOST, rack["OutpostArn"])]
    if operation == "GetSite":
        return call(c, operation, SiteId=w.site["SiteId"]), [(SITE, w.site["SiteArn"])]
    if operation == "GetSiteAddress":
        done = call(c, operation, SiteId=w.site["SiteId"], AddressType="OPERATING_ADDRESS")
        return done, [(SITE, w.site["SiteArn"])]
    if operation == "ListAssetInstances":
        done = call(c, operation, OutpostIdentifier=rack_id, InstanceTypeFilter=["m7i.large"], MaxResults=10)
        return done, [(OUTPOST, rack["OutpostArn"])]
    if operation == "ListAssets":
        done = call(c, operation, OutpostIdentifier=rack_id, AssetTypeFilter=["COMPUTE"], StatusFilter=["ACTIVE"])
        return done, [(OUTPOST, rack["OutpostArn"])]
    if operation == "ListBlockingInstancesForCapacityTask":
        done = call(c, operation, OutpostIdentifier=rack_id, CapacityTaskId=w.task_id, MaxResults=5)
        return done, [(OUTPOST, rack["OutpostArn"])]
    if operation == "ListCapacityTasks":
        statuses = ["WAITING_FOR_EVACUATION", "CANCELLATION_IN_PROGRESS", "CANCELLED"]
        return call(c, operation, OutpostIdentifierFilter=rack_id, CapacityTaskStatusFilter=statuses), []
    if operation == "ListCatalogItems":
        return call(c, operation, ItemClassFilter=["RACK"], EC2FamilyFilter=["m7i"], MaxResults=5), []
    if operation == "ListOrderableInstanceTypes":
        return call(c, operation, OutpostGenerationFilter="GENERATION_2", MaxResults=5), []
    if operation == "ListOrders":
        return call(c, operation, OutpostIdentifierFilter=rack["OutpostArn"], MaxResults=5), []
    if operation == "ListOutposts":
        return call(c, operation, LifeCycleStatusFilter=["ACTIVE"], AvailabilityZoneIdFilter=["use1-az1"]), []
    if operation == "ListQuotes":
        return call(c, operation, MaxResults=5), []
    if operation == "ListSites":
        return call(c, operation, OperatingAddressCountryCodeFilter=["US"], OperatingAddressCityFilter=["Seattle"]), []
    if operation == "ListTagsForResource":
        return call(c, operation, ResourceArn=w.site["SiteArn"]), [(SITE, w.site["SiteArn"])]
    if operation == "StartCapacityTask":
        pools = [{"InstanceType": "m7i.24xlarge", "Count": 2}]
        done = call(c, operation, OutpostIdentifier=w.spare_rack["OutpostId"], InstancePools=pools, DryRun=False)
        return done, [(OUTPOST, w.spare_rack["OutpostArn"])]
    if operation == "StartConnection":
        done = call(
            c,
            operation,
            DeviceSerialNumber="DONGLEAUDIT1",
            AssetId=w.server_asset["AssetId"],
            ClientPublicKey=_key(),
            NetworkInterfaceDeviceIndex=1,
        )
        return done, []
    if operation == "StartOutpostDecommission":
        outpost = fresh_outpost(c, w)
        done = call(c, operation, OutpostIdentifier=outpost["OutpostArn"], ValidateOnly=False)
        return done, [(OUTPOST, outpost["OutpostArn"])]
    if operation == "TagResource":
        done = call(c, operation, ResourceArn=w.quiet_site["SiteArn"], Tags={"audited": "yes", "k": "v"})
        return done, [(SITE, w.quiet_site["SiteArn"])]
    if operation == "UntagResource":
        done = call(c, operation, ResourceArn=w.quiet_site["SiteArn"], TagKeys=["audited", "absent"])
        return done, [(SITE, w.quiet_site["SiteArn"])]
    if operation == "UpdateOutpost":
        outpost = fresh_outpost(c, w)
        done = call(c, operation, OutpostId=outpost["OutpostId"], Name="renamed", Description="new")
        return done, [(OUTPOST, outpost["OutpostArn"])]
    if operation == "UpdateQuote":
        done = call(c, operation, QuoteIdentifier=w.quote["QuoteId"], Description="still confidential")
        return done, [(QUOTE, w.arn("quote", w.quote["QuoteId"]))]
    if operation == "UpdateSite":
        done = call(c, operation, SiteId=w.quiet_site["SiteId"], Name="quiet", Description="d2", Notes="n2")
        return done, [(SITE, w.quiet_site["SiteArn"])]
    if operation == "UpdateSiteAddress":
        done = call(c, operation, SiteId=w.quiet_site["SiteArn"], AddressType="SHIPPING_ADDRESS", Address=ADDRESS)
        return done, [(SITE, w.quiet_site["SiteArn"])]
    if operation == "UpdateSiteRackPhysicalProperties":
        done = call(
            c, operation, SiteId=w.quiet_site["SiteId"], PowerDrawKva="POWER_10_KVA", UplinkCount="UPLINK_COUNT_2"
        )
        return done, [(SITE, w.quiet_site["SiteArn"])]
    raise AssertionError(f"no case for {operation}")


@pytest.mark.parametrize("operation", MODEL.operation_names)
def test_record_of_every_operation(server: Any, outposts: Any, world: World, operation: str) -> None:
    done, resources = run_case(operation, outposts, world)
    assert done.error is None, done.error
    check_record(server, done, resources)


def test_address_and_quote_description_are_redacted_both_ways(server: Any, outposts: Any, world: World) -> None:
    """The seed's rule on the current operation: ``Address`` is ``***`` in requestParameters and
    responseElements; so is the quote ``Description`` (both model shapes are sensitive)."""
    done = call(
        outposts,
        "UpdateSiteAddress",
        SiteId=world.quiet_site["SiteId"],
        AddressType="OPERATING_ADDRESS",
        Address=ADDRESS,
    )
    record = check_record(server, done, [(SITE, world.quiet_site["SiteArn"])])
    assert record["requestParameters"] == {
        "SiteId": world.quiet_site["SiteId"],
        "AddressType": "OPERATING_ADDRESS",
        "Address": "***",
    }
    assert record["responseElements"] == {"AddressType": "OPERATING_ADDRESS", "Address": "***"}
    assert "Seattle" not in str(record) and "Jane" not in str(record)
    quote = call(
        outposts,
        "CreateQuote",
        CountryCode="US",
        Description="top secret rack plans",
        RequestedCapacities=[{"QuoteCapacityType": "EC2", "Unit": "m7i.large", "Quantity": 1}],
    )
    recorded = record_of(server.data_dir, quote.request_id)
    assert recorded["requestParameters"]["Description"] == "***"
    assert recorded["responseElements"]["Quote"]["Description"] == "***"
    assert "top secret" not in str(recorded)


def test_dates_in_response_elements_are_java_formatted(server: Any, outposts: Any, world: World) -> None:
    """Timestamps inside responseElements read as AWS's Java services print them, in UTC."""
    done = call(
        outposts,
        "CreateOrder",
        OutpostIdentifier=fresh_outpost(outposts, world)["OutpostId"],
        LineItems=[{"CatalogItemId": M7I_RACK_1, "Quantity": 1}],
        PaymentOption="NO_UPFRONT",
    )
    record = record_of(server.data_dir, done.request_id)
    submitted = done.response["Order"]["OrderSubmissionDate"]
    shown = record["responseElements"]["Order"]["OrderSubmissionDate"]
    assert re.fullmatch(r"[A-Z][a-z]{2} \d{1,2}, \d{4}, \d{1,2}:\d{2}:\d{2} [AP]M", shown)
    assert datetime.strptime(shown, "%b %d, %Y, %I:%M:%S %p").replace(tzinfo=UTC) == submitted.replace(microsecond=0)


# -- the resources table itself, for inputs the calls above do not produce ---------------------------


def test_resources_of_odd_inputs() -> None:
    def named(operation: str, params: dict[str, Any], *, failed: bool = False, service: str = "outposts") -> list:
        found = resources(
            service, operation, params, None, failed=failed, account_id="123456789012", region="us-west-2"
        )
        return [(entry["accountId"], entry["type"], entry["ARN"]) for entry in found]

    foreign = "arn:aws:outposts:eu-west-1:111122223333:outpost/op-0123456789abcdef0"
    assert named("GetOutpost", {"OutpostId": foreign}) == [("111122223333", OUTPOST, foreign)]
    assert named("GetOutpost", {"OutpostId": "op-0123456789abcdef0"}) == [
        ("123456789012", OUTPOST, "arn:aws:outposts:us-west-2:123456789012:outpost/op-0123456789abcdef0")
    ]
    assert named("GetSite", {"SiteId": "op-0123456789abcdef0"}) == []  # an outpost id is no site id
    assert named("GetSite", {"SiteId": "arn:aws:outposts:us-west-2:123456789012:outpost/op-0123456789abcdef0"}) == []
    assert named("TagResource", {"ResourceArn": "arn:aws:outposts:us-west-2:123456789012:capacity/cap-1"}) == []
    assert named("TagResource", {"ResourceArn": "arn:aws:s3:::bucket"}) == []
    order = "arn:aws:outposts:us-west-2:123456789012:order/oo-0123456789abcdef0"
    assert named("TagResource", {"ResourceArn": order}) == [("123456789012", ORDER, order)]
    assert named("GetSite", {"SiteId": "os-0123456789abcdef0"}, failed=True)  # failures still name inputs
    assert named("UpdateQuote", {"QuoteIdentifier": "oq-0123456789abcdef0", "OutpostIdentifier": ""}) == [
        ("123456789012", QUOTE, "arn:aws:outposts:us-west-2:123456789012:quote/oq-0123456789abcdef0")
    ]
    role = "arn:aws:iam::444455556666:role/path/Admin"
    provider = "arn:aws:iam::444455556666:saml-provider/corp"
    assert named("AssumeRole", {"RoleArn": role, "RoleSessionName": "s"}, service="sts") == [
        ("444455556666", "AWS::IAM::Role", role)
    ]
    assert named("AssumeRoleWithSAML", {"RoleArn": role, "PrincipalArn": provider}, service="sts") == [
        ("444455556666", "AWS::IAM::Role", role),
        ("444455556666", "AWS::IAM::SAMLProvider", provider),
    ]
    assert named("AssumeRole", {"RoleArn": role}, failed=True, service="sts") == []  # as the recorded denial
    assert named("GetCallerIdentity", {}, service="sts") == [] and named("ListTrails", {}, service="cloudtrail") == []
