"""Isolation: another account, and another region of the same account, can see nothing of A's.

Account B is made with the real CLI (``trailpost account create``) on a running dedicated server's
data directory; every site and outpost operation B attempts on A's resources - by id or by ARN -
is NotFound, and A's resources are unchanged afterwards.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.support.accounts import create_account
from tests.support.errors import aws_error
from tests.support.outposts import ADDRESS


@pytest.fixture
def world(make_server: Callable[..., Any]) -> Iterator[dict[str, Any]]:
    """A dedicated server; account A's site (with addresses and tags) and outpost; account B's client."""
    proc = make_server()
    a = proc.client("outposts")
    site = a.create_site(Name="a-site", Tags={"owner": "a"}, OperatingAddress=ADDRESS, ShippingAddress=ADDRESS)["Site"]
    outpost = a.create_outpost(Name="a-outpost", SiteId=site["SiteId"], Tags={"owner": "a"})["Outpost"]
    b_account, key, secret = create_account(proc.data_dir, "other")
    b = proc.client("outposts", credentials=(key, secret))
    yield {"proc": proc, "a": a, "b": b, "b_account": b_account, "site": site, "outpost": outpost}
    # A's resources are exactly as they were, whatever B tried
    assert a.get_site(SiteId=site["SiteId"])["Site"] == site
    assert a.get_outpost(OutpostId=outpost["OutpostId"])["Outpost"] == outpost


def test_account_b_is_a_different_account(world: dict[str, Any]) -> None:
    b = world["b"]
    assert world["b_account"] != world["site"]["AccountId"]
    own = b.create_site(Name="b-site")["Site"]
    assert own["AccountId"] == world["b_account"]
    assert own["SiteArn"] == f"arn:aws:outposts:us-east-1:{world['b_account']}:site/{own['SiteId']}"
    outpost = b.create_outpost(Name="b-outpost", SiteId=own["SiteId"])["Outpost"]
    assert outpost["OwnerId"] == world["b_account"]


def test_b_lists_nothing_of_a(world: dict[str, Any]) -> None:
    b, a = world["b"], world["a"]
    assert b.list_sites()["Sites"] == []
    assert b.list_outposts()["Outposts"] == []
    assert b.list_sites(OperatingAddressCityFilter=["Seattle"])["Sites"] == []
    b_site = b.create_site(Name="b-site", OperatingAddress=ADDRESS)["Site"]
    assert [s["SiteId"] for s in b.list_sites()["Sites"]] == [b_site["SiteId"]]
    assert [s["SiteId"] for s in a.list_sites()["Sites"]] == [world["site"]["SiteId"]]
    assert [o["OutpostId"] for o in a.list_outposts()["Outposts"]] == [world["outpost"]["OutpostId"]]


@pytest.mark.parametrize("form", ["id", "arn"])
def test_b_cannot_touch_a_site(world: dict[str, Any], form: str) -> None:
    b, site = world["b"], world["site"]
    ref = site["SiteId"] if form == "id" else site["SiteArn"]
    not_found: list[tuple[Callable[..., Any], dict[str, Any]]] = [
        (b.get_site, {"SiteId": ref}),
        (b.update_site, {"SiteId": ref, "Name": "hijacked"}),
        (b.get_site_address, {"SiteId": ref, "AddressType": "OPERATING_ADDRESS"}),
        (b.update_site_address, {"SiteId": ref, "AddressType": "SHIPPING_ADDRESS", "Address": ADDRESS}),
        (b.update_site_rack_physical_properties, {"SiteId": ref, "PowerPhase": "SINGLE_PHASE"}),
        (b.create_outpost, {"SiteId": ref, "Name": "squatter"}),
        (b.delete_site, {"SiteId": ref}),
    ]
    for call, kwargs in not_found:
        aws_error("NotFoundException", 404, call, **kwargs)


@pytest.mark.parametrize("form", ["id", "arn"])
def test_b_cannot_touch_a_outpost(world: dict[str, Any], form: str) -> None:
    b, outpost = world["b"], world["outpost"]
    ref = outpost["OutpostId"] if form == "id" else outpost["OutpostArn"]
    not_found: list[tuple[Callable[..., Any], dict[str, Any]]] = [
        (b.get_outpost, {"OutpostId": ref}),
        (b.update_outpost, {"OutpostId": ref, "Name": "hijacked"}),
        (b.start_outpost_decommission, {"OutpostIdentifier": ref, "ValidateOnly": True}),
        (b.start_outpost_decommission, {"OutpostIdentifier": ref}),
        (b.delete_outpost, {"OutpostId": ref}),
    ]
    for call, kwargs in not_found:
        aws_error("NotFoundException", 404, call, **kwargs)


def test_b_cannot_tag_a_resources(world: dict[str, Any]) -> None:
    b, a = world["b"], world["a"]
    for arn in (world["site"]["SiteArn"], world["outpost"]["OutpostArn"]):
        aws_error("NotFoundException", 404, b.list_tags_for_resource, ResourceArn=arn)
        aws_error("NotFoundException", 404, b.tag_resource, ResourceArn=arn, Tags={"owner": "b"})
        aws_error("NotFoundException", 404, b.untag_resource, ResourceArn=arn, TagKeys=["owner"])
        assert a.list_tags_for_resource(ResourceArn=arn)["Tags"] == {"owner": "a"}


def test_b_arn_rewritten_to_its_own_account_finds_nothing(world: dict[str, Any]) -> None:
    b, site = world["b"], world["site"]
    own_arn = site["SiteArn"].replace(site["AccountId"], world["b_account"])
    aws_error("NotFoundException", 404, b.get_site, SiteId=own_arn)
    aws_error("NotFoundException", 404, b.list_tags_for_resource, ResourceArn=own_arn)


def test_regions_are_isolated_for_the_same_account(world: dict[str, Any]) -> None:
    proc, site, outpost = world["proc"], world["site"], world["outpost"]
    eu = proc.client("outposts", region="eu-west-1")
    assert eu.list_sites()["Sites"] == []
    assert eu.list_outposts()["Outposts"] == []
    for ref in (site["SiteId"], site["SiteArn"]):
        aws_error("NotFoundException", 404, eu.get_site, SiteId=ref)
        aws_error("NotFoundException", 404, eu.update_site, SiteId=ref, Name="x")
        aws_error("NotFoundException", 404, eu.get_site_address, SiteId=ref, AddressType="SHIPPING_ADDRESS")
        aws_error("NotFoundException", 404, eu.create_outpost, SiteId=ref, Name="x")
        aws_error("NotFoundException", 404, eu.delete_site, SiteId=ref)
    for ref in (outpost["OutpostId"], outpost["OutpostArn"]):
        aws_error("NotFoundException", 404, eu.get_outpost, OutpostId=ref)
        aws_error("NotFoundException", 404, eu.update_outpost, OutpostId=ref, Name="x")
        aws_error("NotFoundException", 404, eu.start_outpost_decommission, OutpostIdentifier=ref)
        aws_error("NotFoundException", 404, eu.delete_outpost, OutpostId=ref)
    for arn in (site["SiteArn"], outpost["OutpostArn"]):
        aws_error("NotFoundException", 404, eu.list_tags_for_resource, ResourceArn=arn)
        aws_error("NotFoundException", 404, eu.tag_resource, ResourceArn=arn, Tags={"k": "v"})
    # and the other way round: eu-west-1's resources are invisible from us-east-1
    eu_site = eu.create_site(Name="eu-site")["Site"]
    assert eu_site["SiteArn"].startswith("arn:aws:outposts:eu-west-1:")
    aws_error("NotFoundException", 404, world["a"].get_site, SiteId=eu_site["SiteId"])
    aws_error("NotFoundException", 404, world["a"].get_site, SiteId=eu_site["SiteArn"])
    assert [s["SiteId"] for s in eu.list_sites()["Sites"]] == [eu_site["SiteId"]]
    assert eu_site["SiteId"] not in {s["SiteId"] for s in world["a"].list_sites()["Sites"]}


def test_pagination_tokens_do_not_cross_accounts(world: dict[str, Any]) -> None:
    a, b = world["a"], world["b"]
    a.create_site(Name="a-second")
    token = a.list_sites(MaxResults=1)["NextToken"]
    b.create_site(Name="b1")
    b.create_site(Name="b2")
    aws_error("ValidationException", 400, b.list_sites, MaxResults=1, NextToken=token)
