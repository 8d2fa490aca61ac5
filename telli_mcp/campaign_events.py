"""Campaign status from telli's webhook events: the event store's side of `telli_mcp.campaigns.event_states`,
used by `get_campaign`, the campaign resource and `telli-mcp campaign status` (it joins the two packages, which
may not import each other).

The one rule for when events may stand in for reading telli, for one account and one campaign:
- the account's events reach the store since before the campaign was created (since the first event arrived, or
  since the sandbox said its simulator hands over every event): an older campaign had events that went nowhere;
- the newest event arrived within `FLOWING_WITHIN`, or receiving began that recently: telli still sends. An
  endpoint Svix disabled after days of failures, or a secret rotated in telli's portal, shows as this silence;
- the campaign is younger than the store's `RETENTION`: older events are erased.

Svix retries a failed delivery for about a day, so a receiver that was down catches up; until then a page shows
the states as of the newest event and says when that arrived. A contact deleted in telli's own app (not through
this server) sends no event: it still counts as pending here, where a read of telli would count it missing.

Times are this machine's clock on both sides (the ledger's `sent_at`, the store's `received_wall`), so the sandbox,
whose simulated clock runs ahead, compares like with like.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime

from telli_mcp.campaigns.contact_state import most_advanced
from telli_mcp.campaigns.event_states import ContactEvents, EventCoverage
from telli_mcp.campaigns.run import canonical_id
from telli_mcp.client import Call
from telli_mcp.webhooks.events import CallEnded, ContactStatusChanged
from telli_mcp.webhooks.store import RETENTION, EventStore, Heard
from telli_mcp.webhooks.waiting import FLOWING_WITHIN

__all__ = ["StoredCampaignEvents"]

_EARLIEST = datetime.min.replace(tzinfo=UTC)


def _wall_now() -> datetime:
    return datetime.now(UTC)


class StoredCampaignEvents:
    """One account's stored events, as a campaign's status asks for them."""

    def __init__(self, store: EventStore, account: str, *, wall: Callable[[], datetime] = _wall_now) -> None:
        self._store, self._account, self._wall = store, account, wall

    def coverage(self, created_at: datetime) -> EventCoverage | None:
        heard = self._store.heard(self._account)
        if heard.since is None:
            return None
        return EventCoverage(last_event_at=heard.last_event, why_not=_why_not(heard, created_at, self._wall()))

    def of_contacts(self, since: Mapping[str, datetime]) -> dict[str, ContactEvents]:
        events: dict[str, list[CallEnded | ContactStatusChanged]] = {}
        for stored in self._store.events_of_contacts(self._account, since):
            contact_id = canonical_id(stored.contact_id or "")
            if stored.received_wall < since[contact_id]:
                continue  # an earlier scheduling's event: not parsed, not counted
            event = stored.event()
            if isinstance(event, CallEnded | ContactStatusChanged):
                events.setdefault(contact_id, []).append(event)
        known = {contact_id: _summary(found) for contact_id, found in events.items()}
        for contact_id in self._store.forgotten_among(self._account, since):
            known[contact_id] = ContactEvents(deleted=True)
        return known


def _why_not(heard: Heard, created_at: datetime, now: datetime) -> str | None:
    assert heard.since is not None
    if created_at < heard.since:
        return "the campaign began before this server received the account's events."
    if now - max(heard.since, heard.last_event or heard.since) > FLOWING_WITHIN:
        return "no event arrived in the last day (is the endpoint still enabled in telli's webhook portal?)."
    if now - created_at > RETENTION:
        return f"the campaign is older than the {RETENTION.days} days events are kept."
    return None


def _summary(events: Sequence[CallEnded | ContactStatusChanged]) -> ContactEvents:
    """The contact furthest along its dialer loop, and its ended calls newest first (each call once)."""
    calls: dict[str | None, Call] = {}
    for event in events:  # oldest first: a repeated call keeps its newest delivery
        if isinstance(event, CallEnded):
            calls[event.call.call_id or f"#{len(calls)}"] = event.call
    newest_first = sorted(calls.values(), key=lambda call: call.ended_at or _EARLIEST, reverse=True)
    return ContactEvents(
        contact=most_advanced(event.contact for event in events if event.contact is not None),
        calls=tuple(newest_first),
    )
