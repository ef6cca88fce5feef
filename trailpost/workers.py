"""Background work that never runs on the request path: service lifecycles ticking on a timer.

Each service binding may declare tickers ``(store, settings, now)``; the runner calls them every
``interval`` seconds on the event loop (they are short, store-bound steps), each inside a
group-commit batch like a request's work, and logs, never propagates, their failures so that one
bad resource cannot stop the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from trailpost.config import Settings
from trailpost.services.base import ServiceBinding, Ticker
from trailpost.store.base import StateStore
from trailpost.store.commit import GroupCommit

log = logging.getLogger("trailpost.workers")


class BackgroundRunner:
    """Runs every binding's tickers periodically until stopped."""

    def __init__(
        self,
        settings: Settings,
        store: StateStore,
        services: list[ServiceBinding],
        commits: GroupCommit | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.commits = commits
        self.tickers = [ticker for binding in services for ticker in binding.tickers]
        self.interval = max(0.05, min(1.0, settings.lifecycle_seconds / 4 or 0.05))
        self._task: asyncio.Task[None] | None = None

    def tick(self, now: float | None = None) -> None:
        """Run every ticker once."""
        now = time.time() if now is None else now
        for ticker in self.tickers:
            try:
                ticker(self.store, self.settings, now)
            except Exception:
                log.exception("background ticker %s failed", getattr(ticker, "__name__", ticker))

    async def _run(self) -> None:
        while True:
            if self.commits is None:
                self.tick()
            else:
                now = time.time()
                for ticker in self.tickers:

                    def work(t: Ticker = ticker, at: float = now) -> None:
                        t(self.store, self.settings, at)

                    try:
                        await self.commits.run(work)
                    except Exception:
                        log.exception("background ticker %s failed", getattr(ticker, "__name__", ticker))
            await asyncio.sleep(self.interval)

    def start(self) -> None:
        if self.tickers and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
