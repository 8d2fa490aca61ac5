"""What counts as a time zone: the one rule shared by the settings, the client, the server and the campaign engine.

A name is a zone when the IANA time zone database lists it, spelled as the database spells it: `Europe/Berlin`,
and links such as `US/Eastern`, are zones. Files that sit in the database's directory without being zones are
not: `localtime` (the machine's own setting), `posixrules` and `Factory` (a placeholder meaning "not set"); nor
are other spellings (`europe/berlin`, `posix/Europe/Berlin`, ` Europe/Berlin`), which a case-insensitive file
system (Windows, macOS) would otherwise accept as they are and send to telli. `canonical_zone` finds the listed
spelling of a name typed in another case, for callers that normalise human input (lead files).

The list is `zoneinfo.available_timezones()`, which includes the `tzdata` package's list: so every listed name
also loads where the system has no database (Windows). A leaf module: it imports nothing of telli_mcp, so the
settings, the client and the campaigns can all use it.
"""

from __future__ import annotations

import functools
import zoneinfo

__all__ = ["DEFAULT_ACCOUNT_TIMEZONE", "canonical_zone", "check_iana_zone", "is_iana_zone", "zone_problem"]

DEFAULT_ACCOUNT_TIMEZONE = "Europe/Berlin"
"""The account time zone assumed when TELLI_ACCOUNT_TIMEZONE is not set (telli's API does not report it; see
`Settings.account_timezone`), and by the campaign engine's callers that pass none."""

NOT_ZONES = frozenset({"localtime", "posixrules", "Factory"})
"""Names in the database's directory that are no place's time zone."""


@functools.cache
def _zones_by_folded_name(search_path: tuple[str, ...]) -> dict[str, str]:
    # Keyed by the search path so that `zoneinfo.reset_tzpath` (tests simulating Windows) is honoured.
    del search_path
    return {name.casefold(): name for name in zoneinfo.available_timezones() if name not in NOT_ZONES}


def _listed() -> dict[str, str]:
    return _zones_by_folded_name(tuple(zoneinfo.TZPATH))


def canonical_zone(name: str) -> str | None:
    """The listed spelling of `name` in any case, surrounding spaces ignored (`europe/berlin` → `Europe/Berlin`);
    None when no zone has that name."""
    return _listed().get(name.strip().casefold())


def is_iana_zone(name: str) -> bool:
    """True when `name` is a zone, spelled exactly as the database lists it (`Europe/Berlin`)."""
    return canonical_zone(name) == name


def zone_problem(name: str) -> str | None:
    """None when `name` is a zone; otherwise why not, as words to follow the quoted name."""
    if is_iana_zone(name):
        return None
    listed = canonical_zone(name)
    if listed is not None:
        return f"is not spelled as the IANA database spells it: write {listed}"
    return "is not an IANA time zone name such as Europe/Berlin"


def check_iana_zone(value: str) -> str:
    """`value` unchanged, or ValueError saying why it is not a zone (for pydantic validators)."""
    problem = zone_problem(value)
    if problem is not None:
        raise ValueError(f"{value!r} {problem}")
    return value
