"""Access key and account id formats, as AWS issues them.

Access key ids are ``AKIA`` (long-term) or ``ASIA`` (temporary) followed by 16 characters of
base32 (``A-Z2-7``); secrets are 40 characters of base64 alphabet; account ids are 12 digits.
"""

from __future__ import annotations

import secrets
import string

_BASE32 = string.ascii_uppercase + "234567"
_SECRET = string.ascii_letters + string.digits + "+/"


def new_access_key_id(prefix: str = "AKIA") -> str:
    return prefix + "".join(secrets.choice(_BASE32) for _ in range(16))


def new_secret_access_key() -> str:
    return "".join(secrets.choice(_SECRET) for _ in range(40))


def new_account_id() -> str:
    return str(secrets.randbelow(9 * 10**11) + 10**11)
