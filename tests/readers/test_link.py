"""The reader-writer link in one process: frames cut anywhere in the byte stream, and a reader's
``WriterLink`` against a writer made here over a real Unix socket (every call of a loop turn in one
records frame, each resumed by the answer, errors and a lost link failing exactly the calls they
concern)."""

from __future__ import annotations

import asyncio
import struct
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from trailpost.http import HttpRequest
from trailpost.readers.frames import MAX_HEAD, FrameReader, LinkClosed, frame
from trailpost.readers.link import WriterLink
from trailpost.store.sqlite import SqliteStateStore

FRAMES = [
    ({"id": 1, "op": "records", "records": [{"eventName": "GetSite", "n": i} for i in range(3)]}, b""),
    ({"id": 2, "op": "forward", "request": {"method": "POST"}}, b'{"name": "a site"}'),
    ({"id": 3, "ok": True}, b""),
    ({"id": 4, "status": 200, "headers": {"x": "y"}}, bytes(range(256)) * 300),
]


def stream() -> bytes:
    return b"".join(frame(head, body) for head, body in FRAMES)


@pytest.mark.parametrize("chunk", [1, 3, 7, 64, 1000, 1 << 20])
def test_frames_come_out_whole_wherever_the_stream_is_cut(chunk: int) -> None:
    data, reader, seen = stream(), FrameReader(), []
    for start in range(0, len(data), chunk):
        seen += reader.feed(data[start : start + chunk])
    assert seen == FRAMES
    assert reader.pending == 0


def test_a_frame_not_yet_whole_waits_for_its_last_byte() -> None:
    reader = FrameReader()
    data = frame({"id": 7}, b"body")
    assert reader.feed(data[:-1]) == []
    assert reader.pending == len(data) - 1
    assert reader.feed(data[-1:]) == [({"id": 7}, b"body")]


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (struct.pack(">II", MAX_HEAD + 1, 0), "out of step"),
        (struct.pack(">II", 5, 0) + b"nope!", "not JSON"),
        (struct.pack(">II", 2, 0) + b"[]", "not a JSON object"),
    ],
)
def test_a_stream_out_of_step_ends_the_link(data: bytes, says: str) -> None:
    with pytest.raises(LinkClosed, match=says):
        FrameReader().feed(data)


# -- a reader's link against a writer made here -------------------------------------------------


class Writer:
    """The writer's end, scripted: ``answer`` decides the reply to each frame (``None``: no reply)."""

    def __init__(self, answer: Callable[[dict[str, Any], bytes], tuple[dict[str, Any], bytes] | None]) -> None:
        self.answer = answer
        self.frames: list[tuple[dict[str, Any], bytes]] = []
        self.connections: list[asyncio.StreamWriter] = []
        self.received = asyncio.Event()

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections.append(writer)
        frames = FrameReader()
        while data := await reader.read(65536):
            for head, body in frames.feed(data):
                self.frames.append((head, body))
                self.received.set()
                reply = self.answer(head, body)
                if reply is not None:
                    writer.write(frame({"id": head["id"], **reply[0]}, reply[1]))


@asynccontextmanager
async def linked(tmp_path: Path, writer: Writer) -> AsyncIterator[WriterLink]:
    path = tmp_path / "link.sock"
    server = await asyncio.start_unix_server(writer.serve, str(path))
    store = SqliteStateStore(tmp_path / "state.db")
    link = WriterLink(store)
    await link.connect(path, writer_pid=0)
    try:
        yield link
    finally:
        await link.close()
        server.close()
        store.close()


def recorded(link: WriterLink, *names: str) -> Callable[[], str]:
    def work() -> str:
        for name in names:
            link.keep({"eventName": name})
        return "answer"

    return work


def ok(head: dict[str, Any], body: bytes) -> tuple[dict[str, Any], bytes]:
    return {"ok": True}, b""


