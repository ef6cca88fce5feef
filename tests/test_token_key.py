"""Pagination tokens are bound by a per-install secret: valid across restarts, useless elsewhere."""

from __future__ import annotations

import hashlib
import hmac
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from tests.support.server import ServerProcess
from trailpost.services import token_key


def _two_sites(server: ServerProcess) -> str:
    outposts = server.client("outposts")
    for name in ("a", "b"):
        outposts.create_site(Name=f"token-{name}")
    return outposts.list_sites(MaxResults=1)["NextToken"]


def test_token_key_is_a_private_file_and_tokens_survive_a_restart(make_server: Callable[..., ServerProcess]) -> None:
    server = make_server()
    key_file = server.data_dir / "token.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = key_file.read_bytes()
    assert len(key) == 32
    token = _two_sites(server)
    server.restart()
    assert key_file.read_bytes() == key
    page = server.client("outposts").list_sites(MaxResults=1, NextToken=token)
    assert [site["Name"] for site in page["Sites"]] == ["token-b"]


def test_a_token_of_another_installation_is_refused(make_server: Callable[..., ServerProcess]) -> None:
    first, second = make_server(), make_server()
    assert (first.data_dir / "token.key").read_bytes() != (second.data_dir / "token.key").read_bytes()
    token = _two_sites(first)
    _two_sites(second)
    with pytest.raises(ClientError) as caught:
        second.client("outposts").list_sites(MaxResults=1, NextToken=token)
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    assert "NextToken" in caught.value.response["Error"]["Message"]


def test_token_mac_is_hmac_sha256_under_the_installed_key(tmp_path: Path) -> None:
    # The keyed HMAC copied per token must give what hmac.new gives (tokens made before it stay
    # valid), and must follow the key that ``install`` reads, not the process's first one.
    before = token_key.token_key()
    try:
        for key in (b"k" * token_key.KEY_BYTES, b"j" * token_key.KEY_BYTES):
            path = tmp_path / f"{key[:1].decode()}.key"
            path.write_bytes(key)
            token_key.install(path)
            for data in (b"", b'["LookupEvents",1,2,[]]'):
                assert token_key.token_mac(data) == hmac.new(key, data, hashlib.sha256).digest()
    finally:
        restore = tmp_path / "restore.key"
        restore.write_bytes(before)
        token_key.install(restore)
