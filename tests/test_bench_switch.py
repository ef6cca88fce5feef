"""The benchmark-only audit switch (``TRAILPOST_BENCH_AUDIT_OFF``) and the API benchmark's report writer."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bench.api_report import AUDIT_OFF, AUDITED, BARE, MOTO, WORKERS, ApiResults, section
from bench.harness import Run, cpu_seconds, main_thread_seconds
from bench.profile_path import Profile, parse_raw
from bench.profile_path import section as profile_section
from bench.revisions import section as revisions_section
from bench.revisions import stack_of
from bench.server_report import replace_section
from tests.support.server import ServerProcess
from trailpost.config import ConfigError, Settings


def test_audit_off_server_answers_and_records_nothing(make_server: Callable[..., ServerProcess]) -> None:
    server = make_server(env={"TRAILPOST_BENCH_AUDIT_OFF": "1"})
    outposts = server.client("outposts")
    site = outposts.create_site(Name="unrecorded", Tags={"k": "v"})["Site"]
    assert outposts.get_site(SiteId=site["SiteId"])["Site"]["Name"] == "unrecorded"
    assert [s["SiteId"] for s in outposts.list_sites()["Sites"]] == [site["SiteId"]]
    assert server.client("cloudtrail").lookup_events()["Events"] == []
    assert "TRAILPOST_BENCH_AUDIT_OFF is on" in server.log()
    server.stop()
    with sqlite3.connect(server.data_dir / "state.db") as db:
        assert db.execute("SELECT count(*) FROM events").fetchone()[0] == 0
        assert db.execute("SELECT count(*) FROM state WHERE key = ?", (site["SiteId"],)).fetchone()[0] == 1


def test_audit_off_is_parsed_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings.load().bench_audit_off is False
    monkeypatch.setenv("TRAILPOST_BENCH_AUDIT_OFF", "1")
    assert Settings.load().bench_audit_off is True
    monkeypatch.setenv("TRAILPOST_BENCH_AUDIT_OFF", "maybe")
    with pytest.raises(ConfigError, match="TRAILPOST_BENCH_AUDIT_OFF"):
        Settings.load()


def _run(conns: int, rps: float, p99_ms: float = 5.0, non2xx: int = 0) -> Run:
    return Run(
        conns=conns,
        rps=rps,
        p50_us=p99_ms * 300,
        p99_us=p99_ms * 1000,
        requests=int(rps * 2),
        non2xx=non2xx,
        socket_errors=0,
        server_cores=0.95,
        server_us_per_req=950_000 / rps,
        wrk_cores=0.1,
        machine_cores=1.1,
        other_cores=0.05,
        rss_peak_mib=120.0,
        loop_us_per_req=700_000 / rps,
    )


def test_report_section_from_sample_figures(tmp_path: Path) -> None:
    results = ApiResults("quick", 1, 2, (1, 64), datetime(2026, 11, 24, 5, 0, tzinfo=UTC), budget=6)
    for config, factor in ((AUDITED, 1.0), (AUDIT_OFF, 1.5), (BARE, 10.0)):
        results.runs[(config, "CreateSite")] = [_run(1, 400 * factor), _run(64, 2000 * factor)]
        results.runs[(config, "ListSites")] = [_run(1, 500 * factor), _run(64, 3000 * factor, non2xx=3)]
    results.runs[(WORKERS, "CreateSite")] = [_run(1, 300), _run(64, 3000)]
    results.runs[(WORKERS, "ListSites")] = [_run(1, 400), _run(64, 4500)]
    results.runs[(MOTO, "CreateTrail")] = [_run(1, 400), _run(64, 100, p99_ms=280)]
    results.runs[(MOTO, "CreateTrail")][1].other_cores = 0.9  # another session's load during that run
    results.peers = {"CreateTrail": "CreateSite"}
    results.lookups_10m = {"one process": 1800.0, "`--workers 2`": 3000.0}
    results.noise = [0.02, 0.05]
    results.memory = {AUDITED: {"idle": 80.0, "load": 120.0, "after": 100.0}}
    results.store_alone = {
        "batch_1000": 21000.0,
        "records": 20000.0,
        "per_record": 4000.0,
        "single_records": 2000.0,
        "per_record_p99_us": 400.0,
    }
    text = section(results)
    lines = text.splitlines()
    assert lines[0] == "<!-- api-throughput:quick:begin -->" and lines[-1] == "<!-- api-throughput:quick:end -->"
    assert "| CreateSite | 64 | 2,000 | 1.50 ms / 5.00 ms | 3,000 | 1.50 ms / 5.00 ms | 0.67 | 20,000 |" in text
    assert "84.00 ms / 280.00 ms | CreateSite | 2,000 | 20.00 |" in text
    assert "| audited CreateSite at 64 connections >= 10,000 req/s | 2,000 | **missed** (5.0x off) |" in text
    assert (
        "| CreateSite against moto CreateTrail at 64 connections >= 20x | 20.0 | met (disturbed run: not a verdict) |"
        in text
    )
    assert "| CreateTrail | 64 | 100 **(disturbed)** |" in text
    assert "3,000 **(3 errors)**" in text and "**runs with errors (3)**" in text
    assert "batches of 1000 (20,000 records, one commit and one WAL fdatasync each batch) | 21,000 |" in text
    assert "| trailpost audited | 80 MiB | 120 MiB | 100 MiB |" in text
    assert "10M events stored | skipped |" in text
    # One process against ``--workers 2``, side by side, and their targets.
    side_by_side = (
        "| ListSites | 64 | 3,000 **(3 errors)** | 1.50 ms / 5.00 ms | 0.95 | 4,500 | 1.50 ms / 5.00 ms | 0.95 |"
    )
    assert side_by_side + " 1.50 |" in text
    assert (
        "| audited CreateSite, `--workers 2`, at 64 connections >= 10,000 req/s | 3,000 | **missed** (3.3x off) |"
        in text
    )
    assert "| LookupEvents with 10M events stored, `--workers 2`, at 64 connections >= 5,000 req/s | 3,000 |" in text
    assert "| CreateSite (`--workers 2`) against moto CreateTrail at 64 connections >= 20x | 30.0 |" in text
    # The targets at this run's scale: 10,000 x 20,000 (bare CreateSite here) / 24,000.
    assert "| CreateSite | 20,000 | 10,000 | 8,333 | 2,000 | 3,000 | **missed** (2.8x off) |" in text
    assert all(line.count("|") in (0, 4, 5, 6, 8, 10, 11, 13) for line in lines if line.startswith("|"))
    target = tmp_path / "RESULTS.md"
    target.write_text("# Benchmark results\n\n<!-- other:begin -->\nkept\n<!-- other:end -->\n")
    replace_section(target, "api-throughput:quick", text)
    replace_section(target, "api-throughput:quick", text.replace("2,000", "2,500"))
    written = target.read_text()
    assert written.count("<!-- api-throughput:quick:begin -->") == 1 and "\nkept\n" in written
    assert "| CreateSite | 64 | 2,500 |" in written


def test_profile_of_several_processes_splits_writer_readers_and_threads() -> None:
    loop, thread = "Runner.run (asyncio/runners.py:118)", "Thread.run (threading.py:975)"
    sampled = {  # pid -> py-spy's raw stacks of that process
        100: [
            ("thread (0x1)", loop, "Gateway.handle (/r/trailpost/gateway/app.py:140)", 4),
            # A coroutine resumed by uvloop's C code: py-spy shows no loop frame below it.
            ("thread (0x1)", "Gateway._read (/r/trailpost/gateway/app.py:402)", 2),
            ("thread (0x2)", thread, "GroupCommit._commit_loop (/r/trailpost/store/commit.py:203)", 3),
        ],
        101: [("thread (0x3)", loop, "read_authorization (/r/trailpost/identity/sigv4.py:90)", 10)],
        102: [("thread (0x4)", thread, "DeliveryWorker.run (/r/trailpost/delivery/worker.py:50)", 1)],
    }
    profile = Profile("GetSite", _run(64, 5000), writer_pid=100)
    for pid, stacks in sampled.items():
        parse_raw("\n".join(";".join(frames) + f" {count}" for *frames, count in stacks), profile, process=pid)
    assert profile.samples == 20
    assert profile.processes == {"writer": 9, "readers": 11}
    assert profile.threads == {"event loop": 16, "commit thread": 3, "other threads": 1}
    assert profile.self_["read_authorization (/r/trailpost/identity/sigv4.py)"] == 10
    text = profile_section([profile], datetime(2026, 11, 24, 13, 0, tzinfo=UTC), 8, 64, workers=2)
    assert text.startswith("<!-- profile-workers-2:begin -->")
    assert text.rstrip().endswith("<!-- profile-workers-2:end -->")
    assert "readers 55%, writer 45%, event loop 80%, commit thread 15%, other threads 5%" in text


def test_revisions_section_compares_medians_and_pairs_of_interleaved_runs() -> None:
    found = {
        ("GetSite", "before"): [_run(64, 3000, p99_ms=60), _run(64, 3400, p99_ms=50), _run(64, 3200, p99_ms=55)],
        ("GetSite", "after"): [_run(64, 3300, p99_ms=30), _run(64, 3500, p99_ms=28), _run(64, 3650, p99_ms=33)],
    }
    text = revisions_section(found, ["GetSite"], "abc1234", 3, datetime(2026, 11, 24, 14, 0, tzinfo=UTC))
    assert text.startswith("<!-- revisions:begin -->") and "REV=abc1234" in text
    row = next(line for line in text.splitlines() if line.startswith("| GetSite |"))
    # Medians of each side; the verdict is the median of each repetition's own ratio (1.10, 1.03, 1.14).
    assert row == "| GetSite | 3,200 | 3,500 | 1.100 (1.03-1.14) | 55.0 / 30.0 ms | 297 / 271 µs | 219 / 200 µs |"
    assert "GetSite after 3,300-3,650; GetSite before 3,000-3,400" in text


def test_a_revision_runs_from_its_own_tree_ahead_of_the_editable_install(tmp_path: Path) -> None:
    stack = stack_of(tmp_path, "before")
    assert stack.cwd == tmp_path and stack.argv[1:3] == ("-m", "trailpost")
    assert stack.command(4566, "/d")[3:6] == ["serve", "--port", "4566"]
    assert stack_of(None, "after").cwd is None
    assert stack_of(tmp_path, "before", workers=2).argv[-2:] == ("--workers", "2")
    # What makes it so: ``python -m`` run there imports that tree's package, as the writer does and
    # as its reader processes (``python -m trailpost.readers.process``, same directory) do.
    (tmp_path / "trailpost").mkdir()
    (tmp_path / "trailpost" / "__init__.py").write_text("")
    (tmp_path / "trailpost" / "where.py").write_text("print(__file__)")
    done = subprocess.run(
        [stack.argv[0], "-m", "trailpost.where"], cwd=stack.cwd, capture_output=True, text=True, check=True
    )
    assert Path(done.stdout.strip()).is_relative_to(tmp_path)


def test_lookup_verdict_says_by_how_much_and_why_a_target_is_missed() -> None:
    from bench.lookup_events import Result, verdict

    def result(p50: float, p99: float, cpu_us: float) -> Result:
        return Result(10_000_000, "no attribute", 50, p50, p99, p50, p99, cpu_us, None, None)

    assert verdict([result(1.2, 2.8, 800)]) == [
        "At 10,000,000 events the worst case p50 is 1.20 ms and the worst p99 2.80 ms: target met."
    ]
    missed = verdict([result(4.0, 9.0, 2000), result(3.0, 12.5, 3000)])
    assert missed[0] == (
        "At 10,000,000 events the worst case p50 is 4.00 ms and the worst p99 12.50 ms: "
        "target NOT met (p50 2.0x its 2 ms target, p99 1.2x its 10 ms target)."
    )
    assert "median 2.50 ms here" in missed[2] and "What would close it" in missed[2]
    assert "p99" not in verdict([result(4.0, 9.0, 2000)])[0].split("(")[1]  # only what missed is named
    assert "(p50 1.01x its 2 ms target)" in verdict([result(2.02, 4.4, 1500)])[0]  # a near miss never reads 1.0x


def test_main_thread_cpu_is_the_main_threads_share_of_the_process() -> None:
    def burn(seconds: float) -> None:
        end = time.process_time() + seconds
        while time.process_time() < end:
            pass

    pid = os.getpid()
    main_before, all_before = main_thread_seconds(pid), cpu_seconds([pid])
    other = threading.Thread(target=burn, args=(0.3,))
    other.start()
    other.join()
    burn(0.2)
    main, total = main_thread_seconds(pid) - main_before, cpu_seconds([pid]) - all_before
    assert 0.1 <= main < total  # the other thread's CPU counts for the process, not for the main thread
    assert main_thread_seconds(2**22 + 12345) == 0.0  # no such process


def test_memory_with_10m_events_is_judged_for_both_arrangements() -> None:
    """RSS with 10M events stored: one process as shipped, and `--workers 2`'s whole process tree."""
    results = ApiResults("quick", 1, 2, (1, 64), datetime(2026, 11, 25, 2, 0, tzinfo=UTC), budget=6)
    results.runs[(AUDITED, "ListSites")] = [_run(1, 500), _run(64, 3000)]
    results.memory_10m = {"idle": 70.0, "load": 110.0, "events": 10_000_000.0}
    results.memory_10m_workers = {"idle": 150.0, "load": 262.0, "events": 10_000_000.0, "pss": 221.4}
    text = section(results)
    assert "| trailpost audited, 10,000,000 events stored | 70 MiB | 110 MiB (LookupEvents" in text
    assert "| trailpost audited, `--workers 2` (the process tree), 10,000,000 events stored | 150 MiB | 262 MiB" in text
    assert "at 64 connections; PSS right after them 221 MiB, shared pages counted once) | - |" in text
    assert "| RSS under load with 10M events <= 250 MiB | 110 | met |" in text
    assert (
        "| RSS under load with 10M events, `--workers 2` (the process tree) <= 250 MiB | 262 | **missed** (1.05x off) |"
        in text
    )


def test_delivery_section_judges_events_per_core_against_the_target() -> None:
    from bench.delivery import Latency, Throughput
    from bench.delivery import section as delivery_section

    rates = [
        Throughput("default selectors", 200_000, 150_000, 5, 20 * 2**20, 2.7, 2.65),
        Throughput("advanced selectors", 200_000, 2_000, 4, 2**19, 1.2, 1.25),
    ]
    text = delivery_section(rates, Latency(600, 0.05, [0.5, 1.0], 0), [1.0, 1.1], "python -m bench.delivery")
    assert "| default selectors | 74,074 | 75,472 | 55,556 | 5 | 20.0 | NOT met (1.3x off) |" in text
    assert "| advanced selectors | 166,667 | 160,000 | 1,667 | 4 | 0.5 | met |" in text
