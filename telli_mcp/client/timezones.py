"""Which time zone a callee is in, and why: the one rule every path that dials or schedules uses.

telli dials inside the dialer window "evaluated in the contact's timezone (fallback: account timezone)". A
contact without a time zone is therefore called on the account's clock, which for a US lead on a German
account means the middle of the night. So: a zone given for the contact wins; otherwise, where the number
belongs to exactly one IANA zone (`phonenumbers`' time zone data: +1 212 is America/New_York), that zone is
inferred and said to be inferred; where it maps to several zones or to none, the account default is what
telli will use, and the result says so and why, so nobody falls back to it silently.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from telli_mcp.zones import is_iana_zone

__all__ = ["CalleeTimezone", "TimezoneSource", "callee_timezone", "number_timezones"]

TimezoneSource = Literal["given", "inferred", "account_default"]
_UNKNOWN_ZONE = "Etc/Unknown"
_LISTED_CANDIDATES = 5


@dataclass(frozen=True)
class CalleeTimezone:
    """The zone telli will use for a callee, where it came from, and in words why."""

    zone: str
    """An IANA zone name."""
    source: TimezoneSource
    """`given` (the contact's or the lead's own), `inferred` (the number's only zone) or `account_default`."""
    why: str
    """One sentence for results and confirmation questions."""
    candidates: tuple[str, ...] = ()
    """Every zone the number could be in (empty when unknown)."""

    def local_time(self, now: datetime) -> datetime:
        """`now` on the callee's clock."""
        return now.astimezone(zoneinfo.ZoneInfo(self.zone))

    def possible_local_times(self, now: datetime) -> list[datetime]:
        """`now` in every zone the callee may be in: the chosen one and, when that is only the account's
        default, each zone the number could be in (a careful waking-hours check must pass in all of them)."""
        extra = self.candidates if self.source == "account_default" else ()
        zones = dict.fromkeys([self.zone, *extra])
        return [now.astimezone(zoneinfo.ZoneInfo(zone)) for zone in zones if is_iana_zone(zone)]


def number_timezones(phone_number: str) -> tuple[str, ...]:
    """The IANA zones an E.164 number may be in, per `phonenumbers`; empty when it cannot tell."""
    import phonenumbers  # on first use: starting the server must not load its metadata
    from phonenumbers import timezone as phone_timezones

    try:
        parsed = phonenumbers.parse(phone_number, None)
    except phonenumbers.NumberParseException:
        return ()
    zones = tuple(zone for zone in phone_timezones.time_zones_for_number(parsed) if zone != _UNKNOWN_ZONE)
    return tuple(zone for zone in zones if is_iana_zone(zone))


def callee_timezone(phone_number: str | None, given: str | None, account_default: str) -> CalleeTimezone:
    """The zone telli will dial `phone_number` in: `given` if set, else the number's only zone, else the
    account's default (with the reason)."""
    candidates = number_timezones(phone_number) if phone_number else ()
    if given:
        return CalleeTimezone(given, "given", f"{given} (the contact's own time zone)", candidates)
    if len(candidates) == 1:
        return CalleeTimezone(
            candidates[0], "inferred", f"{candidates[0]} (inferred from the phone number)", candidates
        )
    if candidates:
        shown = ", ".join(candidates[:_LISTED_CANDIDATES])
        more = f" and {len(candidates) - _LISTED_CANDIDATES} more" if len(candidates) > _LISTED_CANDIDATES else ""
        why = (
            f"{account_default} (the account's default: the number could be in {len(candidates)} time zones, "
            f"{shown}{more}; set the contact's time zone to be sure)"
        )
        return CalleeTimezone(account_default, "account_default", why, candidates)
    why = f"{account_default} (the account's default: no time zone is known for this number)"
    return CalleeTimezone(account_default, "account_default", why, ())
