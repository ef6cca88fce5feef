"""The markdown section of the API benchmark (``bench/api_throughput.py``) in ``bench/RESULTS.md``.

Rules: one section per mode (``api-throughput:full``, ``api-throughput:quick``) between HTML-comment
markers, replaced in place (``server_report.replace_section``) so other sections survive. The
section is self-contained: date, machine, versions, the other load seen, the exact server and wrk
commands; then a summary per call and connection count that puts each audited figure next to the
same call with audit off and the bare ceiling measured in the same run, moto's figures next to the
trailpost call they are compared with, the issue's targets with met / missed and by how much, event
durability, memory, and the full per-run table. Every figure is the median over repetitions. A
point whose runs answered anything but 2xx (or had socket errors) is flagged in bold, and so is one
that other load disturbed.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bench.server_report import LEGEND, RunLike, fmt_us, machine, table, times_off

PACKAGES = ("uvicorn", "uvloop", "httptools", "botocore", "orjson", "moto", "flask", "werkzeug")
AUDITED, AUDIT_OFF, BARE, MOTO = "trailpost audited", "trailpost audit off", "bare ASGI", "moto"
WORKERS = "trailpost audited -w2"  # ``--workers 2``: the writer and one reader process on the port
TARGET_WRITES, TARGET_WRITE_P99_MS, TARGET_READS, TARGET_LOOKUPS = 10_000, 15.0, 15_000, 5_000
TARGET_AUDIT_RATIO, TARGET_MOTO_RATIO, TARGET_RSS_MIB = 0.8, 20.0, 250.0
# The machine the targets were set on: issue #7's bare ASGI app under uvicorn, 1 worker, wrk at 64 connections.
BARE_REFERENCE = 24_000


@dataclass
class ApiResults:
    """Everything one run of the API benchmark measured, for the report."""

    mode: str
    reps: int
    seconds: int
    conns: tuple[int, ...]
    started: datetime
    runs: dict[tuple[str, str], list[Any]] = field(default_factory=dict)  # (config, call) -> runs (RunLike)
    peers: dict[str, str] = field(default_factory=dict)  # moto call -> trailpost call compared with
    noise: list[float] = field(default_factory=list)
    repeated: int = 0
    budget: int = 0
    waited: float = 0.0
    servers: list[str] = field(default_factory=list)
    loads: list[str] = field(default_factory=list)
    reproduce: str = ""
    failures: dict[str, str] = field(default_factory=dict)
    memory: dict[str, dict[str, float]] = field(default_factory=dict)  # config -> idle / load / after (MiB)
    memory_10m: dict[str, float] | str = "skipped"  # figures, or why it was skipped
    lookups_10m: dict[str, float] = field(default_factory=dict)  # arrangement -> LookupEvents req/s at 64 conns
    memory_10m_workers: dict[str, float] = field(default_factory=dict)  # the same figures, `--workers 2`'s tree
    store_alone: dict[str, float] = field(default_factory=dict)  # batch_1000 / per_record (events/s), records
    notes: list[str] = field(default_factory=list)


def median_of(runs: Sequence[RunLike], attribute: str) -> float:
    return statistics.median(getattr(r, attribute) for r in runs)


def point(results: ApiResults, config: str, call: str, conns: int) -> list[Any]:
    return [r for r in results.runs.get((config, call), []) if r.conns == conns]


def _cell(runs: Sequence[RunLike]) -> str:
    if not runs:
        return "-"
    text = f"{median_of(runs, 'rps'):,.0f}"
    errors = sum(r.non2xx + r.socket_errors for r in runs)
    if errors:
        text += f" **({errors} errors)**"
    if any(r.disturbed for r in runs):
        text += " **(disturbed)**"
    return text


def _lat(runs: Sequence[RunLike]) -> str:
    return f"{fmt_us(median_of(runs, 'p50_us'))} / {fmt_us(median_of(runs, 'p99_us'))}" if runs else "-"


def _ratio(top: Sequence[RunLike], bottom: Sequence[RunLike]) -> str:
    if not top or not bottom:
        return "-"
    return f"{median_of(top, 'rps') / max(median_of(bottom, 'rps'), 1e-9):.2f}"


def summary(results: ApiResults) -> list[str]:
    calls = list(dict.fromkeys(call for config, call in results.runs if config == AUDITED))
    lines = [
        "| call | conns | audited req/s | audited p50 / p99 | audit off req/s | audit off p50 / p99 | audited / off "
        "| bare ceiling req/s | bare p50 / p99 | audited / bare |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for call in calls:
        for c in results.conns:
            audited, off, bare = (point(results, k, call, c) for k in (AUDITED, AUDIT_OFF, BARE))
            lines.append(
                f"| {call} | {c} | {_cell(audited)} | {_lat(audited)} | {_cell(off)} | {_lat(off)} | "
                f"{_ratio(audited, off)} | {_cell(bare)} | {_lat(bare)} | {_ratio(audited, bare)} |"
            )
    return lines


def workers_table(results: ApiResults) -> list[str]:
    """One process (as shipped) against ``--workers 2`` (two readers and the writer), per call and load."""
    calls = list(dict.fromkeys(call for config, call in results.runs if config == WORKERS))
    if not calls:
        return ["(not measured in this run)"]
    lines = [
        "| call | conns | 1 process req/s | p50 / p99 | server cores | `--workers 2` req/s | p50 / p99 "
        "| server cores | 2 / 1 |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for call in calls:
        for c in results.conns:
            one, two = point(results, AUDITED, call, c), point(results, WORKERS, call, c)
            cores = [f"{median_of(runs, 'server_cores'):.2f}" if runs else "-" for runs in (one, two)]
            lines.append(
                f"| {call} | {c} | {_cell(one)} | {_lat(one)} | {cores[0]} | {_cell(two)} | {_lat(two)} | "
                f"{cores[1]} | {_ratio(two, one)} |"
            )
    return lines


def moto_table(results: ApiResults) -> list[str]:
    lines = [
        "| moto call | conns | moto req/s | moto p50 / p99 | compared with | trailpost audited req/s "
        "| trailpost / moto |",
        "|---|---|---|---|---|---|---|",
    ]
    for call, peer in results.peers.items():
        for c in results.conns:
            moto, ours = point(results, MOTO, call, c), point(results, AUDITED, peer, c)
            lines.append(
                f"| {call} | {c} | {_cell(moto)} | {_lat(moto)} | {peer} | {_cell(ours)} | {_ratio(ours, moto)} |"
            )
    return lines


def _verdict(value: float | None, target: float, higher: bool = True) -> str:
    if value is None:
        return "not measured"
    met = value >= target if higher else value <= target
    if met:
        return "met"
    gap = (target / value if higher else value / target) if value else float("inf")
    return f"**missed** ({times_off(gap)} off)"


def _rps(results: ApiResults, config: str, call: str, c: int) -> float | None:
    runs = point(results, config, call, c)
    return median_of(runs, "rps") if runs else None


def _target(call: str) -> int:
    """The issue's throughput target for ``call``: writes, LookupEvents, or the other reads."""
    return {"CreateSite": TARGET_WRITES, "TagResource": TARGET_WRITES, "LookupEvents": TARGET_LOOKUPS}.get(
        call, TARGET_READS
    )


