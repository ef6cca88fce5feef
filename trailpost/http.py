"""The HTTP request and response as the gateway sees them, independent of the ASGI server.

The path and query are kept raw (undecoded): SigV4 signs them that way and rest-json routes on
the raw path before decoding labels, so an ARN's ``%2F`` never splits a segment.

Rules:

* A request target (path and query) is visible ASCII only (RFC 3986); anything else, and any
  invalid percent-escape or percent-encoded non-UTF-8 sequence met while decoding, is
  ``MalformedEncoding``, which the gateway answers as a client error.
* In the query string ``+`` means a space and ``%2B`` a plus sign (form encoding, as AWS's
  front ends read it); in the path ``+`` is itself.
* Header names are lower-cased; header values are the raw bytes read as Latin-1, so no byte
  sequence can fail to decode; repeated headers are joined with ``,`` (RFC 9110 5.3).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import unquote

from trailpost.tls import TlsInfo

_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
_NOT_TARGET = re.compile(rb"[^\x21-\x7e]")


class MalformedEncoding(ValueError):
    """A path or query string with an invalid percent-escape, raw non-ASCII or non-UTF-8 bytes."""


def percent_decode(text: str, *, plus_is_space: bool = False) -> str:
    """Strictly decode ``text``: a stray ``%`` or an invalid UTF-8 sequence is an error."""
    if _BAD_ESCAPE.search(text):
        raise MalformedEncoding(f"invalid percent-encoding in {text!r}")
    if plus_is_space:
        text = text.replace("+", " ")
    try:
        return unquote(text, errors="strict")
    except UnicodeDecodeError as exc:
        raise MalformedEncoding(f"invalid UTF-8 in {text!r}") from exc


def check_request_target(raw_path: bytes, raw_query: bytes) -> None:
    """``MalformedEncoding`` unless path and query are visible ASCII, as RFC 3986 requires."""
    if _NOT_TARGET.search(raw_path) or _NOT_TARGET.search(raw_query):
        raise MalformedEncoding("the request URI holds characters that must be percent-encoded")


def read_headers(raw: list[tuple[bytes, bytes]] | tuple[tuple[bytes, bytes], ...]) -> dict[str, str]:
    """ASGI header pairs as a dict: lower-cased names, Latin-1 values, repeats joined with ``,``."""
    headers: dict[str, str] = {}
    for raw_name, raw_value in raw:
        name = raw_name.decode("latin-1").lower()
        value = raw_value.decode("latin-1")
        headers[name] = f"{headers[name]},{value}" if name in headers else value
    return headers


@dataclass(slots=True)
class HttpRequest:
    """One request: method, raw path and query, lower-cased headers, body, client address, and the
    TLS facts of its connection (``None`` over plain HTTP). ``console`` is true only for requests
    the web console built in-process for a signed-in user (never set from the wire)."""

    method: str
    raw_path: str
    query_string: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    client_host: str = ""
    client_port: int = 0
    scheme: str = "http"
    tls: TlsInfo | None = None
    console: bool = False
    # True only for a request a reader process hands to the writer after verifying its signature
    # (``trailpost.readers``): the writer does not compute the signature again. Never set from the wire.
    verified: bool = False
    _query: list[tuple[str, str]] | None = None

    def query_pairs(self) -> list[tuple[str, str]]:
        """Decoded ``(key, value)`` pairs in order; repeated keys stay repeated."""
        if self._query is None:
            pairs = []
            for part in self.query_string.split("&") if self.query_string else ():
                if not part:
                    continue
                key, _, value = part.partition("=")
                pairs.append((percent_decode(key, plus_is_space=True), percent_decode(value, plus_is_space=True)))
            self._query = pairs
        return self._query

    def query_values(self, key: str) -> list[str]:
        return [v for k, v in self.query_pairs() if k == key]

    @property
    def user_agent(self) -> str:
        return self.headers.get("user-agent", "")


@dataclass(slots=True)
class HttpResponse:
    """A response ready for the wire."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    def wire_headers(self) -> list[tuple[bytes, bytes]]:
        """Headers as ASGI pairs; CR, LF and other control characters in values become spaces."""
        pairs = []
        for name, value in self.headers.items():
            text = str(value)
            if not text.isprintable():  # printable text holds none of the control characters
                text = _CONTROL.sub(" ", text)
            pairs.append((name.encode("latin-1"), text.encode("latin-1", errors="replace")))
        return pairs


_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
