"""The checksums S3 verifies: ``Content-MD5`` and the ``x-amz-checksum-*`` algorithms.

``x-amz-checksum-<algorithm>`` holds the base64 of the big-endian digest: CRC32 (zlib), CRC32C
(Castagnoli), CRC64NVME, SHA1, SHA256. CRC32C and CRC64NVME are table-driven here (no C library
ships in the environment; botocore uses awscrt for them when installed). A mismatch is
``BadDigest`` ("The CRC32 you specified did not match the calculated checksum."), an unreadable
value ``InvalidRequest``; a wrong ``Content-MD5`` is ``BadDigest``, an unreadable one
``InvalidDigest``, as S3 answers.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import zlib
from collections.abc import Callable

from trailpost.services.s3.errors import BadDigest, InvalidDigest, InvalidRequest


def _table(poly: int, width: int) -> list[int]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ poly if crc & 1 else crc >> 1
        table.append(crc & ((1 << width) - 1))
    return table


_CRC32C = _table(0x82F63B78, 32)
_CRC64NVME = _table(0x9A6C9329AC4BC9B5, 64)


def _reflected(table: list[int], width: int) -> Callable[[bytes], int]:
    mask = (1 << width) - 1

    def digest(data: bytes) -> int:
        crc = mask
        for byte in data:
            crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
        return crc ^ mask

    return digest


crc32c = _reflected(_CRC32C, 32)
crc64nvme = _reflected(_CRC64NVME, 64)

ALGORITHMS: dict[str, Callable[[bytes], bytes]] = {
    "crc32": lambda data: zlib.crc32(data).to_bytes(4, "big"),
    "crc32c": lambda data: crc32c(data).to_bytes(4, "big"),
    "crc64nvme": lambda data: crc64nvme(data).to_bytes(8, "big"),
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
