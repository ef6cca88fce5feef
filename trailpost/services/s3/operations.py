"""The S3 operation table the handler modules register into."""

from __future__ import annotations

from trailpost.services.base import OperationTable

ops = OperationTable("s3")
