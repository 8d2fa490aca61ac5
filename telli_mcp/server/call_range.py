"""Calls placed in a time range, read from telli's newest-first listing.

telli has no time filter on list-calls; it lists calls by `triggered_at`, newest first. So a range is read from the
newest call on: calls placed at or after `until` are passed over, and the first call placed before `since` ends the
reading, because every call after it is older still (`CallRange.place` is the one rule). list_calls pages through a
range with `range_page` (its `RangeCursor` carries the range, so a cursor continues the same listing), and
call_stats reads one whole, within a request cap, with `read_range`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr

from telli_mcp.server.budget import fit_to_budget
from telli_mcp.server.paging import TELLI_MAX_PAGE, FittedPage, pack_cursor, unpack_cursor
from telli_mcp.server.views import join_notes, skipped_note

if TYPE_CHECKING:
    from telli_mcp.client import Call, InvalidItem, Page

__all__ = [
    "RANGE_PAGES_PER_RESULT",
    "CallRange",
    "Position",
    "RangeCursor",
    "RangeRead",
    "range_page",
    "range_start",
    "read_range",
    "scan_range",
]

ModelT = TypeVar("ModelT", bound=BaseModel)

RANGE_PAGES_PER_RESULT = 10
"""telli pages (of 100) one list_calls result reads at most: passing over many calls newer than `until` takes
several results, each ending with a cursor, instead of one unbounded wait."""
CURSOR_VERSION = 1
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)

Place = Literal["newer", "inside", "older", "undated"]
Listing = Literal["calls", "transcripts"]
"""The tool a range cursor continues: list_calls ("calls") or search_transcripts ("transcripts")."""


@dataclass(frozen=True)
class CallRange:
    """Calls with `since <= triggered_at < until` (a missing bound is open)."""

    since: datetime | None = None
    until: datetime | None = None

    def place(self, call: Call) -> Place:
        """Where the call lies: before the range is "older" (the listing ends there), after it "newer"."""
        moment = call.triggered_at
        if moment is None:
            return "undated"  # telli did not say when: it cannot be placed in any range
        if self.until is not None and moment >= self.until:
            return "newer"
        if self.since is not None and moment < self.since:
            return "older"
        return "inside"


def _micros(moment: datetime | None) -> int | None:
    return None if moment is None else (moment - _EPOCH) // _MICROSECOND


def _moment(micros: int | None) -> datetime | None:
    return None if micros is None else _EPOCH + micros * _MICROSECOND


class RangeCursor(BaseModel):
    """Where a range listing continues: telli's page at `telli`, from its raw row `done` on, and the range.

    Serialised as URL-safe base64 of compact JSON `{"v": 1, "l": listing, "t": telli cursor or null, "d": rows,
    "r": [since, until]}` (microseconds since the epoch, or null), plus `"q": search` for a search's cursor. `r` sets
    it apart from a plain listing's cursor (`paging.ListCursor`): each refuses the other, and a cursor only continues
    its own listing (`l`).
    """

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)  # built on the first cursor

    version: StrictInt = Field(alias="v", ge=CURSOR_VERSION, le=CURSOR_VERSION)
    listing: Listing = Field(alias="l")
    telli: StrictStr | None = Field(alias="t", min_length=1, max_length=1400)
    done: StrictInt = Field(alias="d", ge=0, lt=TELLI_MAX_PAGE)
    bounds: tuple[StrictInt | None, StrictInt | None] = Field(alias="r")
    search: StrictStr | None = Field(default=None, alias="q", min_length=1, max_length=64)
    """What a search's cursor continues (a digest of its query and filters, made by the search)."""

    @property
    def window(self) -> CallRange:
        return CallRange(_moment(self.bounds[0]), _moment(self.bounds[1]))

    @classmethod
    def encode(
        cls, window: CallRange, telli: str | None, done: int, *, listing: Listing = "calls", search: str | None = None
    ) -> str:
        fields: dict[str, object] = {"v": CURSOR_VERSION, "l": listing, "t": telli, "d": done}
        fields["r"] = [_micros(window.since), _micros(window.until)]
        cursor = cls.model_validate(fields if search is None else {**fields, "q": search})
        return pack_cursor(cursor, exclude={"search"} if search is None else None)

    @classmethod
    def parse(cls, value: str, listing: Listing = "calls") -> RangeCursor | None:
        """The range cursor of `listing` in `value`, or None when it is not one (a plain listing's cursor, another
        listing's, or anything else)."""
        cursor = unpack_cursor(cls, value)
        if cursor is None:
            return None
        if cursor.listing != listing or (cursor.telli is None and cursor.done == 0):
            return None  # the start of a listing is never handed out as a cursor
        try:
            cursor.window  # noqa: B018 - a forged bound past year 9999 fails here, not in the listing
        except OverflowError:
            return None
        return cursor


