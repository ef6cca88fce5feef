"""The delivery reader never hands out positions past what the worker knows to be durable."""

from __future__ import annotations

import asyncio
from pathlib import Path

from trailpost.delivery.reader import EventReader
from trailpost.store.commit import GroupCommit
from trailpost.store.events import event_store
from trailpost.store.sqlite import SqliteStateStore


def _record(n: int) -> dict:
    return {
        "eventID": f"00000000-0000-4000-8000-{n:012d}",
        "eventTime": "2026-11-24T02:00:00Z",
        "eventName": "ListSites",
        "eventSource": "outposts.amazonaws.com",
        "awsRegion": "us-east-1",
        "recipientAccountId": "123456789012",
        "userIdentity": {"type": "Root", "accountId": "123456789012"},
        "readOnly": True,
    }


def test_head_and_positions_stop_at_the_ceiling(tmp_path: Path) -> None:
    state = SqliteStateStore(tmp_path / "state.db")
    events = event_store(state)
    group = GroupCommit(state)

    async def record(n: int) -> int:
        def work() -> int:
            group.stage(events.insert, events.prepare(_record(n)))
            return events.head()  # inside the batch: staged rows are not in yet

        return await group.run(work, isolated=False)

    async def main() -> list[int]:
        return [await record(n) for n in range(5)]

    heads = asyncio.run(main())
    assert heads == [0, 1, 2, 3, 4]  # each batch sees exactly the batches acknowledged before it
    reader = EventReader(state.path)
    assert reader.head() == 5
    reader.ceiling = 3
    assert reader.head() == 3
    assert reader.position_at(0) <= 3
    assert [row[0] for row in reader.scan(0, reader.head(), "123456789012", 100)] == [1, 2, 3]
    reader.close()
    group.close()
    state.close()
