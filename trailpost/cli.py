"""The ``trailpost`` command: ``serve`` runs the server, ``account create`` adds an account.

Exit codes: 0 on success (``serve`` also after SIGINT or SIGTERM), 2 for a usage error (an
invalid flag or ``TRAILPOST_*`` value, named in the message), 1 when the command cannot do its
work (data directory unusable, port taken, duplicate account).
"""

from __future__ import annotations

import logging
import re
import sqlite3
from pathlib import Path

import click

from trailpost.config import ConfigError, Settings

_ACCOUNT_NAME = re.compile(r"^[\x20-\x7e]{1,50}$")


def _settings(**flags: object) -> Settings:
    try:
        return Settings.load(**flags)
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from None


@click.group()
@click.version_option(package_name="trailpost")
def main() -> None:
    """trailpost: a self-hosted AWS Outposts control plane where every call is a CloudTrail event."""


@main.command()
@click.option("--host", default=None, help="Address to listen on [env TRAILPOST_HOST; default 127.0.0.1].")
@click.option("--port", type=int, default=None, help="Port, 1-65535 [env TRAILPOST_PORT; default 4566].")
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Data directory, created 0700 if missing [env TRAILPOST_DATA_DIR; default ./trailpost-data].",
)
@click.option(
    "--lifecycle-seconds",
    type=float,
    default=None,
    help="Seconds per order/capacity-task lifecycle step [env TRAILPOST_LIFECYCLE_SECONDS; default 30].",
)
@click.option(
    "--log-level",
    default=None,
    type=click.Choice(["debug", "info", "warning", "error"]),
    help="[env TRAILPOST_LOG_LEVEL; default info]",
)
@click.option(
    "--event-retention-days",
    type=int,
    default=None,
    help="Days of Event history kept; older events are pruned [env TRAILPOST_EVENT_RETENTION_DAYS; default 90].",
)
@click.option(
    "--lookup-rate-limit",
    type=float,
    default=None,
    help="LookupEvents calls per second per account and region, beyond which ThrottlingException is "
    "answered as AWS does at 2 [env TRAILPOST_LOOKUP_RATE_LIMIT; default 0: no limit].",
)
@click.option(
    "--tls-cert",
    type=click.Path(path_type=Path),
    default=None,
    help="PEM certificate (chain): serve HTTPS on the same port [env TRAILPOST_TLS_CERT; default: plain HTTP].",
)
@click.option(
    "--tls-key",
    type=click.Path(path_type=Path),
    default=None,
    help="PEM private key of --tls-cert, unless the certificate file holds it [env TRAILPOST_TLS_KEY].",
)
@click.option(
    "--trusted-proxies",
    default=None,
    help="Comma-separated proxy addresses/CIDRs whose X-Forwarded-For gives the client address "
    "[env TRAILPOST_TRUSTED_PROXIES; default: none, the header is ignored].",
)
@click.option(
    "--delivery-interval",
    type=float,
    default=None,
    help="Seconds between a trail's log file deliveries [env TRAILPOST_DELIVERY_INTERVAL; default 300, as AWS].",
)
@click.option(
    "--delivery-max-file-bytes",
    type=int,
    default=None,
    help="Largest log file JSON before gzip [env TRAILPOST_DELIVERY_MAX_FILE_BYTES; default 50 MiB].",
)
@click.option(
    "--digest-interval",
    type=float,
    default=None,
    help="Seconds per digest file of trails with log file validation "
    "[env TRAILPOST_DIGEST_INTERVAL; default 3600, as AWS].",
)
@click.option(
    "--signing-key-days",
    type=float,
    default=None,
    help="Days a region's digest signing key is used before rotation [env TRAILPOST_SIGNING_KEY_DAYS; default 30].",
)
@click.option(
    "--external-buckets-file",
    type=click.Path(path_type=Path),
    default=None,
    help="JSON file mapping bucket names to external S3-compatible endpoints and credentials "
    "[env TRAILPOST_EXTERNAL_BUCKETS_FILE].",
)
@click.option(
    "--max-object-bytes",
    type=int,
    default=None,
    help="Largest object the embedded S3 accepts [env TRAILPOST_MAX_OBJECT_BYTES; default 256 MiB].",
)
@click.option(
    "--quotas",
    default=None,
    help="Adjusted service quotas, e.g. outposts.sites=500,outposts.outposts=500 (AWS's defaults: 100 each) "
    "[env TRAILPOST_QUOTAS].",
)
@click.option(
    "--workers",
    type=int,
    default=None,
    help="Processes serving the port; above 1, reader processes that answer read calls themselves, with "
    "one writer process behind them [env TRAILPOST_WORKERS; default 1].",
)
def serve(**flags: object) -> None:
    """Run trailpost on one port for every service, until SIGINT or SIGTERM.

    On first start with an empty data directory the default account (TRAILPOST_ACCOUNT_ID,
    default 123456789012) and its root access key (TRAILPOST_ROOT_ACCESS_KEY_ID and
    TRAILPOST_ROOT_SECRET_ACCESS_KEY, else generated) are created and written to
    <data-dir>/credentials.
    """
    from trailpost.server import StartupError
    from trailpost.server import serve as run
    from trailpost.store.base import DurabilityLost

    settings = _settings(**flags)
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True
    )
    try:
        run(settings)
    except (StartupError, DurabilityLost) as exc:
        raise click.ClickException(str(exc)) from None


@main.group()
def account() -> None:
    """Manage accounts in a data directory."""


@account.command("create")
@click.option("--name", required=True, help="A unique name for the account (1-50 characters).")
@click.option("--account-id", default=None, help="12-digit id (default: generated).")
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Data directory [env TRAILPOST_DATA_DIR; default ./trailpost-data].",
)
def account_create(name: str, account_id: str | None, data_dir: Path | None) -> None:
    """Create an account and its root access key; the secret is printed once.

    Works while the server runs: the new key is accepted at once.
    """
    from trailpost.identity.accounts import AccountRegistry
    from trailpost.server import STATE_FILE, StartupError, prepare_data_dir
    from trailpost.store.sqlite import SqliteStateStore

    settings = _settings(data_dir=data_dir)
    if not _ACCOUNT_NAME.match(name) or name.strip() != name:
        raise click.UsageError("--name must be 1-50 printable ASCII characters without leading or trailing spaces")
    if account_id is not None and not (account_id.isascii() and account_id.isdigit() and len(account_id) == 12):
        raise click.UsageError(f"--account-id must be 12 digits, got {account_id!r}")
    try:
        prepare_data_dir(settings.data_dir)
        store = SqliteStateStore(settings.data_path(STATE_FILE))
    except (StartupError, OSError, ValueError, sqlite3.Error) as exc:
        raise click.ClickException(f"cannot open the data directory {settings.data_root}: {exc}") from None
    try:
        key = AccountRegistry(store).create_account(name, account_id=account_id)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        store.close()
    click.echo(f"account {key.account_id} ({name})")
    click.echo(f"aws_access_key_id = {key.access_key_id}")
    click.echo(f"aws_secret_access_key = {key.secret_access_key}")
    click.echo("The secret access key is shown only now; keep it.", err=True)


from trailpost.services.outposts.simulation import sim  # noqa: E402 - the `trailpost sim` commands

main.add_command(sim)

from trailpost.events_cli import events  # noqa: E402 - the `trailpost events` commands

main.add_command(events)

from trailpost.integrity.command import validate_logs  # noqa: E402 - `trailpost validate-logs`

main.add_command(validate_logs)
