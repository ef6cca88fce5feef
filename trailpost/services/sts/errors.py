"""STS's errors, raised under their model shape names (recorded so; sent with the shape's query code).

``AccessDenied``, ``ValidationError`` and ``InvalidParameterValue`` are not modeled and read the
same for clients and in records.
"""

from __future__ import annotations

from trailpost.protocol.errors import AccessDenied, ServiceError, ValidationError


def _error(name: str, status: int) -> type[ServiceError]:
    return type(name, (ServiceError,), {"code": name, "status": status, "sender_fault": status < 500})


MalformedPolicyDocumentException = _error("MalformedPolicyDocumentException", 400)
PackedPolicyTooLargeException = _error("PackedPolicyTooLargeException", 400)
InvalidIdentityTokenException = _error("InvalidIdentityTokenException", 400)
IDPRejectedClaimException = _error("IDPRejectedClaimException", 403)
InvalidParameterValue = _error("InvalidParameterValue", 400)

__all__ = [
    "AccessDenied",
    "IDPRejectedClaimException",
    "InvalidIdentityTokenException",
    "InvalidParameterValue",
    "MalformedPolicyDocumentException",
    "PackedPolicyTooLargeException",
    "ValidationError",
]
