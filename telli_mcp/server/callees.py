"""Who a dialling tool is about to call: their real time zone, their local time now, and their dialer state.

Every path that rings someone reads this before asking or acting, so the confirmation shows each callee's
local time and the tool skips people telli is already calling or about to call.

telli stores the account's time zone on a contact created without one, so a stored zone equal to the account
default proves nothing: it counts as the contact's own only when the phone number agrees with it. Any other
stored zone was set on purpose and wins.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time
from typing import TYPE_CHECKING

import anyio
from mcp.server.mcpserver.exceptions import ToolError

from telli_mcp.client.timezones import CalleeTimezone, callee_timezone, number_timezones
from telli_mcp.text import inline

if TYPE_CHECKING:
    from telli_mcp.client import ContactV1, TelliClient

__all__ = [
    "WAKING_END",
    "WAKING_START",
    "Callee",
    "DialerContact",
    "check_waking_hours",
    "contact_timezone",
    "local_times",
    "read_dialer_contact",
    "read_dialer_contacts",
    "timezone_from_number",
]

WAKING_START = time(8, 0)
WAKING_END = time(21, 0)
NAMED = 5
"""Up to this many callees, a confirmation names each with their own local time; beyond, it counts per band."""
READ_CONCURRENCY = 8
_BANDS = ((0, 4), (4, 8), (8, 12), (12, 16), (16, 21), (21, 24))
"""Local-time bands (hours); their edges fall on the waking-hours limits, so a band is all night or all day."""
_LISTED = 3
"""Zones or zone reasons listed before the rest are only counted."""


@dataclass(frozen=True)
class Callee:
    """One person a confirmation is about to have called: how to name them, and their time zone with why."""

    label: str
    zone: CalleeTimezone


@dataclass(frozen=True)
class DialerContact:
    """A telli contact about to be dialled, as read just before asking: identity, zones and dialer state."""

    record: ContactV1
    callee: Callee
    dialer_zone: str
    """The zone telli's dialer window uses for them: their stored zone, else the account's."""

    @property
    def contact_id(self) -> str:
        return self.record.contact_id

    @property
    def in_call(self) -> bool:
        return self.record.in_call_since is not None

    @property
    def waiting(self) -> bool:
        """Already in telli's dialer loop, with a call to come (the campaigns' rule, `contact_state.in_dialer`)."""
        from telli_mcp.campaigns.contact_state import in_dialer

        return in_dialer(self.record)

    @property
    def dialer_zone_differs(self) -> bool:
        """telli will dial them on a clock that is not theirs (a defaulted zone on a number elsewhere)."""
        return self.callee.zone.source == "inferred" and self.callee.zone.zone != self.dialer_zone

    def binding(self) -> list[str]:
        """What a confirmation to dial them covers beyond their id: the number and the dialer's clock."""
        return [self.contact_id, self.record.phone_number or "", self.dialer_zone]


def contact_timezone(stored: str | None, phone_number: str | None, account_default: str) -> CalleeTimezone:
    """The callee's real zone: a stored zone other than the account default (set on purpose), else as
    `callee_timezone` decides from the number (inferred, or the account default with the reason)."""
    if stored and (stored != account_default or stored in number_timezones(phone_number or "")):
        return callee_timezone(phone_number, stored, account_default)
    return callee_timezone(phone_number, None, account_default)


def _number_zones(zone: CalleeTimezone) -> str:
    if not zone.candidates:
        return "no time zone is known for the number"
    shown = ", ".join(zone.candidates[:_LISTED])
    more = ", ..." if len(zone.candidates) > _LISTED else ""
    return f"the number could be in {len(zone.candidates)} time zones ({shown}{more})"


def timezone_from_number(phone_number: str, account_default: str, *, kept: str | None = None) -> tuple[str | None, str]:
    """The zone to store for a contact given this number and no zone: the number's only zone (inferred), or
    none; and a note saying which it is. `kept` is the zone an existing contact keeps when none is inferred."""
    zone = callee_timezone(phone_number, None, account_default)
    if zone.source == "inferred":
        return zone.zone, f"timezone set to {zone.zone}, inferred from the phone number"
    if kept:
        return None, f"timezone kept at {kept}: {_number_zones(zone)}; pass timezone to be sure"
    return None, f"timezone not set, so telli uses {zone.why}"


def _label(contact: ContactV1) -> str:
    # The label goes into the question a human answers: names and number from telli, cleaned to one line.
    name = inline(f"{contact.first_name or ''} {contact.last_name or ''}") or "(no name)"
    return f"{name} ({inline(contact.phone_number or '')})"


