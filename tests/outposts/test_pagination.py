"""Pagination of ListSites and ListOutposts: page sizes, tokens, ordering, filters before paging.

A dedicated server (module scope) holds a known set: 25 sites (10 in one city, 15 in another,
each city in its own state) and 25 outposts spread over three zones, so page sizes can be exact.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ParamValidationError

from tests.support.errors import aws_error
from tests.support.server import ServerProcess

TOKEN = re.compile(r"^(\d+)##(\S+)$")
N = 25
ZONES = ["us-east-1a", "us-east-1b", "us-east-1c"]


def address(city: str, state: str) -> dict[str, str]:
    return {
        "ContactName": "Jane Doe",
        "ContactPhoneNumber": "+12065550100",
        "AddressLine1": "1 Main St",
        "City": city,
        "StateOrRegion": state,
        "PostalCode": "98109",
        "CountryCode": "US",
    }


@pytest.fixture(scope="module")
def paged(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    proc = ServerProcess(Path(tmp_path_factory.mktemp("paged")) / "data").start()
    client = proc.client("outposts")
    sites = []
    for i in range(N):
        city, state = ("Tacoma", "WA") if i % 5 in (1, 3) else ("Portland", "OR")
        sites.append(client.create_site(Name=f"site-{i:02d}", OperatingAddress=address(city, state))["Site"])
    outposts = [
        client.create_outpost(Name=f"op-{i:02d}", SiteId=sites[i]["SiteId"], AvailabilityZone=ZONES[i % 3])["Outpost"]
        for i in range(N)
    ]
    yield {"proc": proc, "client": client, "sites": sites, "outposts": outposts}
    proc.stop()


def walk(call: Callable[..., dict[str, Any]], key: str, size: int, **filters: Any) -> list[list[dict[str, Any]]]:
    """Every page of ``call`` with ``MaxResults=size``, following NextToken by hand."""
    pages: list[list[dict[str, Any]]] = []
    token = None
    while True:
        kwargs = {**filters, "MaxResults": size, **({"NextToken": token} if token else {})}
        response = call(**kwargs)
        pages.append(response[key])
        token = response.get("NextToken")
        if token is None:
            return pages
        assert TOKEN.match(token), token
        assert len(pages) <= N + 1, "pagination does not end"


def expected_sizes(total: int, size: int) -> list[int]:
    return [size] * (total // size) + ([total % size] if total % size else []) or [0]


@pytest.mark.parametrize("size", [1, 2, 3, 7, 24, 25, 26, 100, 999, 1000])
def test_list_sites_manual_token_loop(paged: dict[str, Any], size: int) -> None:
    pages = walk(paged["client"].list_sites, "Sites", size)
    assert [len(p) for p in pages] == expected_sizes(N, size)
    assert [s for p in pages for s in p] == paged["sites"]


@pytest.mark.parametrize("size", [1, 4, 25, 1000])
def test_list_outposts_manual_token_loop(paged: dict[str, Any], size: int) -> None:
    pages = walk(paged["client"].list_outposts, "Outposts", size)
    assert [len(p) for p in pages] == expected_sizes(N, size)
    assert [o for p in pages for o in p] == paged["outposts"]


@pytest.mark.parametrize(("operation", "key"), [("list_sites", "Sites"), ("list_outposts", "Outposts")])
def test_boto3_paginator(paged: dict[str, Any], operation: str, key: str) -> None:
    paginator = paged["client"].get_paginator(operation)
    pages = list(paginator.paginate(PaginationConfig={"PageSize": 6}))
    assert [len(p[key]) for p in pages] == [6, 6, 6, 6, 1]
    for page in pages[:-1]:
        assert TOKEN.match(page["NextToken"])
    assert "NextToken" not in pages[-1]
    expected = paged["sites"] if key == "Sites" else paged["outposts"]
    assert [item for p in pages for item in p[key]] == expected
    full = paginator.paginate(PaginationConfig={"PageSize": 4}).build_full_result()
    assert full[key] == expected
    # MaxItems resumes with botocore's own token wrapping ours
    first = paginator.paginate(PaginationConfig={"PageSize": 4, "MaxItems": 10}).build_full_result()
    rest = paginator.paginate(PaginationConfig={"PageSize": 4, "StartingToken": first["NextToken"]}).build_full_result()
    assert first[key] + rest[key] == expected


def test_ordering_is_stable(paged: dict[str, Any]) -> None:
    client = paged["client"]
    once = [s["SiteId"] for p in walk(client.list_sites, "Sites", 4) for s in p]
    twice = [s["SiteId"] for p in walk(client.list_sites, "Sites", 9) for s in p]
    assert once == twice == [s["SiteId"] for s in paged["sites"]]


def test_filters_apply_before_paging(paged: dict[str, Any]) -> None:
    client = paged["client"]
    tacoma = [s for s in paged["sites"] if s["OperatingAddressCity"] == "Tacoma"]
    assert len(tacoma) == 10
    pages = walk(client.list_sites, "Sites", 3, OperatingAddressCityFilter=["Tacoma"])
    assert [len(p) for p in pages] == [3, 3, 3, 1]
    assert [s for p in pages for s in p] == tacoma
    pages = walk(client.list_sites, "Sites", 5, OperatingAddressStateOrRegionFilter=["WA"])
    assert [len(p) for p in pages] == [5, 5]  # an exact multiple: no empty last page
    pages = walk(
        client.list_sites, "Sites", 4, OperatingAddressCityFilter=["Tacoma"], OperatingAddressCountryCodeFilter=["CA"]
    )
    assert pages == [[]]

    zone_b = [o for o in paged["outposts"] if o["AvailabilityZone"] == "us-east-1b"]
    assert len(zone_b) == 8
    pages = walk(client.list_outposts, "Outposts", 3, AvailabilityZoneFilter=["us-east-1b"])
    assert [len(p) for p in pages] == [3, 3, 2]
    assert [o for p in pages for o in p] == zone_b
    pages = walk(client.list_outposts, "Outposts", 7, AvailabilityZoneIdFilter=["use1-az1", "use1-az3"])
    assert [len(p) for p in pages] == [7, 7, 3]


def test_max_results_bounds(paged: dict[str, Any]) -> None:
    client = paged["client"]
    with pytest.raises(ParamValidationError):
        client.list_sites(MaxResults=0)
    for operation in (client.list_sites, client.list_outposts):
        response = aws_error("ValidationException", 400, operation, MaxResults=1001)
        assert response["Error"]["Message"] == (
            "1 validation error detected: Value '1001' at 'maxResults' failed to satisfy constraint: "
            "Member must have value less than or equal to 1000"
        )
    unchecked = paged["proc"].client("outposts", parameter_validation=False)
    response = aws_error("ValidationException", 400, unchecked.list_sites, MaxResults=0)
    assert "Member must have value greater than or equal to 1" in response["Error"]["Message"]


def test_forged_tokens_are_refused(paged: dict[str, Any]) -> None:
    client = paged["client"]
    real = client.list_sites(MaxResults=2)["NextToken"]
    seq, digest = TOKEN.match(real).groups()  # type: ignore[union-attr]
    forged = [
        "1##forged",
        "999999##abcdef",
        f"{int(seq) + 5}##{digest}",  # a position the server never issued, with a real digest
        f"{seq}##{digest[:-1]}{'0' if digest[-1] != '0' else '1'}",
    ]
    for token in forged:
        response = aws_error("ValidationException", 400, client.list_sites, MaxResults=2, NextToken=token)
        assert "NextToken" in response["Error"]["Message"] or "token" in response["Error"]["Message"].lower()
    response = aws_error("ValidationException", 400, client.list_sites, NextToken="not-a-token")
    assert (
        "Value 'not-a-token' at 'nextToken' failed to satisfy constraint: Member must satisfy regular"
        in (response["Error"]["Message"])
    )


def test_tokens_of_another_query_are_refused(paged: dict[str, Any]) -> None:
    client = paged["client"]
    unfiltered = client.list_sites(MaxResults=2)["NextToken"]
    tacoma = client.list_sites(MaxResults=2, OperatingAddressCityFilter=["Tacoma"])["NextToken"]
    zone_a = client.list_outposts(MaxResults=2, AvailabilityZoneFilter=["us-east-1a"])["NextToken"]
    refused = [
        (client.list_sites, {"OperatingAddressCityFilter": ["Tacoma"], "NextToken": unfiltered}),
        (client.list_sites, {"NextToken": tacoma}),
        (client.list_sites, {"OperatingAddressCityFilter": ["Portland"], "NextToken": tacoma}),
        (client.list_outposts, {"NextToken": unfiltered}),
        (client.list_outposts, {"AvailabilityZoneFilter": ["us-east-1b"], "NextToken": zone_a}),
        (client.list_sites, {"NextToken": zone_a}),
        (paged["proc"].client("outposts", region="eu-west-1").list_sites, {"NextToken": unfiltered}),
    ]
    for call, kwargs in refused:
        aws_error("ValidationException", 400, call, MaxResults=2, **kwargs)
    # the same query with another page size is the same query
    assert len(client.list_sites(MaxResults=5, OperatingAddressCityFilter=["Tacoma"], NextToken=tacoma)["Sites"]) == 5


def test_tokens_survive_changes_between_pages(make_server: Callable[..., Any]) -> None:
    client = make_server().client("outposts")
    ids = [client.create_site(Name=f"s{i}")["Site"]["SiteId"] for i in range(6)]
    first = client.list_sites(MaxResults=2)
    assert [s["SiteId"] for s in first["Sites"]] == ids[:2]
    client.delete_site(SiteId=ids[2])  # the next item goes away
    client.update_site(SiteId=ids[4], Name="renamed")  # an update keeps its place
    late = client.create_site(Name="late")["Site"]["SiteId"]  # a new one joins the end
    rest = walk(client.list_sites, "Sites", 2)
    assert [s["SiteId"] for p in rest for s in p] == [*ids[:2], *ids[3:], late]
    second = client.list_sites(MaxResults=2, NextToken=first["NextToken"])
    assert [s["SiteId"] for s in second["Sites"]] == [ids[3], ids[4]]