@dataclass(frozen=True)
class Position:
    """A raw row of telli's page at `telli` (None: the first page)."""

    telli: str | None = None
    done: int = 0


def range_start(cursor: str | None, since: datetime | None, until: datetime | None) -> tuple[CallRange, Position]:
    """The range to list and where to start; a ToolError naming the argument when they do not fit together.

    A cursor carries its range: passed alone it continues that range, passed with since/until they must be its own.
    """
    if since is not None and until is not None and since >= until:
        raise ToolError("until: must be later than since (the range is since <= triggered_at < until).")
    if cursor is None:
        return CallRange(since, until), Position()
    resumed = RangeCursor.parse(cursor)
    if resumed is None:
        raise ToolError(
            "cursor: not a next_cursor from list_calls with since/until; pass next_cursor exactly as returned, or "
            "leave cursor out to start from the beginning."
        )
    window = resumed.window
    if (since, until) not in ((None, None), (window.since, window.until)):
        raise ToolError(
            f"cursor: it continues the calls from {_iso(window.since)} until {_iso(window.until)}; pass it with "
            "the same since and until (or neither), or leave cursor out to list a new range."
        )
    return window, Position(resumed.telli, resumed.done)


def _iso(moment: datetime | None) -> str:
    return "(open)" if moment is None else moment.isoformat().replace("+00:00", "Z")


# --- list_calls: one page of a range ------------------------------------------------------------------------------


@dataclass
class _Scan:
    """What a range page has read: the rows in range, each with its place (page read, raw row) and its position,
    the unreadable rows with theirs, and how many calls it passed over."""

    rows: list[tuple[tuple[int, int], Position, Any]] = field(default_factory=list)
    unreadable: list[tuple[tuple[int, int], InvalidItem]] = field(default_factory=list)
    undated: int = 0
    passed: int = 0
    """Calls newer than `until` passed over."""


async def range_page(
    fetch: Callable[[int, str | None], Awaitable[Page[Call]]],
    view: Callable[[Call], ModelT],
    *,
    window: CallRange,
    start: Position,
    limit: int,
) -> FittedPage[ModelT]:
    """Up to `limit` calls in `window` from `start` on that fit the budget, and a cursor to the rest (None once the
    listing passed `since` or telli has no more calls).

    Reads whole telli pages (100 rows), at most `RANGE_PAGES_PER_RESULT` of them. Resuming inside a page re-reads
    it from its start and skips the rows already dealt with, as `paging.fit_page` does.
    """
    scan = _Scan()
    at = start
    resume: Position | None = None
    for page_number in range(RANGE_PAGES_PER_RESULT):
        if len(scan.rows) >= limit:
            resume = at
            break
        page = await fetch(TELLI_MAX_PAGE, at.telli)
        stopped, resume = _read_page(page, page_number, at, window, view, scan, limit)
        if stopped:
            break
        if page.next_cursor is None:
            break
        at = Position(page.next_cursor)
    else:
        resume = at
    return _fitted(scan, window, resume, capped=resume is not None and len(scan.rows) < limit)


def _read_page(
    page: Page[Call],
    page_number: int,
    at: Position,
    window: CallRange,
    view: Callable[[Call], ModelT],
    scan: _Scan,
    limit: int,
) -> tuple[bool, Position | None]:
    """Add the page's rows from `at.done` on to `scan`. Whether to stop, and where the next result starts: (True,
    None) when the range ended inside the page, (True, row) when `limit` calls were found, (False, None) to go on."""
    invalid = {item.index: item for item in page.invalid_items}
    readable = iter(page.items)
    for row in range(len(page.items) + len(invalid)):
        call = None if row in invalid else next(readable)
        if row < at.done:
            continue
        if call is None:
            scan.unreadable.append(((page_number, row), invalid[row]))
            continue
        place = window.place(call)
        if place == "older":
            return True, None
        if place == "inside":
            if len(scan.rows) >= limit:
                return True, Position(at.telli, row)
            scan.rows.append(((page_number, row), Position(at.telli, row), view(call)))
        elif place == "undated":
            scan.undated += 1
        else:
            scan.passed += 1
    return False, None


def _fitted(scan: _Scan, window: CallRange, resume: Position | None, *, capped: bool) -> FittedPage[ModelT]:
    shown, trimmed = fit_to_budget([view for _key, _at, view in scan.rows])
    end_key: tuple[int, int] | None = None
    if trimmed:
        end_key, resume, _view = scan.rows[len(shown)]
    unreadable = [item for key, item in scan.unreadable if end_key is None or key < end_key]
    next_cursor = None if resume is None else RangeCursor.encode(window, resume.telli, resume.done)
    notes = [
        skipped_note(unreadable, "calls"),
        f"{trimmed} more calls did not fit in this result; next_cursor continues with them." if trimmed else None,
        f"{scan.undated} calls telli sent without a time (triggered_at) are in no range and not shown."
        if scan.undated
        else None,
        f"Read {RANGE_PAGES_PER_RESULT * TELLI_MAX_PAGE:,} calls for this result (passing over {scan.passed:,} placed "
        "after until) and stopped; next_cursor continues the range."
        if capped and not trimmed
        else None,
    ]
    return FittedPage(shown, next_cursor, join_notes(*notes))


