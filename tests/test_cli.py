"""The ``trailpost`` command line, run as a user runs it: ``serve`` flags and environment, usage
errors, the first-start account and credentials file, restarts, ``account create`` against a
running server, and clean shutdown on SIGTERM and SIGINT.
"""

from __future__ import annotations

import configparser
import os
import re
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import botocore.config
import pytest
import urllib3

from tests.support.server import free_port

ROOT_KEY = "AKIAIOSFODNN7EXAMPLE"
ROOT_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRAILPOST_", "AWS_"))}
    return {**env, **extra}


def trailpost(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "trailpost", *args], capture_output=True, text=True, env=env or clean_env(), timeout=60
    )


def healthy(host: str, port: int) -> bool:
    try:
        reply = urllib3.request("GET", f"http://{host}:{port}/_trailpost/health", timeout=1.0, retries=False)
    except urllib3.exceptions.HTTPError:
        return False
    return reply.status == 200


@dataclass
class Served:
    """A ``trailpost serve`` process started by a test."""

    process: subprocess.Popen[bytes]
    log: Path
    host: str
    port: int

    @property
    def output(self) -> str:
        return self.log.read_text(errors="replace")

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> tuple[int, float]:
        """Send ``sig``; the exit code and the seconds it took to exit."""
        started = time.monotonic()
        self.process.send_signal(sig)
        code = self.process.wait(timeout)
        return code, time.monotonic() - started


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Any]:
    started: list[Served] = []

    def start(*args: str, env: dict[str, str] | None = None, host: str = "127.0.0.1", port: int) -> Served:
        log = tmp_path / f"serve-{len(started)}.log"
        with open(log, "wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "trailpost", "serve", "--log-level", "warning", *args],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env or clean_env(),
            )
        served = Served(process, log, host, port)
        started.append(served)
        deadline = time.monotonic() + 20
        while not healthy(host, port):
            assert process.poll() is None, f"trailpost exited with {process.returncode}:\n{served.output}"
            assert time.monotonic() < deadline, served.output
            time.sleep(0.05)
        return served

    yield start
    for served in started:
        if served.process.poll() is None:
            served.process.kill()
            served.process.wait()


def credentials(data_dir: Path) -> tuple[str, str]:
    parser = configparser.ConfigParser()
    parser.read(data_dir / "credentials")
    return parser["default"]["aws_access_key_id"], parser["default"]["aws_secret_access_key"]


def client(endpoint: str, key: str, secret: str, region: str = "us-east-1") -> Any:
    return boto3.session.Session().client(
        "outposts",
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=botocore.config.Config(retries={"max_attempts": 1}),
    )


def refused(host: str, port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex((host, port)) != 0


# -- flag > environment > default --------------------------------------------------------------


def test_port_flag_beats_env_and_env_is_used_without_flag(serve: Any, tmp_path: Path) -> None:
    env_port, flag_port = free_port(), free_port()
    env = clean_env(TRAILPOST_PORT=str(env_port))
    served = serve("--port", str(flag_port), "--data-dir", str(tmp_path / "d"), env=env, port=flag_port)
    assert refused("127.0.0.1", env_port)
    assert f"listening on http://127.0.0.1:{flag_port}" in served.output
    assert served.stop() == (0, pytest.approx(0, abs=5))
    serve("--data-dir", str(tmp_path / "d"), env=env, port=env_port)


def test_host_flag_beats_env_and_env_is_used_without_flag(serve: Any, tmp_path: Path) -> None:
    port = free_port()
    env = clean_env(TRAILPOST_HOST="127.0.0.2", TRAILPOST_PORT=str(port))
    served = serve("--host", "127.0.0.1", "--data-dir", str(tmp_path / "d"), env=env, port=port)
    assert refused("127.0.0.2", port)
    served.stop()
    served = serve("--data-dir", str(tmp_path / "d"), env=env, host="127.0.0.2", port=port)
    assert refused("127.0.0.1", port)
    assert f"listening on http://127.0.0.2:{port}" in served.output


def test_host_defaults_to_loopback(serve: Any, tmp_path: Path) -> None:
    port = free_port()
    served = serve("--port", str(port), "--data-dir", str(tmp_path / "d"), port=port)
    assert f"listening on http://127.0.0.1:{port}" in served.output
    assert refused("127.0.0.2", port), "listening beyond the loopback address"


def test_data_dir_flag_beats_env_and_env_is_used_without_flag(serve: Any, tmp_path: Path) -> None:
    port = free_port()
    env = clean_env(TRAILPOST_DATA_DIR=str(tmp_path / "from-env"))
    served = serve("--port", str(port), "--data-dir", str(tmp_path / "from-flag"), env=env, port=port)
    assert (tmp_path / "from-flag" / "credentials").is_file()
    assert not (tmp_path / "from-env").exists()
    served.stop()
    serve("--port", str(port), env=env, port=port)
    assert (tmp_path / "from-env" / "credentials").is_file()


# -- usage errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "env", "fragment"),
    [
        (["--port", "0"], {}, "--port: 0 is not a port"),
        (["--port", "seventy"], {}, "'seventy' is not a valid integer"),
        ([], {"TRAILPOST_PORT": "0"}, "TRAILPOST_PORT: 0 is not a port"),
        ([], {"TRAILPOST_PORT": "99999"}, "TRAILPOST_PORT: 99999 is not a port"),
        ([], {"TRAILPOST_ACCOUNT_ID": "1234"}, "TRAILPOST_ACCOUNT_ID: account id must be 12 digits"),
        ([], {"TRAILPOST_ROOT_ACCESS_KEY_ID": ROOT_KEY}, "set both TRAILPOST_ROOT_ACCESS_KEY_ID"),
        ([], {"TRAILPOST_ROOT_SECRET_ACCESS_KEY": ROOT_SECRET}, "set both TRAILPOST_ROOT_ACCESS_KEY_ID"),
        ([], {"TRAILPOST_LIFECYCLE_SECONDS": "soon"}, "TRAILPOST_LIFECYCLE_SECONDS: 'soon' is not a number"),
    ],
)
def test_invalid_values_are_usage_errors(tmp_path: Path, args: list[str], env: dict[str, str], fragment: str) -> None:
    data = tmp_path / "data"
    result = trailpost("serve", "--data-dir", str(data), *args, env=clean_env(**env))
    assert result.returncode == 2, result
    assert "Usage: " in result.stderr and fragment in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert not data.exists()


