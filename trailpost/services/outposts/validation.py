"""Outposts-specific validation errors shared by the operation families."""

from __future__ import annotations

from trailpost.protocol.errors import ServiceError
from trailpost.services.outposts.errors import ValidationException


def invalid_token(message: str) -> ServiceError:
    """The error for a NextToken that is malformed or belongs to another query."""
    return ValidationException(message)
