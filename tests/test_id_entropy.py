"""Identifiers' random bytes (``trailpost.id_entropy``): one ``os.urandom`` block serves many ids, every
byte is handed out once (across blocks, threads and a fork), and the ids made from them keep their
formats."""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator

import pytest

from trailpost import id_entropy
from trailpost.gateway.app import s3_request_id
from trailpost.gateway.context import request_id
from trailpost.services.outposts.ids import new_id

UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """``os.urandom`` replaced by a counter of blocks (each block's bytes tell which block and where)."""
    calls: list[int] = []

    def urandom(n: int) -> bytes:
        calls.append(n)
        return bytes((len(calls) * 7 + i) % 256 for i in range(n))

    id_entropy._POOL.forget()
    monkeypatch.setattr(id_entropy.os, "urandom", urandom)
    yield calls
    id_entropy._POOL.forget()


def test_a_block_serves_many_ids_and_each_byte_is_handed_out_once(counted: list[int]) -> None:
    taken = b"".join(id_entropy.token_bytes(16) for _ in range(id_entropy.BLOCK // 16))
    assert counted == [id_entropy.BLOCK]  # 256 request ids from one system call
    assert taken == bytes((7 + i) % 256 for i in range(id_entropy.BLOCK))  # the block, in order, once
    id_entropy.token_bytes(9)
    assert counted == [id_entropy.BLOCK, id_entropy.BLOCK]  # used up: the next block


def test_a_take_that_does_not_fit_what_is_left_starts_a_new_block(counted: list[int]) -> None:
    id_entropy.token_bytes(id_entropy.BLOCK - 4)
    tail = id_entropy.token_bytes(9)
    assert counted == [id_entropy.BLOCK, id_entropy.BLOCK]
    assert tail == bytes((14 + i) % 256 for i in range(9))  # the start of the second block
    big = id_entropy.token_bytes(id_entropy.BLOCK * 2)
    assert len(big) == id_entropy.BLOCK * 2 and counted[-1] == id_entropy.BLOCK * 2


def test_threads_never_get_the_same_bytes() -> None:
    seen: list[bytes] = []

    def take() -> None:
        mine = [id_entropy.token_bytes(16) for _ in range(3000)]
        seen.extend(mine)

    threads = [threading.Thread(target=take) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(seen)) == len(seen) == 12000


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_does_not_repeat_its_parents_bytes() -> None:
    id_entropy.token_bytes(16)  # the parent's pool holds the rest of a block now
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its next bytes, then out without running the parent's teardown
        os.write(write, id_entropy.token_bytes(16))
        os._exit(0)
    os.close(write)
    child = os.read(read, 16)
    os.close(read)
    os.waitpid(pid, 0)
    assert len(child) == 16
    assert child != id_entropy.token_bytes(16)  # the same bytes, but for the pool's reset at fork


def test_ids_keep_their_formats() -> None:
    ids = [request_id() for _ in range(2000)]
    assert all(UUID4.match(value) for value in ids) and len(set(ids)) == len(ids)
    assert {value[19] for value in ids} == set("89ab")  # the variant digit takes all four values
    s3 = [s3_request_id() for _ in range(200)]
    assert all(re.fullmatch(r"[0-9A-F]{16}", value) for value in s3) and len(set(s3)) == len(s3)
    sites = [new_id("os") for _ in range(200)]
    assert all(re.fullmatch(r"os-[0-9a-f]{17}", value) for value in sites) and len(set(sites)) == len(sites)