def test_data_dir_that_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    result = trailpost("serve", "--data-dir", str(tmp_path / "file"), "--port", str(free_port()))
    assert result.returncode == 2
    assert "exists and is not a directory" in result.stderr


def test_port_in_use(serve: Any, tmp_path: Path) -> None:
    port = free_port()
    serve("--port", str(port), "--data-dir", str(tmp_path / "a"), port=port)
    result = trailpost("serve", "--port", str(port), "--data-dir", str(tmp_path / "b"))
    assert result.returncode == 1
    assert f"cannot listen on http://127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr


# -- first start, credentials, restarts --------------------------------------------------------


def test_first_start_uses_the_env_root_key(serve: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    port, data = free_port(), tmp_path / "data"
    env = clean_env(
        TRAILPOST_ACCOUNT_ID="210987654321",
        TRAILPOST_ROOT_ACCESS_KEY_ID=ROOT_KEY,
        TRAILPOST_ROOT_SECRET_ACCESS_KEY=ROOT_SECRET,
    )
    served = serve("--port", str(port), "--data-dir", str(data), env=env, port=port)
    assert credentials(data) == (ROOT_KEY, ROOT_SECRET)
    assert "account     210987654321 (created)" in served.output
    assert stat.S_IMODE(os.stat(data).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(data / "credentials").st_mode) == 0o600
    # The file as boto3 itself loads it.
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(data / "credentials"))
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    session = boto3.session.Session(region_name="us-east-1")
    assert session.get_credentials().access_key == ROOT_KEY
    site = session.client("outposts", endpoint_url=served.endpoint).create_site(Name="from-file")["Site"]
    assert site["SiteArn"].startswith("arn:aws:outposts:us-east-1:210987654321:site/")


def test_first_start_generates_a_root_key(serve: Any, tmp_path: Path) -> None:
    port, data = free_port(), tmp_path / "data"
    served = serve("--port", str(port), "--data-dir", str(data), port=port)
    key, secret = credentials(data)
    assert re.fullmatch(r"AKIA[A-Z2-7]{16}", key)
    assert re.fullmatch(r"[A-Za-z0-9+/]{40}", secret)
    site = client(served.endpoint, key, secret).create_site(Name="generated")["Site"]
    assert site["AccountId"] == "123456789012"


def test_second_start_reuses_the_account_and_key(serve: Any, tmp_path: Path) -> None:
    port, data = free_port(), tmp_path / "data"
    served = serve("--port", str(port), "--data-dir", str(data), port=port)
    key, secret = credentials(data)
    site_id = client(served.endpoint, key, secret).create_site(Name="kept")["Site"]["SiteId"]
    assert served.stop()[0] == 0
    env = clean_env(
        TRAILPOST_ACCOUNT_ID="210987654321",
        TRAILPOST_ROOT_ACCESS_KEY_ID=ROOT_KEY,
        TRAILPOST_ROOT_SECRET_ACCESS_KEY=ROOT_SECRET,
    )
    served = serve("--port", str(port), "--data-dir", str(data), env=env, port=port)
    assert credentials(data) == (key, secret)
    assert "account     123456789012 (loaded)" in served.output
    assert "TRAILPOST_ACCOUNT_ID=210987654321 ignored" in served.output
    assert "TRAILPOST_ROOT_ACCESS_KEY_ID ignored" in served.output
    assert client(served.endpoint, key, secret).get_site(SiteId=site_id)["Site"]["Name"] == "kept"


