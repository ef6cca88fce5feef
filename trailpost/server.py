"""Builds a running trailpost from settings: data directory, store, accounts, gateway, workers.

``create_app`` returns the ASGI application (the gateway) and prepares the data directory: the
SQLite state store, the default account with its root key, and ``<data-dir>/credentials`` in the
AWS shared-credentials format (mode 0600). ``serve`` binds the listening socket, prints the
banner, and runs the gateway under uvicorn (``serving``: uvloop + httptools) until
SIGINT or SIGTERM; then it stops accepting, lets requests in flight finish (at most
``GRACEFUL_SECONDS``), stops the workers, closes the store and returns (exit code 0).

With ``--tls-cert`` (and ``--tls-key``) the same port serves HTTPS only (TLS 1.2 or later); the
certificate is checked before anything is bound. Each connection's negotiated version and cipher
suite reach the gateway in the ASGI ``tls`` extension of every request's scope (``trailpost.tls``),
from which records take ``tlsDetails``.

Rules: the data directory is created with mode 0700 (an existing one that is empty, a first start,
is narrowed to 0700 too; one that holds anything is left as it is); every file the server writes
is inside it; the credentials file is replaced atomically, never written through a symlink.
"""

from __future__ import annotations

import os
import socket
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from trailpost import collector
from trailpost.config import Settings
from trailpost.console import Console
from trailpost.delivery.destinations import load_external_buckets
from trailpost.delivery.digests import DigestWorker
from trailpost.delivery.worker import DeliveryWorker
from trailpost.gateway.app import Gateway
from trailpost.identity.accounts import AccountRegistry, RootKey, ensure_default_account, note_key_use
from trailpost.identity.authorize import authorize
from trailpost.readers.endpoint import WriterEndpoint
from trailpost.readers.supervisor import ReaderSupervisor, listening_sockets
from trailpost.services import token_key
from trailpost.services.cloudtrail.selectors import data_event_wanted
from trailpost.services.registry import build_services
from trailpost.serving import GRACEFUL_SECONDS, GatewayServer, uvicorn_config
from trailpost.store.events import WRITER_CACHE_KIB, event_store
from trailpost.store.private_files import write_private
from trailpost.store.sqlite import STATE_FILE, SqliteStateStore
from trailpost.tls import TlsSetupError, server_context
from trailpost.workers import BackgroundRunner

CREDENTIALS_FILE = "credentials"


class StartupError(Exception):
    """The server cannot start (data directory, stored state, listening socket); the message says why."""


@dataclass
class App:
    """A prepared trailpost: the ASGI gateway and what it owns."""

    settings: Settings
    gateway: Gateway
    store: SqliteStateStore
    runner: BackgroundRunner
    root_key: RootKey
    created: bool
    notes: list[str] = field(default_factory=list)

    @property
    def credentials_path(self) -> Path:
        return self.settings.data_path(CREDENTIALS_FILE)


def prepare_data_dir(path: Path) -> Path:
    """The data directory as an absolute path, created with mode 0700 if it does not exist."""
    path = path.expanduser().absolute()
    try:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.mkdir(mode=0o700)
            os.chmod(path, 0o700)  # mkdir's mode is narrowed by the umask, never widened
        elif not path.is_dir():
            raise StartupError(f"data directory {path} exists and is not a directory")
        elif not any(path.iterdir()):
            os.chmod(path, 0o700)
    except OSError as exc:
        raise StartupError(f"cannot use data directory {path}: {exc.strerror or exc}") from None
    return path.resolve()


def write_credentials(path: Path, key: RootKey) -> None:
    """``<data-dir>/credentials`` in AWS shared-credentials format, readable by the owner only.

    Written to a temporary file beside it and renamed over it, so a symlink planted at ``path`` is
    replaced, not followed, and a reader never sees half a file.
    """
    text = (
        f"# trailpost root credentials of account {key.account_id}\n"
        "[default]\n"
        f"aws_access_key_id = {key.access_key_id}\n"
        f"aws_secret_access_key = {key.secret_access_key}\n"
    )
    write_private(path, text.encode("ascii"))


def create_app(settings: Settings) -> App:
    """Prepare the data directory, the store and the default account; ``StartupError`` if impossible."""
    prepare_data_dir(settings.data_dir)
    try:
        store = SqliteStateStore(settings.data_path(STATE_FILE))
    except (OSError, ValueError, sqlite3.Error) as exc:
        raise StartupError(f"cannot open the state store in {settings.data_root}: {exc}") from None
    try:
        key, created = ensure_default_account(
            AccountRegistry(store),
            settings.account_id,
            settings.root_access_key_id,
            settings.root_secret_access_key,
        )
        write_credentials(settings.data_path(CREDENTIALS_FILE), key)
        token_key.install(settings.data_path(token_key.KEY_FILE))
    except (ValueError, OSError) as exc:
        store.close()
        raise StartupError(f"cannot prepare the default account in {settings.data_root}: {exc}") from None
    try:
        load_external_buckets(settings)  # a malformed external buckets file is a startup error
    except ValueError as exc:
        store.close()
        raise StartupError(f"external buckets file: {exc}") from None
    services = build_services()
    gateway = Gateway(settings, store, services, events=event_store(store))  # one event store: appends, lookups
    gateway.console = Console(gateway)
    gateway.wants_data_event = lambda record: data_event_wanted(store, record)  # trails' data-event selectors
    gateway.authorizers.append(note_key_use)  # access keys' last use, in the call's commit batch
    gateway.authorizers.append(authorize)  # IAM identity-based policies (identity.authorize)
    runner = BackgroundRunner(settings, store, services, gateway.commits)
    gateway.on_startup.append(runner.start)
    gateway.on_shutdown.append(runner.stop)
    delivery = DeliveryWorker(settings, store, gateway.commits)  # trail log files (delivery.worker)
    gateway.on_startup.append(delivery.start)
    gateway.on_shutdown.append(delivery.stop)  # flushes pending log files before digests and store close
    digests = DigestWorker(settings, store, gateway.commits)  # signed digest files (delivery.digests)
    gateway.on_startup.append(digests.start)
    gateway.on_shutdown.append(digests.stop)
    gateway.on_shutdown.append(gateway.commits.close)
    gateway.on_shutdown.append(store.close)
    return App(settings, gateway, store, runner, key, created, _ignored_settings(settings, key, created))


