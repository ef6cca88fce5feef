"""Simulated EC2 instances on an outpost's assets (the ``trailpost sim`` commands).

trailpost serves no EC2, yet ``ListAssetInstances`` and capacity tasks (blocking instances) need
instances running on an outpost's hosts. ``trailpost sim run-instances`` and
``trailpost sim terminate-instances`` write and delete ``outposts.instance`` documents (AssetInstance
members plus ``outpost_id``) directly in a data directory's state store; SQLite in WAL mode makes
that safe while the server runs.

Rules, as EC2 on Outposts applies them:
* the outpost is found by id or ARN in any account of the data directory (``--region``, when given,
  must be its region); it must be ACTIVE (not RETIRING/RETIRED);
* an instance runs in a slot of its exact type on an ACTIVE compute asset (``InstanceTypeCapacities``):
  a launch of N instances succeeds only if N free slots of the type exist (on ``--asset-id`` when
  given), all or nothing (``InsufficientInstanceCapacity``); instances are spread over the assets
  with the most free slots;
* ``--account-id`` is the account that owns the instances (default: the outpost's owner, another
  account models a shared outpost); ``--aws-service`` the service that runs them (default EC2).

Output is JSON on stdout; errors go to stderr with exit status 1.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import click

from trailpost.services.outposts import assets, catalog, ids
from trailpost.services.outposts.resources import INSTANCE, OUTPOST
from trailpost.store.base import StateStore, iter_all

SERVICES = ("AWS", "EC2", "EKS", "ELASTICACHE", "ELB", "RDS", "ROUTE53")


def _open_store(data_dir: Path | None) -> StateStore:
    from trailpost.config import Settings
    from trailpost.store.sqlite import SqliteStateStore

    try:
        path = Settings.load(data_dir=data_dir).data_dir.expanduser().resolve() / "state.db"
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    if not path.exists():
        raise click.ClickException(f"no trailpost state store at {path} (start the server once with this --data-dir)")
    return SqliteStateStore(path)


def _find_outpost(store: StateStore, identifier: str, region: str | None) -> tuple[str, dict[str, Any]]:
    outpost_id = identifier
    if identifier.startswith("arn:"):
        parsed = ids.parse_arn(identifier)
        if parsed is None or parsed[2] != "outpost":
            raise click.ClickException(f"not an outpost ARN: {identifier}")
        outpost_id = parsed[3]
    entry = store.find(OUTPOST, outpost_id)
    if entry is None or (region is not None and not entry.scope.endswith(f"/{region}")):
        raise click.ClickException(f"InvalidOutpostID.NotFound: outpost {identifier} does not exist")
    return entry.scope, entry.doc


def place_instances(
    store: StateStore,
    scope: str,
    outpost: dict[str, Any],
    instance_type: str,
    count: int,
    asset_id: str | None = None,
) -> list[str]:
    """The asset each of ``count`` new instances of ``instance_type`` runs on, or ``ValueError``."""
    if outpost["life_cycle_status"] != "ACTIVE":
        raise ValueError(f"IncorrectState: outpost {outpost['outpost_id']} is {outpost['life_cycle_status']}")
    if catalog.instance_type(instance_type) is None:
        raise ValueError(f"InvalidParameterValue: instance type {instance_type} is not supported on Outposts")
    outpost_id = outpost["outpost_id"]
    hosts = assets.outpost_hosts(store, scope, outpost_id)
    if asset_id is not None:
        hosts = [host for host in hosts if host.asset_id == asset_id]
        if not hosts:
            raise ValueError(f"InvalidParameterValue: asset {asset_id} is not an ACTIVE compute asset of {outpost_id}")
    used = Counter(
        inst["asset_id"]
        for inst in assets.outpost_instances(store, scope, outpost_id)
        if inst["instance_type"] == instance_type
    )
    free = {host.asset_id: host.slots.get(instance_type, 0) - used[host.asset_id] for host in hosts}
    if sum(max(n, 0) for n in free.values()) < count:
        raise ValueError(
            f"InsufficientInstanceCapacity: {max(sum(max(n, 0) for n in free.values()), 0)} free "
            f"{instance_type} slots on {asset_id or outpost_id}, {count} requested"
        )
    placed: list[str] = []
    for _ in range(count):
        best = max(free, key=lambda key: free[key])
        free[best] -= 1
        placed.append(str(best))
    return placed


@click.group("sim")
def sim() -> None:
    """Simulate EC2 instances on outposts of a data directory (trailpost serves no EC2)."""


@sim.command("run-instances")
@click.option("--data-dir", type=click.Path(path_type=Path), default=None, help="The server's data directory.")
@click.option("--outpost-id", required=True, help="Outpost id or ARN.")
@click.option("--instance-type", required=True, help="For example m5.large.")
@click.option("--count", type=click.IntRange(1, 10000), default=1, show_default=True)
@click.option("--account-id", default=None, help="Account owning the instances [default: the outpost's owner].")
@click.option("--region", default=None, help="Region of the outpost (checked when given).")
@click.option("--aws-service", type=click.Choice(SERVICES), default="EC2", show_default=True)
@click.option("--asset-id", default=None, help="Launch on this compute asset only.")
def run_instances(
    data_dir: Path | None,
    outpost_id: str,
    instance_type: str,
    count: int,
    account_id: str | None,
    region: str | None,
    aws_service: str,
    asset_id: str | None,
) -> None:
    """Launch COUNT instances of INSTANCE_TYPE into free slots of the outpost's hosts."""
    if account_id is not None and not (account_id.isdigit() and len(account_id) == 12):
        raise click.UsageError("--account-id must be 12 digits")
    store = _open_store(data_dir)
    try:
        with store.transaction():
            scope, outpost = _find_outpost(store, outpost_id, region)
            try:
                placement = place_instances(store, scope, outpost, instance_type, count, asset_id)
            except ValueError as exc:
                raise click.ClickException(str(exc)) from None
            launched = []
            for host_asset in placement:
                instance = {
                    "instance_id": ids.new_id("i"),
                    "instance_type": instance_type,
                    "asset_id": host_asset,
                    "account_id": account_id or scope.split("/")[0],
                    "aws_service_name": aws_service,
                    "outpost_id": outpost["outpost_id"],
                }
                store.put(INSTANCE, scope, instance["instance_id"], instance)
                launched.append(instance)
    finally:
        store.close()
    click.echo(json.dumps({"Instances": [_wire(instance) for instance in launched]}, indent=2))