def _dialer_contact(contact: ContactV1, account_default: str) -> DialerContact:
    zone = contact_timezone(contact.timezone, contact.phone_number, account_default)
    return DialerContact(contact, Callee(_label(contact), zone), contact.timezone or account_default)


async def read_dialer_contact(client: TelliClient, contact_id: str, account_default: str) -> DialerContact:
    """One contact's full v1 record (zone, status, in_call_since, next_call_at), read now."""
    return _dialer_contact(await client.contacts_v1.get(contact_id), account_default)


async def read_dialer_contacts(
    client: TelliClient, contact_ids: Sequence[str], account_default: str
) -> list[DialerContact]:
    """The contacts' current records, in input order; refuses before asking if any id is unknown.

    The batch read finds unknown ids in one request; each contact is then read in full, because only the
    single-contact record carries the time zone and the dialer status.
    """
    batch = await client.contacts_v1.get_batch(list(contact_ids))
    if batch.missing:
        missing = ", ".join(item.ref for item in batch.missing[:10])
        raise ToolError(f"contact_ids: no telli contact with id {missing}. Nothing was scheduled.")
    found: dict[str, DialerContact] = {}
    limiter = anyio.CapacityLimiter(READ_CONCURRENCY)

    async def read(contact_id: str) -> None:
        async with limiter:
            found[contact_id] = await read_dialer_contact(client, contact_id, account_default)

    try:
        async with anyio.create_task_group() as group:
            for contact_id in contact_ids:
                group.start_soon(read, contact_id)
    except BaseExceptionGroup as failed:
        # The first read that failed stopped the others; report it as itself (a TelliError the tool translates).
        raise failed.exceptions[0] from None
    return [found[contact_id] for contact_id in contact_ids]


def _is_night(moment: datetime) -> bool:
    return not WAKING_START <= moment.time() < WAKING_END


def _hour(moment: datetime) -> str:
    # Whole hours only: the question is rendered again on each round of a confirmation, and an answer counts
    # only for the exact question shown, so a clock that ticked between rounds must not change the text.
    return f"{moment.hour:02d}:00–{(moment.hour + 1) % 24:02d}:00"


def _night_note(zone: CalleeTimezone, now: datetime) -> str:
    if _is_night(zone.local_time(now)):
        return " (night)"
    if any(_is_night(moment) for moment in zone.possible_local_times(now)):
        return " (night in another zone the number may be in)"
    return ""


def _one(callee: Callee, now: datetime) -> str:
    local = callee.zone.local_time(now)
    return f"{callee.label} {_hour(local)}{_night_note(callee.zone, now)} in {callee.zone.why}"


def _band(moment: datetime) -> str:
    start, end = next(band for band in _BANDS if band[0] <= moment.hour < band[1])
    night = " (night)" if _is_night(moment) else ""
    return f"{start:02d}:00–{end % 24:02d}:00{night}"


def _bands(callees: Sequence[Callee], now: datetime) -> str:
    counts = Counter(_band(callee.zone.local_time(now)) for callee in callees)
    bands = ", ".join(f"{count} at {band}" for band, count in sorted(counts.items()))
    unsure = sum(1 for c in callees if not _is_night(c.zone.local_time(now)) and _night_note(c.zone, now))
    more = f"; {unsure} may be at night in another zone their number could be in" if unsure else ""
    reasons = Counter(callee.zone.why for callee in callees)
    shown = "; ".join(f"{count} × {why}" for why, count in reasons.most_common(_LISTED))
    rest = f"; {len(reasons) - _LISTED} more zones" if len(reasons) > _LISTED else ""
    return f"{bands}{more}. Time zones: {shown}{rest}"


def local_times(callees: Sequence[Callee], now: datetime) -> str:
    """Each callee's local time now, or for many the count per local-time band, with which zone and why."""
    if len(callees) <= NAMED:
        return "Local time now: " + "; ".join(_one(callee, now) for callee in callees) + "."
    return f"Local time now: {_bands(callees, now)}."


def check_waking_hours(callee: Callee, now: datetime, *, override: bool) -> None:
    """Refuse a call right now outside 08:00-21:00 in the callee's zone, or in any zone an ambiguous number
    may be in, unless the user explicitly wants it."""
    if override:
        return
    for local in callee.zone.possible_local_times(now):
        if not _is_night(local):
            continue
        where = str(getattr(local.tzinfo, "key", local.tzinfo))
        zone = callee.zone.why if where == callee.zone.zone else f"{where}, a zone this number may be in"
        raise ToolError(
            f"Not calling now: it is {local:%H:%M} ({local:%A}) for this contact in {zone}, outside 08:00-21:00. "
            "Use schedule_calls instead (the auto-dialer waits for the dialer window), or pass "
            "allow_outside_hours=true only if the user explicitly wants to call at this hour."
        )
