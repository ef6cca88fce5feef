"""``bench/lookup_data.fill``: a load interrupted before its marker is started over, not appended to,
and two fills of one directory at once are refused."""

from __future__ import annotations

import fcntl
import json
import sqlite3
from pathlib import Path

import pytest

from bench.lookup_data import META, complete, fill


def _events(data_dir: Path) -> int:
    with sqlite3.connect(f"file:{data_dir / 'state.db'}?mode=ro", uri=True) as conn:
        return conn.execute("SELECT count(*) FROM events").fetchone()[0]


def test_an_interrupted_load_is_started_over(tmp_path: Path) -> None:
    data = tmp_path / "lookup-events-300"
    fill(data, 300, log=lambda _: None)
    assert complete(data, 300) and _events(data) == 300
    (data / META).unlink()  # as if the run had stopped before writing its marker
    said: list[str] = []
    meta = fill(data, 300, log=said.append)
    assert _events(data) == 300 and meta["count"] == 300  # not 600: the partial load was removed
    assert json.loads((data / META).read_text())["count"] == 300
    assert any("interrupted" in line for line in said)


def test_a_second_fill_of_the_same_directory_is_refused(tmp_path: Path) -> None:
    data = tmp_path / "lookup-events-100"
    with open(tmp_path / f".{data.name}.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # another process filling it
        with pytest.raises(RuntimeError, match="another process is filling"):
            fill(data, 100, log=lambda _: None)
    assert not data.exists()
    fill(data, 100, log=lambda _: None)  # once it is done, a fill goes ahead
    assert complete(data, 100)
