"""Event durability: how many events per second the event store alone makes durable.

``store_rates`` opens a fresh state store in a temp dir exactly as the server does
(``SqliteStateStore``: WAL, ``synchronous=NORMAL``, each commit made durable by ``sync``, an
fdatasync of the WAL, as group commit does) with its event store, and times
``SqliteEventStore.append_many`` followed by ``sync`` on realistic records
(``bench.lookup_data.Generator``, about 1 KB of JSON each, with resources), generated beforehand and
not timed:

* batches of ``BATCH`` records, one transaction and one durable commit (commit, then sync) per batch;
* one record per transaction: a commit and a sync per record, as a server without group commit
  would do; its per-record latency gives a p99.

Each part stops at its record count or its time limit, whichever comes first. The API benchmark
(``bench/api_throughput.py``) runs this in the same run as the audited CreateSite figures, whose
events are committed before each response; ``python -m bench.durability`` prints the figures alone.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.lookup_data import Generator
from trailpost.store.events import SqliteEventStore
from trailpost.store.sqlite import SqliteStateStore

BATCH = 1000


def store_rates(batched: int = 50_000, single: int = 5_000, max_seconds: float = 20.0) -> dict[str, float]:
    """events/s of ``append_many`` in batches of ``BATCH`` and one per commit, plus the single commit's p99."""
    stream = Generator(batched + single, time.time()).records()
    records = [next(stream) for _ in range(batched + single)]
    with tempfile.TemporaryDirectory(prefix="trailpost-durability-") as scratch:
        store = SqliteStateStore(Path(scratch) / "state.db")
        try:
            events = SqliteEventStore(store.connection, store.lock)
            started, done = time.perf_counter(), 0
            while done < batched and time.perf_counter() - started < max_seconds:
                done += events.append_many(records[done : done + BATCH])
                store.sync()
            batch_rate = done / (time.perf_counter() - started)
            latencies: list[float] = []
            started = time.perf_counter()
            for record in records[batched : batched + single]:
                began = time.perf_counter()
                events.append_many([record])
                store.sync()
                latencies.append(time.perf_counter() - began)
                if began - started > max_seconds:
                    break
            single_rate = len(latencies) / (time.perf_counter() - started)
        finally:
            store.close()
    latencies.sort()
    return {
        "batch_1000": batch_rate,
        "records": float(done),
        "per_record": single_rate,
        "single_records": float(len(latencies)),
        "per_record_p50_us": statistics.median(latencies) * 1e6,
        "per_record_p99_us": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1e6,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batched", type=int, default=50_000, help="records appended in batches of 1000")
    parser.add_argument("--single", type=int, default=5_000, help="records appended one per commit")
    parser.add_argument("--max-seconds", type=float, default=20.0, help="time limit of each part")
    args = parser.parse_args(argv)
    figures = store_rates(args.batched, args.single, args.max_seconds)
    for name, value in figures.items():
        print(f"{name:20} {value:12,.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
