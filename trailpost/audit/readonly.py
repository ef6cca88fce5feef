"""The reviewed ``readOnly`` value of every operation of every served model (``readonly.json``).

CloudTrail's ``readOnly`` is a per-operation fact, not something to guess at run time from a
name. The table was seeded from the Get/List/Describe... prefixes and reviewed against recorded
AWS events (``aws-recorded/``: STS ``AssumeRole`` is ``true`` and ``GetFederationToken`` is
``false``, for example); ``docs/decisions.md`` lists the reviewed exceptions. A test fails when the
pinned models gain an operation the table lacks.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

TABLE_PATH = Path(__file__).with_name("readonly.json")


@cache
def readonly_table() -> dict[str, dict[str, bool]]:
    """``{service: {operation: readOnly}}``."""
    return json.loads(TABLE_PATH.read_text())


def is_read_only(service: str, operation: str) -> bool:
    """The reviewed value; ``KeyError`` for an operation the table does not know."""
    return readonly_table()[service][operation]
