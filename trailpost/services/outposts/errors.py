"""Outposts' modeled errors; HTTP statuses come from the model (404, 409, 402...)."""

from __future__ import annotations

from trailpost.protocol.errors import (
    AccessDeniedException,
    InternalServerException,
    NotFoundException,
    ServiceError,
    ServiceQuotaExceededException,
    ValidationException,
)
from trailpost.protocol.errors import (
    ConflictException as _Conflict,
)

__all__ = [
    "AccessDeniedException",
    "ConflictException",
    "InternalServerException",
    "NotFoundException",
    "ServiceQuotaExceededException",
    "ValidationException",
    "conflict",
]

ConflictException = _Conflict


def conflict(message: str, resource_id: str, resource_type: str) -> ServiceError:
    """A ``ConflictException`` with the modeled ``ResourceId`` and ``ResourceType`` (OUTPOST | ORDER)."""
    return ConflictException(message, fields={"ResourceId": resource_id, "ResourceType": resource_type})