def targets(results: ApiResults) -> list[str]:
    top = max(results.conns)
    rows: list[tuple[str, str, str]] = []
    disturbed = {key for key, runs in results.runs.items() if any(r.disturbed for r in runs if r.conns == top)}

    def add(
        what: str, value: float | None, target: float, fmt: str, *points: tuple[str, str], higher: bool = True
    ) -> None:
        shown = "-" if value is None else format(value, fmt)
        verdict = _verdict(value, target, higher)
        if value is not None and disturbed.intersection(points):
            verdict += " (disturbed run: not a verdict)"
        rows.append((what, shown, verdict))

    writes = point(results, AUDITED, "CreateSite", top)
    creates = _rps(results, AUDITED, "CreateSite", top)
    add(
        f"audited CreateSite at {top} connections >= {TARGET_WRITES:,} req/s",
        creates,
        TARGET_WRITES,
        ",.0f",
        (AUDITED, "CreateSite"),
    )
    add(
        f"audited CreateSite p99 at {top} connections <= {TARGET_WRITE_P99_MS:g} ms",
        median_of(writes, "p99_us") / 1000 if writes else None,
        TARGET_WRITE_P99_MS,
        ".2f",
        (AUDITED, "CreateSite"),
        higher=False,
    )
    for call in ("GetSite", "ListSites", "LookupEvents"):
        add(
            f"audited {call} at {top} connections >= {_target(call):,} req/s",
            _rps(results, AUDITED, call, top),
            _target(call),
            ",.0f",
            (AUDITED, call),
        )
    for call in ("CreateSite", "GetSite", "ListSites", "LookupEvents"):
        if point(results, WORKERS, call, top):
            add(
                f"audited {call}, `--workers 2`, at {top} connections >= {_target(call):,} req/s",
                _rps(results, WORKERS, call, top),
                _target(call),
                ",.0f",
                (WORKERS, call),
            )
    for arrangement, rps in results.lookups_10m.items():
        add(
            f"LookupEvents with 10M events stored, {arrangement}, at 64 connections >= {TARGET_LOOKUPS:,} req/s",
            rps,
            TARGET_LOOKUPS,
            ",.0f",
        )
    for call in dict.fromkeys(call for config, call in results.runs if config == AUDITED):
        audited, off = _rps(results, AUDITED, call, top), _rps(results, AUDIT_OFF, call, top)
        ratio = audited / off if audited is not None and off else None
        add(
            f"{call}: audited / audit off at {top} connections >= {TARGET_AUDIT_RATIO}",
            ratio,
            TARGET_AUDIT_RATIO,
            ".2f",
            (AUDITED, call),
            (AUDIT_OFF, call),
        )
    for config, shown in ((AUDITED, ""), (WORKERS, " (`--workers 2`)")):
        for call, peer in results.peers.items():
            ours, theirs = _rps(results, config, peer, top), _rps(results, MOTO, call, top)
            if ours is None and config == WORKERS:
                continue
            ratio = ours / theirs if ours is not None and theirs else None
            add(
                f"{peer}{shown} against moto {call} at {top} connections >= {TARGET_MOTO_RATIO:g}x",
                ratio,
                TARGET_MOTO_RATIO,
                ".1f",
                (config, peer),
                (MOTO, call),
            )
    rss = results.memory_10m.get("load") if isinstance(results.memory_10m, dict) else None
    add(f"RSS under load with 10M events <= {TARGET_RSS_MIB:g} MiB", rss, TARGET_RSS_MIB, ".0f", higher=False)
    if results.memory_10m_workers:
        add(
            f"RSS under load with 10M events, `--workers 2` (the process tree) <= {TARGET_RSS_MIB:g} MiB",
            results.memory_10m_workers.get("load"),
            TARGET_RSS_MIB,
            ".0f",
            higher=False,
        )
    return ["| target | measured | verdict |", "|---|---|---|", *(f"| {a} | {b} | {c} |" for a, b, c in rows)]


