"""Typed settings: command-line flags win over ``TRAILPOST_*`` environment variables, which win over defaults.

Every setting ``name`` can come from the flag ``--name`` (where the command has it) or the variable
``TRAILPOST_NAME``; an empty variable counts as unset. ``Settings.load`` parses and validates
them all and raises ``ConfigError``, whose message names the flag or variable at fault, so the
command line can answer with a usage error. ``sources`` records where each non-default value
came from.

Rules: the port is 1-65535; the account id is 12 digits; the root access key is given as both
``TRAILPOST_ROOT_ACCESS_KEY_ID`` and ``TRAILPOST_ROOT_SECRET_ACCESS_KEY`` or neither, the id
16-128 word characters and the secret 1-128 visible ASCII characters (they are written to the
shared-credentials file, so no whitespace); everything the server writes lives under the data
directory (``data_path``). ``tls_cert`` and ``tls_key`` serve HTTPS when given (the key may be
left out when the certificate file holds it); ``trusted_proxies`` is a comma-separated list of
addresses and CIDR blocks whose ``X-Forwarded-For`` is believed (see ``gateway.context``).
``event_retention_days`` (1-36500, default 90) is how long Event history keeps events;
``lookup_rate_limit`` (LookupEvents calls per second per account and region, 0 = off, the
default) enables AWS's throttling of LookupEvents (AWS: 2).
``clock_offset_seconds`` (default 0) is added to the host clock wherever the server decides by
time who a caller is: the SigV4 15-minute window and the issue and expiry of temporary
credentials (a host whose clock is known to be off can be corrected without touching the OS).
Trails (``delivery``): ``delivery_interval`` (seconds, default 300: AWS's "about every 5 minutes")
is how often each trail's pending events become log files; ``delivery_max_file_bytes`` caps one
log file's JSON before compression (default 50 MiB, AWS's quota); ``digest_interval`` (seconds,
default 3600: hourly) is the period of digest files; ``signing_key_days`` (default 30) is how long
a region's digest signing key is used before a new one takes over; ``external_buckets_file`` names
a JSON file mapping bucket names to external S3-compatible endpoints
(``{"bucket": {"endpoint_url": ..., "region": ..., "access_key_id": ..., "secret_access_key": ...}}``);
``max_object_bytes`` (default 256 MiB) is the largest S3 object body the embedded S3 accepts.
``workers`` (1-64, default 1) is how many processes serve the port: with more than one, that many
reader processes answer read calls from the database themselves and hand their records and every
other call to the writer process behind them (every state change, the group commit, the background
workers; ``trailpost.readers``).
``quotas`` raises (or lowers) adjustable service quotas, as AWS Service Quotas increases do:
``outposts.sites=500,outposts.outposts=500`` (names in ``QUOTA_DEFAULTS``, values whole numbers >= 1).
``oidc_jwks_file`` names a JSON file mapping OpenID Connect issuer URLs to their JWKS documents
(``{"https://issuer.example.com": {"keys": [...]}}``), the keys AssumeRoleWithWebIdentity
verifies tokens with; it is read at each call, so keys can be rotated without a restart.
"""

from __future__ import annotations

import ipaddress
import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

DEFAULT_ACCOUNT_ID = "123456789012"
ENV_PREFIX = "TRAILPOST_"
MAX_RETENTION_DAYS = 36500
MAX_WORKERS = 64
LOG_LEVELS = ("debug", "info", "warning", "error")
_ACCESS_KEY_ID = re.compile(r"^\w{16,128}$", re.ASCII)
_SECRET = re.compile(r"^[\x21-\x7e]{1,128}$")
_WILDCARD_HOSTS = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# Adjustable service quotas and AWS's default values (Outposts: sites and outposts per account and Region).
QUOTA_DEFAULTS: dict[str, int] = {"outposts.sites": 100, "outposts.outposts": 100}


class ConfigError(ValueError):
    """An invalid setting; the message names the flag or environment variable."""


def env_name(setting: str) -> str:
    return ENV_PREFIX + setting.upper()


