"""Generic NextToken pagination over state-store listings.

Tokens have the shape the Outposts model requires (``^(\\d+)##(\\S+)$``): the store position to
resume after, then a digest that binds the token to that position and to the operation, scope and
filters that made it (an HMAC under the installation's secret, ``token_key.token_mac``).
A token from another query, or a forged one, is refused with the caller's validation error.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterable
from typing import Any

import orjson

from trailpost.services.token_key import token_mac
from trailpost.store.base import Entry, StateStore


def _digest(binding: Any) -> str:
    data = orjson.dumps(binding, option=orjson.OPT_SORT_KEYS)
    return token_mac(data).hex()[:24]


def make_token(seq: int, binding: Any) -> str:
    return f"{seq}##{_digest([seq, binding])}"


def read_token(token: str | None, binding: Any, invalid: Callable[[str], Exception]) -> int:
    """The position a token resumes after (0 for no token); ``invalid(message)`` is raised otherwise."""
    if not token:
        return 0
    seq, sep, digest = token.partition("##")
    if not sep or not seq.isdigit() or not hmac.compare_digest(digest, _digest([int(seq), binding])):
        raise invalid("Invalid NextToken: the token is malformed or belongs to another request.")
    return int(seq)


def paginate_entries(
    entries: Iterable[Entry],
    *,
    token: str | None,
    max_results: int | None,
    binding: Any,
    invalid: Callable[[str], Exception],
    default_size: int = 100,
) -> tuple[list[Entry], str | None]:
    """One page of ``entries`` (in store order) after ``token``, and the token of the next page."""
    after = read_token(token, binding, invalid)
    size = max_results or default_size
    page: list[Entry] = []
    for entry in entries:
        if entry.seq <= after:
            continue
        if len(page) == size:
            return page, make_token(page[-1].seq, binding)
        page.append(entry)
    return page, None


def paginate_store(
    store: StateStore,
    kind: str,
    scope: str,
    *,
    token: str | None,
    max_results: int | None,
    binding: Any,
    invalid: Callable[[str], Exception],
    keep: Callable[[dict[str, Any]], bool] = lambda doc: True,
    default_size: int = 100,
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of the documents of ``kind`` in ``scope`` that ``keep`` accepts."""
    after = read_token(token, binding, invalid)
    size = max_results or default_size
    page: list[Entry] = []
    while True:
        batch = store.list(kind, scope, after_seq=after, limit=500)
        for entry in batch:
            if not keep(entry.doc):
                continue
            if len(page) == size:
                return [e.doc for e in page], make_token(page[-1].seq, binding)
            page.append(entry)
        if len(batch) < 500:
            return [e.doc for e in page], None
        after = batch[-1].seq
