"""Paged list tools: one page cut to the response budget, and a cursor that resumes at the first row not shown.

telli's cursors point after the last row of telli's page, so a page cut short needs a cursor of our own:
`ListCursor` wraps the telli cursor that produced the page plus how many of its rows were already dealt
with. Every `next_cursor` a paged tool returns is one of these, so any other value is refused before telli
is asked.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, ValidationError

from telli_mcp.server.budget import fit_to_budget
from telli_mcp.server.views import join_notes, skipped_note

if TYPE_CHECKING:
    from telli_mcp.client import InvalidItem, Page

__all__ = ["FittedPage", "ListCursor", "fit_page", "pack_cursor", "unpack_cursor"]

TELLI_MAX_PAGE = 100
"""The largest `limit` telli accepts on its list endpoints."""
CURSOR_VERSION = 1

ModelT = TypeVar("ModelT", bound=BaseModel)
RowT = TypeVar("RowT")


def pack_cursor(cursor: BaseModel, *, exclude: set[str] | None = None) -> str:
    """A cursor as the tools hand it out: URL-safe base64 of its compact JSON (fields by alias)."""
    return base64.urlsafe_b64encode(cursor.model_dump_json(by_alias=True, exclude=exclude).encode()).decode("ascii")


def unpack_cursor(model: type[ModelT], value: str) -> ModelT | None:
    """The `model` cursor in `value`, or None when `value` is not one (not base64, not JSON, not that model): each
    tool then says in its own words what to pass instead."""
    try:
        return model.model_validate(json.loads(base64.b64decode(value, altchars=b"-_", validate=True)))
    except (binascii.Error, ValueError, ValidationError):  # JSONDecodeError and UnicodeError are ValueErrors
        return None


class ListCursor(BaseModel):
    """Where a listing continues: telli's page at `telli`, from its raw row `done` on.

    Serialised as URL-safe base64 of compact JSON `{"v": 1, "l": listing, "t": telli cursor or null, "d": rows}`.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)  # built on the first cursor

    version: StrictInt = Field(alias="v", ge=CURSOR_VERSION, le=CURSOR_VERSION)
    listing: StrictStr = Field(alias="l", min_length=1, max_length=32)
    """The tool's listing (contacts, calls, agents): a cursor only continues the listing that made it."""
    telli: StrictStr | None = Field(alias="t", min_length=1, max_length=1400)
    """telli's cursor of the page (None: the first page). Capped so the encoded cursor stays within `CursorArg`."""
    done: StrictInt = Field(alias="d", ge=0, lt=TELLI_MAX_PAGE)
    """Rows of telli's page at `telli` already shown (or reported unreadable)."""

    @classmethod
    def encode(cls, listing: str, telli: str | None, done: int) -> str:
        return pack_cursor(cls.model_validate({"v": CURSOR_VERSION, "l": listing, "t": telli, "d": done}))

    @classmethod
    def decode(cls, value: str, listing: str) -> ListCursor:
        """The cursor in `value`; a ToolError naming `cursor` for anything this server did not hand out."""
        cursor = unpack_cursor(cls, value)
        if cursor is None or cursor.listing != listing or (cursor.telli is None and cursor.done == 0):
            raise ToolError(
                f"cursor: not a next_cursor from {listing}; pass next_cursor exactly as returned, "
                "or leave cursor out to start from the beginning."
            )
        return cursor


@dataclass(frozen=True)
class FittedPage(Generic[ModelT]):
    """One page of a paged tool's result: the rows shown, the cursor to the rest and what the model must know."""

    items: list[ModelT]
    next_cursor: str | None
    note: str | None


async def fit_page(
    fetch: Callable[[int, str | None], Awaitable[Page[RowT]]],
    view: Callable[[RowT], ModelT],
    *,
    listing: str,
    limit: int,
    cursor: str | None,
) -> FittedPage[ModelT]:
    """Up to `limit` rows from `cursor` on that fit the budget; `next_cursor` resumes at the first row not shown.

    `fetch(limit, telli_cursor)` reads one telli page. Resuming inside a page re-reads it from its start, so
    the rows already dealt with are fetched again and skipped.
    """
    start = ListCursor.decode(cursor, listing) if cursor is not None else None
    telli, done = (start.telli, start.done) if start is not None else (None, 0)
    page = await fetch(min(TELLI_MAX_PAGE, done + limit), telli)
    rows = [(at, row) for at, row in zip(_readable_positions(page), page.items, strict=False) if at >= done]
    shown, trimmed = fit_to_budget([view(row) for _, row in rows])
    end = rows[len(shown)][0] if trimmed else None
    if end is not None:
        next_cursor: str | None = ListCursor.encode(listing, telli, end)
    elif page.next_cursor is not None:
        next_cursor = ListCursor.encode(listing, page.next_cursor, 0)
    else:
        next_cursor = None
    unreadable = _unreadable_between(page.invalid_items, done, end)
    trimmed_note = (
        f"{trimmed} more {listing} did not fit in this result; next_cursor continues with them." if trimmed else None
    )
    return FittedPage(shown, next_cursor, join_notes(skipped_note(unreadable, listing), trimmed_note))


def _readable_positions(page: Page[Any]) -> list[int]:
    """Where each readable row sat in telli's page: unreadable rows are not in `items` but keep their places."""
    unreadable = {item.index for item in page.invalid_items}
    return [at for at in range(len(page.items) + len(unreadable)) if at not in unreadable]


def _unreadable_between(invalid: Sequence[InvalidItem], start: int, end: int | None) -> list[InvalidItem]:
    """The unreadable rows among those this result covers, so each is reported on exactly one page."""
    return [item for item in invalid if item.index >= start and (end is None or item.index < end)]
