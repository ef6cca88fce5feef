"""Copies of one call's record for other accounts: the resource owner's view of a cross-account call.

When a caller in one account acts on a resource another account owns (today: ``sts:AssumeRole`` of
a role in another account of this trailpost), CloudTrail delivers the event to both accounts
(reference 1.3): each copy has its own ``eventID`` and ``recipientAccountId``, and both carry one
``sharedEventID`` (a GUID). The owner's copy shows the caller as ``userIdentity`` of type
``AWSAccount``: ``principalId`` and ``accountId`` of the caller, nothing of its credentials
(``accessKeyId``, session context) since those belong to the other account (reference 2.1, 2.3).

Rules: ``sharedEventID`` sits right after ``recipientAccountId`` (the observed key order, 1.6);
a copy is made per distinct other account, never for the caller's own; failed calls are shared too
(a denied AssumeRole is what the role owner's detections look for).
"""

from __future__ import annotations

import uuid
from typing import Any


def shared_records(record: dict[str, Any], recipients: list[str]) -> list[dict[str, Any]]:
    """``record`` (the caller's copy) and one copy per other account in ``recipients``."""
    caller_account = record.get("recipientAccountId")
    others = [account for account in dict.fromkeys(recipients) if account and account != caller_account]
    if not others:
        return [record]
    shared_id = str(uuid.uuid4())
    copies = [_with_shared_id(record, shared_id)]
    identity = record.get("userIdentity") or {}
    owner_view = {
        "type": "AWSAccount",
        "principalId": identity.get("principalId", ""),
        "accountId": identity.get("accountId", caller_account),
    }
    for account in others:
        # Its own eventID comes with its own position in the event store (``store.events.prepare``).
        copy = {**record, "userIdentity": owner_view, "recipientAccountId": account}
        copies.append(_with_shared_id(copy, shared_id))
    return copies


def _with_shared_id(record: dict[str, Any], shared_id: str) -> dict[str, Any]:
    """``record`` with ``sharedEventID`` inserted after ``recipientAccountId``."""
    result: dict[str, Any] = {}
    for key, value in record.items():
        if key == "sharedEventID":
            continue
        result[key] = value
        if key == "recipientAccountId":
            result["sharedEventID"] = shared_id
    result.setdefault("sharedEventID", shared_id)
    return result