def test_banner_names_endpoint_and_credentials(serve: Any, tmp_path: Path) -> None:
    port, data = free_port(), tmp_path / "data"
    output = serve("--port", str(port), "--data-dir", str(data), port=port).output
    creds = data.resolve() / "credentials"
    assert f"trailpost listening on http://127.0.0.1:{port}" in output
    assert f"credentials {creds}" in output
    assert f"export AWS_SHARED_CREDENTIALS_FILE={creds}" in output
    assert f"aws --endpoint-url http://127.0.0.1:{port} outposts list-sites" in output


# -- account create ----------------------------------------------------------------------------


def test_account_create_against_a_running_server(serve: Any, tmp_path: Path) -> None:
    port, data = free_port(), tmp_path / "data"
    served = serve("--port", str(port), "--data-dir", str(data), port=port)
    result = trailpost("account", "create", "--name", "lab", "--data-dir", str(data))
    assert result.returncode == 0, result.stderr
    account = re.search(r"^account (\d{12}) \(lab\)$", result.stdout, re.M)
    key = re.search(r"^aws_access_key_id = (AKIA[A-Z2-7]{16})$", result.stdout, re.M)
    secret = re.search(r"^aws_secret_access_key = (\S{40})$", result.stdout, re.M)
    assert account and key and secret, result.stdout
    assert account.group(1) != "123456789012"
    lab = client(served.endpoint, key.group(1), secret.group(1), region="eu-west-1")
    site = lab.create_site(Name="lab-site")["Site"]
    assert site["SiteArn"] == f"arn:aws:outposts:eu-west-1:{account.group(1)}:site/{site['SiteId']}"
    root = client(served.endpoint, *credentials(data), region="eu-west-1")
    assert site["SiteId"] not in {s["SiteId"] for s in root.list_sites()["Sites"]}
    # The secret is printed once: it is in no file of the data directory other than the database.
    assert secret.group(1) not in (data / "credentials").read_text()

    duplicate = trailpost("account", "create", "--name", "lab", "--data-dir", str(data))
    assert duplicate.returncode == 1
    assert "an account named 'lab' already exists" in duplicate.stderr
    assert "Traceback" not in duplicate.stderr


def test_account_create_with_an_id(tmp_path: Path) -> None:
    data = tmp_path / "data"
    result = trailpost("account", "create", "--name", "fixed", "--account-id", "111122223333", "--data-dir", str(data))
    assert result.returncode == 0 and "account 111122223333 (fixed)" in result.stdout
    again = trailpost("account", "create", "--name", "other", "--account-id", "111122223333", "--data-dir", str(data))
    assert again.returncode == 1 and "account 111122223333 already exists" in again.stderr


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--name", ""], "--name must be 1-50"),
        (["--name", "x" * 51], "--name must be 1-50"),
        (["--name", "ok", "--account-id", "12ab"], "--account-id must be 12 digits"),
        ([], "Missing option '--name'"),
    ],
)
def test_account_create_usage_errors(tmp_path: Path, args: list[str], fragment: str) -> None:
    result = trailpost("account", "create", "--data-dir", str(tmp_path / "data"), *args)
    assert result.returncode == 2
    assert fragment in result.stderr


# -- shutdown ----------------------------------------------------------------------------------


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signals_stop_the_server_cleanly(serve: Any, tmp_path: Path, sig: int) -> None:
    port, data = free_port(), tmp_path / "data"
    served = serve("--port", str(port), "--data-dir", str(data), port=port)
    client(served.endpoint, *credentials(data)).create_site(Name="before-stop")
    code, seconds = served.stop(sig)
    assert code == 0, served.output
    assert seconds < 3.0
    assert "Traceback" not in served.output
    assert refused("127.0.0.1", port)
    served = serve("--port", str(port), "--data-dir", str(data), port=port)
    names = {s["Name"] for s in client(served.endpoint, *credentials(data)).list_sites()["Sites"]}
    assert "before-stop" in names


def test_sigterm_with_a_client_stuck_mid_request(serve: Any, tmp_path: Path) -> None:
    """A client that never finishes its body delays shutdown by a few seconds at most."""
    port, data = free_port(), tmp_path / "data"
    served = serve("--port", str(port), "--data-dir", str(data), port=port)
    stuck = socket.create_connection(("127.0.0.1", port))
    stuck.sendall(b"POST /sites HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
    closer = threading.Timer(15, stuck.close)
    closer.start()
    try:
        code, seconds = served.stop(signal.SIGTERM, timeout=15)
        stuck.settimeout(5)
        answer = stuck.recv(65536)
    finally:
        closer.cancel()
        stuck.close()
    assert answer.startswith(b"HTTP/1.1 503 "), answer
    assert b'"__type":"ServiceUnavailable"' in answer
    assert code == 0, served.output
    assert seconds < 6.0
    assert "Traceback" not in served.output
