"""ListPublicKeys: the public halves of the region's digest signing keys (``trailpost.delivery.signing``).

Rules (reference section 4.5; AWS API reference):

* keys are per region: the caller's region (its SigV4 scope) names the key ring asked;
* ``StartTime`` and ``EndTime`` default to now ("the current public key is returned"); every key
  whose validity window ``[ValidityStartTime, ValidityEndTime]`` overlaps the range is listed,
  oldest first; the region's current key is created on first need, so "now" always lists one;
  the handler runs on the event loop, so that key comes from the ring's pre-generated spares
  (``KeyRing.current_now``): no RSA generation inside the call;
* a start after the end is ``InvalidTimeRangeException``;
* ``NextToken`` is "reserved for future use": answers never carry one (a region holds one key per
  rotation period), and a token given is ``InvalidTokenException``;
* ``Value`` is the PKCS#1 ``RSAPublicKey`` DER (base64 on the wire), ``Fingerprint`` the lowercase
  hex MD5 of those bytes, the validity times epoch seconds.
"""

from __future__ import annotations

import time
from typing import Any

from trailpost.gateway.context import RequestContext
from trailpost.protocol.errors import ServiceError
from trailpost.services.cloudtrail.errors import InvalidTimeRangeException
from trailpost.services.cloudtrail.operations import ops

InvalidTokenException = type(
    "InvalidTokenException", (ServiceError,), {"code": "InvalidTokenException", "status": 400, "sender_fault": True}
)


@ops("ListPublicKeys")
def list_public_keys(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    if params.get("next_token"):
        raise InvalidTokenException("Reserved for future use: ListPublicKeys answers fit in one page.")
    now = ctx.received or time.time()
    start = params["start_time"].timestamp() if params.get("start_time") is not None else now
    end = params["end_time"].timestamp() if params.get("end_time") is not None else now
    if start > end:
        raise InvalidTimeRangeException("Start time must be before or at the end time.")
    # On first use, with cryptography: reader processes never answer ListPublicKeys (~10 MiB each).
    from trailpost.delivery.signing import keyring

    ring = keyring(ctx.settings)
    ring.current_now(ctx.region, now)  # the region has a key from its first need on (a spare)
    return {
        "public_key_list": [
            {
                "value": key.public_der,
                "validity_start_time": key.validity_start,
                "validity_end_time": key.validity_end,
                "fingerprint": key.fingerprint,
            }
            for key in ring.in_range(ctx.region, start, end)
        ]
    }
