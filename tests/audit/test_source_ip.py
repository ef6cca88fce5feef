"""sourceIPAddress: the TCP peer, unless that peer is a configured trusted proxy.

Requests are signed with botocore's signer and sent as raw bytes; ``X-Forwarded-For`` is added
after signing, as a proxy adds it. With ``--trusted-proxies`` the right-most address of the
header that is not a trusted proxy is the client; without it, or from an untrusted peer, the
header is ignored whatever it says.
"""

from __future__ import annotations

import ipaddress
import subprocess
import sys
from typing import Any

import pytest

from tests.audit.stored import record_of
from tests.gateway.rawhttp import Request, encode, exchange, sign
from tests.support.server import ServerProcess
from trailpost.gateway.context import client_address

TRUSTED = "127.0.0.1,10.0.0.0/8,2001:db8:ffff::/48"


def recorded_source(server: Any, *forwarded: str) -> str:
    """Send a signed ListSites with the given ``X-Forwarded-For`` header lines; the recorded address."""
    request = sign(Request("GET", "/sites"), f"127.0.0.1:{server.port}", server.root_credentials())
    data = encode(request)
    head, _, body = data.partition(b"\r\n\r\n")
    lines = b"".join(b"\r\nX-Forwarded-For: " + value.encode("latin-1") for value in forwarded)
    reply = exchange(server.port, head + lines + b"\r\n\r\n" + body)
    assert reply.status == 200, reply.body
    record = record_of(server.data_dir, reply.request_id)
    ipaddress.ip_address(record["sourceIPAddress"])  # always an address, never free text
    return record["sourceIPAddress"]


@pytest.fixture(scope="module")
def proxied(tmp_path_factory: pytest.TempPathFactory) -> Any:
    proc = ServerProcess(tmp_path_factory.mktemp("proxied") / "data", args=["--trusted-proxies", TRUSTED]).start()
    yield proc
    proc.stop()


def test_client_address_by_default(server: Any) -> None:
    assert recorded_source(server) == "127.0.0.1"


def test_forwarded_for_is_ignored_without_trusted_proxies(server: Any) -> None:
    assert recorded_source(server, "203.0.113.7") == "127.0.0.1"
    assert recorded_source(server, "203.0.113.7, 198.51.100.1") == "127.0.0.1"


@pytest.mark.parametrize(
    ("forwarded", "expected"),
    [
        (["203.0.113.7"], "203.0.113.7"),
        (["198.51.100.23, 10.1.2.3"], "198.51.100.23"),  # an inner trusted proxy is skipped
        (["6.6.6.6, 203.0.113.9"], "203.0.113.9"),  # what the client wrote itself is not believed
        (["10.0.0.1, 10.0.0.2"], "10.0.0.1"),  # only trusted hops: the left-most
        (["unknown"], "127.0.0.1"),  # not an address: the last believable hop
        (["203.0.113.5, garbage, 10.9.9.9"], "10.9.9.9"),  # the walk stops at garbage
        (["203.0.113.7:5050"], "203.0.113.7"),
        (["[2001:db8::1]:443"], "2001:db8::1"),
        (["2001:db8::2"], "2001:db8::2"),
        (["2001:db8::3, 2001:db8:ffff::9"], "2001:db8::3"),
        (["::ffff:198.51.100.8"], "198.51.100.8"),
        (["1.1.1.1", "203.0.113.5"], "203.0.113.5"),  # repeated headers are one list, in order
        ([""], "127.0.0.1"),
    ],
)
def test_trusted_proxy_forwarded_for(proxied: Any, forwarded: list[str], expected: str) -> None:
    assert recorded_source(proxied, *forwarded) == expected


def test_untrusted_peer_is_the_client_even_with_proxies_configured(make_server: Any) -> None:
    dedicated = make_server("--trusted-proxies", "10.0.0.0/8")
    assert recorded_source(dedicated, "203.0.113.7") == "127.0.0.1"


def test_trusted_proxies_from_the_environment(make_server: Any) -> None:
    dedicated = make_server(env={"TRAILPOST_TRUSTED_PROXIES": " 127.0.0.1 , 192.168.0.0/16 "})
    assert recorded_source(dedicated, "198.51.100.4, 192.168.7.7") == "198.51.100.4"


@pytest.mark.parametrize("value", ["nonsense", "10.0.0.0/33", "127.0.0.1,,300.1.1.1"])
def test_invalid_trusted_proxies_are_a_usage_error(value: str, tmp_path: Any) -> None:
    command = [
        sys.executable,
        "-m",
        "trailpost",
        "serve",
        "--data-dir",
        str(tmp_path / "d"),
        "--trusted-proxies",
        value,
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 2
    assert "--trusted-proxies" in result.stderr and "is not an IP address or CIDR block" in result.stderr
    assert not (tmp_path / "d").exists()


def test_client_address_rules() -> None:
    trusted = (ipaddress.ip_network("127.0.0.1/32"), ipaddress.ip_network("10.0.0.0/8"))
    assert client_address("127.0.0.1", "203.0.113.1", ()) == "127.0.0.1"
    assert client_address("127.0.0.1", "203.0.113.1", trusted) == "203.0.113.1"
    assert client_address("192.0.2.1", "203.0.113.1", trusted) == "192.0.2.1"
    assert client_address("::ffff:127.0.0.1", "203.0.113.1", trusted) == "203.0.113.1"
    assert client_address("127.0.0.1", "203.0.113.1,", trusted) == "127.0.0.1"
    assert client_address("", "203.0.113.1", trusted) == ""
