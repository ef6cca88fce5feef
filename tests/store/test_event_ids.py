"""The eventID permutation (``store.event_ids``): a bijection onto version-4 UUIDs, and its inverse."""

from __future__ import annotations

import itertools
import uuid

import pytest

from trailpost.store.event_ids import KEY_BYTES, MAX_POSITION, EventIds, new_key

KEY = bytes(range(KEY_BYTES))


def _correlation(xs: list[int], ys: list[int]) -> float:
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    cov = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    return cov / (sum((x - mx) ** 2 for x in xs) * sum((y - my) ** 2 for y in ys)) ** 0.5


def test_consecutive_positions_give_distinct_unordered_version_4_uuids() -> None:
    ids = EventIds(KEY)
    issued = [ids.event_id(seq) for seq in range(1, 100_001)]
    assert len(set(issued)) == len(issued)
    for text in issued[:2000]:
        parsed = uuid.UUID(text)
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122
        assert str(parsed) == text  # canonical: lower case, 8-4-4-4-12
    assert all(text[14] == "4" and text[19] in "89ab" for text in issued)
    assert all(ids.position(text) == seq for seq, text in enumerate(issued, start=1))
    # Not ordered like the positions: about half of consecutive pairs rise, and sorting shuffles them.
    rising = sum(a < b for a, b in itertools.pairwise(issued))
    assert 0.48 < rising / (len(issued) - 1) < 0.52
    order = sorted(range(len(issued)), key=issued.__getitem__)  # positions (0-based) in id order
    assert abs(_correlation(list(range(len(order))), order)) < 0.02  # rank correlation: none
    # Every one of the 122 free bits varies (the version and variant bits never do).
    ints = [uuid.UUID(text).int for text in issued[:4096]]
    varying = 0
    for a in ints:
        varying |= a ^ ints[0]
    assert varying == (1 << 128) - 1 - (0xF << 76) - (0b11 << 62)


def test_the_extreme_positions_round_trip_and_others_are_refused() -> None:
    ids = EventIds(KEY)
    for seq in (1, 2, 2**32, 2**62, MAX_POSITION):
        assert ids.position(ids.event_id(seq)) == seq
    for seq in (0, -1, MAX_POSITION + 1, 2**122):
        with pytest.raises(ValueError):
            ids.event_id(seq)


def test_the_key_decides_the_ids() -> None:
    one, same, other = EventIds(KEY), EventIds(bytes(KEY)), EventIds(new_key())
    assert [one.event_id(seq) for seq in range(1, 100)] == [same.event_id(seq) for seq in range(1, 100)]
    theirs = [other.event_id(seq) for seq in range(1, 100)]
    assert not set(theirs) & {one.event_id(seq) for seq in range(1, 100)}
    assert all(one.position(text) is None for text in theirs)  # another key's ids do not resolve here
    with pytest.raises(ValueError):
        EventIds(b"short")


def test_malformed_and_foreign_ids_have_no_position() -> None:
    ids = EventIds(KEY)
    good = ids.event_id(42)
    wrong_version = good[:14] + "1" + good[15:]
    wrong_variant = good[:19] + "c" + good[20:]
    for value in (
        "",
        "not-an-id",
        good[:-1],
        good + "0",
        good + "\n",
        " " + good[1:],
        "{" + good[1:-1] + "}",
        good.replace("-", ""),
        "urn:uuid:" + good,
        good.replace("-", "_"),
        wrong_version,
        wrong_variant,
        str(uuid.uuid1()),
        "00000000-0000-0000-0000-000000000000",
        good[:9] + "\uff10" + good[10:],  # a fullwidth digit
        None,
        42,
        good.encode(),
    ):
        assert ids.position(value) is None, value
    # Version-4 UUIDs this key never issued (uuid4s, as the gateway and older databases drew them).
    assert all(ids.position(str(uuid.uuid4())) is None for _ in range(2000))
    # RFC 4122 reads either letter case; the event store then compares the stored id exactly.
    assert ids.position(good.upper()) == 42
