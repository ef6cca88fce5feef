"""Typed settings: command-line flags win over ``TRAILPOST_*`` environment variables, which win over defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

DEFAULT_ACCOUNT_ID = "123456789012"


def _env(name: str) -> str | None:
    value = os.environ.get(f"TRAILPOST_{name.upper()}")
    return value if value not in (None, "") else None


@dataclass(frozen=True)
class Settings:
    """Everything a running trailpost is configured with."""

    host: str = "127.0.0.1"
    port: int = 4566
    data_dir: Path = field(default_factory=lambda: Path("./trailpost-data"))
    account_id: str = DEFAULT_ACCOUNT_ID
    root_access_key_id: str | None = None
    root_secret_access_key: str | None = None
    lifecycle_seconds: float = 30.0
    max_body_bytes: int = 16 * 1024 * 1024
    log_level: str = "info"

    @classmethod
    def load(cls, **flags: Any) -> Settings:
        """Settings from flags (``None`` = not given), then the environment, then defaults."""
        values: dict[str, Any] = {}
        for f in fields(cls):
            flag = flags.get(f.name)
            raw = flag if flag is not None else _env(f.name)
            if raw is None:
                continue
            values[f.name] = _coerce(f.type, raw)
        settings = cls(**values)
        settings.validate()
        return settings

    def validate(self) -> None:
        if not (self.account_id.isdigit() and len(self.account_id) == 12):
            raise ValueError(f"account id must be 12 digits, got {self.account_id!r}")
        if (self.root_access_key_id is None) != (self.root_secret_access_key is None):
            raise ValueError("set both TRAILPOST_ROOT_ACCESS_KEY_ID and TRAILPOST_ROOT_SECRET_ACCESS_KEY, or neither")
        if not 0 < self.port < 65536:
            raise ValueError(f"port out of range: {self.port}")
        if self.lifecycle_seconds < 0:
            raise ValueError("lifecycle seconds must be >= 0")

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"


def _coerce(annotation: Any, raw: Any) -> Any:
    text = str(annotation)
    if isinstance(raw, str):
        if "Path" in text:
            return Path(raw)
        if text.startswith("int"):
            return int(raw)
        if text.startswith("float"):
            return float(raw)
    if "Path" in text and not isinstance(raw, Path):
        return Path(raw)
    return raw
