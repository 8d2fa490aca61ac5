"""What counts as an IANA time zone name: the one check shared by the settings, the client and the server.

It sits below both `config` and `client` (it imports neither), so each can use it without importing the other.
"""

from __future__ import annotations

import zoneinfo

__all__ = ["check_iana_zone", "is_iana_zone"]


def is_iana_zone(name: str) -> bool:
    """True when the time zone database knows `name` (e.g. `Europe/Berlin`)."""
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


def check_iana_zone(value: str) -> str:
    """`value` unchanged, or ValueError saying it is not an IANA time zone (for pydantic validators)."""
    if not is_iana_zone(value):
        raise ValueError(f"{value!r} is not an IANA time zone such as Europe/Berlin")
    return value
