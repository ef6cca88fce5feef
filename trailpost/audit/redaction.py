"""Per-service rules for what a record shows of a call's payloads, where the model alone cannot say.

The recorded AWS events (``aws-recorded/identity-event-records.json``, README facts D.15-16)
show that services differ:

* **Secrets**: Outposts masks a ``sensitive`` member as ``"***"`` (the seed's ``"Address":
  "***"``); IAM and STS leave secrets out altogether - CreateAccessKey's ``accessKey`` has no
  ``secretAccessKey``, STS ``credentials`` carry ``accessKeyId``, ``sessionToken`` and
  ``expiration`` but no secret, and AssumeRoleWithWebIdentity records no ``webIdentityToken``.
  Session tokens are not ``sensitive`` in the models and are recorded in full, as AWS does.
* **Responses of read-only calls**: ``responseElements`` is null for read-only calls, except for
  the STS calls that hand out credentials: AssumeRole (recorded ``readOnly: true`` *with* its
  ``credentials`` and ``assumedRoleUser``), AssumeRoleWithWebIdentity, AssumeRoleWithSAML and
  GetSessionToken.
* **Dates** inside payloads are Java's medium format in UTC: ``Nov 30, 2024, 8:43:17 PM`` (STS
  and most services) but ``Aug 1, 2024 1:33:28 PM`` for IAM, without the comma after the year.
"""

from __future__ import annotations

from datetime import UTC, datetime

from trailpost.protocol.timestamps import parse_timestamp

MASK = "***"
# Services whose records leave sensitive members out instead of masking them.
SECRETS_LEFT_OUT = frozenset({"iam", "sts"})
# Read-only operations whose responses are recorded all the same.
RESPONSE_RECORDED_WHEN_READ_ONLY = frozenset(
    {
        ("sts", "AssumeRole"),
        ("sts", "AssumeRoleWithWebIdentity"),
        ("sts", "AssumeRoleWithSAML"),
        ("sts", "GetSessionToken"),
    }
)
# Services that print dates without the comma after the year.
DATES_WITHOUT_YEAR_COMMA = frozenset({"iam"})


def masks_secrets(service: str) -> bool:
    """Whether ``service``'s records show a sensitive member as ``"***"`` (else they leave it out)."""
    return service not in SECRETS_LEFT_OUT


def records_response(service: str, operation: str, read_only: bool) -> bool:
    """Whether a successful call's ``responseElements`` are recorded."""
    return not read_only or (service, operation) in RESPONSE_RECORDED_WHEN_READ_ONLY


def date_text(service: str, value: datetime | float | str) -> str:
    """A payload timestamp as ``service``'s records print it (Java's medium format, UTC)."""
    moment = value if isinstance(value, datetime) else parse_timestamp(value)
    moment = moment.astimezone(UTC)
    hour = moment.hour % 12 or 12
    half = "AM" if moment.hour < 12 else "PM"
    comma = "" if service in DATES_WITHOUT_YEAR_COMMA else ","
    return f"{moment:%b} {moment.day}, {moment.year}{comma} {hour}:{moment:%M:%S} {half}"
