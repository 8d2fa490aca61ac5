"""Opaque cursors and page slicing for v2 collections and v1 list-calls (§5)."""

from __future__ import annotations

import base64
import binascii
import bisect
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from .errors import bad_request

__all__ = ["Page", "paginate", "parse_limit"]

T = TypeVar("T")

_MAGIC = b"\xfb\xff\xbf"
"""Encodes to "+/+/": every cursor needs URL-encoding, like PostHog's "next+/=cursor" test case."""
DEFAULT_LIMIT = 50
MAX_LIMIT = 100


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def parse_limit(raw: str | None) -> int:
    """The `limit` query parameter: default 50, 1–100, else 400."""
    if raw is None:
        return DEFAULT_LIMIT
    try:
        limit = int(raw)
    except ValueError:
        raise bad_request("limit must be an integer between 1 and 100", field_name="limit") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise bad_request("limit must be an integer between 1 and 100", field_name="limit")
    return limit


def paginate(
    items: Sequence[T], *, scope: str, position: Callable[[T], list[Any]], limit: int, cursor: str | None
) -> Page[T]:
    """Slice `items` (sorted by `position`) after the cursor's position.

    A cursor records the sort key of the last item returned, so deletions between pages neither skip nor
    repeat items. `scope` ties a cursor to one listing: reusing it elsewhere is a 400.
    """
    start = 0
    if cursor is not None:
        after = _decode(cursor, scope)
        try:
            start = bisect.bisect_right(items, after, key=position)
        except TypeError:  # a well-formed cursor whose key has the wrong types
            raise bad_request("Invalid cursor", field_name="cursor") from None
    chunk = list(items[start : start + limit])
    has_more = start + limit < len(items)
    next_cursor = _encode(scope, position(chunk[-1])) if has_more and chunk else None
    return Page(chunk, next_cursor)


def _encode(scope: str, key: list[Any]) -> str:
    payload = json.dumps({"s": scope, "k": key}, separators=(",", ":")).encode()
    return base64.b64encode(_MAGIC + payload).decode()


def _decode(cursor: str, scope: str) -> list[Any]:
    try:
        raw = base64.b64decode(cursor, validate=True)
        if not raw.startswith(_MAGIC):
            raise ValueError("foreign cursor")
        payload = json.loads(raw[len(_MAGIC) :])
        if payload["s"] != scope or not isinstance(payload["k"], list):
            raise ValueError("cursor of another listing")
        key: list[Any] = payload["k"]
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise bad_request("Invalid cursor", field_name="cursor") from None
    return key
