"""Availability Zones of a region, named and numbered as AWS names them (``us-east-1a`` / ``use1-az1``).

AWS maps zone names to zone ids per account; trailpost uses one fixed mapping (letter n -> azn)
so that results are deterministic. The zone count per region follows AWS where it is well known.
"""

from __future__ import annotations

_DIRECTIONS = {
    "east": "e",
    "west": "w",
    "north": "n",
    "south": "s",
    "central": "c",
    "northeast": "ne",
    "northwest": "nw",
    "southeast": "se",
    "southwest": "sw",
}
_ZONE_COUNT = {"us-east-1": 6, "us-west-2": 4, "ap-northeast-1": 3, "us-west-1": 2}


def _region_code(region: str) -> str:
    """``us-east-1`` -> ``use1``, ``ap-northeast-2`` -> ``apne2``, ``us-gov-west-1`` -> ``usgw1``."""
    parts = region.split("-")
    if len(parts) == 3 and parts[1] in _DIRECTIONS:
        return f"{parts[0]}{_DIRECTIONS[parts[1]]}{parts[2]}"
    if len(parts) == 4 and parts[2] in _DIRECTIONS:
        return f"{parts[0]}{parts[1][0]}{_DIRECTIONS[parts[2]]}{parts[3]}"
    return region.replace("-", "")


def availability_zones(region: str) -> list[tuple[str, str]]:
    """``[(zone name, zone id), ...]`` of ``region``."""
    count = _ZONE_COUNT.get(region, 3)
    code = _region_code(region)
    return [(f"{region}{chr(ord('a') + i)}", f"{code}-az{i + 1}") for i in range(count)]
