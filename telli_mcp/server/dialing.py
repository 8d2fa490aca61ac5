"""Look before dialling: what schedule_calls and call_now will do, read from telli just before asking.

Both tools read each contact's dialer state first. Nobody who is in a call right now is dialled again; a
contact already waiting in the auto-dialer is left alone unless the caller explicitly asks to go ahead
anyway. When telli's answer to the dialling request is lost, the contacts are reported `unknown` with the one
check that tells, and the request is never repeated here: telli has no idempotency key, so a repeat could
ring a person twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from mcp.server.mcpserver.exceptions import ToolError

from telli_mcp.server.callees import DialerContact, check_waking_hours, read_dialer_contact, read_dialer_contacts
from telli_mcp.server.results import ToolResult
from telli_mcp.text import inline

if TYPE_CHECKING:
    from telli_mcp.client import Agent, TelliClient

__all__ = [
    "CHECK_AFTER_SECONDS",
    "CallNowPlan",
    "SchedulePlan",
    "Skipped",
    "call_check",
    "check_from_number",
    "plan_call_now",
    "plan_schedule",
    "schedule_check",
]

CHECK_AFTER_SECONDS = 30
"""How long to wait before reading the contact to learn the fate of a dialling request whose answer was lost."""


class Skipped(ToolResult):
    """A contact the tool left alone because telli is already calling them or about to."""

    contact_id: str
    reason: Literal["in_call", "waiting"]
    detail: str


def _in_call_detail(contact: DialerContact) -> str:
    since = contact.record.in_call_since
    return f"in a call since {since:%Y-%m-%d %H:%M} UTC; not dialled again" if since else "in a call right now"


def _waiting_detail(contact: DialerContact, flag: str) -> str:
    when = contact.record.next_call_at
    at = f" (next call {when:%Y-%m-%d %H:%M} UTC)" if when else ""
    return f"already waiting in the auto-dialer{at}; pass {flag}=true to go ahead anyway"


@dataclass(frozen=True)
class SchedulePlan:
    """Who schedule_calls will put into the dialer, and who it leaves alone and why."""

    agent: Agent
    dial: list[DialerContact]
    skipped: list[tuple[DialerContact, Skipped]]
    rescheduled: list[DialerContact]
    """Waiting already, dialled again only because the caller asked for it."""

    def skipped_results(self) -> list[Skipped]:
        return [skip for _, skip in self.skipped]

    def binding(self) -> dict[str, list[list[str]]]:
        """What a yes covers beyond the arguments: exactly who is dialled, on which number and clock."""
        return {"dial": [contact.binding() for contact in self.dial]}


async def check_from_number(client: TelliClient, from_number: str | None) -> None:
    if from_number is None:
        return
    numbers = {number.phone_number for number in (await client.phone_numbers.list()).items}
    if from_number not in numbers:
        shown = ", ".join(inline(number) for number in sorted(numbers))  # as telli sent them: cleaned
        raise ToolError(
            f"from_number: {from_number} is not one of this account's numbers "
            f"({shown or 'none'}); see list_phone_numbers."
        )


def _skip(contact: DialerContact, reschedule_waiting: bool) -> Skipped | None:
    if contact.in_call:
        return Skipped(contact_id=contact.contact_id, reason="in_call", detail=_in_call_detail(contact))
    if contact.waiting and not reschedule_waiting:
        return Skipped(
            contact_id=contact.contact_id, reason="waiting", detail=_waiting_detail(contact, "reschedule_waiting")
        )
    return None


async def plan_schedule(
    client: TelliClient,
    *,
    contact_ids: list[str],
    agent_id: str,
    from_number: str | None,
    reschedule_waiting: bool,
    account_timezone: str,
) -> SchedulePlan:
    """Read the agent, the caller id and every contact's current state; refuse unknown ids before asking."""
    agent = await client.agents.get(agent_id)
    await check_from_number(client, from_number)
    plan = SchedulePlan(agent, dial=[], skipped=[], rescheduled=[])
    for contact in await read_dialer_contacts(client, contact_ids, account_timezone):
        skip = _skip(contact, reschedule_waiting)
        if skip is not None:
            plan.skipped.append((contact, skip))
            continue
        plan.dial.append(contact)
        if contact.waiting:
            plan.rescheduled.append(contact)
    return plan


@dataclass(frozen=True)
class CallNowPlan:
    agent: Agent
    contact: DialerContact


async def plan_call_now(
    client: TelliClient,
    *,
    contact_id: str,
    agent_id: str,
    from_number: str | None,
    allow_outside_hours: bool,
    even_if_waiting: bool,
    account_timezone: str,
    now: datetime,
) -> CallNowPlan:
    """Read the agent, caller id and contact; refuse a contact in a call, waiting (unless asked), or asleep."""
    agent = await client.agents.get(agent_id)
    await check_from_number(client, from_number)
    contact = await read_dialer_contact(client, contact_id, account_timezone)
    if contact.in_call:
        raise ToolError(
            f"contact_id: {contact_id} is on a call right now ({_in_call_detail(contact)}). Nothing was done."
        )
    if contact.waiting and not even_if_waiting:
        raise ToolError(f"contact_id: {contact_id} is {_waiting_detail(contact, 'even_if_waiting')}. Nothing was done.")
    check_waking_hours(contact.callee, now, override=allow_outside_hours)
    return CallNowPlan(agent, contact)


def _read_later(contact: DialerContact) -> str:
    return f"call get_contact(contact_id={contact.contact_id}) after {CHECK_AFTER_SECONDS} seconds"


def schedule_check(contact: DialerContact) -> str:
    """The exact check that tells whether a schedule request whose answer was lost took effect."""
    call = _read_later(contact)
    if contact.waiting:
        return (
            f"{call}: it was already waiting in the dialer before, so it is in the dialer either way. "
            "Do not schedule it again."
        )
    attempts = contact.record.call_attempts or 0
    return (
        f"{call}: next_call_at or in_call_since set, or call_attempts above {attempts}, means it was "
        "scheduled; none of these means it was not. Do not schedule it again before checking."
    )


def call_check(contact: DialerContact) -> str:
    """The exact check that tells whether a call_now request whose answer was lost placed the call."""
    call = _read_later(contact)
    attempts = contact.record.call_attempts or 0
    return (
        f"{call}: in_call_since set or call_attempts above {attempts} means the call was placed; neither "
        "means it was not. Do not call again before checking."
    )
