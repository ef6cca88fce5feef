"""The per-install secret that binds pagination tokens (NextToken) to their query.

Tokens carry an HMAC of their position and of the query that made them, so a token from another
query, or a forged one, is refused. The HMAC key is a secret of the installation: 32 random bytes
in ``<data-dir>/token.key`` (mode 0600, created on first start, written atomically), so tokens
stay valid across restarts of one installation and are useless against another one. Until
``install`` is called (unit tests that build services in-process) a random key of the process is
used.

``token_mac`` is the MAC itself (HMAC-SHA256), for every kind of token: an HMAC that has absorbed
the key once, copied per token, as SigV4 does with its signing key (``identity.sigv4._signer``):
``hmac.new`` per token hashes the key's pads again every time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from pathlib import Path

from trailpost.store.private_files import write_private

KEY_FILE = "token.key"
KEY_BYTES = 32

_key = secrets.token_bytes(KEY_BYTES)
_keyed = hmac.new(_key, digestmod=hashlib.sha256)


def token_key() -> bytes:
    """The HMAC key of pagination tokens."""
    return _key


def token_mac(data: bytes) -> bytes:
    """HMAC-SHA256 of ``data`` under the token key (32 bytes; callers truncate as their format says)."""
    mac = _keyed.copy()
    mac.update(data)
    return mac.digest()


def install(path: Path) -> None:
    """Use the key stored at ``path``, creating it (0600, atomically) if it does not exist yet."""
    global _key, _keyed
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        data = b""
    if len(data) != KEY_BYTES:
        data = secrets.token_bytes(KEY_BYTES)
        write_private(path, data)
    _key = data
    _keyed = hmac.new(_key, digestmod=hashlib.sha256)