def _ignored_settings(settings: Settings, key: RootKey, created: bool) -> list[str]:
    """Settings that only seed a first start and differ from what the data directory holds."""
    if created:
        return []
    notes = []
    if "account_id" in settings.sources and settings.account_id != key.account_id:
        notes.append(
            f"{settings.sources['account_id']}={settings.account_id} ignored: the data directory's default "
            f"account is {key.account_id}"
        )
    if settings.root_access_key_id is not None and settings.root_access_key_id != key.access_key_id:
        notes.append(
            f"{settings.sources['root_access_key_id']} ignored: the data directory's default account "
            f"keeps its root key {key.access_key_id}"
        )
    return notes


def banner(app: App) -> str:
    s = app.settings
    creds = app.credentials_path
    state = "created" if app.created else "loaded"
    lines = [
        f"trailpost listening on {s.endpoint}",
        f"  data dir    {s.data_root}",
        f"  account     {app.root_key.account_id} ({state}); root access key {app.root_key.access_key_id}",
        f"  credentials {creds}",
        "  use it:",
        f"    export AWS_SHARED_CREDENTIALS_FILE={creds} AWS_DEFAULT_REGION=us-east-1",
        f"    aws --endpoint-url {s.client_endpoint} outposts list-sites",
        f"    boto3.client('outposts', endpoint_url='{s.client_endpoint}')",
    ]
    lines += [f"  note: {note}" for note in app.notes]
    return "\n".join(lines) + "\n"


def bind(settings: Settings) -> socket.socket:
    """The listening socket on ``host:port``; ``StartupError`` if the address cannot be used."""
    try:
        infos = socket.getaddrinfo(settings.host, settings.port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise StartupError(f"cannot listen on {settings.host}:{settings.port}: {exc.strerror}") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise StartupError(f"cannot listen on {settings.endpoint}: {exc.strerror or exc}") from None
    sock.set_inheritable(True)
    return sock


def serve(settings: Settings) -> None:
    """Run until SIGINT or SIGTERM, then shut down cleanly; ``StartupError`` if it cannot start,
    ``DurabilityLost`` after stopping because the store could not sync its WAL.

    With ``workers`` > 1 this process is the writer: ``workers`` reader processes serve the port
    (``trailpost.readers``) and hand it what they may not answer; the writer's own HTTP server
    listens only on a private Unix socket. The readers stop with it.
    """
    if settings.tls_cert is not None:
        try:
            server_context(settings.tls_cert, settings.tls_key)  # checked before anything is bound
        except TlsSetupError as exc:
            raise StartupError(str(exc)) from None
    sockets = bind_all(settings)
    try:
        app = create_app(settings)
    except BaseException:
        for sock in sockets:
            sock.close()
        raise
    server = GatewayServer(uvicorn_config(app.gateway, settings))
    # A failed sync of the WAL stops the writer (``store.base.DurabilityLost``); serve then raises it.
    app.store.on_durability_lost.append(lambda _lost: server.request_exit())
    if settings.workers > 1:
        readers = ReaderSupervisor(settings, sockets)
        endpoint = WriterEndpoint(app.gateway)
        app.gateway.on_startup[:0] = [
            lambda: endpoint.start(readers.link_path),
            lambda: readers.start(linked=lambda: endpoint.links),
        ]
        # Readers first (their calls in flight still reach the writer), then the link, then the rest.
        app.gateway.on_shutdown[:0] = [lambda: readers.stop(GRACEFUL_SECONDS + 2), endpoint.stop]
        server.on_exit = readers.signal_stop
        app.gateway.events.set_cache(WRITER_CACHE_KIB)  # the readers answer lookups; the writer appends
        app.notes.append(f"{settings.workers} reader processes serve the port; this one writes (--workers)")
        sockets = [readers.private_socket()]
    app.gateway.on_startup.append(collector.settle)  # last: freezes what startup built
    print(banner(app), flush=True)
    server.run(sockets=sockets)
    if app.store.durability_lost is not None:
        raise app.store.durability_lost


def bind_all(settings: Settings) -> list[socket.socket]:
    """The writer's listening socket, or one per reader process when ``workers`` > 1."""
    if settings.workers == 1:
        return [bind(settings)]
    try:
        return listening_sockets(settings, settings.workers)
    except socket.gaierror as exc:
        raise StartupError(f"cannot listen on {settings.host}:{settings.port}: {exc.strerror}") from None
    except OSError as exc:
        raise StartupError(f"cannot listen on {settings.endpoint}: {exc.strerror or exc}") from None
