"""Event history retention: events older than ``event_retention_days`` (default 90) are deleted.

``prune_history`` is a background ticker (``workers.BackgroundRunner`` runs every service's
tickers about once a second, each in its own group-commit batch). Each run deletes at most
``PRUNE_CHUNK`` of the oldest expired events, found through the event-time index, so a run costs
microseconds when nothing expired and never blocks the event loop for long when much did (a
lowered retention is worked off chunk by chunk). Lookups never depend on it: they never return
events older than the retention period, pruned or not.
"""

from __future__ import annotations

import logging
from typing import Any

from trailpost.config import Settings
from trailpost.store.events import event_store

PRUNE_CHUNK = 1000
DAY = 86400

log = logging.getLogger("trailpost.cloudtrail.history")


def prune_history(store: Any, settings: Settings, now: float) -> None:
    """Delete one chunk of events older than the retention period."""
    cutoff = int(now) - int(settings.event_retention_days * DAY)
    deleted = event_store(store).prune(cutoff, PRUNE_CHUNK)
    if deleted:
        log.info("pruned %d events older than %d days", deleted, settings.event_retention_days)


TICKERS = [prune_history]
