"""IAM's errors, raised under their model shape names.

CloudTrail records an IAM failure under the shape name (``NoSuchEntityException``,
``LimitExceededException``) while the client receives the shape's query code (``NoSuchEntity``,
``LimitExceeded``) with the shape's HTTP status: the query serializer sends the code and status
(``protocol.query``), the record keeps the name. ``ValidationError`` and ``AccessDenied`` are not
modeled and read the same in both places.
"""

from __future__ import annotations

from trailpost.protocol.errors import AccessDenied, ServiceError, ValidationError


def _error(name: str, status: int) -> type[ServiceError]:
    return type(name, (ServiceError,), {"code": name, "status": status, "sender_fault": status < 500})


NoSuchEntityException = _error("NoSuchEntityException", 404)
EntityAlreadyExistsException = _error("EntityAlreadyExistsException", 409)
DeleteConflictException = _error("DeleteConflictException", 409)
LimitExceededException = _error("LimitExceededException", 409)
MalformedPolicyDocumentException = _error("MalformedPolicyDocumentException", 400)
InvalidInputException = _error("InvalidInputException", 400)
UnmodifiableEntityException = _error("UnmodifiableEntityException", 400)

__all__ = [
    "AccessDenied",
    "DeleteConflictException",
    "EntityAlreadyExistsException",
    "InvalidInputException",
    "LimitExceededException",
    "MalformedPolicyDocumentException",
    "NoSuchEntityException",
    "UnmodifiableEntityException",
    "ValidationError",
    "invalid_marker",
]


def invalid_marker(message: str) -> ServiceError:
    """A ``Marker`` that no listing of this request produced."""
    return ValidationError(message.replace("NextToken", "Marker"))
