"""The real AWS CLI (``.venv/bin/aws``) against the embedded S3: ``s3 mb/cp/ls/rm`` (put_object,
ListObjectsV2, DeleteObjects) and ``s3api`` calls, in a clean environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

from tests.support.server import ServerProcess

AWS = Path(sys.executable).with_name("aws")


def _aws(server: ServerProcess, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "AWS_SHARED_CREDENTIALS_FILE": str(server.data_dir / "credentials"),
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_PAGER": "",
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    command = [str(AWS), "--endpoint-url", server.endpoint, *args]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)
    return result


def test_cli_s3_and_s3api(server: ServerProcess, tmp_path: Path) -> None:
    bucket = f"tp-cli-{uuid.uuid4().hex[:12]}"
    source = tmp_path / "src"
    (source / "sub").mkdir(parents=True)
    (source / "one.txt").write_text("one")
    (source / "sub" / "two.txt").write_text("two" * 1000)
    made = _aws(server, tmp_path, "s3", "mb", f"s3://{bucket}")
    assert made.returncode == 0, made.stderr
    copied = _aws(server, tmp_path, "s3", "cp", "--recursive", str(source), f"s3://{bucket}/data/")
    assert copied.returncode == 0, copied.stderr
    listed = _aws(server, tmp_path, "s3", "ls", "--recursive", f"s3://{bucket}")
    assert "data/one.txt" in listed.stdout and "data/sub/two.txt" in listed.stdout
    down = tmp_path / "down.txt"
    fetched = _aws(server, tmp_path, "s3", "cp", f"s3://{bucket}/data/sub/two.txt", str(down))
    assert fetched.returncode == 0, fetched.stderr
    assert down.read_text() == "two" * 1000
    head = _aws(
        server, tmp_path, "--output", "json", "s3api", "head-object", "--bucket", bucket, "--key", "data/one.txt"
    )
    assert json.loads(head.stdout)["ContentLength"] == 3
    location = _aws(server, tmp_path, "--output", "json", "s3api", "get-bucket-location", "--bucket", bucket)
    assert json.loads(location.stdout)["LocationConstraint"] is None
    removed = _aws(server, tmp_path, "s3", "rm", "--recursive", f"s3://{bucket}")
    assert removed.returncode == 0, removed.stderr
    assert _aws(server, tmp_path, "s3", "ls", f"s3://{bucket}").stdout == ""
    missing = _aws(server, tmp_path, "s3api", "get-bucket-policy", "--bucket", bucket)
    assert missing.returncode != 0 and "NoSuchBucketPolicy" in missing.stderr
    gone = _aws(server, tmp_path, "s3", "rb", f"s3://{bucket}")
    assert gone.returncode == 0, gone.stderr
