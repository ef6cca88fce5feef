"""Persistence: sites, outposts, addresses and tags survive a clean restart and a SIGKILL.

Each test runs a dedicated server, writes through boto3, stops the process (SIGTERM, or SIGKILL
with no chance to flush anything) and starts it again on the same data directory; everything
acknowledged before the stop reads back identical, and pagination tokens issued before a restart
still work after it.
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from typing import Any

from tests.support.errors import aws_error

ADDRESS = {
    "ContactName": "Jane Doe",
    "ContactPhoneNumber": "+12065550100",
    "AddressLine1": "410 Terry Ave N",
    "AddressLine2": "Floor 3",
    "City": "Seattle",
    "StateOrRegion": "WA",
    "PostalCode": "98109",
    "CountryCode": "US",
}
ADDRESS_TYPES = ("OPERATING_ADDRESS", "SHIPPING_ADDRESS")


def populate(client: Any) -> dict[str, Any]:
    """Sites and outposts in every state the operations can leave them; what must come back."""
    sites = [
        client.create_site(
            Name="hq",
            Description="headquarters",
            Notes="line 1\nline 2",
            Tags={"team": "infra", "a:b/c": "v w"},
            OperatingAddress=ADDRESS,
            ShippingAddress={**ADDRESS, "AddressLine1": "1 Dock St"},
            RackPhysicalProperties={"PowerDrawKva": "POWER_10_KVA"},
        )["Site"],
        client.create_site(Name="branch")["Site"],
        client.create_site(Name="closed")["Site"],
    ]
    client.update_site(SiteId=sites[1]["SiteId"], Name="branch office")
    client.update_site_address(
        SiteId=sites[1]["SiteId"], AddressType="OPERATING_ADDRESS", Address={**ADDRESS, "City": "Tacoma"}
    )
    client.update_site_rack_physical_properties(SiteId=sites[0]["SiteId"], UplinkGbps="UPLINK_40G")
    client.delete_site(SiteId=sites[2]["SiteId"])
    outposts = [
        client.create_outpost(Name=f"rack-{i}", SiteId=sites[i % 2]["SiteId"], AvailabilityZone=zone)["Outpost"]
        for i, zone in enumerate(["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d"])
    ]
    client.update_outpost(OutpostId=outposts[0]["OutpostId"], Description="updated", SupportedHardwareType="SERVER")
    client.tag_resource(ResourceArn=outposts[1]["OutpostArn"], Tags={"k1": "v1", "k2": "v2"})
    client.untag_resource(ResourceArn=outposts[1]["OutpostArn"], TagKeys=["k1"])
    client.untag_resource(ResourceArn=sites[0]["SiteArn"], TagKeys=["team"])
    client.delete_outpost(OutpostId=outposts[3]["OutpostId"])
    client.start_outpost_decommission(OutpostIdentifier=outposts[2]["OutpostId"])
    return snapshot(client, deleted_site=sites[2]["SiteId"], deleted_outpost=outposts[3]["OutpostId"])


def snapshot(client: Any, deleted_site: str, deleted_outpost: str) -> dict[str, Any]:
    """Everything the API shows about the account in us-east-1."""
    sites = client.list_sites()["Sites"]
    outposts = client.list_outposts()["Outposts"]
    return {
        "sites": sites,
        "outposts": outposts,
        "site_gets": [client.get_site(SiteId=s["SiteId"])["Site"] for s in sites],
        "outpost_gets": [client.get_outpost(OutpostId=o["OutpostId"])["Outpost"] for o in outposts],
        "addresses": [_address(client, s["SiteId"], kind) for s in sites for kind in ADDRESS_TYPES],
        "tags": [client.list_tags_for_resource(ResourceArn=arn)["Tags"] for arn in _arns(sites, outposts)],
        "deleted": (deleted_site, deleted_outpost),
    }


def _address(client: Any, site_id: str, address_type: str) -> dict[str, str] | None:
    try:
        return client.get_site_address(SiteId=site_id, AddressType=address_type)["Address"]
    except client.exceptions.NotFoundException:
        return None


def _arns(sites: list[dict[str, Any]], outposts: list[dict[str, Any]]) -> list[str]:
    return [s["SiteArn"] for s in sites] + [o["OutpostArn"] for o in outposts]


def check_deleted_stay_deleted(client: Any, state: dict[str, Any]) -> None:
    site_id, outpost_id = state["deleted"]
    aws_error("NotFoundException", 404, client.get_site, SiteId=site_id)
    aws_error("NotFoundException", 404, client.get_outpost, OutpostId=outpost_id)


def test_state_survives_a_clean_restart(make_server: Callable[..., Any]) -> None:
    proc = make_server()
    client = proc.client("outposts")
    before = populate(client)
    assert len(before["sites"]) == 2 and len(before["outposts"]) == 3
    token = client.list_sites(MaxResults=1)["NextToken"]

    proc.restart()
    client = proc.client("outposts")
    status = {o["OutpostId"]: o["LifeCycleStatus"] for o in client.list_outposts()["Outposts"]}
    after = snapshot(client, *before["deleted"])
    _same_but_lifecycle(before, after, status)
    check_deleted_stay_deleted(client, before)
    # a token issued before the restart still resumes where it left off
    assert client.list_sites(MaxResults=1, NextToken=token)["Sites"] == [before["sites"][1]]
    # and the server keeps working: new writes get fresh ids and land at the end
    new = client.create_site(Name="after restart")["Site"]
    assert new["SiteId"] not in {s["SiteId"] for s in before["sites"]}
    assert client.list_sites()["Sites"][-1] == new


def test_every_acknowledged_write_survives_sigkill(make_server: Callable[..., Any]) -> None:
    proc = make_server()
    client = proc.client("outposts")
    before = populate(client)
    # a burst of writes, each acknowledged, the last one immediately before the kill
    burst = [client.create_site(Name=f"burst-{i}", Tags={"i": str(i)})["Site"] for i in range(20)]
    client.tag_resource(ResourceArn=burst[-1]["SiteArn"], Tags={"last": "write"})

    assert proc.stop(signal.SIGKILL) == -signal.SIGKILL
    proc.start()
    client = proc.client("outposts")
    sites = client.list_sites()["Sites"]
    assert [s["SiteId"] for s in sites] == [s["SiteId"] for s in before["sites"] + burst]
    for got, made in zip(sites[len(before["sites"]) :], burst, strict=True):
        expected = {**made, "Tags": {**made["Tags"], "last": "write"}} if made is burst[-1] else made
        assert got == expected
    status = {o["OutpostId"]: o["LifeCycleStatus"] for o in client.list_outposts()["Outposts"]}
    after = snapshot(client, *before["deleted"])
    kept = len(before["sites"])  # the burst sites come after the populated ones; they were checked above
    after["sites"], after["site_gets"] = after["sites"][:kept], after["site_gets"][:kept]
    after["addresses"] = after["addresses"][: kept * len(ADDRESS_TYPES)]
    after["tags"] = after["tags"][:kept] + after["tags"][kept + len(burst) :]
    _same_but_lifecycle(before, after, status)
    check_deleted_stay_deleted(client, before)


def test_other_accounts_and_regions_survive_sigkill(make_server: Callable[..., Any]) -> None:
    proc = make_server()
    west = proc.client("outposts", region="us-west-2")
    site = west.create_site(Name="west", OperatingAddress=ADDRESS)["Site"]
    outpost = west.create_outpost(Name="w", SiteId=site["SiteId"], AvailabilityZoneId="usw2-az4")["Outpost"]
    proc.stop(signal.SIGKILL)
    proc.start()
    west = proc.client("outposts", region="us-west-2")
    assert west.get_site(SiteId=site["SiteArn"])["Site"] == site
    assert west.get_outpost(OutpostId=outpost["OutpostArn"])["Outpost"] == outpost
    assert west.get_site_address(SiteId=site["SiteId"], AddressType="OPERATING_ADDRESS")["Address"] == ADDRESS
    assert proc.client("outposts").list_sites()["Sites"] == []


def _same_but_lifecycle(before: dict[str, Any], after: dict[str, Any], status: dict[str, str]) -> None:
    """``after`` equals ``before``, except that a RETIRING outpost may have become RETIRED meanwhile."""
    for key in ("outposts", "outpost_gets"):
        for item in before[key]:
            if item["LifeCycleStatus"] == "RETIRING" and status[item["OutpostId"]] == "RETIRED":
                item["LifeCycleStatus"] = "RETIRED"
    assert after == before
