"""Which AWS partition a region belongs to, from botocore's endpoint data.

trailpost's accounts live in the ``aws`` partition, as an AWS account lives in exactly one: its
ARNs are ``arn:aws:...``. Credentials of the ``aws`` partition do not exist in ``aws-cn``,
``aws-us-gov`` or the isolated partitions, so a request signed for one of their regions is answered
as AWS answers unknown credentials ("The security token included in the request is invalid."),
rather than served with ARNs of the wrong partition.

The partition of a region is the one whose region list names it, else the first whose
``regionRegex`` matches (the non-``aws`` partitions are tried first: their patterns are the
narrower ones); a region that matches none (a new one) counts as ``aws``.
"""

from __future__ import annotations

import re
from functools import lru_cache

import botocore.session

SERVED_PARTITION = "aws"


@lru_cache(maxsize=1)
def _partitions() -> tuple[tuple[str, frozenset[str], re.Pattern[str]], ...]:
    data = botocore.session.get_session().get_data("endpoints")
    found = [
        (entry["partition"], frozenset(entry.get("regions", {})), re.compile(entry["regionRegex"]))
        for entry in data["partitions"]
    ]
    return tuple(sorted(found, key=lambda item: item[0] == SERVED_PARTITION))


@lru_cache(maxsize=256)
def partition_of(region: str) -> str:
    """``us-gov-west-1`` -> ``aws-us-gov``; ``eu-west-1`` -> ``aws``."""
    for name, regions, _ in _partitions():
        if region in regions:
            return name
    for name, _, pattern in _partitions():
        if pattern.match(region):
            return name
    return SERVED_PARTITION


def served(region: str) -> bool:
    """Whether ``region`` is in the partition trailpost's accounts live in."""
    return partition_of(region) == SERVED_PARTITION
