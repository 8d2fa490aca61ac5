"""Answers that do not grow with the input: a few items, then how many more; long texts cut, with the count.

Whatever echoes many items back (invalid ids, argument validation problems, lead-list problems, telli's error
details) shows the first `ITEMS_SHOWN` and says "… and 99,990 more"; one echoed value or message is cut at
`ITEM_CHARS`; and no error text reaching the model is longer than `MAX_TEXT_CHARS`. 100,000 bad ids then give
a few kilobytes that still name the first offenders, instead of tens of megabytes.

It sits below `campaigns` and `server` (it imports neither), so both use it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import TypeVar

__all__ = ["ITEMS_SHOWN", "ITEM_CHARS", "MAX_TEXT_CHARS", "chunked", "clip", "first", "listing", "more"]

T = TypeVar("T")

ITEMS_SHOWN = 10
"""Items a message lists before it says how many more there are."""
ITEM_CHARS = 300
"""Characters of one echoed value or message."""
MAX_TEXT_CHARS = 4000
"""Characters of a whole error text (the last line of defence: everything above keeps texts far shorter)."""


def more(hidden: int) -> str:
    """'… and 99,990 more' (empty when nothing is hidden)."""
    return f"… and {hidden:,} more" if hidden > 0 else ""


def first(items: Sequence[T], limit: int = ITEMS_SHOWN) -> tuple[list[T], int]:
    """The first `limit` items and how many were left out."""
    return list(items[:limit]), max(0, len(items) - limit)


def listing(items: Iterable[str], *, limit: int = ITEMS_SHOWN, separator: str = "; ") -> str:
    """The first `limit` items, each clipped, joined, then '… and N more' for the rest."""
    shown: list[str] = []
    hidden = 0
    for item in items:
        if len(shown) < limit:
            shown.append(clip(item))
        else:
            hidden += 1
    tail = more(hidden)
    return separator.join([*shown, tail] if tail else shown)


def clip(text: str, limit: int = ITEM_CHARS) -> str:
    """`text` cut to `limit` characters, saying how many were cut."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text) - limit:,} more characters)"


def chunked(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """Consecutive slices of at most `size` items: a request or statement per slice, never one for everything."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
