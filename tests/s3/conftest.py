"""Fixtures of the embedded S3 tests: a boto3 S3 client on the shared server and fresh bucket names."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.support.server import ServerProcess


@pytest.fixture
def s3(server: ServerProcess) -> Any:
    return server.client("s3")


@pytest.fixture
def bucket(s3: Any) -> str:
    """A new empty bucket of the root user of 123456789012 in us-east-1."""
    name = f"tp-{uuid.uuid4().hex[:20]}"
    s3.create_bucket(Bucket=name)
    return name
