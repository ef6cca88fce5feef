"""Another account in a test server's data directory, made with the real ``trailpost account create``."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path


def create_account(data_dir: Path, name: str) -> tuple[str, str, str]:
    """``(account id, access key id, secret)`` of a new account made by the ``trailpost`` CLI."""
    out = subprocess.run(
        [sys.executable, "-m", "trailpost", "account", "create", "--name", name, "--data-dir", str(data_dir)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    account = re.search(r"^account (\d{12}) ", out, re.M)
    key = re.search(r"^aws_access_key_id = (\S+)$", out, re.M)
    secret = re.search(r"^aws_secret_access_key = (\S+)$", out, re.M)
    assert account and key and secret, out
    return account.group(1), key.group(1), secret.group(1)
