"""Fail-closed through the real server: when events cannot be stored, calls fail and nothing is acknowledged.

The server's data directory is a small tmpfs mounted by the test (root is required); the test
fills it for real, so SQLite cannot append to its write-ahead log. Then:

* calls, mutating and read-only alike, fail with Outposts' internal error (InternalServerException,
  HTTP 500) once their batch cannot be committed;
* every call the client saw succeed has its record, and no state change of a failed call exists
  once space is back and the server has been restarted;
* the server keeps serving as soon as space is back, without a restart.
"""

from __future__ import annotations

import contextlib
import errno
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.audit.stored import all_records
from tests.audit.test_records import call

TMPFS_SIZE = "8m"


@pytest.fixture
def small_disk(tmp_path: Path) -> Any:
    """A tmpfs of ``TMPFS_SIZE`` mounted at a fresh directory, unmounted afterwards."""
    mount_point = tmp_path / "data"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={TMPFS_SIZE},mode=0700", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(
            "fail-closed needs a file system the test can fill: mounting a tmpfs failed "
            f"({mounted.stderr.strip() or mounted.returncode}); run the tests as root with CAP_SYS_ADMIN"
        )
    yield mount_point
    subprocess.run(["umount", "-l", str(mount_point)], capture_output=True, check=False)


def fill(directory: Path) -> Path:
    """Write a file until the file system is full; the file."""
    filler = directory / "filler"
    chunk = b"\0" * (64 * 1024)
    with open(filler, "wb", buffering=0) as handle:
        while True:
            try:
                handle.write(chunk)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC, exc
                break
    # Leave no slack: small writes too must fail.
    with open(filler, "ab", buffering=0) as handle, contextlib.suppress(OSError):
        while True:
            handle.write(b"\0" * 512)
    return filler


def site_names(client: Any) -> set[str]:
    pages = client.get_paginator("list_sites").paginate()
    return {site["Name"] for page in pages for site in page["Sites"]}


def test_calls_fail_closed_when_events_cannot_be_stored(small_disk: Path, make_server: Any) -> None:
    server = make_server(data_dir=small_disk)
    client = server.client("outposts")
    acknowledged: dict[str, str] = {}  # request id -> site name, for every 2xx the client saw
    failed: dict[str, str] = {}

    def create(name: str) -> None:
        done = call(client, "CreateSite", Name=name)
        if done.error is None:
            acknowledged[done.request_id] = name
        else:
            assert done.error == {"Code": "InternalServerException", "Message": "An internal error occurred."}
            failed[done.request_id] = name

    for n in range(5):
        create(f"before-{n}")
    assert len(acknowledged) == 5
    existing = next(iter(acknowledged.values()))
    site_id = next(s["SiteId"] for s in client.list_sites()["Sites"] if s["Name"] == existing)

    filler = fill(small_disk)
    reads = {"failed": 0, "served": []}
    for n in range(400):
        create(f"during-{n}-{uuid.uuid4().hex[:6]}")
        read = call(client, "GetSite", SiteId=site_id)  # read-only calls are recorded too
        if read.error is None:
            reads["served"].append(read.request_id)
        else:
            assert read.error == {"Code": "InternalServerException", "Message": "An internal error occurred."}
            reads["failed"] += 1
        if len(failed) >= 5 and reads["failed"] >= 5:
            break
    assert len(failed) >= 5 and reads["failed"] >= 5, "filling the disk never made calls fail"

    filler.unlink()
    create(f"after-{uuid.uuid4().hex[:6]}")  # space is back: served again, without a restart
    last = list(acknowledged)[-1]
    assert acknowledged[last].startswith("after-")
    assert client.get_site(SiteId=site_id)["Site"]["Name"] == existing

    server.restart()
    client = server.client("outposts")
    recorded = {record["requestID"] for record in all_records(server.data_dir)}
    assert set(acknowledged) <= recorded, "a call was acknowledged without its event"
    assert set(reads["served"]) <= recorded, "a read was answered without its event"
    assert not set(failed) & recorded
    names = site_names(client)
    assert set(acknowledged.values()) <= names
    assert not set(failed.values()) & names, "a failed call's state change survived"
