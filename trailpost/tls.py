"""HTTPS for the API port, and the TLS facts of a connection that a CloudTrail record shows.

``server_context`` builds the server's ``SSLContext`` from ``--tls-cert``/``--tls-key`` (PEM
files; the certificate file may hold the chain, and the key may sit in the certificate file when
``--tls-key`` names the same file). It refuses what cannot work before the server binds anything:
a missing or unreadable file, a key that does not match the certificate. Protocols below TLS 1.2
are refused, as AWS's endpoints refuse them.

The HTTP protocol (``server``) reads the negotiated version and cipher suite once per connection
(``connection_extension``) and hands them to the gateway in the ASGI ``tls`` extension of every
request's scope: the keys the ASGI TLS extension defines (``tls_version`` and ``cipher_suite`` as
the IANA numbers) plus the OpenSSL names under ``tls_version_name``/``cipher_suite_name``.
``TlsInfo.from_extension`` reads either form, so a server that fills in only the ASGI keys works too.

Names are those AWS records: the version as OpenSSL prints it (``TLSv1.3``, ``TLSv1.2``) and the
cipher suite as OpenSSL names it, which is the IANA name for TLS 1.3 (``TLS_AES_128_GCM_SHA256``)
and the OpenSSL name for TLS 1.2 (``ECDHE-RSA-AES128-GCM-SHA256``), as the recorded AWS events show.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

MINIMUM_VERSION = ssl.TLSVersion.TLSv1_2
VERSION_CODES = {"TLSv1": 0x0301, "TLSv1.1": 0x0302, "TLSv1.2": 0x0303, "TLSv1.3": 0x0304}
_VERSION_NAMES = {code: name for name, code in VERSION_CODES.items()}


class TlsSetupError(Exception):
    """The certificate or key cannot be used; the message says which file and why."""


@dataclass(frozen=True, slots=True)
class TlsInfo:
    """What a connection negotiated: protocol version and cipher suite, by their OpenSSL names."""

    version: str
    cipher_suite: str

    @classmethod
    def from_extension(cls, extension: Any) -> TlsInfo | None:
        """The connection's TLS facts from an ASGI ``tls`` extension dict, or ``None`` (plain HTTP)."""
        if not isinstance(extension, dict):
            return None
        version = extension.get("tls_version_name") or _VERSION_NAMES.get(extension.get("tls_version") or -1)
        cipher = extension.get("cipher_suite_name") or _cipher_names().get(extension.get("cipher_suite") or -1)
        if not version and not cipher:
            return None
        return cls(version or "", cipher or "")


def server_context(cert: Path, key: Path | None) -> ssl.SSLContext:
    """The server's TLS context (TLS 1.2 or later); ``TlsSetupError`` if the files cannot serve."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = MINIMUM_VERSION
    for path, what in ((cert, "certificate"), (key, "private key")):
        if path is not None and not path.is_file():
            raise TlsSetupError(f"the TLS {what} {path} does not exist or is not a file")
    try:
        context.load_cert_chain(certfile=str(cert), keyfile=str(key) if key else None)
    except ssl.SSLError as exc:
        reason = exc.reason or str(exc)
        raise TlsSetupError(f"cannot use the TLS certificate {cert} with the key {key or cert}: {reason}") from None
    except OSError as exc:
        raise TlsSetupError(f"cannot read the TLS certificate or key: {exc.strerror or exc}") from None
    return context


def connection_extension(ssl_object: ssl.SSLObject | ssl.SSLSocket | None) -> dict[str, Any] | None:
    """The ASGI ``tls`` extension of a connection, ``None`` for plain HTTP or before a handshake."""
    if ssl_object is None:
        return None
    version = ssl_object.version()
    cipher = ssl_object.cipher()
    if version is None and cipher is None:
        return None
    cipher_name = cipher[0] if cipher else None
    return {
        "server_cert": None,
        "client_cert_chain": [],
        "client_cert_name": None,
        "client_cert_error": None,
        "tls_version": VERSION_CODES.get(version or ""),
        "cipher_suite": _cipher_codes(ssl_object.context).get(cipher_name or ""),
        "tls_version_name": version,
        "cipher_suite_name": cipher_name,
    }


def _cipher_codes(context: ssl.SSLContext) -> dict[str, int]:
    """OpenSSL cipher name -> IANA 16-bit code, for the ciphers ``context`` enables."""
    return {entry["name"]: entry["id"] & 0xFFFF for entry in context.get_ciphers()}


@cache
def _cipher_names() -> dict[int, str]:
    """IANA 16-bit code -> OpenSSL name, for every cipher this OpenSSL offers by default."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.set_ciphers("ALL")
    return {entry["id"] & 0xFFFF: entry["name"] for entry in context.get_ciphers()}
