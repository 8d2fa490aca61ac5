"""The contact index as the tools use it: sync when needed, resolve a query to a selection, keep it current.

* `refresh_index`: sync the caller's index within `SYNC_BUDGET` requests, when asked (`refresh`) or when it
  has never been complete (the first use, or a first walk the budget cut short), one sync per tenant at a time.
* `select_contacts`: the contacts a `ContactQuery` selects, as ids in the query's order with the total: what the
  bulk tools act on.
* `apply_event`: a stored webhook event updates the contact's dialer state and last call.
* `index_written` / `index_deleted`: the contact tools write through, so the index shows what they changed.

Nothing here fails a tool because of the index's own upkeep: a write-through or an event that cannot be applied is
logged, and the next sync repairs it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from mcp.server.mcpserver import Context

from telli_mcp.server.deps import ServerDeps, deps_of
from telli_mcp.server.errors import logged_not_answered

if TYPE_CHECKING:
    from telli_mcp.client import Contact
    from telli_mcp.contact_index import ContactIndex, ContactQuery, SyncReport, TenantIndex
    from telli_mcp.webhooks.store import StoredEvent

__all__ = [
    "SYNC_BUDGET",
    "Selection",
    "apply_event",
    "index_deleted",
    "index_properties_changed",
    "index_written",
    "refresh_index",
    "select_contacts",
]

logger = logging.getLogger("telli_mcp.contact_index")

SYNC_BUDGET: Final = 110
"""telli requests one tool call spends on syncing at most: 10,000 contacts with their dialer state (100 pages and
10 batch reads), which fits the tool deadline at telli's usual latency; a larger account completes over the
next calls, each continuing the walk where the last stopped."""


@dataclass(frozen=True)
class Selection:
    """The contacts a query selects, from the caller's index."""

    ids: list[str]
    """The first `limit` matching contacts' ids, in the query's order (best name match, else newest first)."""
    total: int
    """How many contacts match in all (more than `ids` holds when the limit cut it)."""
    index_as_of: datetime | None
    """When the index last held every contact (None: it never has; `complete` is then False)."""
    complete: bool
    """The index has completed a walk of telli's contacts: contacts created in telli before `index_as_of` are in
    it. False: only those read so far are."""


async def refresh_index(deps: ServerDeps, *, refresh: bool) -> tuple[TenantIndex, SyncReport | None]:
    """The caller's index, synced first (within `SYNC_BUDGET`) when `refresh` is asked or it was never complete;
    the sync's report, or None when none ran. A request that waited for another's sync does not sync again unless
    asked to. Raises the client's `TelliError` when telli fails before anything was kept."""
    from telli_mcp.contact_index import sync_contacts

    index = deps.contact_index()
    if not refresh and index.status().synced:
        return index, None
    async with deps.contact_indexes().sync_lock(index.tenant):
        if not refresh and index.status().synced:
            return index, None
        return index, await sync_contacts(index, deps.client(), budget=SYNC_BUDGET)


async def select_contacts(ctx: Context[Any, Any], query: ContactQuery, *, limit: int) -> Selection:
    """The contacts `query` selects in the caller's index (synced first if it never was complete): the first
    `limit` ids in order, and the total."""
    index, _report = await refresh_index(deps_of(ctx), refresh=False)
    ids, total = index.select(query, limit=limit)
    status = index.status()
    return Selection(ids=ids, total=total, index_as_of=status.as_of, complete=status.synced)


def apply_event(indexes: ContactIndex, stored: StoredEvent) -> None:
    """What a stored webhook event tells the index: the contact's dialer state (when the event carries the
    contact) and, for `call_ended`, its last call. Events about contacts the index does not hold are left to the
    next sync; one older than the state held changes nothing."""
    from telli_mcp.webhooks.events import CallEnded, ContactStatusChanged

    try:
        event = stored.event()
        index = indexes.for_tenant(stored.account)
        if isinstance(event, CallEnded | ContactStatusChanged) and event.contact is not None:
            index.apply_dialer(event.contact, stored.sent_at)
        if isinstance(event, CallEnded) and event.contact_id is not None:
            call = event.call
            ended = call.ended_at or call.started_at or call.triggered_at
            if ended is not None:
                index.called(event.contact_id, ended)
    except Exception:  # a malformed body, a locked file, a database that is down: the next sync repairs it
        logger.exception("The contact index could not apply webhook event %s", stored.seq)


def index_written(ctx: Context[Any, Any], contact: Contact, *, created: bool = False) -> None:
    """A tool created or changed `contact` in telli (as telli returned it): the index shows it at once. A contact
    just created is known to be new in the dialer."""
    from telli_mcp.contact_index import DialerRead

    deps = deps_of(ctx)
    dialer = DialerRead.new(deps.now()) if created else None
    _upkeep(lambda: deps.contact_index().put(contact, dialer))


def index_properties_changed(
    ctx: Context[Any, Any], contact_ids: Sequence[str], *, set_values: Mapping[str, object], clear: Collection[str]
) -> None:
    """A bulk update changed these contacts' property values in telli (its batch answer carries no contact):
    the index applies the same change, so a search right after it shows the new values."""
    deps = deps_of(ctx)
    _upkeep(lambda: deps.contact_index().change_properties(contact_ids, set_values=set_values, clear=clear))


def index_deleted(ctx: Context[Any, Any], contact_id: str) -> None:
    """A tool deleted the contact in telli: the index forgets it (its personal data too)."""
    deps = deps_of(ctx)
    _upkeep(lambda: deps.contact_index().remove(contact_id))


def _upkeep(change: Callable[[], object]) -> None:
    # The index is only a copy, and telli has done what the tool asked (a database that is down, on either engine).
    logged_not_answered(change, logger, "The contact index could not keep a contact change; the next sync repairs it")
