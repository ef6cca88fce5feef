"""Reading a server's stored CloudTrail records straight from its database, as an auditor would.

Records live in ``<data_dir>/state.db``, table ``events``, column ``record`` (JSON). The server
answers only after a call's record is committed, so a record is read once, without polling: a
missing record is a failure of the durability rule, not a timing accident.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import orjson

STATE_FILE = "state.db"


def all_records(data_dir: Path) -> list[dict[str, Any]]:
    """Every committed record, in commit order."""
    uri = f"file:{data_dir / STATE_FILE}?mode=ro"
    with closing(sqlite3.connect(uri, uri=True, timeout=10)) as db:
        rows = db.execute("SELECT record FROM events ORDER BY seq").fetchall()
    return [orjson.loads(row[0]) for row in rows]


def records_with(data_dir: Path, request_id: str) -> list[dict[str, Any]]:
    """The records whose ``requestID`` is ``request_id`` (0 or 1 of them, if all is well)."""
    uri = f"file:{data_dir / STATE_FILE}?mode=ro"
    pattern = f'%"requestID":"{request_id}"%'
    with closing(sqlite3.connect(uri, uri=True, timeout=10)) as db:
        rows = db.execute("SELECT record FROM events WHERE CAST(record AS TEXT) LIKE ?", (pattern,)).fetchall()
    return [record for record in (orjson.loads(row[0]) for row in rows) if record.get("requestID") == request_id]


def record_of(data_dir: Path, request_id: str) -> dict[str, Any]:
    """The one record of the call the client saw as ``request_id``."""
    found = records_with(data_dir, request_id)
    assert len(found) == 1, f"expected one record with requestID {request_id}, found {len(found)}"
    return found[0]
