"""Human-readable descriptions of call-placing actions, for the confirmation question.

They say who, which number, which agent, how many, who is left alone and why, and whose clock telli's dialer
will use; the confirmation machinery adds each callee's local time now (`callees.local_times`). A resolver
may run again on each round of a confirmation and an answer only counts for the question it was given, so
nothing here mentions the current time (the local times are shown to the whole hour for the same reason).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from telli_mcp.server.callees import DialerContact
from telli_mcp.server.dialing import CallNowPlan, SchedulePlan
from telli_mcp.text import inline

if TYPE_CHECKING:
    from telli_mcp.client import Agent
    from telli_mcp.server.bulk_move import MovePlan

__all__ = ["call_now_question", "move_question", "schedule_question"]

NAMES_SHOWN = 5


def _agent_label(agent: Agent) -> str:
    return f'agent "{inline(agent.title or "Untitled Agent")}" ({inline(agent.id)})'


def _caller_id(from_number: str | None) -> str:
    return f"from {from_number}" if from_number else "from the account's outbound number pool"


def _names(contacts: Sequence[DialerContact]) -> str:
    names = ", ".join(contact.callee.label for contact in contacts[:NAMES_SHOWN])
    more = f" and {len(contacts) - NAMES_SHOWN} more" if len(contacts) > NAMES_SHOWN else ""
    return names + more


def _people(count: int) -> str:
    return "1 contact" if count == 1 else f"{count} contacts"


def _left_alone(plan: SchedulePlan) -> str:
    in_call = [contact for contact, skip in plan.skipped if skip.reason == "in_call"]
    waiting = [contact for contact, skip in plan.skipped if skip.reason == "waiting"]
    parts = []
    if in_call:
        parts.append(f"{_people(len(in_call))} in a call right now ({_names(in_call)})")
    if waiting:
        parts.append(
            f"{_people(len(waiting))} already waiting in the dialer ({_names(waiting)}; "
            "reschedule_waiting=true would schedule them again)"
        )
    return f" Left alone: {'; '.join(parts)}." if parts else ""


def _rescheduled(plan: SchedulePlan) -> str:
    if not plan.rescheduled:
        return ""
    return (
        f" {_people(len(plan.rescheduled))} already waiting in the dialer are scheduled again "
        f"(reschedule_waiting=true): {_names(plan.rescheduled)}."
    )


def dialer_clock_warning(contacts: Sequence[DialerContact]) -> str:
    """Contacts telli will dial on the account's clock although their number is in another zone."""
    off = [contact for contact in contacts if contact.dialer_zone_differs]
    if not off:
        return ""
    example = off[0]
    return (
        f" Warning: for {_people(len(off))} ({_names(off)}) telli has the account's time zone "
        f"{inline(example.dialer_zone)} although the number is in {example.callee.zone.zone}: the dialer window runs "
        "on that clock, possibly at night for them. Set their timezone with update_contact first."
    )


def _retry(max_retry_days: int | None) -> str:
    return f"up to {max_retry_days} days" if max_retry_days else "the account's default number of days"


def schedule_question(plan: SchedulePlan, from_number: str | None, max_retry_days: int | None) -> str:
    retry = _retry(max_retry_days)
    return (
        f"Schedule real phone calls to {_people(len(plan.dial))} with {_agent_label(plan.agent)}, "
        f"{_caller_id(from_number)}: {_names(plan.dial)}. telli's auto-dialer calls each person at the earliest "
        "opportunity inside the account's dialer window, on the clock of their time zone in telli, and retries "
        f"unreached people for {retry}. Every call rings a real person and costs money."
        f"{_rescheduled(plan)}{_left_alone(plan)}{dialer_clock_warning(plan.dial)}"
    )


def call_now_question(plan: CallNowPlan, from_number: str | None) -> str:
    waiting = (
        " They are also waiting in the auto-dialer, which may call them again later." if plan.contact.waiting else ""
    )
    return (
        f"Call {plan.contact.callee.label} right now with {_agent_label(plan.agent)}, {_caller_id(from_number)}. "
        f"This rings a real person immediately and costs money.{waiting}"
    )


def _move_left_alone(plan: MovePlan) -> str:
    groups = (
        ("in_call", "in a call right now", ""),
        ("not_waiting", "not waiting in the dialer", "; also_not_waiting=true would schedule them"),
        ("do_not_call", "on the do-not-call list", ""),
    )
    parts = []
    for reason, why, hint in groups:
        contacts = [contact for contact, row in plan.left_alone if row.reason == reason]
        if contacts:
            parts.append(f"{_people(len(contacts))} {why} ({_names(contacts)}){hint}")
    return f" Left alone: {'; '.join(parts)}." if parts else ""


def move_question(plan: MovePlan, from_number: str | None, max_retry_days: int | None) -> str:
    """reschedule_contacts: who is taken out of the dialer and scheduled with which agent, who is only taken out
    (do-not-call), who is left alone and why, and which selection this is."""
    moving, fresh, taken = plan.of_kind("move"), plan.of_kind("schedule"), plan.of_kind("take_out")
    how = []
    if moving:
        how.append(f"{_people(len(moving))} waiting in the auto-dialer: each is taken out of it and scheduled again")
    if fresh:
        how.append(f"{_people(len(fresh))} not waiting in the dialer: scheduled (also_not_waiting=true)")
    out = (
        f" {_people(len(taken))} on the do-not-call list are only taken out of the dialer, never called: "
        f"{_names(taken)}."
        if taken
        else ""
    )
    missing = f" {_people(len(plan.missing))} of the selection are not in telli (left out)." if plan.missing else ""
    return (
        f"Move {_people(len(plan.dial))} to {_agent_label(plan.agent)}, {_caller_id(from_number)}: "
        f"{_names(plan.dial)}. {'; '.join(how)}. telli's auto-dialer calls each person at the earliest opportunity "
        "inside the account's dialer window, on the clock of their time zone in telli, and retries unreached people "
        f"for {_retry(max_retry_days)}. Every call rings a real person and costs money.{out}"
        f"{_move_left_alone(plan)}{missing}{dialer_clock_warning(plan.dial)} Selection: {plan.selection.label()}."
    )
