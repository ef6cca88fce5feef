"""The real AWS CLI v1 (``.venv/bin/aws``) against the shared server: sites, pagination, tags, errors.

The CLI runs in a clean environment: HOME is a fresh directory, credentials come only from the
server's generated ``credentials`` file, ``AWS_CONFIG_FILE`` is /dev/null, and the region is one no
other test uses, so its site listing holds only this module's sites.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support.server import ServerProcess

AWS = Path(sys.executable).with_name("aws")
REGION = "ap-southeast-2"
MISSING_SITE = "os-00000000000000000"


class Cli:
    """``aws`` with a clean environment, pointed at one server."""

    def __init__(self, server: ServerProcess, home: Path) -> None:
        self.server = server
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(home),
            "LANG": "C.UTF-8",
            "AWS_SHARED_CREDENTIALS_FILE": str(server.data_dir / "credentials"),
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_PAGER": "",
            "AWS_EC2_METADATA_DISABLED": "true",
        }

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = [str(AWS), "--endpoint-url", self.server.endpoint, "--output", "json", "outposts", *args]
        return subprocess.run(command, env=self.env, capture_output=True, text=True, timeout=120, check=False)

    def __call__(self, *args: str) -> Any:
        result = self.run(*args)
        assert result.returncode == 0, f"aws {' '.join(args)} exited {result.returncode}:\n{result.stderr}"
        return json.loads(result.stdout) if result.stdout.strip() else {}


@pytest.fixture(scope="module")
def cli(server: ServerProcess, tmp_path_factory: pytest.TempPathFactory) -> Cli:
    return Cli(server, tmp_path_factory.mktemp("awscli-home"))


@pytest.fixture(scope="module")
def sites(cli: Cli) -> list[dict[str, Any]]:
    """Three sites created with the CLI, each with an operating address and tags."""
    created = []
    for index in range(3):
        out = cli(
            "create-site",
            "--name",
            f"CLI Site Zürich {index}",
            "--description",
            "made by the AWS CLI",
            "--notes",
            "dock at the back",
            "--tags",
            f"team=cli,index={index}",
            "--operating-address",
            "ContactName=Jane Doe,ContactPhoneNumber=+12065550100,AddressLine1=1 Main St,"
            "City=Seattle,StateOrRegion=WA,PostalCode=98101,CountryCode=US",
        )
        created.append(out["Site"])
    return created


def test_create_site(sites: list[dict[str, Any]]) -> None:
    site = sites[0]
    assert site["SiteId"].startswith("os-") and len(site["SiteId"]) == 20
    assert site["SiteArn"].startswith(f"arn:aws:outposts:{REGION}:")
    assert site["SiteArn"].endswith(f":site/{site['SiteId']}")
    assert site["Name"] == "CLI Site Zürich 0"
    assert site["Tags"] == {"team": "cli", "index": "0"}
    assert (site["OperatingAddressCity"], site["OperatingAddressCountryCode"]) == ("Seattle", "US")


def test_get_site_by_id_and_by_arn(cli: Cli, sites: list[dict[str, Any]]) -> None:
    site = sites[1]
    by_id = cli("get-site", "--site-id", site["SiteId"])["Site"]
    by_arn = cli("get-site", "--site-id", site["SiteArn"])["Site"]
    assert by_id == by_arn
    assert (by_id["SiteId"], by_id["Name"], by_id["Notes"]) == (site["SiteId"], "CLI Site Zürich 1", "dock at the back")


def test_list_sites_auto_paginates_with_page_size_one(cli: Cli, sites: list[dict[str, Any]]) -> None:
    ids = {site["SiteId"] for site in sites}
    result = cli.run("list-sites", "--page-size", "1", "--debug")
    assert result.returncode == 0, result.stderr
    listed = [site["SiteId"] for site in json.loads(result.stdout)["Sites"]]
    assert ids <= set(listed)
    assert len(listed) == len(set(listed))  # no page repeated
    # One request per page: at least one per site.
    assert result.stderr.count("Making request for OperationModel(name=ListSites)") >= len(listed) >= 3
    assert "MaxResults=1" in result.stderr


def test_list_sites_max_items_and_starting_token(cli: Cli, sites: list[dict[str, Any]]) -> None:
    first = cli("list-sites", "--page-size", "1", "--max-items", "1")
    assert len(first["Sites"]) == 1 and first["NextToken"]
    second = cli("list-sites", "--page-size", "1", "--max-items", "1", "--starting-token", first["NextToken"])
    assert len(second["Sites"]) == 1
    assert second["Sites"][0]["SiteId"] != first["Sites"][0]["SiteId"]


def test_update_site(cli: Cli, sites: list[dict[str, Any]]) -> None:
    site_id = sites[2]["SiteId"]
    updated = cli("update-site", "--site-id", site_id, "--name", "Renamed by CLI", "--notes", "new notes")["Site"]
    assert (updated["SiteId"], updated["Name"], updated["Notes"]) == (site_id, "Renamed by CLI", "new notes")
    assert updated["Description"] == "made by the AWS CLI"
    assert cli("get-site", "--site-id", site_id)["Site"]["Name"] == "Renamed by CLI"


def test_tag_resource_and_list_tags_with_an_arn(cli: Cli, sites: list[dict[str, Any]]) -> None:
    arn = sites[0]["SiteArn"]
    assert cli("tag-resource", "--resource-arn", arn, "--tags", "env=prod,cost:center/a=42") == {}
    tags = cli("list-tags-for-resource", "--resource-arn", arn)["Tags"]
    assert tags == {"team": "cli", "index": "0", "env": "prod", "cost:center/a": "42"}
    assert cli("untag-resource", "--resource-arn", arn, "--tag-keys", "env", "cost:center/a") == {}
    assert cli("list-tags-for-resource", "--resource-arn", arn)["Tags"] == {"team": "cli", "index": "0"}


def test_not_found_error_exit_code_and_message(cli: Cli) -> None:
    result = cli.run("get-site", "--site-id", MISSING_SITE)
    assert result.returncode == 255
    assert "An error occurred (NotFoundException) when calling the GetSite operation: " in result.stderr
    assert result.stdout == ""


def test_validation_error_from_the_server(cli: Cli) -> None:
    result = cli.run("get-site", "--site-id", "not-a-site")
    assert result.returncode == 255
    assert (
        "An error occurred (ValidationException) when calling the GetSite operation: 1 validation error detected: "
        "Value 'not-a-site' at 'siteId' failed to satisfy constraint" in result.stderr
    )
