"""A failed fdatasync of the WAL is final: nothing after it is committed or acknowledged, the server
stops, and a restart recovers the database with every acknowledged call and its event.

The disk is made to fail at its write barrier only (``SqliteStateStore._fdatasync`` raising EIO, in
process or in a real server's process); everything else is the real store, group commit and server.
"""

from __future__ import annotations

import asyncio
import errno
import threading
import time
from pathlib import Path

import orjson
import pytest
from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError

from tests.support.server import ServerProcess
from trailpost.store.base import DurabilityLost
from trailpost.store.commit import GroupCommit
from trailpost.store.sqlite import SqliteStateStore


class _FailingDisk(SqliteStateStore):
    """The real store on a disk whose write barrier fails while ``failing`` is set; ``go`` holds a
    barrier until the test lets it run."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.failing = False
        self.go = threading.Event()
        self.go.set()
        self.syncing = threading.Event()
        self.barriers = 0

    def _fdatasync(self, fd: int) -> None:  # type: ignore[override]
        self.syncing.set()
        assert self.go.wait(10), "the test never let the sync finish"
        self.barriers += 1
        if self.failing:
            raise OSError(errno.EIO, "Input/output error")
        super()._fdatasync(fd)


def test_a_failed_sync_fails_its_batch_and_every_later_one(tmp_path: Path) -> None:
    state = _FailingDisk(tmp_path / "db")
    told: list[DurabilityLost] = []
    state.on_durability_lost.append(told.append)
    group = GroupCommit(state)

    async def main() -> None:
        await group.run(lambda: state.put("test.doc", "s", "kept", {}))
        state.failing = True
        with pytest.raises(DurabilityLost, match="could not be synced"):
            await group.run(lambda: state.put("test.doc", "s", "unacknowledged", {}))
        state.failing = False  # the disk answers again: that proves nothing of what it dropped
        with pytest.raises(DurabilityLost):
            await group.run(lambda: state.put("test.doc", "s", "refused", {}))

    asyncio.run(main())
    assert len(told) == 1 and told[0].errno == errno.EIO
    assert state.barriers == 2  # no barrier was tried after the failed one
    with pytest.raises(DurabilityLost):
        state.sync()
    with pytest.raises(DurabilityLost), state.transaction():
        state.put("test.doc", "s", "refused too", {})
    group.close()
    state.close()
    reopened = SqliteStateStore(tmp_path / "db")
    keys = {entry.key for entry in reopened.list("test.doc", "s")}
    reopened.close()
    assert "kept" in keys and not keys & {"refused", "refused too"}


def test_a_batch_committed_behind_the_failed_sync_is_not_acknowledged(tmp_path: Path) -> None:
    """Pipelined group commit: the next batch commits while the previous one syncs. When that sync
    fails, the next batch fails too, though its own barrier would have succeeded."""
    state = _FailingDisk(tmp_path / "db")
    group = GroupCommit(state)

    async def main() -> None:
        state.go.clear()
        state.failing = True
        first = asyncio.ensure_future(group.run(lambda: state.put("test.doc", "s", "1", {})))
        while not state.syncing.is_set():  # batch 1 is committed; its barrier waits
            await asyncio.sleep(0.001)
        second = asyncio.ensure_future(group.run(lambda: state.put("test.doc", "s", "2", {})))
        while group._committing is None or len(state.list("test.doc", "s")) < 1:
            await asyncio.sleep(0.001)
        await asyncio.sleep(0.05)  # batch 2 reaches the committer behind batch 1's barrier
        state.go.set()
        results = await asyncio.wait_for(asyncio.gather(first, second, return_exceptions=True), 5)
        assert all(isinstance(result, DurabilityLost) for result in results), results

    asyncio.run(main())
    assert state.barriers == 1
    group.close()
    state.close()


FAULTY_DISK = """
import errno, os, pathlib, sys
from trailpost.store.sqlite import SqliteStateStore
flag, barrier = pathlib.Path(os.environ["TRAILPOST_TEST_FAILING_DISK"]), SqliteStateStore._fdatasync
def fdatasync(fd):
    if flag.exists():
        raise OSError(errno.EIO, "Input/output error")
    barrier(fd)
SqliteStateStore._fdatasync = staticmethod(fdatasync)
from trailpost.cli import main
sys.argv[0] = "trailpost"
main()
"""


def test_the_server_stops_and_its_restart_keeps_every_acknowledged_call(tmp_path: Path) -> None:
    flag = tmp_path / "disk-fails"
    server = ServerProcess(
        tmp_path / "data", python_args=("-c", FAULTY_DISK), env={"TRAILPOST_TEST_FAILING_DISK": str(flag)}
    ).start()
    try:
        outposts = server.client("outposts")
        kept = outposts.create_site(Name="kept")["Site"]["SiteId"]
        flag.touch()
        # The next sync fails, this call's or a background worker's: the call is refused (500) or,
        # if the server is already closing its connections, not answered at all; never acknowledged.
        with pytest.raises((ClientError, EndpointConnectionError, ConnectionClosedError)) as failed:
            outposts.create_site(Name="not acknowledged")
        if isinstance(failed.value, ClientError):
            assert failed.value.response["Error"]["Code"] == "InternalServerException"  # Outposts' own 500
            assert failed.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
        assert server.process is not None
        deadline = time.monotonic() + 15
        while server.process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.process.poll() == 1, "the server did not stop by itself"
        assert "could not be synced" in server.log() and "restart trailpost" in server.log()
        server.process = None
        flag.unlink()
        server.start()
        outposts = server.client("outposts")
        sites = {site["Name"]: site["SiteId"] for site in outposts.list_sites()["Sites"]}
        assert sites["kept"] == kept
        events = server.client("cloudtrail").lookup_events(
            LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "CreateSite"}]
        )["Events"]
        recorded = {orjson.loads(e["CloudTrailEvent"])["requestParameters"]["Name"] for e in events}
        # Every acknowledged call survived with its event; the unacknowledged one may have reached
        # the disk or not, but never without its event (they were committed together).
        assert "kept" in recorded and set(sites) <= recorded
    finally:
        server.stop()
