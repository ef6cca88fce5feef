"""A reader process: the gateway on its own read-only connection, serving an inherited socket.

Started by the writer's ``supervisor`` as ``python -m trailpost.readers.process <fd> <link> <name> <writer pid>``
with the writer's settings pickled on stdin. It opens the same database as the writer (which has
already prepared it), sets up the caches that need a writable connection (the key cache's
triggers), then seals its store read-only, connects to the writer's link and serves the socket
``fd`` under uvicorn like the writer does. It runs no background worker and holds no console.

It stops on SIGTERM or SIGINT (requests in flight finish, their records still reach the writer),
and when its link to the writer is lost (the writer stopped or died).
"""

from __future__ import annotations

import logging
import pickle
import socket
import sys
from pathlib import Path

from trailpost import collector
from trailpost.config import Settings
from trailpost.gateway.app import Gateway
from trailpost.identity.accounts import note_key_use
from trailpost.identity.authorize import authorize
from trailpost.readers.link import WriterLink
from trailpost.services import token_key
from trailpost.services.registry import build_services
from trailpost.serving import ReaderServer, uvicorn_config
from trailpost.store.events import event_store
from trailpost.store.sqlite import STATE_FILE, SqliteStateStore

log = logging.getLogger("trailpost.readers")


def reader_gateway(settings: Settings, name: str) -> tuple[Gateway, WriterLink]:
    """The gateway of a reader process and its (not yet connected) link to the writer."""
    store = SqliteStateStore(settings.data_path(STATE_FILE))
    token_key.install(settings.data_path(token_key.KEY_FILE))  # made by the writer: read here
    gateway = Gateway(settings, store, build_services(), events=event_store(store))  # makes the key cache
    gateway.authorizers.append(note_key_use)  # a due last-use note is a write: the writer answers that call
    gateway.authorizers.append(authorize)
    store.seal_read_only()
    link = WriterLink(store, throttled_lookups=settings.lookup_rate_limit > 0)
    gateway.remote = link
    gateway.process_name = name
    gateway.on_shutdown.append(link.close)
    gateway.on_shutdown.append(store.close)
    return gateway, link


def run_reader(settings: Settings, sock: socket.socket, link_path: Path, name: str, writer_pid: int) -> None:
    """Serve ``sock`` until SIGTERM/SIGINT or until the writer goes away."""
    gateway, link = reader_gateway(settings, name)
    gateway.on_startup.insert(0, lambda: link.connect(link_path, writer_pid))
    gateway.on_startup.append(collector.settle)  # last: freezes what startup built
    server = ReaderServer(uvicorn_config(gateway, settings))
    link.on_lost = server.request_exit
    server.run(sockets=[sock])


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    fd, link_path, name, writer_pid = int(args[0]), Path(args[1]), args[2], int(args[3])
    settings: Settings = pickle.load(sys.stdin.buffer)
    logging.basicConfig(
        level=settings.log_level.upper(), format=f"%(asctime)s %(levelname)s {name} %(name)s: %(message)s", force=True
    )
    sock = socket.socket(fileno=fd)
    run_reader(settings, sock, link_path, name, writer_pid)
    return 0


if __name__ == "__main__":
    sys.exit(main())
