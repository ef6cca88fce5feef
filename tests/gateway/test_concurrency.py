"""Concurrency at the HTTP edge: many keep-alive connections served at once and correctly, and a
slow client (its body arriving byte by byte) stalls nobody else.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.gateway.rawhttp import Request, encode, read_reply, sign
from tests.support.server import ServerProcess

THREADS = 24
ROUNDS = 8


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A dedicated server: these tests create many sites, and site quotas are per account and region."""
    proc = ServerProcess(tmp_path_factory.mktemp("concurrency") / "data").start()
    yield proc
    proc.stop()


@pytest.fixture
def outposts(server: ServerProcess) -> Any:
    return server.client("outposts")


def test_many_boto3_clients_at_once(server: ServerProcess) -> None:
    """Each thread's own boto3 client (keep-alive pool) writes and reads its own site, round after round."""
    barrier = threading.Barrier(THREADS)

    def work(worker: int) -> str:
        client = server.client("outposts", max_pool_connections=2)
        name = f"cc-{worker}-{uuid.uuid4().hex[:6]}"
        barrier.wait()
        site = client.create_site(Name=name)["Site"]
        for round_ in range(ROUNDS):
            client.tag_resource(ResourceArn=site["SiteArn"], Tags={f"round{round_}": str(worker)})
            assert client.get_site(SiteId=site["SiteId"])["Site"]["Name"] == name
            tags = client.list_tags_for_resource(ResourceArn=site["SiteArn"])["Tags"]
            assert tags == {f"round{r}": str(worker) for r in range(round_ + 1)}
            assert client.list_sites(MaxResults=5)["ResponseMetadata"]["HTTPStatusCode"] == 200
        return str(site["SiteId"])

    with ThreadPoolExecutor(THREADS) as pool:
        created = list(pool.map(work, range(THREADS)))
    assert len(set(created)) == THREADS
    listed = set()
    for page in server.client("outposts").get_paginator("list_sites").paginate():
        listed |= {site["SiteId"] for site in page["Sites"]}
    assert set(created) <= listed


def test_many_raw_keep_alive_connections(server: ServerProcess) -> None:
    """60 connections open at once, each sending several requests one after another on the same socket."""
    credentials = server.root_credentials()
    hostport = f"127.0.0.1:{server.port}"
    sockets = [socket.create_connection(("127.0.0.1", server.port), timeout=20) for _ in range(60)]
    try:

        def talk(sock: socket.socket) -> list[int]:
            statuses = []
            for _ in range(4):
                sock.sendall(encode(sign(Request("GET", "/sites", "MaxResults=1"), hostport, credentials)))
                reply = read_reply(sock)
                assert "Sites" in json.loads(reply.body)
                statuses.append(reply.status)
            return statuses

        with ThreadPoolExecutor(30) as pool:
            results = list(pool.map(talk, sockets))
    finally:
        for sock in sockets:
            sock.close()
    assert results == [[200] * 4] * 60


def test_a_slow_body_stalls_nobody(server: ServerProcess, outposts: Any) -> None:
    """While one client trickles its body a byte every 40 ms, others get prompt answers."""
    name = f"slow-{uuid.uuid4().hex[:8]}"
    body = json.dumps({"Name": name, "Description": "sent one byte at a time"}).encode()
    request = sign(
        Request("POST", "/sites", "", {"Content-Type": "application/json"}, body),
        f"127.0.0.1:{server.port}",
        server.root_credentials(),
    )
    head, _, payload = encode(request).partition(b"\r\n\r\n")
    outcome: dict[str, Any] = {}

    def trickle() -> None:
        with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
            sock.sendall(head + b"\r\n\r\n")
            for i in range(len(payload)):
                sock.sendall(payload[i : i + 1])
                time.sleep(0.04)
            outcome["reply"] = read_reply(sock, "POST")

    slow = threading.Thread(target=trickle)
    started = time.monotonic()
    slow.start()
    fast = outposts
    latencies = []
    while slow.is_alive() and time.monotonic() - started < 30:
        t0 = time.monotonic()
        fast.list_sites(MaxResults=1)
        latencies.append(time.monotonic() - t0)
    slow.join(30)
    trickle_seconds = time.monotonic() - started
    assert trickle_seconds > 2.0, "the body was not slow"
    assert len(latencies) > 20, latencies
    assert max(latencies) < 1.5, max(latencies)  # a blocked server would stall for the whole trickle (> 2 s)
    assert outcome["reply"].status == 200, outcome["reply"].body
    assert name in {site["Name"] for site in outposts.list_sites()["Sites"]}


def test_slow_clients_do_not_exhaust_the_server(server: ServerProcess) -> None:
    """Twenty connections stuck mid-body at once; a fresh client is still answered promptly."""
    request = sign(
        Request("POST", "/sites", "", {"Content-Type": "application/json"}, b'{"Name": "never-finished"}'),
        f"127.0.0.1:{server.port}",
        server.root_credentials(),
    )
    wire = encode(request)
    stuck = [socket.create_connection(("127.0.0.1", server.port), timeout=10) for _ in range(20)]
    try:
        for sock in stuck:
            sock.sendall(wire[:-5])
        client = server.client("outposts", read_timeout=5)
        t0 = time.monotonic()
        client.list_sites(MaxResults=1)
        assert time.monotonic() - t0 < 1.0
    finally:
        for sock in stuck:
            sock.close()
