"""A campaign's calls per hour, from telli's webhook events: the timeline of the campaign resource, which the
campaign dashboard draws. Like `campaign_events`, it joins the ledger and the event store (packages that may not
import each other).

Which calls: those of the leads the campaign sent to telli's dialer (a `sent_at`, and still scheduled, unknown or
removed by a stop; a failed lead never was in the dialer), that ended after the lead was last sent (events that
arrived earlier are an earlier scheduling's, as in `campaign_events`) and in the lead's dialer loop when both the
lead and the call name one (the rule of `campaigns.outcomes.of_loop`). Each call counts once, in the hour its
`ended_at` falls in.

Only when events cover the campaign, by the one rule (`StoredCampaignEvents.coverage`). Otherwise the timeline
has no hours and says why, and how to set events up: a timeline of some of the calls would look like a quiet
campaign.

Hours are the account's clock (TELLI_ACCOUNT_TIMEZONE): the store counts quarter hours of UTC (every zone's offset
is a whole number of quarter hours) and they are summed here into the account's hours, so a zone offset by :30 or
:45 and a daylight-saving change put every call in its own local hour.

Work is bounded: leads are read from the ledger in keyset pages of `PAGE`, each page's calls counted by SQLite in
the event store (`EventStore.calls_ended_by_slot`, a few hundred contacts per query); Python sees one row per
quarter hour and page, never one per call.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Final
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field

from telli_mcp.campaign_events import StoredCampaignEvents
from telli_mcp.campaigns.errors import CampaignNotFoundError
from telli_mcp.campaigns.ledger import Ledger
from telli_mcp.campaigns.models import LeadState
from telli_mcp.campaigns.run import canonical_id
from telli_mcp.webhooks.store import ContactWindow, EventStore

__all__ = ["NEEDS_EVENTS", "CallsPerHour", "HourCalls", "campaign_calls_per_hour", "without_events"]

PAGE: Final = 1000
"""Ledger leads per page (keyset on the row)."""
SLOT_SECONDS: Final = 900
"""The store counts quarter hours: the finest step any zone's offset from UTC takes."""
SENT_STATES: Final = (LeadState.SCHEDULED, LeadState.UNKNOWN, LeadState.REMOVED)
"""Leads that may have been in the dialer (a removed one until the stop, an unknown one maybe)."""
SET_UP: Final = (
    "To get them, add an endpoint for call_ended in telli (Settings > API & Webhooks) and set "
    "TELLI_MCP_WEBHOOK_SECRET to its signing secret."
)
NEEDS_EVENTS: Final = f"Calls per hour come from telli's webhook events, which this server does not receive. {SET_UP}"


class HourCalls(BaseModel):
    hour: datetime
    """The hour's start on the account's clock."""
    calls: int


class CallsPerHour(BaseModel):
    """Calls of the campaign that ended per hour (only hours with a call; the hours between had none)."""

    time_zone: str
    """The clock of `hours` (the account's)."""
    hours: list[HourCalls] = Field(default_factory=list)
    """Oldest first."""
    calls: int = 0
    leads: int = 0
    """Leads sent to the dialer, whose calls are counted."""
    unavailable: str | None = None
    """Why there is no timeline (then `hours` is empty): the events do not cover the campaign."""


def _wall_now() -> datetime:
    return datetime.now(UTC)


def without_events(time_zone: str) -> CallsPerHour:
    """The timeline of a server that receives no webhook events: none."""
    return CallsPerHour(time_zone=time_zone, unavailable=NEEDS_EVENTS)


def campaign_calls_per_hour(
    ledger: Ledger,
    campaign_id: str,
    store: EventStore,
    account: str,
    time_zone: str,
    *,
    wall: Callable[[], datetime] = _wall_now,
) -> CallsPerHour:
    """The campaign's calls per hour on the `time_zone` clock, or why there is none (see the module docstring).

    Raises:
        CampaignNotFoundError: no such campaign in the ledger.
    """
    record = ledger.get_campaign(campaign_id)
    if record is None:
        raise CampaignNotFoundError(campaign_id)
    coverage = StoredCampaignEvents(store, account, wall=wall).coverage(record.created_at)
    if coverage is None:
        return without_events(time_zone)
    if coverage.why_not is not None:
        why = f"Calls per hour need telli's webhook events for the whole campaign, and {coverage.why_not}"
        return CallsPerHour(time_zone=time_zone, unavailable=f"{why} {SET_UP}")
    slots: dict[int, int] = {}
    seen: set[str] = set()
    after_row = 0
    while page := ledger.leads(campaign_id, SENT_STATES, after_row=after_row, limit=PAGE):
        after_row = page[-1].row
        windows = []
        for lead in page:
            contact_id = canonical_id(lead.contact_id or "")
            if lead.contact_id and lead.sent_at is not None and contact_id not in seen:
                seen.add(contact_id)  # a contact's calls count once, with its first lead
                windows.append(ContactWindow(contact_id, lead.sent_at, lead.loop_id))
        for start, calls in store.calls_ended_by_slot(account, windows, SLOT_SECONDS).items():
            slots[start] = slots.get(start, 0) + calls
    hours = _by_hour(slots, ZoneInfo(time_zone))
    return CallsPerHour(time_zone=time_zone, hours=hours, calls=sum(slots.values()), leads=len(seen))


def _by_hour(slots: dict[int, int], zone: ZoneInfo) -> list[HourCalls]:
    """Quarter hours of UTC (epoch seconds) summed into the hours of `zone`'s clock."""
    hours: dict[int, int] = {}
    for start, calls in slots.items():
        local = datetime.fromtimestamp(start, zone)
        hour = int(local.replace(minute=0, second=0, microsecond=0).timestamp())  # keeps `fold` on a repeated hour
        hours[hour] = hours.get(hour, 0) + calls
    return [HourCalls(hour=datetime.fromtimestamp(hour, zone), calls=hours[hour]) for hour in sorted(hours)]
