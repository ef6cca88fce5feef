"""Which calls a reader process answers itself, and which go to the writer.

A reader answers a call itself only when its handler reads the state store and nothing else that
the writer keeps in memory: the read operations of Outposts (``Get*``, ``List*``), IAM (``Get*``,
``List*``) and CloudTrail's ``LookupEvents`` (not when LookupEvents is throttled: the rate limiter
lives in the writer). Everything else goes to the writer whole: every write, S3 (object bodies,
data events), STS (its ``Get*`` calls issue credentials), the other CloudTrail reads (trails are
cached in the writer's memory, signing keys live there) and the web console. Should an allowed
handler still try to write (an access key's last use, noted once a minute), the store refuses
(``ReadOnlyStoreError``) and the call goes to the writer too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from trailpost.gateway.context import RequestContext

READ_PREFIXES = ("Get", "List")
LOCAL_SERVICES = frozenset({"outposts", "iam"})  # signing names whose Get*/List* handlers only read the store


def answers_locally(ctx: RequestContext, *, throttled_lookups: bool = False) -> bool:
    """Whether a reader process may answer ``ctx``'s call from its own read-only connection."""
    service, operation = ctx.service, ctx.operation
    if service is None or operation is None:
        return True  # nothing to dispatch: the error is answered (and recorded) here
    name = operation.name
    if service.signing_name in LOCAL_SERVICES:
        return name.startswith(READ_PREFIXES)
    if service.signing_name == "cloudtrail":
        return name == "LookupEvents" and not throttled_lookups
    return False
