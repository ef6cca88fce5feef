"""The assertion every error test makes: a call fails with the AWS error code and HTTP status."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError


def aws_error(code: str, status: int, call: Callable[..., Any], **kwargs: Any) -> dict[str, Any]:
    """The error response of ``call(**kwargs)``, checked to be ``code`` with HTTP ``status``."""
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    response = info.value.response
    assert response["Error"]["Code"] == code, response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == status, response
    return response
