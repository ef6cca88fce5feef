"""``make bench-instructions``: the in-process driver it runs under callgrind, and the section it writes."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bench.instructions import DRIVER, ROOT, Count, PerCall, count_of, section, total_of


@pytest.mark.parametrize(("call", "count"), [("GetSite", 70), ("CreateSite", 120), ("LookupEvents", 70)])
def test_the_driver_runs_every_call_from_a_given_tree(call: str, count: int) -> None:
    # --tree puts a checkout ahead of the editable install, as for the older revision; here, this one.
    command = [sys.executable, str(DRIVER), call, str(count), "--tree", str(ROOT)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]  # every call answered below 300, or it raises


def test_the_driver_runs_the_trailpost_of_the_tree_it_is_given(tmp_path: Path) -> None:
    # The "before" of a comparison must be that revision's trailpost, every module of it, not the
    # editable install's (the driver once imported trailpost before it read --tree).
    other = tmp_path / "other-revision"
    (other / "trailpost").mkdir(parents=True)
    (other / "trailpost" / "__init__.py").write_text("")
    for tree, expected in ((other, other), (None, ROOT)):
        command = [sys.executable, str(DRIVER), "GetSite", "1", "--where"] + (["--tree", str(tree)] if tree else [])
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60, check=True)
        assert Path(done.stdout.strip()) == expected.resolve()


def test_totals_are_read_from_callgrind_output() -> None:
    out = "# callgrind format\nversion: 1\nevents: Ir\nfl=x\nfn=y\n1 5\nsummary: 3117145904\ntotals: 3117145904\n"
    assert total_of(out) == 3_117_145_904
    with pytest.raises(RuntimeError):
        total_of("events: Ir\n")


def test_section_gives_instructions_per_call_their_ratio_and_the_loops_share(tmp_path: Path) -> None:
    found = {
        "GetSite": PerCall(820_800.0, 725_400.0, 600_000.0),
        "LookupEvents": PerCall(2_343_000.0, 1_785_000.0, 1_700_000.0),
    }
    text = section(found, "bf80bae", "af2a09c", datetime(2026, 11, 24, 16, 40, tzinfo=UTC))
    assert text.startswith("<!-- instructions:begin -->") and text.rstrip().endswith("<!-- instructions:end -->")
    assert "REV=bf80bae" in text and "working tree at `af2a09c`" in text
    assert "| GetSite | 820,800 | 725,400 | 0.884 | 600,000 / 125,400 |" in text
    assert "| LookupEvents | 2,343,000 | 1,785,000 | 0.762 | 1,700,000 / 85,000 |" in text


def test_a_run_counts_every_thread_and_the_main_threads_apart(tmp_path: Path) -> None:
    # callgrind --separate-threads=yes writes <out>-01 (the main thread), <out>-02 ... ; -10 sorts after -09.
    out = tmp_path / "callgrind.after-GetSite-640"
    for number, total in ((1, 500), (2, 100), (10, 7)):
        (tmp_path / f"{out.name}-{number:02d}").write_text(f"events: Ir\nsummary: {total}\n")
    (tmp_path / "callgrind.after-GetSite-1920-01").write_text("events: Ir\nsummary: 999\n")  # another run
    assert count_of(out) == Count(total=607, loop=500)
    with pytest.raises(RuntimeError):
        count_of(tmp_path / "callgrind.before-GetSite-640")