def scaled(results: ApiResults) -> list[str]:
    """The throughput targets at this machine's scale: each scaled by this run's bare ceiling of the
    call against the bare figure of the machine the targets were set on (``BARE_REFERENCE``)."""
    top = max(results.conns)
    rows = []
    for call in dict.fromkeys(call for config, call in results.runs if config == AUDITED):
        bare = _rps(results, BARE, call, top)
        if not bare:
            continue
        goal = _target(call) * bare / BARE_REFERENCE
        ours = (_rps(results, AUDITED, call, top), _rps(results, WORKERS, call, top))
        known = [v for v in ours if v is not None]
        cells = " | ".join(f"{v:,.0f}" if v is not None else "-" for v in ours)
        verdict = _verdict(max(known) if known else None, goal)
        rows.append(f"| {call} | {bare:,.0f} | {_target(call):,} | {goal:,.0f} | {cells} | {verdict} |")
    if not rows:
        return []
    return [
        f"The throughput targets were set on a machine whose bare ASGI app answered ~{BARE_REFERENCE:,} req/s at "
        f"64 connections. Scaled by this run's bare ceiling of each call ({top} connections, same server stack, same "
        "bytes), they read:",
        "",
        "| call | bare ceiling here | target | target at this machine's scale | audited | audited `--workers 2` | "
        "verdict (the better of the two) |",
        "|---|---|---|---|---|---|---|",
        *rows,
    ]


