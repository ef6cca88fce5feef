"""The writer's readers: their sockets on the shared port, their processes, restarts and shutdown.

``listening_sockets(settings, n)`` binds ``n`` sockets to the one address with ``SO_REUSEPORT``
(the kernel spreads new connections over them), after checking with a plain bind that no other
program holds the port (``SO_REUSEPORT`` alone would let another trailpost of the same user share
it silently). The writer serves the first; each reader inherits one of the others.

``ReaderSupervisor`` starts a reader per socket once the writer's link endpoint listens, restarts
one that dies (at most once a second per reader, logged), tells them all to stop as soon as the
writer is asked to stop (``signal_stop``, so they stop accepting at once), and waits for them
(``stop``: their calls in flight still reach the writer, which keeps serving its links until they
are gone; a reader still alive after the grace period is killed). Processes are stopped by pid,
never by name.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import pickle
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from trailpost.config import Settings

log = logging.getLogger("trailpost.readers")
RESTART_SECONDS = 1.0
READY_SECONDS = 30.0
WATCH_SECONDS = 0.25


class PortInUse(OSError):
    """The address is held by another program."""


def listening_sockets(settings: Settings, count: int, backlog: int = 2048) -> list[socket.socket]:
    """``count`` listening sockets on ``settings.host:port``, sharing it with ``SO_REUSEPORT``."""
    infos = socket.getaddrinfo(settings.host, settings.port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:  # no SO_REUSEPORT: fails if anyone holds the port
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(address)
        address = probe.getsockname()  # port 0: the port the kernel chose, for every socket
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.socket(family, kind, proto)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind(address)
            sock.listen(backlog)
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    return sockets


class ReaderSupervisor:
    """Starts, watches and stops the reader processes of one writer."""

    def __init__(self, settings: Settings, sockets: list[socket.socket]) -> None:
        self.settings = settings
        self.sockets = sockets
        self._dir = Path(tempfile.mkdtemp(prefix="trailpost-"))  # 0700: only this user reaches the link
        self.link_path = self._dir / "writer.sock"
        self.processes: list[subprocess.Popen[bytes] | None] = [None] * len(sockets)
        self._started = [0.0] * len(sockets)
        self._stopping = False
        self._watch: asyncio.Task[None] | None = None
        self.restarts = 0

    def private_socket(self) -> socket.socket:
        """A listening Unix socket in the readers' private directory, for the writer's own HTTP server
        (uvicorn needs one; only this user can reach it, and nothing is sent to it)."""
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.bind(str(self._dir / "writer-http.sock"))
        sock.listen(16)
        return sock

    def name(self, index: int) -> str:
        return f"reader-{index + 1}"

    async def start(self, linked: Callable[[], int] | None = None, timeout: float = READY_SECONDS) -> None:
        """Start every reader (and the watch that restarts them); with ``linked`` (how many readers are
        connected to the writer now), wait until all are, so the server is whole once started."""
        for index in range(len(self.sockets)):
            self._spawn(index)
        self._watch = asyncio.get_running_loop().create_task(self._watch_loop(), name="trailpost-readers")
        deadline = time.monotonic() + timeout
        while linked is not None and linked() < len(self.sockets) and not self._stopping:
            if time.monotonic() > deadline:
                log.warning("%d of %d reader processes are up after %.0f s", linked(), len(self.sockets), timeout)
                break
            await asyncio.sleep(0.02)

    def _spawn(self, index: int) -> None:
        sock = self.sockets[index]
        command = [sys.executable, "-m", "trailpost.readers.process", str(sock.fileno()), str(self.link_path)]
        process = subprocess.Popen(
            [*command, self.name(index), str(os.getpid())], stdin=subprocess.PIPE, pass_fds=(sock.fileno(),)
        )
        assert process.stdin is not None
        with process.stdin:
            process.stdin.write(pickle.dumps(self.settings))
        self.processes[index] = process
        self._started[index] = time.monotonic()

    async def _watch_loop(self) -> None:
        while not self._stopping:
            await asyncio.sleep(WATCH_SECONDS)
            for index, process in enumerate(self.processes):
                if self._stopping or process is None or process.poll() is None:
                    continue
                if time.monotonic() - self._started[index] < RESTART_SECONDS:
                    continue  # dying at once again: wait a little before the next try
                log.warning(
                    "%s (pid %d) exited with %s; starting it again", self.name(index), process.pid, process.returncode
                )
                self.restarts += 1
                self._spawn(index)

    def signal_stop(self) -> None:
        """Ask every reader to stop (SIGTERM); safe to call from a signal handler, and more than once."""
        self._stopping = True
        for process in self.processes:
            if process is not None and process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    process.send_signal(signal.SIGTERM)

    async def stop(self, grace: float) -> None:
        """Stop every reader and wait for it (killed after ``grace`` seconds); then free the sockets."""
        self.signal_stop()
        if self._watch is not None:
            self._watch.cancel()
        deadline = time.monotonic() + grace
        while any(p is not None and p.poll() is None for p in self.processes) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        for index, process in enumerate(self.processes):
            if process is not None and process.poll() is None:
                log.warning("%s (pid %d) did not stop in %.0f s: killed", self.name(index), process.pid, grace)
                process.kill()
                process.wait()
        for sock in self.sockets:
            sock.close()
        shutil.rmtree(self._dir, ignore_errors=True)

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.processes if p is not None and p.poll() is None]
