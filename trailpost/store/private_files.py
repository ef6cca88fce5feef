"""Small private files in the data directory (credentials, secrets), written atomically.

``write_private`` writes to a temporary file beside the target (created 0600 by ``mkstemp``),
fsyncs it, renames it over the target and fsyncs the directory: a reader never sees half a file, a
crash leaves the old file or the new one (and a completed write survives it), and a symlink planted
at the target is replaced, not followed.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def write_private(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data``, readable by the owner only, atomically and durably."""
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
