"""The ``resources`` element of a record: the AWS resources a call touched, as reviewed data per service.

Each entry is ``{"accountId", "type", "ARN"}`` in that order (reference 1.3, the recorded AssumeRole
and S3 events). What a service's records name is data (``SERVICES``), never guessed at run time:

* ``inputs``: top-level request members that name a resource, by id or ARN, and the resource kind
  they name (``None``: any kind, read from the ARN itself, for the tagging operations'
  ``ResourceArn``). A bare id becomes the ARN in the caller's account and Region. A value that is
  neither a well-formed id of that kind nor an ARN of the service is not a resource (a call
  refused by validation names nothing); an ARN names its own account, so a call against another
  account's ARN is recorded with that account as the owner.
* ``created``: for create operations, where the new resource's ARN or id sits in the output, so
  a successful create names the resource it made.
* ``on_failure``: whether failed calls name the resources of their inputs. AWS's failed STS
  AssumeRole names no role (the recorded AccessDenied event), while S3 names the bucket of a
  failed call (the recorded NoSuchLifecycleConfiguration event).

Outposts records in AWS's documentation show no ``resources``; trailpost names outposts, sites,
orders and quotes, the Outposts resource types with ARNs (``arn:aws:outposts:<region>:<account>:
<kind>/<id>``, the IAM resource types of Outposts); capacity tasks, assets and connections have no
ARN and are not named. Entries are de-duplicated; inputs come in the table's order, then the
created resource.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Kind:
    """A resource kind of a service: its CloudTrail type and how its ids and ARNs look."""

    type: str
    arn_resource: str
    id_pattern: re.Pattern[str]


@dataclass(frozen=True)
class ServiceResources:
    """What a service's records name (module docstring)."""

    arn_service: str
    kinds: dict[str, Kind]
    inputs: dict[str, str | None] = field(default_factory=dict)
    created: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)
    on_failure: bool = True


_NEVER = re.compile(r"(?!)")  # kinds named only by ARN


def _outposts_id(prefix: str) -> re.Pattern[str]:
    return re.compile(rf"^{prefix}-[a-f0-9]{{17}}$")


OUTPOSTS_KINDS = {
    "outpost": Kind("AWS::Outposts::Outpost", "outpost", _outposts_id("op")),
    "site": Kind("AWS::Outposts::Site", "site", _outposts_id("os")),
    "order": Kind("AWS::Outposts::Order", "order", _outposts_id("oo")),
    "quote": Kind("AWS::Outposts::Quote", "quote", _outposts_id("oq")),
}

SERVICES: dict[str, ServiceResources] = {
    "outposts": ServiceResources(
        arn_service="outposts",
        kinds=OUTPOSTS_KINDS,
        inputs={
            "SiteId": "site",
            "OutpostId": "outpost",
            "OutpostIdentifier": "outpost",
            "OrderId": "order",
            "QuoteIdentifier": "quote",
            "ResourceArn": None,
        },
        created={
            "CreateSite": ("site", ("Site", "SiteArn")),
            "CreateOutpost": ("outpost", ("Outpost", "OutpostArn")),
            "CreateOrder": ("order", ("Order", "OrderId")),
            "CreateQuote": ("quote", ("Quote", "QuoteId")),
        },
    ),
    "sts": ServiceResources(  # AssumeRole, AssumeRoleWithSAML, AssumeRoleWithWebIdentity (recorded events)
        arn_service="iam",
        kinds={
            "role": Kind("AWS::IAM::Role", "role", _NEVER),
            "saml-provider": Kind("AWS::IAM::SAMLProvider", "saml-provider", _NEVER),
        },
        inputs={"RoleArn": "role", "PrincipalArn": "saml-provider"},
        on_failure=False,
    ),
}

_ARN = re.compile(r"^arn:(aws[a-z-]*):([a-z0-9-]+):([a-z0-9-]*):(\d{12}|):(.+)$")


def resources(
    service: str,
    operation: str,
    params: dict[str, Any] | None,
    result: dict[str, Any] | None,
    *,
    failed: bool,
    account_id: str,
    region: str,
) -> list[dict[str, str]]:
    """The ``resources`` of a call (wire member names in ``params`` and ``result``); ``[]`` for none."""
    spec = SERVICES.get(service)
    if spec is None:
        return []
    found: list[dict[str, str]] = []
    if params and (spec.on_failure or not failed):
        for member, kind in spec.inputs.items():
            value = params.get(member)
            if isinstance(value, str) and value:
                _add(found, _entry(spec, kind, value, account_id, region))
    created = spec.created.get(operation)
    if created is not None and not failed and result:
        kind, path = created
        node: Any = result
        for step in path:
            node = node.get(step) if isinstance(node, dict) else None
        if isinstance(node, str) and node:
            _add(found, _entry(spec, kind, node, account_id, region))
    return found


def _add(found: list[dict[str, str]], entry: dict[str, str] | None) -> None:
    if entry is not None and all(entry["ARN"] != other["ARN"] for other in found):
        found.append(entry)


def _entry(
    spec: ServiceResources, kind_name: str | None, value: str, account_id: str, region: str
) -> dict[str, str] | None:
    """The entry a request or result value names, or ``None`` if it names no resource of the service."""
    match = _ARN.match(value)
    if match is not None:
        _partition, arn_service, _region, owner, rest = match.groups()
        resource_type = rest.partition("/")[0]
        kind = spec.kinds.get(kind_name) if kind_name else _kind_by_arn_resource(spec, resource_type)
        if arn_service != spec.arn_service or kind is None or resource_type != kind.arn_resource or not owner:
            return None
        return {"accountId": owner, "type": kind.type, "ARN": value}
    kind = spec.kinds.get(kind_name or "")
    if kind is None or not kind.id_pattern.match(value):
        return None
    arn = f"arn:aws:{spec.arn_service}:{region}:{account_id}:{kind.arn_resource}/{value}"
    return {"accountId": account_id, "type": kind.type, "ARN": arn}


def _kind_by_arn_resource(spec: ServiceResources, resource_type: str) -> Kind | None:
    return next((kind for kind in spec.kinds.values() if kind.arn_resource == resource_type), None)
