"""A real trailpost server in a subprocess, for end-to-end tests over HTTP."""

from __future__ import annotations

import configparser
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import botocore.config
import urllib3


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServerProcess:
    """``trailpost serve`` on a free port with its own data directory."""

    data_dir: Path
    port: int = field(default_factory=free_port)
    args: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    # What the interpreter runs before the CLI's arguments: the CLI itself, or code that prepares the
    # process (a disk made to fail) and then runs it.
    python_args: tuple[str, ...] = ("-m", "trailpost")
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 20.0) -> ServerProcess:
        self.log_path = self.data_dir.parent / f"{self.data_dir.name}-server.log"
        log = open(self.log_path, "ab")  # noqa: SIM115 - kept open for the child's lifetime
        env = {**os.environ, **self.env}
        self.process = subprocess.Popen(
            [
                sys.executable,
                *self.python_args,
                "serve",
                "--port",
                str(self.port),
                "--data-dir",
                str(self.data_dir),
                "--log-level",
                "warning",
                *self.args,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        deadline = time.monotonic() + timeout
        http = urllib3.PoolManager()
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"trailpost exited with {self.process.returncode}:\n{self.log()}")
            try:
                if http.request("GET", f"{self.endpoint}/_trailpost/health", timeout=1.0, retries=False).status == 200:
                    return self
            except urllib3.exceptions.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"trailpost did not start within {timeout}s:\n{self.log()}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int:
        if self.process is None:
            return 0
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        code = self.process.returncode
        self.process = None
        return code

    def restart(self) -> ServerProcess:
        self.stop()
        return self.start()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path and self.log_path.exists() else ""

    def root_credentials(self) -> tuple[str, str]:
        parser = configparser.ConfigParser()
        parser.read(self.data_dir / "credentials")
        return parser["default"]["aws_access_key_id"], parser["default"]["aws_secret_access_key"]

    def client(
        self,
        service: str,
        region: str = "us-east-1",
        credentials: tuple[str, str] | tuple[str, str, str] | None = None,
        **config: Any,
    ) -> Any:
        key, secret, *token = credentials or self.root_credentials()
        return boto3.session.Session().client(
            service,
            endpoint_url=self.endpoint,
            region_name=region,
            aws_access_key_id=key,
            aws_secret_access_key=secret,
            aws_session_token=token[0] if token else None,
            config=botocore.config.Config(retries={"max_attempts": 1, "mode": "standard"}, **config),
        )
