"""Random bytes for identifiers made on the request path, read from the OS a block at a time.

Every call gets a request id, and writes name what they create (``os-…``, S3's request ids): each was
an ``os.urandom`` of its own. ``os.urandom`` releases the GIL around its ``getrandom`` system call, and
in a serving process the event loop then has to win the GIL back from the committer thread: under
load that wait, not the system call, is the cost (docs/decisions.md, "Request ids without a GIL
hand-over"). ``token_bytes`` hands out bytes of one ``os.urandom`` block of ``BLOCK`` bytes until it
is used up, so a block serves 256 request ids.

Rules:

* the bytes are the OS's CSPRNG output, each handed out once; for identifiers, not for secrets
  (keys, tokens and passwords keep ``secrets``: a pool keeps bytes it has not handed out yet in
  memory);
* thread-safe (a lock around the pool); a forked child starts with an empty pool, so parent and
  child never hand out the same bytes (``os.register_at_fork``).
"""

from __future__ import annotations

import os
import threading

BLOCK = 4096


class _Pool:
    __slots__ = ("_block", "_lock", "_used")

    def __init__(self) -> None:
        self._block = b""
        self._used = 0
        self._lock = threading.Lock()

    def take(self, n: int) -> bytes:
        with self._lock:
            start = self._used
            if start + n > len(self._block):
                self._block, start = os.urandom(max(BLOCK, n)), 0
            self._used = start + n
            return self._block[start : start + n]

    def forget(self) -> None:
        """Drop what is left (in a forked child: the parent may hand those bytes out too)."""
        self._block, self._used, self._lock = b"", 0, threading.Lock()


_POOL = _Pool()
os.register_at_fork(after_in_child=_POOL.forget)


def token_bytes(n: int) -> bytes:
    """``n`` random bytes from the OS's CSPRNG, never handed out before (for identifiers)."""
    return _POOL.take(n)


def token_hex(n: int) -> str:
    """``token_bytes(n)`` as ``2 * n`` lower-case hex digits."""
    return _POOL.take(n).hex()