def why(results: ApiResults) -> list[str]:
    """The CPU budget per call the targets imply, against what the calls cost in this run."""
    top = max(results.conns)
    costs = []
    for call in dict.fromkeys(call for config, call in results.runs if config == AUDITED):
        runs = [point(results, k, call, top) for k in (AUDITED, WORKERS, AUDIT_OFF, BARE)]
        cells = [f"{median_of(r, 'server_us_per_req'):,.0f}" if r else "-" for r in runs]
        costs.append(f"| {call} | " + " | ".join(f"{c} µs" if c != "-" else c for c in cells) + " |")
    if not costs:
        return []
    return [
        f"Why: one trailpost process serves every call on one event loop, so on one core {TARGET_WRITES:,} req/s "
        f"leaves {1e6 / TARGET_WRITES:.0f} µs of server CPU per call and {TARGET_READS:,} req/s "
        f"{1e6 / TARGET_READS:.0f} µs; with `--workers 2` both cores serve (shared with wrk and the kernel), "
        f"which doubles those budgets at best. Server CPU per call at {top} connections in this run "
        "(utime+stime of the server's processes over its requests):",
        "",
        "| call | audited | audited `--workers 2` | audit off | bare ceiling |",
        "|---|---|---|---|---|",
        *costs,
        "",
        "Where that CPU goes is in the profile sections (`make bench-profile`, and with `--workers 2`); what was "
        "done, what was measured and not adopted, and what would close the rest, ranked, is summed up in "
        'docs/decisions.md, "Where performance stands (issue #7): read this first", which names the section of '
        "each session's measurements.",
    ]


def durability(results: ApiResults) -> list[str]:
    top = max(results.conns)
    lines = ["| what | events/s | p99 |", "|---|---|---|"]
    for call in ("CreateSite", "TagResource"):
        runs = point(results, AUDITED, call, top)
        if runs:
            lines.append(
                f"| audited {call} at {top} connections (state and event committed, fsync, before the response) | "
                f"{_cell(runs)} | {fmt_us(median_of(runs, 'p99_us'))} |"
            )
    store = results.store_alone
    if store:
        records = int(store.get("records", 0))
        lines.append(
            f"| event store alone, `append_many` batches of 1000 ({records:,} records, "
            f"one commit and one WAL fdatasync each batch) | {store['batch_1000']:,.0f} | - |"
        )
        lines.append(
            f"| event store alone, one commit and one WAL fdatasync per record "
            f"({int(store.get('single_records', 0)):,} records) | {store['per_record']:,.0f} | "
            f"{fmt_us(store.get('per_record_p99_us', 0.0))} |"
        )
        if "other_cores" in store:
            lines += ["", f"Other load while the store alone was timed: {store['other_cores']:.2f} cores."]
    return lines


def memory(results: ApiResults) -> list[str]:
    lines = [
        "| server | RSS idle (seeded, before load) | RSS peak during the 64-connection runs | RSS after the runs |",
        "|---|---|---|---|",
    ]
    for config, figures in results.memory.items():
        cells = [f"{figures[k]:.0f} MiB" if k in figures else "-" for k in ("idle", "load", "after")]
        lines.append(f"| {config} | " + " | ".join(cells) + " |")
    if isinstance(results.memory_10m, dict):
        for shown, m in (("", results.memory_10m), (", `--workers 2` (the process tree)", results.memory_10m_workers)):
            if m:
                pss = f"; PSS right after them {m['pss']:.0f} MiB, shared pages counted once" if "pss" in m else ""
                lines.append(
                    f"| trailpost audited{shown}, {m.get('events', 0):,.0f} events stored | {m['idle']:.0f} MiB | "
                    f"{m['load']:.0f} MiB (LookupEvents and ListSites at 64 connections{pss}) | - |"
                )
    else:
        lines.append(f"| trailpost audited, 10M events stored | {results.memory_10m} | | |")
    return lines