def test_the_calls_of_one_loop_turn_share_one_records_frame(tmp_path: Path) -> None:
    async def scenario() -> None:
        writer = Writer(ok)
        async with linked(tmp_path, writer) as link:
            results = await asyncio.gather(
                link.run(recorded(link, "GetSite")),
                link.run(recorded(link, "ListSites", "ListSites")),
                link.run(lambda: 1),
            )
        assert results == ["answer", "answer", 1]
        assert [head["op"] for head, _ in writer.frames] == ["records"]
        assert [r["eventName"] for r in writer.frames[0][0]["records"]] == ["GetSite", "ListSites", "ListSites"]
        assert link.records_sent == 3

    asyncio.run(scenario())


def test_an_error_answer_fails_every_call_of_its_frame_and_no_other(tmp_path: Path) -> None:
    async def scenario() -> None:
        def refuse_first(head: dict[str, Any], body: bytes) -> tuple[dict[str, Any], bytes]:
            return ({"error": "disk full"}, b"") if head["id"] == 1 else ({"ok": True}, b"")

        async with linked(tmp_path, Writer(refuse_first)) as link:
            first = await asyncio.gather(
                link.run(recorded(link, "A")), link.run(recorded(link, "B")), return_exceptions=True
            )
            later = await link.run(recorded(link, "C"))
        assert [str(r) for r in first] == ["the writer could not make records durable: disk full"] * 2
        assert later == "answer"

    asyncio.run(scenario())


def test_a_cancelled_call_leaves_the_others_of_its_frame_waiting(tmp_path: Path) -> None:
    async def scenario() -> None:
        writer = Writer(lambda head, body: None)  # answered below, by hand
        async with linked(tmp_path, writer) as link:
            calls = [asyncio.create_task(link.run(recorded(link, name))) for name in ("A", "B")]
            await writer.received.wait()
            calls[0].cancel()
            await asyncio.sleep(0)
            writer.connections[0].write(frame({"id": writer.frames[0][0]["id"], "ok": True}))
            assert await calls[1] == "answer"
            assert calls[0].cancelled()

    asyncio.run(scenario())


def test_a_lost_writer_fails_the_calls_in_flight_and_says_so_once(tmp_path: Path) -> None:
    async def scenario() -> None:
        writer = Writer(lambda head, body: None)
        lost: list[bool] = []
        async with linked(tmp_path, writer) as link:
            link.on_lost = lambda: lost.append(True)
            waiting = asyncio.create_task(link.run(recorded(link, "A")))
            forwarding = asyncio.create_task(link.forward(request()))
            while len(writer.frames) < 2:
                writer.received.clear()
                await writer.received.wait()
            writer.connections[0].close()
            for call in (waiting, forwarding):
                with pytest.raises(LinkClosed):
                    await call
            with pytest.raises(LinkClosed):  # and every call after it
                await link.run(recorded(link, "B"))
        assert lost == [True]

    asyncio.run(scenario())


def test_a_forwarded_request_gets_the_writers_response(tmp_path: Path) -> None:
    async def scenario() -> None:
        def respond(head: dict[str, Any], body: bytes) -> tuple[dict[str, Any], bytes]:
            assert head["request"]["raw_path"] == "/sites" and body == b'{"name": "x"}'
            return {"status": 201, "headers": {"content-type": "application/json"}}, b'{"ok": 1}'

        async with linked(tmp_path, Writer(respond)) as link:
            response = await link.forward(request())
        assert (response.status, response.headers, response.body) == (
            201,
            {"content-type": "application/json"},
            b'{"ok": 1}',
        )
        assert link.forwarded == 1

    asyncio.run(scenario())


def request() -> HttpRequest:
    return HttpRequest(
        method="POST",
        raw_path="/sites",
        query_string="",
        headers={"content-type": "application/json"},
        body=b'{"name": "x"}',
        client_host="127.0.0.1",
        client_port=1,
        scheme="http",
    )