# --- call_stats and search_transcripts: a range read within a request cap -------------------------------------------


@dataclass
class RangeProgress:
    """How far the reading of a range got."""

    requests: int = 0
    complete: bool = True
    """False: stopped at the request cap."""
    covered_since: datetime | None = None
    """When not complete: every call from here to `until` (or to where `scan_range` started) was read; older ones in
    the range may be missing."""
    unreadable: int = 0
    undated: int = 0
    resume: Position | None = None
    """`scan_range`: where the listing continues (past the request cap, or after the call `visit` stopped at); None
    once the range was read to its end."""


@dataclass
class RangeRead(RangeProgress):
    """The calls one or more listings hold in a range, and how far the reading got."""

    calls: list[Call] = field(default_factory=list)


Visit = Callable[["Call", Position], bool]
"""Given each call in the range and where it sits in telli's listing; returns whether to read on."""
Fetch = Callable[[str | None], Awaitable["Page[Call]"]]
"""Reads the listing's page at a telli cursor (None: the first page)."""


async def read_range(listings: Sequence[Fetch], window: CallRange, *, max_requests: int) -> RangeRead:
    """The calls in `window` of each listing (`fetch(telli_cursor)` reads one page), read one listing after the
    other, each up to the first call before `since`, and all of them in at most `max_requests` pages."""
    read = RangeRead()

    def keep(call: Call, _at: Position) -> bool:
        read.calls.append(call)
        return True

    for fetch in listings:
        walked = await _walk(fetch, window, read, keep, start=Position(), max_requests=max_requests)
        if walked.capped:
            read.complete = False
            # Every listing is covered from covered_since on: the one read least far decides.
            reached = _reached(window, walked.oldest)
            if reached is not None and (read.covered_since is None or reached > read.covered_since):
                read.covered_since = reached
    return read


async def scan_range(
    fetch: Fetch, window: CallRange, visit: Visit, *, start: Position, max_requests: int
) -> RangeProgress:
    """Give each call of one listing in `window`, from `start` on, to `visit` until it says stop, the range ends or
    `max_requests` pages were read; `resume` says where to go on from."""
    progress = RangeProgress()
    walked = await _walk(fetch, window, progress, visit, start=start, max_requests=max_requests)
    progress.resume = walked.resume
    if walked.capped:
        progress.complete = False
        progress.covered_since = _reached(window, walked.oldest)
    return progress


def _reached(window: CallRange, oldest: datetime | None) -> datetime | None:
    """Down to when a listing cut short was read: its oldest call read, or `until` when none in the range was."""
    return oldest if oldest is not None and (window.until is None or oldest < window.until) else window.until


@dataclass(frozen=True)
class _Walked:
    capped: bool
    """Stopped at the request cap."""
    resume: Position | None
    """Where the listing continues; None once the range (or telli's listing) ended."""
    oldest: datetime | None
    """The time of the oldest call read."""


async def _walk(
    fetch: Fetch, window: CallRange, progress: RangeProgress, visit: Visit, *, start: Position, max_requests: int
) -> _Walked:
    """Read one listing from `start` until the first call before `since`, the end of telli's listing, `visit`
    saying stop, or `max_requests` pages in all (`progress.requests` counts them across listings)."""
    at = start
    oldest: datetime | None = None
    while progress.requests < max_requests:
        page = await fetch(at.telli)
        progress.requests += 1
        invalid = {item.index for item in page.invalid_items}
        rows = len(page.items) + len(invalid)
        readable = iter(page.items)
        for row in range(rows):
            call = None if row in invalid else next(readable)
            if row < at.done:
                continue
            if call is None:
                progress.unreadable += 1  # counted where it sits, so a resumed reading does not count it again
                continue
            place = window.place(call)
            if place == "older":
                return _Walked(False, None, oldest)
            oldest = call.triggered_at or oldest
            if place == "undated":
                progress.undated += 1
            elif place == "inside" and not visit(call, Position(at.telli, row)):
                return _Walked(False, _after(page, at, row, rows), oldest)
        if page.next_cursor is None:
            return _Walked(False, None, oldest)
        at = Position(page.next_cursor)
    return _Walked(True, at, oldest)


def _after(page: Page[Call], at: Position, row: int, rows: int) -> Position | None:
    """The position of the row after `row` of the page at `at` (None: telli's listing ends there)."""
    if row + 1 < rows:
        return Position(at.telli, row + 1)
    return None if page.next_cursor is None else Position(page.next_cursor)
