"""Service errors: one exception class per AWS error code, with the HTTP status the model gives it.

A provider raises ``ServiceError(code, message)`` or a subclass named exactly after the code
(``NotFoundException``). The serializer reads the status from the model's error shape when the
service models the code (Outposts ``NotFoundException`` -> 404) and otherwise uses the status the
error carries (400 for client faults, 500 for server faults). Extra members (``ResourceId``) ride
along in ``fields`` with their wire names.
"""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    """An AWS error response: ``code`` is the wire error code, ``status`` the fallback HTTP status."""

    code: str = "InternalFailure"
    status: int = 400
    sender_fault: bool = True

    def __init__(
        self,
        message: str = "",
        *,
        code: str | None = None,
        status: int | None = None,
        fields: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
            self.sender_fault = status < 500
        self.fields = fields or {}
        self.headers = headers or {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code}: {self.message})"


def _error(name: str, status: int) -> type[ServiceError]:
    return type(name, (ServiceError,), {"code": name, "status": status, "sender_fault": status < 500})


# Errors every JSON-protocol AWS service returns whether or not its model lists them.
ValidationException = _error("ValidationException", 400)
SerializationException = _error("SerializationException", 400)
UnknownOperationException = _error("UnknownOperationException", 400)
AccessDeniedException = _error("AccessDeniedException", 403)
NotFoundException = _error("NotFoundException", 404)
ConflictException = _error("ConflictException", 409)
ServiceQuotaExceededException = _error("ServiceQuotaExceededException", 402)
ThrottlingException = _error("ThrottlingException", 400)
InternalFailure = _error("InternalFailure", 500)
InternalServerException = _error("InternalServerException", 500)
RequestEntityTooLargeException = _error("RequestEntityTooLargeException", 413)
UnsupportedMediaTypeException = _error("UnsupportedMediaTypeException", 415)

# Authentication errors of the JSON protocols (json, rest-json).
MissingAuthenticationTokenException = _error("MissingAuthenticationTokenException", 403)
IncompleteSignatureException = _error("IncompleteSignatureException", 400)
UnrecognizedClientException = _error("UnrecognizedClientException", 403)
InvalidSignatureException = _error("InvalidSignatureException", 403)
ExpiredTokenException = _error("ExpiredTokenException", 403)

# Errors of the query protocol (IAM, STS) that their models do not list.
ValidationError = _error("ValidationError", 400)
AccessDenied = _error("AccessDenied", 403)
InvalidAction = _error("InvalidAction", 400)
MissingAction = _error("MissingAction", 400)

# The error a request that breaks the model's constraints gets, per protocol: the JSON protocols
# answer ``ValidationException``, the query protocol ``ValidationError``.
VALIDATION_ERRORS: dict[str, type[ServiceError]] = {
    "query": ValidationError,
    "rest-xml": _error("InvalidArgument", 400),  # S3
}
# The error of a call the caller's policies do not allow, per protocol.
ACCESS_DENIED_ERRORS: dict[str, type[ServiceError]] = {"query": AccessDenied, "rest-xml": AccessDenied}


def validation_error(protocol: str, message: str) -> ServiceError:
    """The validation error of ``protocol`` (``ValidationException`` unless the table says otherwise)."""
    return VALIDATION_ERRORS.get(protocol, ValidationException)(message)


def access_denied(protocol: str, message: str) -> ServiceError:
    """The access-denied error of ``protocol`` (``AccessDeniedException`` unless the table says otherwise)."""
    return ACCESS_DENIED_ERRORS.get(protocol, AccessDeniedException)(message)
