"""Fill one tenant's index from telli with the fewest requests, within a request budget, resumably.

telli has no search and no "changed since", so a sync walks the whole contact listing (v2 list-contacts, pages of
100, its maximum) and reads each page's dialer state with the v1 get-contacts-batch (the only read that carries
it, up to 1,000 contacts a request). Ten pages are read before one batch covers all of them, so N contacts cost
ceil(N/100) + ceil(N/1000) requests: the minimum.

A round (up to ten pages and their batch read) is kept at once with the listing's cursor after it. A sync starts a
round only when the budget still holds its batch read, and stops when the budget is spent; the next sync continues
the walk at the cursor kept, or starts over when telli no longer accepts that cursor. When a walk reaches the end
of the listing, the contacts it did not see (deleted in telli) are removed and the index is "as of" the walk's
start. Contacts listed but gone by the batch read (deleted in between) are left out; the next walk settles them.

Replicas sharing one index share its walk: a sync continues (or joins) the walk under way, and stops when its walk
was finished by another sync meanwhile (complete: the index is as of that walk) or replaced by a newer one (not
complete: the newer walk goes on, in whichever sync continues it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Final

from telli_mcp.contact_index.records import DialerRead

if TYPE_CHECKING:
    from telli_mcp.client import Contact, Page, TelliClient
    from telli_mcp.contact_index.store import TenantIndex, Walk

__all__ = ["BATCH_READ", "LIST_PAGE", "MIN_BUDGET", "SyncReport", "minimum_requests", "sync_contacts"]

LIST_PAGE: Final = 100
"""Contacts per list-contacts page: telli's maximum."""
BATCH_READ: Final = 1000
"""Contacts per get-contacts-batch request: telli's maximum."""
MIN_BUDGET: Final = 2
"""A sync that is to make progress reads at least one page and its dialer state."""


def minimum_requests(contacts: int) -> int:
    """The fewest requests that read `contacts` contacts with their dialer state (an empty account: one page)."""
    return max(1, -(-contacts // LIST_PAGE)) + -(-contacts // BATCH_READ)


@dataclass
class SyncReport:
    """What a sync spent and achieved."""

    requests: int = 0
    """telli requests made (list pages and batch reads)."""
    contacts_seen: int = 0
    """Contacts read with their dialer state and kept."""
    complete: bool = False
    """The walk reached the end of telli's listing: the index holds every contact as of the walk's start."""
    restarted: bool = False
    """The walk under way could not continue (telli refused its cursor) and started over."""
    swept: int = 0
    """Contacts removed because the completed walk did not see them (deleted in telli)."""
    unreadable: int = 0
    """Contacts telli listed in a shape the client cannot read (kept as they were, if the index had them)."""
    as_of: datetime | None = None
    """The index's "as of" after this sync (None: no walk has completed yet)."""


@dataclass
class _Round:
    contacts: list[Contact]
    unreadable_ids: list[str]
    cursor: str | None
    """Where the listing continues after this round; None: it ended."""


async def sync_contacts(index: TenantIndex, client: TelliClient, *, budget: int) -> SyncReport:
    """Walk telli's contacts into `index` with at most `budget` requests (continuing a walk under way).

    Raises `ValueError` for a budget too small to make progress, and the client's `TelliError` when telli fails a
    request (every round kept before it stays kept).
    """
    if budget < MIN_BUDGET:
        raise ValueError(f"a sync needs a budget of at least {MIN_BUDGET} requests")
    report = SyncReport()
    walk = index.walk()
    if not walk.walking:
        walk = index.begin_walk()
    resumed, cursor = walk.cursor is not None, walk.cursor
    while budget - report.requests >= MIN_BUDGET:
        round_ = await _read_round(client, cursor, report, budget=budget, resumed=resumed)
        if round_ is None:  # telli refused the cursor kept: walk again from the start
            report.restarted, walk = True, index.begin_walk(replacing=walk.number)
            resumed, cursor = walk.cursor is not None, walk.cursor
            continue
        resumed = False  # only the first page of a sync continues a walk from an earlier one
        kept = await _keep(index, client, round_, report, walk=walk.number)
        if kept.number != walk.number or not kept.walking:  # another sync finished or replaced the walk
            report.complete = kept.number == walk.number
            break
        cursor = round_.cursor
        if cursor is None:
            swept = index.finish_walk(walk.number)
            report.swept, report.complete = swept or 0, swept is not None
            break
    report.as_of = index.status().as_of
    return report


async def _read_round(
    client: TelliClient, cursor: str | None, report: SyncReport, *, budget: int, resumed: bool
) -> _Round | None:
    """Up to ten pages from `cursor`, leaving a request for their batch read; None when the first page's cursor
    (one kept from an earlier sync) is refused."""
    from telli_mcp.client import InvalidRequestError, PaginationError

    round_ = _Round([], [], cursor)
    while len(round_.contacts) + len(round_.unreadable_ids) + LIST_PAGE <= BATCH_READ:
        if budget - report.requests < MIN_BUDGET:
            break
        try:
            page: Page[Contact] = await client.contacts.list(limit=LIST_PAGE, cursor=round_.cursor)
        except InvalidRequestError:
            report.requests += 1
            if resumed and round_.cursor is not None and not round_.contacts:
                return None
            raise
        report.requests += 1
        resumed = False
        if page.next_cursor is not None and page.next_cursor == round_.cursor:
            raise PaginationError(f"telli returned the cursor {page.next_cursor!r} it was given; stopping the walk.")
        round_.contacts.extend(page.items)
        round_.unreadable_ids.extend(item.id for item in page.invalid_items if item.id)
        report.unreadable += len(page.invalid_items)
        round_.cursor = page.next_cursor
        if page.next_cursor is None:
            break
    return round_


async def _keep(index: TenantIndex, client: TelliClient, round_: _Round, report: SyncReport, *, walk: int) -> Walk:
    """Read the round's dialer states (one request) and keep the round with where the walk continues."""
    kept: list[tuple[Contact, DialerRead]] = []
    if round_.contacts:
        read_at = index.now()
        states = await client.contacts_v1.get_batch([contact.id for contact in round_.contacts])
        report.requests += states.requests_sent
        by_id = {record.contact_id: record for record in states.found}
        kept = [
            (contact, DialerRead.of(by_id[contact.id], read_at)) for contact in round_.contacts if contact.id in by_id
        ]
    report.contacts_seen += len(kept)
    return index.save_round(kept, seen_ids=round_.unreadable_ids, cursor=round_.cursor, walk=walk)
