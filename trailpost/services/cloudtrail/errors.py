"""CloudTrail's modeled errors: none has a modeled status or members, so each is 400 with ``__type`` and ``message``.

The codes are the model's shape names (botocore raises ``client.exceptions.<Code>``).
``ThrottlingException`` is the one boto3 and the AWS CLI retry.
"""

from __future__ import annotations

from trailpost.protocol.errors import ServiceError, ThrottlingException


def _error(name: str) -> type[ServiceError]:
    return type(name, (ServiceError,), {"code": name, "status": 400, "sender_fault": True})


InvalidLookupAttributesException = _error("InvalidLookupAttributesException")
InvalidTimeRangeException = _error("InvalidTimeRangeException")
InvalidMaxResultsException = _error("InvalidMaxResultsException")
InvalidNextTokenException = _error("InvalidNextTokenException")
InvalidEventCategoryException = _error("InvalidEventCategoryException")
UnsupportedOperationException = _error("UnsupportedOperationException")
OperationNotPermittedException = _error("OperationNotPermittedException")
InvalidParameterException = _error("InvalidParameterException")

__all__ = [
    "InvalidEventCategoryException",
    "InvalidLookupAttributesException",
    "InvalidMaxResultsException",
    "InvalidNextTokenException",
    "InvalidParameterException",
    "InvalidTimeRangeException",
    "OperationNotPermittedException",
    "ThrottlingException",
    "UnsupportedOperationException",
]