def _env(name: str) -> str | None:
    value = os.environ.get(env_name(name))
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
    event_retention_days: int = 90
    lookup_rate_limit: float = 0.0
    tls_cert: Path | None = None
    tls_key: Path | None = None
    trusted_proxies: tuple[Network, ...] = ()
    clock_offset_seconds: float = 0.0
    oidc_jwks_file: Path | None = None
    delivery_interval: float = 300.0
    delivery_max_file_bytes: int = 50 * 1024 * 1024
    digest_interval: float = 3600.0
    signing_key_days: float = 30.0
    external_buckets_file: Path | None = None
    max_object_bytes: int = 256 * 1024 * 1024
    quotas: Mapping[str, int] = field(default_factory=dict)
    workers: int = 1
    # Benchmark only (TRAILPOST_BENCH_AUDIT_OFF=1, environment only, no flag): the gateway skips the
    # audit record and the group commit, so bench/api_throughput.py can measure what auditing costs.
    # Never for real use: calls are then not recorded at all. The server warns loudly when it is on.
    bench_audit_off: bool = False
    sources: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def load(cls, **flags: Any) -> Settings:
        """Settings from flags (``None`` = not given), then the environment, then defaults."""
        values: dict[str, Any] = {}
        sources: dict[str, str] = {}
        for f in fields(cls):
            if f.name == "sources":
                continue
            flag = flags.get(f.name)
            if flag is not None:
                raw, origin = flag, "--" + f.name.replace("_", "-")
            else:
                env = _env(f.name)
                if env is None:
                    continue
                raw, origin = env, env_name(f.name)
            values[f.name] = _PARSERS.get(f.name, _text)(raw, origin)
            sources[f.name] = origin
        settings = cls(**values, sources=sources)
        settings.validate()
        return settings

    def _origin(self, name: str) -> str:
        return self.sources.get(name, name.replace("_", " "))

    def validate(self) -> None:
        """``ConfigError`` for the first invalid setting."""
        if not self.host or any(c.isspace() for c in self.host):
            raise ConfigError(f"{self._origin('host')}: {self.host!r} is not a host name or address")
        if not 0 < self.port < 65536:
            raise ConfigError(f"{self._origin('port')}: {self.port} is not a port (1-65535)")
        if not str(self.data_dir) or str(self.data_dir).isspace():
            raise ConfigError(f"{self._origin('data_dir')}: the data directory must not be empty")
        if self.data_dir.expanduser().exists() and not self.data_dir.expanduser().is_dir():
            raise ConfigError(f"{self._origin('data_dir')}: {self.data_dir} exists and is not a directory")
        if not (self.account_id.isascii() and self.account_id.isdigit() and len(self.account_id) == 12):
            raise ConfigError(f"{self._origin('account_id')}: account id must be 12 digits, got {self.account_id!r}")
        self._validate_root_key()
        if not (math.isfinite(self.lifecycle_seconds) and self.lifecycle_seconds >= 0):
            raise ConfigError(f"{self._origin('lifecycle_seconds')}: must be a number of seconds >= 0")
        if self.max_body_bytes < 1:
            raise ConfigError(f"{self._origin('max_body_bytes')}: must be at least 1 byte")
        if self.log_level not in LOG_LEVELS:
            raise ConfigError(f"{self._origin('log_level')}: must be one of {', '.join(LOG_LEVELS)}")
        if not 1 <= self.event_retention_days <= MAX_RETENTION_DAYS:
            raise ConfigError(
                f"{self._origin('event_retention_days')}: must be a whole number of days, 1-{MAX_RETENTION_DAYS}"
            )
        if not (math.isfinite(self.lookup_rate_limit) and self.lookup_rate_limit >= 0):
            raise ConfigError(f"{self._origin('lookup_rate_limit')}: must be requests per second >= 0 (0 = no limit)")
        if not math.isfinite(self.clock_offset_seconds):
            raise ConfigError(f"{self._origin('clock_offset_seconds')}: must be a number of seconds")
        for name in ("delivery_interval", "digest_interval", "signing_key_days"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ConfigError(f"{self._origin(name)}: must be a number > 0")
        for name in ("delivery_max_file_bytes", "max_object_bytes"):
            if getattr(self, name) < 1024:
                raise ConfigError(f"{self._origin(name)}: must be at least 1024 bytes")
        if not 1 <= self.workers <= MAX_WORKERS:
            raise ConfigError(f"{self._origin('workers')}: must be a whole number of processes, 1-{MAX_WORKERS}")
        if self.tls_key is not None and self.tls_cert is None:
            raise ConfigError(f"{self._origin('tls_key')} needs {env_name('tls_cert')} (or --tls-cert) too")

    def _validate_root_key(self) -> None:
        key_id, secret = self.root_access_key_id, self.root_secret_access_key
        if (key_id is None) != (secret is None):
            raise ConfigError(
                f"set both {env_name('root_access_key_id')} and {env_name('root_secret_access_key')}, or neither"
            )
        if key_id is not None and not _ACCESS_KEY_ID.match(key_id):
            raise ConfigError(
                f"{self._origin('root_access_key_id')}: an access key id is 16-128 letters, digits or '_' "
                "(AWS issues AKIA followed by 16 characters)"
            )
        if secret is not None and not _SECRET.match(secret):
            raise ConfigError(
                f"{self._origin('root_secret_access_key')}: a secret access key is 1-128 visible ASCII characters "
                "without spaces"
            )

    def quota(self, name: str) -> int:
        """The value of an adjustable quota: the configured one, else AWS's default."""
        return self.quotas.get(name, QUOTA_DEFAULTS[name])

    @property
    def scheme(self) -> str:
        """``https`` when a TLS certificate is configured, else ``http``."""
        return "https" if self.tls_cert is not None else "http"

    @property
    def endpoint(self) -> str:
        """The address the server listens on, as a URL."""
        return _url(self.host, self.port, self.scheme)

    @property
    def client_endpoint(self) -> str:
        """The URL a client on this machine uses (a wildcard listen address becomes loopback)."""
        return _url(_WILDCARD_HOSTS.get(self.host, self.host), self.port, self.scheme)

    @property
    def data_root(self) -> Path:
        """The data directory as an absolute path."""
        return self.data_dir.expanduser().resolve()

    def data_path(self, *parts: str) -> Path:
        """A path inside the data directory; ``ValueError`` if ``parts`` (or a symlink) would leave it."""
        root = self.data_root
        path = root.joinpath(*parts).resolve()
        if path != root and root not in path.parents:
            raise ValueError(f"{'/'.join(parts)!r} is outside the data directory")
        return path


def _url(host: str, port: int, scheme: str = "http") -> str:
    return f"{scheme}://[{host}]:{port}" if ":" in host else f"{scheme}://{host}:{port}"


def _text(raw: Any, origin: str) -> str:
    return str(raw).strip()


def _path(raw: Any, origin: str) -> Path:
    text = str(raw)
    if not text.strip():
        raise ConfigError(f"{origin}: the data directory must not be empty")
    return Path(text)


def _integer(raw: Any, origin: str) -> int:
    if isinstance(raw, int):
        return raw
    try:
        return int(str(raw).strip())
    except ValueError:
        raise ConfigError(f"{origin}: {raw!r} is not a whole number") from None


def _number(raw: Any, origin: str) -> float:
    if isinstance(raw, int | float):
        return float(raw)
    try:
        return float(str(raw).strip())
    except ValueError:
        raise ConfigError(f"{origin}: {raw!r} is not a number") from None


def _lower(raw: Any, origin: str) -> str:
    return str(raw).strip().lower()


def _file(raw: Any, origin: str) -> Path:
    text = str(raw)
    if not text.strip():
        raise ConfigError(f"{origin}: the file name must not be empty")
    return Path(text).expanduser()


def _boolean(raw: Any, origin: str) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{origin}: {raw!r} is not a boolean (1/0, true/false, yes/no, on/off)")


def _quotas(raw: Any, origin: str) -> dict[str, int]:
    """``outposts.sites=500, outposts.outposts=200`` -> ``{"outposts.sites": 500, ...}``."""
    if isinstance(raw, dict):
        raw = ",".join(f"{name}={value}" for name, value in raw.items())
    quotas: dict[str, int] = {}
    for part in str(raw).split(","):
        text = part.strip()
        if not text:
            continue
        name, sep, value = text.partition("=")
        name = name.strip()
        if not sep or name not in QUOTA_DEFAULTS:
            known = ", ".join(sorted(QUOTA_DEFAULTS))
            raise ConfigError(f"{origin}: {text!r} is not NAME=VALUE with a known quota name ({known})")
        if not value.strip().isdigit() or int(value) < 1:
            raise ConfigError(f"{origin}: the value of {name} must be a whole number >= 1, got {value.strip()!r}")
        quotas[name] = int(value)
    return quotas


def _networks(raw: Any, origin: str) -> tuple[Network, ...]:
    """``10.0.0.1, 192.168.0.0/16, ::1`` -> networks (a bare address is a /32 or /128)."""
    if isinstance(raw, tuple | list):
        raw = ",".join(str(item) for item in raw)
    networks = []
    for part in str(raw).split(","):
        text = part.strip()
        if not text:
            continue
        try:
            networks.append(ipaddress.ip_network(text, strict=False))
        except ValueError:
            raise ConfigError(f"{origin}: {text!r} is not an IP address or CIDR block") from None
    return tuple(networks)


_PARSERS: dict[str, Callable[[Any, str], Any]] = {
    "port": _integer,
    "workers": _integer,
    "max_body_bytes": _integer,
    "lifecycle_seconds": _number,
    "event_retention_days": _integer,
    "lookup_rate_limit": _number,
    "data_dir": _path,
    "log_level": _lower,
    "tls_cert": _file,
    "tls_key": _file,
    "trusted_proxies": _networks,
    "clock_offset_seconds": _number,
    "oidc_jwks_file": _file,
    "delivery_interval": _number,
    "delivery_max_file_bytes": _integer,
    "digest_interval": _number,
    "signing_key_days": _number,
    "external_buckets_file": _file,
    "max_object_bytes": _integer,
    "bench_audit_off": _boolean,
    "quotas": _quotas,
}
