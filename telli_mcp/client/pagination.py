"""Auto-pagination over cursor-paginated list endpoints, with a guard against cursors that do not advance."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

from telli_mcp.client.errors import PaginationError
from telli_mcp.client.models.common import Page

__all__ = ["iterate_pages"]

T = TypeVar("T")


async def iterate_pages(fetch: Callable[[str | None], Awaitable[Page[T]]]) -> AsyncIterator[T]:
    """Yield every item of every page; `fetch(cursor)` returns the page at `cursor` (None: the first page).

    Raises:
        PaginationError: a page returned a next cursor that an earlier page had already returned.
    """
    seen: set[str] = set()
    cursor: str | None = None
    while True:
        page = await fetch(cursor)
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
