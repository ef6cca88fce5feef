"""Service models: botocore's pinned data files, loaded once per process, with local overlays.

The loader searches only the data directory of the installed (pinned) botocore, so a user's
``~/.aws/models`` can never change what the server accepts. Local corrections live as JSON overlays
in ``overlays/<service>.json`` and are deep-merged over the model before it is built.
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any

import botocore
from botocore.loaders import Loader
from botocore.model import ServiceModel

BOTOCORE_DATA = os.path.join(os.path.dirname(botocore.__file__), "data")
OVERLAY_DIR = Path(__file__).with_name("overlays")


@cache
def _loader() -> Loader:
    return Loader(extra_search_paths=[BOTOCORE_DATA], include_default_search_paths=False)


def _merge(base: dict[str, Any], overlay: dict[str, Any]) -> dict[str, Any]:
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = value
    return base


@cache
def load_service_model(name: str) -> ServiceModel:
    """The service model of ``name`` (``outposts``, ``cloudtrail``...) with its overlay applied."""
    data = _loader().load_service_model(name, "service-2")
    overlay = OVERLAY_DIR / f"{name}.json"
    if overlay.exists():
        data = _merge(json.loads(json.dumps(data)), json.loads(overlay.read_text()))
    return ServiceModel(data, service_name=name)


@cache
def load_paginators(name: str) -> dict[str, Any]:
    """The ``paginators-1`` data of ``name``: operation name -> paginator config."""
    try:
        return dict(_loader().load_service_model(name, "paginators-1")["pagination"])
    except Exception:  # noqa: BLE001 - a service without paginators has none
        return {}


def signing_name(model: ServiceModel) -> str:
    """The SigV4 service name clients put in their credential scope."""
    return model.metadata.get("signingName") or model.metadata["endpointPrefix"]
