"""The checksums S3 verifies: ``Content-MD5`` and the ``x-amz-checksum-*`` algorithms.

``x-amz-checksum-<algorithm>`` holds the base64 of the big-endian digest: CRC32 (zlib), CRC32C
(Castagnoli), CRC64NVME, SHA1, SHA256. CRC32C and CRC64NVME come from awscrt, the C library
botocore computes them with (its ``crt`` extra, same pin): a checksum runs on the event loop, and
the pure Python tables used before took ~0.12 s per MiB (a 256 MiB object held every other call for
30 s), awscrt ~0.2 ms. A mismatch is ``BadDigest`` ("The CRC32 you specified did not match the
calculated checksum."), an unreadable value ``InvalidRequest``; a wrong ``Content-MD5`` is
``BadDigest``, an unreadable one ``InvalidDigest``, as S3 answers.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import zlib
from collections.abc import Callable

from awscrt import checksums as crt_checksums

from trailpost.services.s3.errors import BadDigest, InvalidDigest, InvalidRequest

ALGORITHMS: dict[str, Callable[[bytes], bytes]] = {
    "crc32": lambda data: zlib.crc32(data).to_bytes(4, "big"),
    "crc32c": lambda data: crt_checksums.crc32c(data).to_bytes(4, "big"),
    "crc64nvme": lambda data: crt_checksums.crc64nvme(data).to_bytes(8, "big"),
    "sha1": lambda data: hashlib.sha1(data, usedforsecurity=False).digest(),
    "sha256": lambda data: hashlib.sha256(data).digest(),
}
HEADER_PREFIX = "x-amz-checksum-"


def checksum(algorithm: str, body: bytes) -> str:
    """The base64 value of ``x-amz-checksum-<algorithm>`` for ``body``."""
    return base64.b64encode(ALGORITHMS[algorithm](body)).decode()


def verify_checksums(headers: dict[str, str], body: bytes) -> dict[str, str]:
    """Check every ``x-amz-checksum-*`` header against ``body``; the verified ones by algorithm."""
    verified = {}
    for name, value in headers.items():
        if not name.startswith(HEADER_PREFIX) or name == HEADER_PREFIX + "type":
            continue
        algorithm = name[len(HEADER_PREFIX) :]
        if algorithm not in ALGORITHMS:
            continue
        try:
            given = base64.b64decode(value.strip(), validate=True)
        except binascii.Error:
            raise InvalidRequest(f"Value for {name} header is invalid.") from None
        if given != ALGORITHMS[algorithm](body):
            raise BadDigest(f"The {algorithm.upper()} you specified did not match the calculated checksum.")
        verified[algorithm] = value.strip()
    return verified


def verify_content_md5(value: str | None, body: bytes) -> None:
    """``Content-MD5`` must be the base64 MD5 of ``body``."""
    if value is None:
        return
    try:
        given = base64.b64decode(value.strip(), validate=True)
    except binascii.Error:
        raise InvalidDigest() from None
    if len(given) != 16:
        raise InvalidDigest()
    if given != hashlib.md5(body, usedforsecurity=False).digest():
        raise BadDigest()
