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
CloudTrailARNInvalidException = _error("CloudTrailARNInvalidException")
CloudWatchLogsDeliveryUnavailableException = _error("CloudWatchLogsDeliveryUnavailableException")
InsightNotEnabledException = _error("InsightNotEnabledException")
InsufficientS3BucketPolicyException = _error("InsufficientS3BucketPolicyException")
InvalidEventSelectorsException = _error("InvalidEventSelectorsException")
InvalidHomeRegionException = _error("InvalidHomeRegionException")
InvalidInsightSelectorsException = _error("InvalidInsightSelectorsException")
InvalidParameterCombinationException = _error("InvalidParameterCombinationException")
InvalidS3BucketNameException = _error("InvalidS3BucketNameException")
InvalidS3PrefixException = _error("InvalidS3PrefixException")
InvalidSnsTopicNameException = _error("InvalidSnsTopicNameException")
InvalidTagParameterException = _error("InvalidTagParameterException")
InvalidTrailNameException = _error("InvalidTrailNameException")
KmsKeyNotFoundException = _error("KmsKeyNotFoundException")
MaximumNumberOfTrailsExceededException = _error("MaximumNumberOfTrailsExceededException")
OrganizationsNotInUseException = _error("OrganizationsNotInUseException")
ResourceNotFoundException = _error("ResourceNotFoundException")
ResourceTypeNotSupportedException = _error("ResourceTypeNotSupportedException")
S3BucketDoesNotExistException = _error("S3BucketDoesNotExistException")
TagsLimitExceededException = _error("TagsLimitExceededException")
TrailAlreadyExistsException = _error("TrailAlreadyExistsException")
TrailNotFoundException = _error("TrailNotFoundException")

__all__ = [
    "CloudTrailARNInvalidException",
    "CloudWatchLogsDeliveryUnavailableException",
    "InsightNotEnabledException",
    "InsufficientS3BucketPolicyException",
    "InvalidEventCategoryException",
    "InvalidEventSelectorsException",
    "InvalidHomeRegionException",
    "InvalidInsightSelectorsException",
    "InvalidLookupAttributesException",
    "InvalidMaxResultsException",
    "InvalidNextTokenException",
    "InvalidParameterCombinationException",
    "InvalidParameterException",
    "InvalidS3BucketNameException",
    "InvalidS3PrefixException",
    "InvalidSnsTopicNameException",
    "InvalidTagParameterException",
    "InvalidTimeRangeException",
    "InvalidTrailNameException",
    "KmsKeyNotFoundException",
    "MaximumNumberOfTrailsExceededException",
    "OperationNotPermittedException",
    "OrganizationsNotInUseException",
    "ResourceNotFoundException",
    "ResourceTypeNotSupportedException",
    "S3BucketDoesNotExistException",
    "TagsLimitExceededException",
    "ThrottlingException",
    "TrailAlreadyExistsException",
    "TrailNotFoundException",
    "UnsupportedOperationException",
]
