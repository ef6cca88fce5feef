"""The CloudTrail record of a console sign-in (``AwsConsoleSignIn`` / ``ConsoleLogin``), as AWS writes it.

``console_login_record`` is a pure function, like ``record.build_record``; the console stores what
it returns through the event store inside a group-commit batch. Field by field it follows the
recorded AWS sign-in events (``aws-recorded/identity-event-records.json``, ``signin-consolelogin-*``,
and the failures in ``error-responses.json``):

* ``eventVersion`` ``1.08`` (what AWS still writes for sign-in events in 2024 captures, while its
  API-call records were at 1.09); ``eventSource`` ``signin.amazonaws.com``, ``eventName``
  ``ConsoleLogin``, ``eventType`` ``AwsConsoleSignIn``; ``awsRegion`` ``us-east-1`` (the global
  sign-in endpoint); ``readOnly`` false, ``managementEvent`` true, ``eventCategory`` Management;
* ``requestParameters`` ``null``; ``responseElements`` ``{"ConsoleLogin": "Success" | "Failure"}``;
  a failure carries ``errorMessage`` "Failed authentication" and no ``errorCode``;
* ``additionalEventData``: ``LoginTo`` (the console URL the user was signing in to),
  ``MobileVersion`` "No", ``MFAUsed`` "No" (trailpost has no console MFA), in that order;
* no ``requestID``; ``userAgent`` and ``sourceIPAddress`` are the browser's; ``tlsDetails`` only
  over TLS, with the ``Host`` the browser used;
* ``userIdentity``: root: ``type``, ``principalId``, ``arn``, ``accountId``, ``accessKeyId: ""``
  (success and failure alike); IAM user, success: ``type``, ``principalId``, ``arn``,
  ``accountId``, ``userName`` (no ``accessKeyId``, as in AWS's real capture); IAM user, failure:
  ``type``, ``principalId``, ``accountId``, ``accessKeyId: ""``, ``userName`` (no ``arn``).
  The long-term access key a trailpost user signs in with is never shown: AWS's password sign-in
  records carry none;
* temporary credentials (a role session signing in, as through AWS's federation endpoint): the
  full ``userIdentity`` of API records, with the ``ASIA`` key and ``sessionContext``, and
  ``additionalEventData`` without ``LoginTo`` (the recorded Identity Center role-session sign-in,
  ``signin-consolelogin-ok-2``).
"""

from __future__ import annotations

from typing import Any

from trailpost.audit.identity import user_identity
from trailpost.audit.record import truncate
from trailpost.identity.principal import Principal
from trailpost.protocol.timestamps import iso8601_epoch

SIGNIN_EVENT_VERSION = "1.08"
SIGNIN_SOURCE = "signin.amazonaws.com"
SIGNIN_REGION = "us-east-1"
FAILED_AUTHENTICATION = "Failed authentication"


def signin_identity(principal: Principal, *, success: bool) -> dict[str, Any]:
    """The ``userIdentity`` of a sign-in record for ``principal`` (module docstring)."""
    if principal.session is not None:
        return user_identity(principal)
    if principal.identity_type == "Root":
        return {
            "type": "Root",
            "principalId": principal.principal_id,
            "arn": principal.arn,
            "accountId": principal.account_id,
            "accessKeyId": "",
        }
    identity: dict[str, Any] = {"type": principal.identity_type, "principalId": principal.principal_id}
    if success:
        identity["arn"] = principal.arn
        identity["accountId"] = principal.account_id
    else:
        identity["accountId"] = principal.account_id
        identity["accessKeyId"] = ""
    if principal.user_name:
        identity["userName"] = principal.user_name
    return identity


def console_login_record(
    principal: Principal,
    *,
    success: bool,
    event_id: str,
    event_time: float,
    source_ip: str,
    user_agent: str,
    login_to: str,
    tls_details: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The ``ConsoleLogin`` record of one sign-in attempt by ``principal`` (module docstring)."""
    record: dict[str, Any] = {
        "eventVersion": SIGNIN_EVENT_VERSION,
        "userIdentity": signin_identity(principal, success=success),
        "eventTime": iso8601_epoch(event_time),
        "eventSource": SIGNIN_SOURCE,
        "eventName": "ConsoleLogin",
        "awsRegion": SIGNIN_REGION,
        "sourceIPAddress": source_ip,
    }
    if user_agent:
        record["userAgent"] = truncate(user_agent)
    if not success:
        record["errorMessage"] = FAILED_AUTHENTICATION
    record["requestParameters"] = None
    record["responseElements"] = {"ConsoleLogin": "Success" if success else "Failure"}
    extra = {"LoginTo": truncate(login_to)} if principal.session is None else {}
    record["additionalEventData"] = {**extra, "MobileVersion": "No", "MFAUsed": "No"}
    record["eventID"] = event_id
    record["readOnly"] = False
    record["eventType"] = "AwsConsoleSignIn"
    record["managementEvent"] = True
    record["recipientAccountId"] = principal.account_id
    record["eventCategory"] = "Management"
    if tls_details:
        record["tlsDetails"] = dict(tls_details)
    return record
