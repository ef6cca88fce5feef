"""The delivery reader never hands out positions past what the worker knows to be durable."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.support.records import ACCOUNT, record
from trailpost.delivery.reader import EventReader
from trailpost.store.commit import GroupCommit
from trailpost.store.events import event_store
from trailpost.store.sqlite import SqliteStateStore


def test_head_and_positions_stop_at_the_ceiling(tmp_path: Path) -> None:
    state = SqliteStateStore(tmp_path / "state.db")
    events = event_store(state)
    group = GroupCommit(state)

    async def call() -> int:
        def work() -> int:
            group.stage(events.insert, events.prepare(record("ListSites", read_only=True)))
            return events.head()  # inside the batch: staged rows are not in yet

        return await group.run(work, isolated=False)

    async def main() -> list[int]:
        return [await call() for _ in range(5)]

    heads = asyncio.run(main())
    assert heads == [0, 1, 2, 3, 4]  # each batch sees exactly the batches acknowledged before it
    reader = EventReader(state.path)
    assert reader.head() == 5
    reader.ceiling = 3
    assert reader.head() == 3
    assert reader.position_at(0) <= 3
    assert [row[0] for row in reader.scan(0, reader.head(), ACCOUNT, 100)] == [1, 2, 3]
    reader.close()
    group.close()
    state.close()
