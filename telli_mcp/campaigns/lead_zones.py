"""Which clock telli will dial each lead on, what the campaign sends for it, and a compact report.

telli evaluates the dialer window in the contact's time zone and falls back to the account's. A lead's own
`timezone` column wins; otherwise, when its number belongs to exactly one zone (+1 212 → America/New_York),
that zone is sent with the contact, so a US lead on a German account is not rung at 03:00 New York time.
Numbers that map to several zones or none are left to the account default, and the plan says so with counts
and examples instead of falling back silently. The report stays small for 10,000 leads: counts per source and
per zone plus the first few examples.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict

from telli_mcp.campaigns.models import Lead
from telli_mcp.client.timezones import CalleeTimezone, callee_timezone

__all__ = [
    "LeadZones",
    "TimezoneExample",
    "TimezonePlan",
    "TimezoneSource",
    "ZoneTally",
    "plan_timezones",
    "resolve_zones",
    "source_of",
    "timezone_warning",
    "zone_of",
    "zone_to_send",
]

MAX_ZONES_LISTED = 10
MAX_EXAMPLES = 5

TimezoneSource = Literal["column", "inferred", "account_default"]
LeadZones = Mapping[int, CalleeTimezone]
"""Lead row → the zone telli will dial it in."""

_SOURCES: dict[str, TimezoneSource] = {"given": "column", "inferred": "inferred", "account_default": "account_default"}


class _Report(BaseModel):
    """Base of the zone plan's parts (its attribute docstrings are for readers, not schemas)."""

    # Validators are built on first use: the MCP server imports these types at startup but uses them only in a run.
    model_config = ConfigDict(defer_build=True)


class TimezoneExample(_Report):
    """A lead telli will call on the account's clock, and why."""

    row: int
    phone_number: str
    timezone: str
    why: str


class TimezonePlan(_Report):
    """Which clock the dialer window is evaluated on for the campaign's leads."""

    account_timezone: str
    """The account's time zone as configured here (TELLI_ACCOUNT_TIMEZONE): telli's fallback."""
    by_source: dict[TimezoneSource, int]
    """Leads per source: `column` (the lead's timezone), `inferred` (the number's only zone, sent to telli),
    `account_default` (no zone known: telli uses the account's)."""
    by_zone: dict[str, int]
    """Leads per zone, the most common first (at most 10)."""
    other_zones: int = 0
    """Leads in zones left out of `by_zone`."""
    account_default_examples: list[TimezoneExample]
    """The first few leads that fall back to the account's time zone."""


def resolve_zones(leads: Sequence[Lead], account_timezone: str) -> dict[int, CalleeTimezone]:
    """The zone of every lead, by row."""
    return {lead.row: zone_of(lead, account_timezone) for lead in leads}


def zone_of(lead: Lead, account_timezone: str) -> CalleeTimezone:
    """The zone telli will dial `lead` in."""
    # A lead with its own zone needs no look-up of its number (about 70 µs each: 0.7 s for 10,000 leads).
    return callee_timezone(None if lead.timezone else lead.phone_number, lead.timezone, account_timezone)


def source_of(zone: CalleeTimezone) -> TimezoneSource:
    return _SOURCES[zone.source]


def zone_to_send(zone: CalleeTimezone | None) -> str | None:
    """The `timezone` to create the contact with; None leaves it to telli's account default."""
    if zone is None or zone.source == "account_default":
        return None
    return zone.zone


def plan_timezones(leads: Sequence[Lead], zones: LeadZones, account_timezone: str) -> TimezonePlan:
    tally = ZoneTally(account_timezone)
    for lead in leads:
        tally.add(lead, zones[lead.row])
    return tally.plan()


class ZoneTally:
    """The timezone plan built one lead at a time: counts and the first few examples, never the leads."""

    def __init__(self, account_timezone: str) -> None:
        self.account_timezone = account_timezone
        self.sources: Counter[TimezoneSource] = Counter()
        self.zones: Counter[str] = Counter()
        self.examples: list[TimezoneExample] = []

    def add(self, lead: Lead, zone: CalleeTimezone) -> None:
        source = source_of(zone)
        self.sources[source] += 1
        self.zones[zone.zone] += 1
        if source == "account_default" and len(self.examples) < MAX_EXAMPLES:
            self.examples.append(
                TimezoneExample(row=lead.row, phone_number=lead.phone_number, timezone=zone.zone, why=zone.why)
            )

    def plan(self) -> TimezonePlan:
        per_zone = self.zones.most_common()
        return TimezonePlan(
            account_timezone=self.account_timezone,
            by_source={source: self.sources.get(source, 0) for source in ("column", "inferred", "account_default")},
            by_zone=dict(per_zone[:MAX_ZONES_LISTED]),
            other_zones=sum(count for _, count in per_zone[MAX_ZONES_LISTED:]),
            account_default_examples=list(self.examples),
        )


def timezone_warning(plan: TimezonePlan) -> str | None:
    """One sentence when some leads will be dialled on the account's clock, else None."""
    fallback = plan.by_source.get("account_default", 0)
    if not fallback:
        return None
    total = sum(plan.by_source.values())
    first = plan.account_default_examples[0]
    return (
        f"{fallback} of {total} leads have no timezone column value and their number does not pin down one "
        f"time zone: telli will call them inside the dialer window on the account's clock "
        f"({plan.account_timezone}). Add a timezone column for them to be sure. First: row {first.row} "
        f"({first.phone_number}): {first.why}."
    )