def _wire(instance: dict[str, Any]) -> dict[str, Any]:
    return {
        "InstanceId": instance["instance_id"],
        "InstanceType": instance["instance_type"],
        "AssetId": instance["asset_id"],
        "AccountId": instance["account_id"],
        "AwsServiceName": instance["aws_service_name"],
        "OutpostId": instance["outpost_id"],
    }


@sim.command("terminate-instances")
@click.option("--data-dir", type=click.Path(path_type=Path), default=None, help="The server's data directory.")
@click.option("--instance-id", "instance_ids", multiple=True, help="Instance to terminate (repeatable).")
@click.option("--outpost-id", default=None, help="Without --instance-id: terminate every instance on this outpost.")
def terminate_instances(data_dir: Path | None, instance_ids: tuple[str, ...], outpost_id: str | None) -> None:
    """Terminate the given instances (or all instances of an outpost)."""
    if not instance_ids and not outpost_id:
        raise click.UsageError("give --instance-id (repeatable) or --outpost-id")
    store = _open_store(data_dir)
    try:
        with store.transaction():
            targets = []
            if instance_ids:
                for instance_id in instance_ids:
                    entry = store.find(INSTANCE, instance_id)
                    if entry is None:
                        raise click.ClickException(f"InvalidInstanceID.NotFound: instance {instance_id} does not exist")
                    targets.append(entry)
            else:
                scope, outpost = _find_outpost(store, str(outpost_id), None)
                targets = [e for e in iter_all(store, INSTANCE, scope) if e.doc["outpost_id"] == outpost["outpost_id"]]
            for entry in targets:
                store.delete(INSTANCE, entry.scope, entry.key)
    finally:
        store.close()
    click.echo(json.dumps({"TerminatedInstances": [entry.key for entry in targets]}, indent=2))
