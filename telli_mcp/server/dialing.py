"""Look before dialling: what schedule_calls and call_now will do, read from telli just before asking.

Both tools read each contact's dialer state first. Nobody who is in a call right now is dialled again; a
contact already waiting in the auto-dialer is left alone unless the caller explicitly asks to go ahead
anyway. Nobody whose number is on the caller's do-not-call list is dialled: the list is read when the plan is
made (so the question never offers them) and again right before the request is sent (a number added while the
human was deciding is still never dialled). When telli's answer to the dialling request is lost, the contacts
are reported `unknown` with the one check that tells, and the request is never repeated here: telli has no
idempotency key, so a repeat could ring a person twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from mcp.server.mcpserver.exceptions import ToolError

from telli_mcp.server.callees import DialerContact, check_waking_hours, read_dialer_contact, read_dialer_contacts
from telli_mcp.server.results import ToolResult
from telli_mcp.text import inline

if TYPE_CHECKING:
    from telli_mcp.campaigns.dial_block import DialBlock
    from telli_mcp.client import Agent, TelliClient

__all__ = [
    "CHECK_AFTER_SECONDS",
    "CallNowPlan",
    "SchedulePlan",
    "Skipped",
    "call_check",
    "check_from_number",
    "check_not_blocked",
    "plan_call_now",
    "plan_schedule",
    "schedule_check",
]

CHECK_AFTER_SECONDS = 30
"""How long to wait before reading the contact to learn the fate of a dialling request whose answer was lost."""


class Skipped(ToolResult):
    """A contact the tool left alone: telli is already calling them or about to, or their number is on the
    do-not-call list."""

    contact_id: str
    reason: Literal["in_call", "waiting", "do_not_call"]
    detail: str


def _e164(contact: DialerContact) -> str | None:
    """The contact's number as the do-not-call list keeps numbers (E.164), or None when it has none in that form
    (then no entry of the list can be theirs)."""
    from telli_mcp.do_not_call import normalise_number

    try:
        return normalise_number(contact.record.phone_number or "")
    except ValueError:
        return None


def blocked_contacts(contacts: Sequence[DialerContact], dial_block: DialBlock) -> set[str]:
    """The ids of the contacts whose number is on the do-not-call list (one read of the list for all of them)."""
    numbers = {contact.contact_id: _e164(contact) for contact in contacts}
    blocked = dial_block.blocked({number for number in numbers.values() if number is not None})
    return {contact_id for contact_id, number in numbers.items() if number is not None and number in blocked}


def _do_not_call_skip(contact: DialerContact) -> Skipped:
    from telli_mcp.do_not_call import DO_NOT_CALL_REASON

    return Skipped(contact_id=contact.contact_id, reason="do_not_call", detail=DO_NOT_CALL_REASON)


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

    def without_blocked(self, dial_block: DialBlock) -> SchedulePlan:
        """This plan with every contact now on the do-not-call list moved from `dial` to `skipped` (the last
        look before sending: a number added after the plan was made is still never dialled)."""
        blocked = blocked_contacts(self.dial, dial_block)
        if not blocked:
            return self
        return replace(
            self,
            dial=[contact for contact in self.dial if contact.contact_id not in blocked],
            skipped=[*self.skipped, *_skip_blocked(self.dial, blocked)],
            rescheduled=[contact for contact in self.rescheduled if contact.contact_id not in blocked],
        )


def _skip_blocked(contacts: Sequence[DialerContact], blocked: set[str]) -> list[tuple[DialerContact, Skipped]]:
    return [(contact, _do_not_call_skip(contact)) for contact in contacts if contact.contact_id in blocked]


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
    dial_block: DialBlock,
) -> SchedulePlan:
    """Read the agent, the caller id and every contact's current state; refuse unknown ids before asking. Who is
    on the do-not-call list is skipped first: whatever their dialer state, they are not dialled."""
    agent = await client.agents.get(agent_id)
    await check_from_number(client, from_number)
    plan = SchedulePlan(agent, dial=[], skipped=[], rescheduled=[])
    contacts = await read_dialer_contacts(client, contact_ids, account_timezone)
    blocked = blocked_contacts(contacts, dial_block)
    for contact in contacts:
        skip = _do_not_call_skip(contact) if contact.contact_id in blocked else _skip(contact, reschedule_waiting)
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
    dial_block: DialBlock,
) -> CallNowPlan:
    """Read the agent, caller id and contact; refuse a contact on the do-not-call list, in a call, waiting (unless
    asked), or asleep."""
    agent = await client.agents.get(agent_id)
    await check_from_number(client, from_number)
    contact = await read_dialer_contact(client, contact_id, account_timezone)
    check_not_blocked(contact, dial_block)
    if contact.in_call:
        raise ToolError(
            f"contact_id: {contact_id} is on a call right now ({_in_call_detail(contact)}). Nothing was done."
        )
    if contact.waiting and not even_if_waiting:
        raise ToolError(f"contact_id: {contact_id} is {_waiting_detail(contact, 'even_if_waiting')}. Nothing was done.")
    check_waking_hours(contact.callee, now, override=allow_outside_hours)
    return CallNowPlan(agent, contact)


def check_not_blocked(contact: DialerContact, dial_block: DialBlock) -> None:
    """Refuse to dial one contact whose number is on the do-not-call list (before asking, and right before the
    call is placed)."""
    if blocked_contacts([contact], dial_block):
        from telli_mcp.do_not_call import DO_NOT_CALL_REASON

        raise ToolError(
            f"contact_id: {contact.contact_id} ({inline(contact.record.phone_number or '')}) is {DO_NOT_CALL_REASON}. "
            "Nothing was done."
        )


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