def wrk_share(results: ApiResults) -> str:
    shares = []
    for config in dict.fromkeys(config for config, _ in results.runs):
        runs = [r for (k, _), rs in results.runs.items() if k == config for r in rs]
        shares.append(f"{config} {median_of(runs, 'wrk_cores'):.2f} (max {max(r.wrk_cores for r in runs):.2f})")
    return "; ".join(shares)


def section(results: ApiResults) -> str:
    mode = results.mode
    errors = [
        f"{config} {call} c={r.conns}: {r.non2xx} non-2xx, {r.socket_errors} socket errors"
        for (config, call), runs in results.runs.items()
        for r in runs
        if r.non2xx or r.socket_errors
    ]
    detail = {f"{config} / {call}": runs for (config, call), runs in results.runs.items()}
    noise = " / ".join(f"{v:.2f}" for v in results.noise) or "-"
    out = [
        f"<!-- api-throughput:{mode}:begin -->",
        f"## API throughput and latency, {mode} mode",
        "",
        f"- run: {results.started:%Y-%m-%d %H:%M} UTC, {results.reps} x {results.seconds} s per point "
        "after a 1 s warm-up; figures are medians over repetitions",
        *machine(PACKAGES),
        "- other load on the 2 cores (other processes' CPU plus steal, in cores) for 1 s before and after: "
        f"{noise}; runs repeated because other load exceeded 0.3 cores: {results.repeated} (budget "
        f"{results.budget}); waited {results.waited:.0f} s for quiet. Treat points marked disturbed as noise.",
        f"- load generator: `wrk -t1` on the same 2 cores; its CPU share, median (max) cores: {wrk_share(results)}",
        f"- reproduce: `{results.reproduce}`",
        *(f"- note: {note}" for note in results.notes),
        *(f"- **{name} failed**: `{text}`" for name, text in results.failures.items()),
        (
            f"- **runs with errors ({len(errors)})**: " + "; ".join(errors)
            if errors
            else "- errors: none (every answer 2xx, no socket errors)"
        ),
        "",
        "Servers (`{port}` is a free port, `$DATA` a fresh temp data dir seeded with the benchmark account, "
        "5 sites and 2,000 events):",
        "",
        "```",
        *results.servers,
        "```",
        "",
        "Load: each call's requests are signed by botocore for every run and replayed by "
        "`bench/replay.lua` (round-robin through a file of raw requests; CreateSite: one request per fresh "
        "account and region, each sent 100 times in a row, the Outposts site quota):",
        "",
        "```",
        *results.loads,
        "```",
        "",
        "### Summary (median req/s; audited = as shipped; audit off = `TRAILPOST_BENCH_AUDIT_OFF=1`; "
        "bare = `bench/bare_app.py` under the same uvicorn, replaying the same bytes)",
        "",
        *summary(results),
        "",
        "### One process or three (`--workers 2`: two reader processes on the port, the writer behind them)",
        "",
        *workers_table(results),
        "",
        "### moto 5.2.5 server on the closest calls it has (moto has no Outposts)",
        "",
        *moto_table(results),
        "",
        "### Targets (issue #7)",
        "",
        *targets(results),
        "",
        *scaled(results),
        "",
        *why(results),
        "",
        "### Event durability",
        "",
        *durability(results),
        "",
        "### Memory (RSS of the server's process tree)",
        "",
        *memory(results),
        "",
        "### Every point",
        "",
        LEGEND,
        "",
        *table(detail, results.conns),
        f"<!-- api-throughput:{mode}:end -->",
    ]
    return "\n".join(out) + "\n"
