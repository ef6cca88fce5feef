"""Settings: flag > ``TRAILPOST_*`` environment > default, validation messages naming the source,
and the data-directory containment every file the server writes goes through.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from trailpost.config import DEFAULT_ACCOUNT_ID, ConfigError, Settings

ENV = [
    "HOST",
    "PORT",
    "DATA_DIR",
    "ACCOUNT_ID",
    "ROOT_ACCESS_KEY_ID",
    "ROOT_SECRET_ACCESS_KEY",
    "LIFECYCLE_SECONDS",
    "MAX_BODY_BYTES",
    "LOG_LEVEL",
]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV:
        monkeypatch.delenv(f"TRAILPOST_{name}", raising=False)


def test_defaults() -> None:
    settings = Settings.load()
    assert (settings.host, settings.port, settings.data_dir) == ("127.0.0.1", 4566, Path("./trailpost-data"))
    assert settings.account_id == DEFAULT_ACCOUNT_ID == "123456789012"
    assert settings.root_access_key_id is None and settings.root_secret_access_key is None
    assert settings.sources == {}
    assert settings.endpoint == "http://127.0.0.1:4566"


@pytest.mark.parametrize(
    ("name", "flag", "env", "default"),
    [
        ("host", "10.1.2.3", "0.0.0.0", "127.0.0.1"),
        ("port", 4000, "5000", 4566),
        ("data_dir", Path("/srv/flag"), "/srv/env", Path("./trailpost-data")),
    ],
)
def test_flag_beats_env_beats_default(
    monkeypatch: pytest.MonkeyPatch, name: str, flag: object, env: str, default: object
) -> None:
    variable = f"TRAILPOST_{name.upper()}"
    assert getattr(Settings.load(), name) == default
    monkeypatch.setenv(variable, env)
    from_env = Settings.load()
    assert str(getattr(from_env, name)) == env
    assert from_env.sources[name] == variable
    from_flag = Settings.load(**{name: flag})
    assert getattr(from_flag, name) == flag
    assert from_flag.sources[name] == "--" + name.replace("_", "-")
    assert getattr(Settings.load(**{name: None}), name) == getattr(from_env, name)  # None = flag not given


def test_empty_env_counts_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRAILPOST_PORT", "")
    monkeypatch.setenv("TRAILPOST_HOST", "")
    assert (Settings.load().port, Settings.load().host) == (4566, "127.0.0.1")


@pytest.mark.parametrize(
    ("env", "flags", "fragment"),
    [
        ({}, {"port": 0}, "--port: 0 is not a port (1-65535)"),
        ({}, {"port": 65536}, "--port: 65536 is not a port"),
        ({"TRAILPOST_PORT": "0"}, {}, "TRAILPOST_PORT: 0 is not a port"),
        ({"TRAILPOST_PORT": "http"}, {}, "TRAILPOST_PORT: 'http' is not a whole number"),
        ({"TRAILPOST_ACCOUNT_ID": "12345"}, {}, "TRAILPOST_ACCOUNT_ID: account id must be 12 digits"),
        ({"TRAILPOST_ACCOUNT_ID": "12345678901a"}, {}, "account id must be 12 digits"),
        ({"TRAILPOST_ACCOUNT_ID": "\uff11" * 12}, {}, "account id must be 12 digits"),
        ({"TRAILPOST_ROOT_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE"}, {}, "set both TRAILPOST_ROOT_ACCESS_KEY_ID"),
        ({"TRAILPOST_ROOT_SECRET_ACCESS_KEY": "x" * 40}, {}, "set both TRAILPOST_ROOT_ACCESS_KEY_ID"),
        (
            {"TRAILPOST_ROOT_ACCESS_KEY_ID": "short", "TRAILPOST_ROOT_SECRET_ACCESS_KEY": "x" * 40},
            {},
            "TRAILPOST_ROOT_ACCESS_KEY_ID: an access key id is 16-128",
        ),
        (
            {"TRAILPOST_ROOT_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE", "TRAILPOST_ROOT_SECRET_ACCESS_KEY": "a b\nc"},
            {},
            "TRAILPOST_ROOT_SECRET_ACCESS_KEY: a secret access key is 1-128 visible ASCII",
        ),
        ({"TRAILPOST_LIFECYCLE_SECONDS": "-1"}, {}, "TRAILPOST_LIFECYCLE_SECONDS: must be a number of seconds >= 0"),
        ({"TRAILPOST_LIFECYCLE_SECONDS": "nan"}, {}, "TRAILPOST_LIFECYCLE_SECONDS"),
        ({"TRAILPOST_MAX_BODY_BYTES": "0"}, {}, "TRAILPOST_MAX_BODY_BYTES: must be at least 1 byte"),
        ({"TRAILPOST_LOG_LEVEL": "loud"}, {}, "TRAILPOST_LOG_LEVEL: must be one of"),
        ({}, {"host": "bad host"}, "--host: 'bad host' is not a host name or address"),
    ],
)
def test_invalid_values_name_their_source(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], flags: dict[str, object], fragment: str
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as info:
        Settings.load(**flags)
    assert fragment in str(info.value)


def test_data_dir_that_is_a_file(tmp_path: Path) -> None:
    file = tmp_path / "file"
    file.write_text("x")
    with pytest.raises(ConfigError, match="exists and is not a directory"):
        Settings.load(data_dir=file)


def test_root_key_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRAILPOST_ROOT_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
    monkeypatch.setenv("TRAILPOST_ROOT_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    monkeypatch.setenv("TRAILPOST_ACCOUNT_ID", "210987654321")
    settings = Settings.load()
    assert settings.root_access_key_id == "AKIAIOSFODNN7EXAMPLE"
    assert settings.root_secret_access_key == "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    assert settings.account_id == "210987654321"


@pytest.mark.parametrize(
    ("host", "endpoint", "client"),
    [
        ("127.0.0.1", "http://127.0.0.1:4566", "http://127.0.0.1:4566"),
        ("0.0.0.0", "http://0.0.0.0:4566", "http://127.0.0.1:4566"),
        ("::", "http://[::]:4566", "http://[::1]:4566"),
        ("::1", "http://[::1]:4566", "http://[::1]:4566"),
        ("localhost", "http://localhost:4566", "http://localhost:4566"),
    ],
)
def test_endpoints(host: str, endpoint: str, client: str) -> None:
    settings = Settings.load(host=host)
    assert (settings.endpoint, settings.client_endpoint) == (endpoint, client)


def test_data_path_stays_inside(tmp_path: Path) -> None:
    settings = Settings.load(data_dir=tmp_path / "data")
    (tmp_path / "data").mkdir()
    assert settings.data_path("credentials") == (tmp_path / "data" / "credentials").resolve()
    assert settings.data_path("a", "b.json") == (tmp_path / "data" / "a" / "b.json").resolve()
    for escape in (("..", "x"), ("/etc/passwd",), ("a", "..", "..", "x")):
        with pytest.raises(ValueError, match="outside the data directory"):
            settings.data_path(*escape)
    os.symlink(tmp_path, tmp_path / "data" / "link")
    with pytest.raises(ValueError, match="outside the data directory"):
        settings.data_path("link", "x")


def test_quotas_are_adjustable_and_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings.load().quota("outposts.sites") == 100
    monkeypatch.setenv("TRAILPOST_QUOTAS", "outposts.sites=500, outposts.outposts=7")
    settings = Settings.load()
    assert settings.quota("outposts.sites") == 500 and settings.quota("outposts.outposts") == 7
    assert Settings.load(quotas="outposts.sites=2").quota("outposts.outposts") == 100  # the flag wins whole
    with pytest.raises(ConfigError, match=r"TRAILPOST_QUOTAS.*known quota name.*outposts\.sites"):
        _load_env(monkeypatch, "outposts.racks=3")
    with pytest.raises(ConfigError, match=r"--quotas: the value of outposts\.sites must be a whole number >= 1"):
        Settings.load(quotas="outposts.sites=0")


def _load_env(monkeypatch: pytest.MonkeyPatch, value: str) -> Settings:
    monkeypatch.setenv("TRAILPOST_QUOTAS", value)
    return Settings.load()
