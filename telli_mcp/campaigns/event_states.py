"""What telli's webhook events say about a campaign's contacts, so that its status need not read telli.

The engine does not know where events come from (the server reads them from its webhook event store); it asks
a `CampaignEvents` two things:
- `coverage(created_at)`: may events stand in for telli for a campaign created then? The answer says why not
  when they may not (the rule lives with the store: events must have reached it since before the campaign
  began and still arrive), and when the newest event arrived, for the page to say how fresh it is.
- `of_contacts(since)`: per contact, what the events that arrived after `since[contact]` (when its lead was last
  sent to the dialer, by the ledger's clock) say: the contact as the furthest of them showed it, its ended calls,
  or that it was deleted through this server.

A lead in the dialer with no event since it was sent is still pending: telli sends an event for every call
that ends and every status change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from telli_mcp.client import Call, ContactV1

__all__ = ["CampaignEvents", "ContactEvents", "EventCoverage"]


@dataclass(frozen=True, slots=True)
class EventCoverage:
    last_event_at: datetime | None
    """When the newest event of the account arrived (this machine's clock)."""
    why_not: str | None = None
    """Why events cannot stand in for telli for this campaign; None when they can."""


@dataclass(frozen=True, slots=True)
class ContactEvents:
    contact: ContactV1 | None = None
    """The contact as the event furthest along the dialer loop showed it (None when no event carried it)."""
    calls: tuple[Call, ...] = ()
    """Its ended calls, newest first."""
    deleted: bool = False
    """Deleted through this server: telli no longer has it."""


class CampaignEvents(Protocol):
    def coverage(self, created_at: datetime) -> EventCoverage | None:
        """None when this account receives no events at all."""
        ...

    def of_contacts(self, since: Mapping[str, datetime]) -> dict[str, ContactEvents]:
        """Contacts with an event after their `since` (or deleted); the others are left out."""
        ...
