"""Human-readable descriptions of call-placing actions, for the confirmation question.

They say who, which number, which agent, when (in the contact's timezone) and how many. They must be
deterministic for the same arguments (the SDK may re-run a resolver on every round of a confirmation), so
they never mention the current time.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from mcp.server.mcpserver.exceptions import ToolError

from telli_mcp.client import Agent, ContactV1, TelliClient
from telli_mcp.server.sanitize import clean

__all__ = [
    "QUIET_END",
    "QUIET_START",
    "call_now_question",
    "check_from_number",
    "check_waking_hours",
    "fetch_dialer_contacts",
    "fetch_shown_contacts",
    "schedule_question",
]

QUIET_START = time(21, 0)
QUIET_END = time(8, 0)
NAMES_SHOWN = 5


def _who(contact: ContactV1) -> str:
    name = clean(f"{contact.first_name or ''} {contact.last_name or ''}".strip()) or "(no name)"
    return f"{name} ({contact.phone_number})"


def _agent_label(agent: Agent) -> str:
    return f'agent "{clean(agent.title or "Untitled Agent")}" ({agent.id})'


async def fetch_dialer_contacts(client: TelliClient, contact_ids: Sequence[str]) -> list[ContactV1]:
    """The v1 records (with timezone and dialer status); refuse before asking if any id is unknown."""
    result = await client.contacts_v1.get_batch(list(contact_ids))
    if result.missing:
        missing = ", ".join(item.ref for item in result.missing[:10])
        raise ToolError(f"contact_ids: no telli contact with id {missing}. Nothing was scheduled.")
    return result.found


async def check_from_number(client: TelliClient, from_number: str | None) -> None:
    if from_number is None:
        return
    numbers = {number.phone_number for number in (await client.phone_numbers.list()).items}
    if from_number not in numbers:
        raise ToolError(f"from_number: {from_number} is not one of this account's numbers "
                        f"({', '.join(sorted(numbers)) or 'none'}); see list_phone_numbers.")


def _caller_id(from_number: str | None) -> str:
    return f"from {from_number}" if from_number else "from the account's outbound number pool"


async def fetch_shown_contacts(client: TelliClient, contact_ids: Sequence[str]) -> list[ContactV1]:
    """Full v1 records (with timezone) of the contacts named in a question; the batch view lacks timezone."""
    return [await client.contacts_v1.get(contact_id) for contact_id in contact_ids[:NAMES_SHOWN]]


def schedule_question(
    count: int, shown: Sequence[ContactV1], agent: Agent, from_number: str | None, max_retry_days: int | None
) -> str:
    names = ", ".join(_who(contact) for contact in shown)
    more = f" and {count - len(shown)} more" if count > len(shown) else ""
    zones = sorted({contact.timezone or "account default timezone" for contact in shown})
    if more:
        zones.append("...")
    retry = f"up to {max_retry_days} days" if max_retry_days else "the account's default number of days"
    people = "1 contact" if count == 1 else f"{count} contacts"
    return (
        f"Schedule real phone calls to {people} with {_agent_label(agent)}, {_caller_id(from_number)}: "
        f"{names}{more}. telli's auto-dialer calls each person at the earliest opportunity inside the "
        f"account's dialer window in their own timezone ({', '.join(zones)}) and retries unreached people "
        f"for {retry}. Every call rings a real person and costs money. Go ahead?"
    )


def call_now_question(contact: ContactV1, agent: Agent, from_number: str | None) -> str:
    zone = contact.timezone or "the account's timezone"
    return (
        f"Call {_who(contact)} right now with {_agent_label(agent)}, {_caller_id(from_number)}. "
        f"This rings a real person immediately (their timezone: {zone}) and costs money. Go ahead?"
    )


def _zone(name: str | None, fallback: str) -> ZoneInfo:
    """The contact's zone; telli data we cannot interpret falls back to the account default, never crashes."""
    try:
        return ZoneInfo(name or fallback)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(fallback)


def check_waking_hours(contact: ContactV1, now: datetime, *, override: bool, default_timezone: str) -> None:
    """Refuse an immediate call outside 08:00-21:00 in the contact's timezone unless overridden."""
    if override:
        return
    zone = _zone(contact.timezone, default_timezone)
    local = now.astimezone(zone)
    if QUIET_END <= local.time() < QUIET_START:
        return
    raise ToolError(
        f"Not calling now: it is {local:%H:%M} ({local:%A}) for this contact ({zone.key}), outside 08:00-21:00. "
        "Use schedule_calls instead (the auto-dialer waits for the dialer window), or pass "
        "allow_outside_hours=true only if the user explicitly wants to call at this hour."
    )
