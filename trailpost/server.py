"""Builds a running trailpost from settings: data directory, store, accounts, gateway, workers.

``create_app`` returns the ASGI application (the gateway) and prepares the data directory: the
SQLite state store, the default account with its root key, and ``<data-dir>/credentials`` in the
AWS shared-credentials format (mode 0600). ``serve`` runs it under uvicorn (uvloop + httptools,
see docs/decisions.md) until SIGINT or SIGTERM, then stops the workers and closes the store.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from trailpost.config import Settings
from trailpost.gateway.app import Gateway
from trailpost.identity.accounts import AccountRegistry, RootKey, ensure_default_account
from trailpost.services.registry import build_services
from trailpost.store.sqlite import SqliteStateStore
from trailpost.workers import BackgroundRunner

log = logging.getLogger("trailpost")


@dataclass
class App:
    """A prepared trailpost: the ASGI gateway and what it owns."""

    settings: Settings
    gateway: Gateway
    store: SqliteStateStore
    runner: BackgroundRunner
    root_key: RootKey
    created: bool


def prepare_data_dir(path: Path) -> Path:
    path = path.expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path


def write_credentials(path: Path, key: RootKey, region: str = "us-east-1") -> None:
    """``<data-dir>/credentials`` in AWS shared-credentials format, readable by the owner only."""
    text = (
        "[default]\n"
        f"aws_access_key_id = {key.access_key_id}\n"
        f"aws_secret_access_key = {key.secret_access_key}\n"
        f"# account {key.account_id}, root user; suggested region {region}\n"
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.chmod(path, 0o600)


def create_app(settings: Settings) -> App:
    data_dir = prepare_data_dir(settings.data_dir)
    store = SqliteStateStore(data_dir / "state.db")
    key, created = ensure_default_account(
        AccountRegistry(store),
        settings.account_id,
        settings.root_access_key_id,
        settings.root_secret_access_key,
    )
    write_credentials(data_dir / "credentials", key)
    services = build_services()
    gateway = Gateway(settings, store, services)
    runner = BackgroundRunner(settings, store, services)
    gateway.on_startup.append(runner.start)
    gateway.on_shutdown.append(runner.stop)
    gateway.on_shutdown.append(store.close)
    return App(settings, gateway, store, runner, key, created)


def banner(app: App) -> str:
    s = app.settings
    creds = s.data_dir.expanduser().resolve() / "credentials"
    state = "created" if app.created else "loaded"
    return (
        f"trailpost listening on {s.endpoint}\n"
        f"  data dir    {s.data_dir.expanduser().resolve()}\n"
        f"  account     {app.root_key.account_id} ({state}); root access key {app.root_key.access_key_id}\n"
        f"  credentials {creds}\n"
        "  try:\n"
        f"    export AWS_SHARED_CREDENTIALS_FILE={creds} AWS_DEFAULT_REGION=us-east-1\n"
        f"    aws --endpoint-url {s.endpoint} outposts list-sites\n"
    )


def serve(settings: Settings) -> None:
    import uvicorn

    app = create_app(settings)
    print(banner(app), flush=True)
    config = uvicorn.Config(
        app.gateway,
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        http="httptools",
        lifespan="on",
        access_log=False,
        log_level=settings.log_level,
        server_header=False,
        date_header=True,
    )
    uvicorn.Server(config).run()
