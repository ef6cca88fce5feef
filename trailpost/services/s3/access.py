"""Who may act on a bucket: its owner's principals (IAM, in ``identity.authorize``), others by policy.

Rules: a call on a bucket of another account is ``AccessDenied`` ("Access Denied") unless the
bucket policy allows the caller (its account id, ``arn:aws:iam::<account>:root``, its ARN, or
``*``) the call's IAM action on the bucket or object ARN, and no statement denies it. Such a call
is recorded for the bucket owner too (``ctx.recipients``). Same-account callers were already
decided by their IAM policies; an explicit Deny in the bucket policy still refuses them.
``x-amz-expected-bucket-owner`` naming another account is ``AccessDenied``, one that is not a
12-digit account id ``InvalidBucketOwnerAWSAccountID``, as AWS answers. Canonical user ids
(``Owner.ID``) are the SHA-256 hex of the account id: 64 hex digits, stable, never showing the
account id itself.
"""

from __future__ import annotations

import hashlib
from typing import Any

from trailpost.gateway.context import RequestContext
from trailpost.identity.authorize import S3_ACTIONS, request_context
from trailpost.identity.policy import Decision
from trailpost.services.s3.errors import AccessDenied, InvalidBucketOwnerAWSAccountID, no_such_bucket
from trailpost.services.s3.policy import bucket_policy_decision
from trailpost.services.s3.storage import BucketStorage


def canonical_id(account_id: str) -> str:
    return hashlib.sha256(f"trailpost-canonical-user:{account_id}".encode()).hexdigest()


def storage(ctx: RequestContext) -> BucketStorage:
    return BucketStorage.for_settings(ctx.store, ctx.settings)


def resource_arn(bucket: str, key: str | None = None) -> str:
    return f"arn:aws:s3:::{bucket}" if key is None else f"arn:aws:s3:::{bucket}/{key}"


def open_bucket(ctx: RequestContext, bucket: str, key: str | None = None) -> dict[str, Any]:
    """The bucket document, once the caller may make this call on it (module docstring)."""
    doc = storage(ctx).get_bucket(bucket)
    if doc is None:
        raise no_such_bucket(bucket)
    assert ctx.operation is not None and ctx.principal is not None
    expected = ctx.wire_params.get("ExpectedBucketOwner")
    if expected is not None:
        if not (len(expected) == 12 and expected.isdigit()):
            raise InvalidBucketOwnerAWSAccountID(
                f"The value of the expected bucket owner parameter must be an AWS Account ID... [{expected}]"
            )
        if expected != doc["account_id"]:
            raise AccessDenied()
    action = S3_ACTIONS.get(ctx.operation.name, f"s3:{ctx.operation.name}")
    owner = doc["account_id"]
    decision = bucket_policy_decision(
        doc.get("policy"),
        account_id=ctx.account_id,
        arn=ctx.principal.arn,
        action=action,
        resource=resource_arn(bucket, key),
        context=request_context(ctx, ctx.principal),
    )
    if owner != ctx.account_id:
        ctx.recipients = [owner]
        if decision is not Decision.ALLOW:
            raise AccessDenied()
    elif decision is Decision.EXPLICIT_DENY:
        raise AccessDenied()
    return doc
