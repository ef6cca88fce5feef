"""S3's error codes with the HTTP status S3 answers them with (the S3 model lists only a few).

Messages are S3's own; bucket errors carry ``BucketName``, key errors ``Key``, as S3's XML does.
"""

from __future__ import annotations

from typing import Any

from trailpost.protocol.errors import ServiceError


class S3Error(ServiceError):
    """An S3 error whose message defaults to S3's usual text for the code."""

    default_message = ""

    def __init__(self, message: str = "", **kwargs: Any) -> None:
        super().__init__(message or self.default_message, **kwargs)


def _error(name: str, status: int, message: str) -> type[S3Error]:
    return type(name, (S3Error,), {"code": name, "status": status, "default_message": message})


NoSuchBucket = _error("NoSuchBucket", 404, "The specified bucket does not exist")
NoSuchKey = _error("NoSuchKey", 404, "The specified key does not exist.")
BucketAlreadyExists = _error(
    "BucketAlreadyExists",
    409,
    "The requested bucket name is not available. The bucket namespace is shared by all users of the system. "
    "Please select a different name and try again.",
)
BucketAlreadyOwnedByYou = _error(
    "BucketAlreadyOwnedByYou", 409, "Your previous request to create the named bucket succeeded and you already own it."
)
BucketNotEmpty = _error("BucketNotEmpty", 409, "The bucket you tried to delete is not empty")
InvalidBucketName = _error("InvalidBucketName", 400, "The specified bucket is not valid.")
NoSuchBucketPolicy = _error("NoSuchBucketPolicy", 404, "The bucket policy does not exist")
MalformedPolicy = _error("MalformedPolicy", 400, "Policies must be valid JSON and the first byte must be '{'")
AccessDenied = _error("AccessDenied", 403, "Access Denied")
SignatureDoesNotMatch = _error(
    "SignatureDoesNotMatch",
    403,
    "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
)
InvalidRange = _error("InvalidRange", 416, "The requested range is not satisfiable")
EntityTooLarge = _error("EntityTooLarge", 400, "Your proposed upload exceeds the maximum allowed size")
BadDigest = _error("BadDigest", 400, "The Content-MD5 you specified did not match what we received.")
InvalidDigest = _error("InvalidDigest", 400, "The Content-MD5 you specified is not valid.")
XAmzContentSHA256Mismatch = _error(
    "XAmzContentSHA256Mismatch", 400, "The provided 'x-amz-content-sha256' header does not match what was computed."
)
IllegalLocationConstraintException = _error(
    "IllegalLocationConstraintException",
    400,
    "The unspecified location constraint is incompatible for the region specific endpoint this request was sent to.",
)
InvalidLocationConstraint = _error("InvalidLocationConstraint", 400, "The specified location-constraint is not valid")
MethodNotAllowed = _error("MethodNotAllowed", 405, "The specified method is not allowed against this resource.")
InvalidArgument = _error("InvalidArgument", 400, "Invalid Argument")
InvalidRequest = _error("InvalidRequest", 400, "Invalid Request")
KeyTooLongError = _error("KeyTooLongError", 400, "Your key is too long")
MalformedXML = _error(
    "MalformedXML",
    400,
    "The XML you provided was not well-formed or did not validate against our published schema",
)
IncompleteBody = _error("IncompleteBody", 400, "The request body terminated unexpectedly")
InvalidAccessKeyId = _error(
    "InvalidAccessKeyId", 403, "The AWS Access Key Id you provided does not exist in our records."
)
AuthorizationHeaderMalformed = _error("AuthorizationHeaderMalformed", 400, "The authorization header is malformed")
AuthorizationQueryParametersError = _error(
    "AuthorizationQueryParametersError", 400, "Query-string authentication parameters are malformed"
)
RequestTimeTooSkewed = _error(
    "RequestTimeTooSkewed", 403, "The difference between the request time and the current time is too large."
)
ExpiredToken = _error("ExpiredToken", 400, "The provided token has expired.")
InvalidToken = _error("InvalidToken", 400, "The provided token is malformed or otherwise invalid.")
InvalidBucketOwnerAWSAccountID = _error(
    "InvalidBucketOwnerAWSAccountID", 400, "The value of the expected bucket owner parameter must be an AWS Account ID"
)
PreconditionFailed = _error("PreconditionFailed", 412, "At least one of the pre-conditions you specified did not hold")
NotModified = _error("NotModified", 304, "Not Modified")
NotImplemented_ = _error("NotImplemented", 501, "A header you provided implies functionality that is not implemented")


def no_such_bucket(bucket: str) -> ServiceError:
    return NoSuchBucket(fields={"BucketName": bucket})


def no_such_key(key: str) -> ServiceError:
    return NoSuchKey(fields={"Key": key})
