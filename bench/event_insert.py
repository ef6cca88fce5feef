"""Per-record insert cost of the event store: random ids under a UNIQUE index, against permuted ids without it.

Issue #7 found the UNIQUE index on random ``event_id`` keys to be the cost that grows with the
table: each record dirties a random leaf. Since session 4 a record's id is a keyed permutation of
its position and new databases have no index on it (``trailpost.store.event_ids``). This measures
both schemas in one run with the current event store code: the "legacy" database is made with the
old ``UNIQUE`` column (its permuted ids are as random as uuid4s were, so its index costs what it
did), the "new" one as shipped. Both hold the same N generated records (``bench.lookup_data``,
about 1 KB each, with resources); each round then appends ``BATCHES`` batches of 64 records to
each database in turn, as group commit does: ``prepare`` + ``insert`` in one transaction, and an
fdatasync of the WAL per batch (``synchronous=NORMAL``). Written = the process's ``wchar`` (WAL and
checkpoints). Results: ``bench/RESULTS.md``, section ``event-insert``.

``make bench-insert`` (300k and 1M events, about 4 minutes); ``--quick``: 100k events, 1 round.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.harness import RESULTS
from bench.lookup_data import Generator
from bench.server_report import machine, replace_section
from trailpost.store import events as ev
from trailpost.store.events import SqliteEventStore
from trailpost.store.sqlite import SqliteStateStore

BATCH = 64
LEGACY_SCHEMA = ev.SCHEMA.replace("event_id     TEXT NOT NULL,", "event_id     TEXT NOT NULL UNIQUE,")


def _filled(path: Path, legacy: bool, records: list[dict]) -> tuple[SqliteStateStore, SqliteEventStore]:
    state = SqliteStateStore(path)
    if legacy:
        state.connection.executescript(LEGACY_SCHEMA)
    events = SqliteEventStore(state.connection, state.lock)
    assert events.legacy_ids == legacy
    state.connection.execute("PRAGMA synchronous=OFF")  # the fill only
    for start in range(0, len(records), 1000):
        events.append_many(records[start : start + 1000])
    state.connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    state.connection.execute("PRAGMA synchronous=NORMAL")
    return state, events


def _written() -> int:
    with open("/proc/self/io") as io:
        return int(next(line for line in io if line.startswith("wchar")).split()[1])


def _round(state: SqliteStateStore, events: SqliteEventStore, records: list[dict]) -> tuple[float, float, float]:
    """(CPU µs, wall µs, bytes written) per record over ``records``, appended in batches of 64."""
    conn = state.connection
    wal = os.open(str(state.path) + "-wal", os.O_RDONLY)
    written, cpu, wall = _written(), time.process_time(), time.perf_counter()
    for start in range(0, len(records), BATCH):
        prepared = [events.prepare(record) for record in records[start : start + BATCH]]
        conn.execute("BEGIN IMMEDIATE")
        events.insert(prepared)
        conn.execute("COMMIT")
        os.fdatasync(wal)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    os.close(wal)
    return cpu / len(records) * 1e6, wall / len(records) * 1e6, (_written() - written) / len(records)


def measure(size: int, batches: int, rounds: int) -> list[tuple[str, list[tuple[float, float, float]]]]:
    per_round = batches * BATCH
    generated = Generator(size + rounds * 2 * per_round, time.time() - 86400).records()
    base = [next(generated) for _ in range(size)]
    extra = [[next(generated) for _ in range(per_round)] for _ in range(rounds * 2)]
    results: dict[str, list[tuple[float, float, float]]] = {"legacy (UNIQUE event_id)": [], "new (no index)": []}
    with tempfile.TemporaryDirectory(prefix="trailpost-insert-bench-") as scratch:
        stores = {
            "legacy (UNIQUE event_id)": _filled(Path(scratch) / "legacy.db", True, base),
            "new (no index)": _filled(Path(scratch) / "new.db", False, base),
        }
        for index in range(rounds):
            for turn, (label, (state, events)) in enumerate(stores.items()):
                figures = _round(state, events, extra[2 * index + turn])
                results[label].append(figures)
                print(
                    f"  {size:,} events, {label}, round {index + 1}: {figures[0]:.1f} µs CPU, "
                    f"{figures[1]:.1f} µs wall, {figures[2] / 1024:.1f} KiB written per record",
                    flush=True,
                )
        for state, _events in stores.values():
            state.close()
    return list(results.items())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="100k events, 1 round")
    args = parser.parse_args(argv)
    sizes, batches, rounds = ((100_000,), 100, 1) if args.quick else ((300_000, 1_000_000), 200, 3)
    started = datetime.now(UTC)
    load = os.getloadavg()[0]
    rows = []
    for size in sizes:
        for label, figures in measure(size, batches, rounds):
            cells = [" / ".join(f"{f[i] / (1024 if i == 2 else 1):.1f}" for f in figures) for i in range(3)]
            rows.append(f"| {size:,} | {label} | {cells[0]} | {cells[1]} | {cells[2]} |")
    lines = [
        "<!-- event-insert:begin -->",
        "## Event store inserts: random ids under a UNIQUE index against permuted ids without it",
        "",
        f"- run: {started:%Y-%m-%d %H:%M} UTC, load average {load:.2f} before / {os.getloadavg()[0]:.2f} after",
        *machine(("orjson",)),
        f"- method: `bench/event_insert.py` docstring; {rounds} round(s) of {batches} batches of {BATCH} records "
        "per database, one figure per round",
        f"- reproduce: `python -m bench.event_insert{' --quick' if args.quick else ''}`",
        "",
        "| events in the table | schema | CPU µs/record | wall µs/record | KiB written/record |",
        "|---|---|---|---|---|",
        *rows,
        "<!-- event-insert:end -->",
    ]
    replace_section(RESULTS, "event-insert", "\n".join(lines) + "\n")
    print(f"wrote the event-insert section of {RESULTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
