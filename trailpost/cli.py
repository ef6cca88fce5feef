"""The ``trailpost`` command: ``serve`` runs the server, ``account create`` adds an account."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from trailpost.config import Settings


@click.group()
@click.version_option(package_name="trailpost")
def main() -> None:
    """trailpost: a self-hosted AWS Outposts control plane where every call is a CloudTrail event."""


@main.command()
@click.option("--host", default=None, help="Address to listen on [env TRAILPOST_HOST; default 127.0.0.1].")
@click.option("--port", type=int, default=None, help="Port [env TRAILPOST_PORT; default 4566].")
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Data directory [env TRAILPOST_DATA_DIR; default ./trailpost-data].",
)
@click.option(
    "--lifecycle-seconds",
    type=float,
    default=None,
    help="Seconds per order/capacity-task lifecycle step [env TRAILPOST_LIFECYCLE_SECONDS; default 30].",
)
@click.option("--log-level", default=None, type=click.Choice(["debug", "info", "warning", "error"]))
def serve(**flags: object) -> None:
    """Run trailpost on one port for every service."""
    from trailpost.server import serve as run

    try:
        settings = Settings.load(**flags)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    run(settings)


@main.group()
def account() -> None:
    """Manage accounts in a data directory."""


@account.command("create")
@click.option("--name", required=True, help="A unique name for the account.")
@click.option("--account-id", default=None, help="12-digit id (default: generated).")
@click.option("--data-dir", type=click.Path(path_type=Path), default=None)
def account_create(name: str, account_id: str | None, data_dir: Path | None) -> None:
    """Create an account and its root access key; the secret is printed once."""
    from trailpost.identity.accounts import AccountRegistry
    from trailpost.server import prepare_data_dir
    from trailpost.store.sqlite import SqliteStateStore

    settings = Settings.load(data_dir=data_dir)
    if account_id is not None and not (account_id.isdigit() and len(account_id) == 12):
        raise click.UsageError("--account-id must be 12 digits")
    store = SqliteStateStore(prepare_data_dir(settings.data_dir) / "state.db")
    try:
        key = AccountRegistry(store).create_account(name, account_id=account_id)
    except ValueError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    finally:
        store.close()
    click.echo(f"account {key.account_id} ({name})")
    click.echo(f"aws_access_key_id = {key.access_key_id}")
    click.echo(f"aws_secret_access_key = {key.secret_access_key}")
    click.echo("The secret is shown only now; keep it.", err=True)
