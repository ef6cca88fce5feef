"""The HTTP request and response as the gateway sees them, independent of the ASGI server.

The path and query are kept raw (undecoded): SigV4 signs them that way and rest-json routes on
the raw path before decoding labels, so an ARN's ``%2F`` never splits a segment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import unquote

_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


class MalformedEncoding(ValueError):
    """A path or query string with an invalid percent-escape or non-UTF-8 bytes."""


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


@dataclass(slots=True)
class HttpRequest:
    """One request: method, raw path and query, lower-cased headers, body, client address."""

    method: str
    raw_path: str
    query_string: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    client_host: str = ""
    client_port: int = 0
    scheme: str = "http"
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


@dataclass(slots=True)
class HttpResponse:
    """A response ready for the wire."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
