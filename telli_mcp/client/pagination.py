"""Auto-pagination over cursor-paginated list endpoints, with a guard against cursors that do not advance."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

from telli_mcp.client.errors import PaginationError
from telli_mcp.client.models.common import InvalidItem, Page

__all__ = ["InvalidItemCallback", "iterate_pages"]

logger = logging.getLogger("telli_mcp.client")

T = TypeVar("T")

InvalidItemCallback = Callable[[InvalidItem], None]
"""Called with each list item telli sent in a shape the client cannot read (the item is skipped)."""


async def iterate_pages(
    fetch: Callable[[str | None], Awaitable[Page[T]]], *, on_invalid: InvalidItemCallback | None = None
) -> AsyncIterator[T]:
    """Yield every item of every page; `fetch(cursor)` returns the page at `cursor` (None: the first page).

    Unreadable items (`Page.invalid_items`) are not yielded; each goes to `on_invalid`, or is logged as a
    warning without one, so skipping is never silent.

    Raises:
        PaginationError: a page returned a next cursor that an earlier page had already returned.
    """
    seen: set[str] = set()
    cursor: str | None = None
    while True:
        page = await fetch(cursor)
        _report_invalid(page.invalid_items, on_invalid)
        for item in page.items:
            yield item
        if page.next_cursor is None:
            return
        if page.next_cursor in seen:
            raise PaginationError(
                f"telli returned the cursor {page.next_cursor!r} twice; stopping to avoid an endless loop."
            )
        seen.add(page.next_cursor)
        cursor = page.next_cursor


def _report_invalid(invalid: list[InvalidItem], on_invalid: InvalidItemCallback | None) -> None:
    for item in invalid:
        if on_invalid is not None:
            on_invalid(item)
        else:
            logger.warning("Skipped an unreadable list item from telli (id %s): %s", item.id, item.problem)
