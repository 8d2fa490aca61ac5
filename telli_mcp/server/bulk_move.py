"""Move many contacts to another agent: take each out of the auto-dialer, then schedule it with the new agent.

telli has no "change agent" request, and scheduling a contact that is still in a dialer loop leaves it in that
loop, so a move is two requests per contact: remove-from-dialer, then schedule. This module plans the move from
each contact's current dialer state (read before the question, as every dial path does) and carries it out in
rounds of 50, the schedule batch's limit, each round in this order:

1. read the round's contacts again (one batch read): one now in a call is left alone, one that left the dialer
   since the question is not scheduled again, one not waiting that has started waiting since is left alone;
2. take the movers out of the dialer (one remove request);
3. read the do-not-call list, then schedule those taken out and those not waiting (one schedule request).

A number on the do-not-call list is never scheduled; one that is waiting is still taken out (the old agent must
not call them either). When telli's answer to a request is lost, or a whole request fails, the round's contacts
are reported with the one check that tells what happened, nothing is sent again, and the later rounds are not
sent (they stay with their old agent): a failure never leaves more than one round's contacts out of the dialer. A
do-not-call list that cannot be read (its database is down) schedules nobody and ends the move the same way.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from telli_mcp.bounded import chunked
from telli_mcp.server.callees import DialerContact, read_dialer_contacts
from telli_mcp.server.dialing import CHECK_AFTER_SECONDS, blocked_contacts, check_from_number, schedule_check
from telli_mcp.server.results import ToolResult
from telli_mcp.text import InlineText

if TYPE_CHECKING:
    from telli_mcp.campaigns.dial_block import DialBlock
    from telli_mcp.client import Agent, BatchReport, ContactV1, TelliClient
    from telli_mcp.server.bulk_selection import Selection

__all__ = ["ROUND", "MoveKind", "MovePlan", "MoveRequest", "MoveRow", "Planned", "apply_move", "plan_move"]

ROUND = 50
"""Contacts per round: schedule-calls-batch and remove-from-dialer-batch take at most 50."""

MoveKind = Literal["move", "schedule", "take_out"]
"""move: waiting, taken out then scheduled; schedule: not waiting, scheduled (also_not_waiting); take_out: waiting
and on the do-not-call list, only taken out."""
MoveStatus = Literal[
    "moved",
    "scheduled",
    "taken_out",
    "out_of_dialer",
    "unknown",
    "failed",
    "not_sent",
    "not_found",
    "skipped",
    "would_move",
    "would_schedule",
    "would_take_out",
]
Standing = Literal["new_agent", "as_before", "out_of_dialer", "unknown"]
SkipReason = Literal["in_call", "do_not_call", "not_waiting", "waiting", "left_dialer"]

GONE = "telli no longer has this contact (deleted since the selection was made)"
NOT_SENT = (
    "not sent: an earlier round's answer was lost or the whole request failed, so the rest was stopped; "
    "unchanged (still with its old agent if it was waiting), safe to run reschedule_contacts again for it"
)


class MoveRow(ToolResult):
    """What happened (or, in a dry run, would happen) to one selected contact."""

    contact_id: str
    status: MoveStatus
    now: Standing | None = Field(
        default=None, description="Where it stands now: new_agent, as_before, out_of_dialer (not waiting to be called)"
    )
    reason: SkipReason | None = None
    detail: InlineText | None = Field(default=None, description="telli's reason, or why")
    check: str | None = Field(default=None, description="For unknown: how to find out; never just resend")


@dataclass(frozen=True)
class Planned:
    contact: DialerContact
    kind: MoveKind


@dataclass(frozen=True)
class MoveRequest:
    """What the schedule requests carry besides the contact: the new agent, its retry days and caller id."""

    agent_id: str
    max_retry_days: int | None
    from_number: str | None


@dataclass(frozen=True)
class MovePlan:
    """Who the move takes out of the dialer, who it schedules with the new agent, and who it leaves alone."""

    agent: Agent
    selection: Selection
    planned: list[Planned]
    left_alone: list[tuple[DialerContact, MoveRow]]
    missing: list[str]

    def of_kind(self, kind: MoveKind) -> list[DialerContact]:
        return [planned.contact for planned in self.planned if planned.kind == kind]

    @property
    def dial(self) -> list[DialerContact]:
        """The people the move schedules with the new agent (the callees of the question)."""
        return [planned.contact for planned in self.planned if planned.kind != "take_out"]

    def binding(self) -> dict[str, Any]:
        """What a yes covers beyond the arguments: exactly these contacts, what happens to each, and each callee's
        number and dialer clock."""
        return {
            "selection": self.selection.digest,
            "planned": [[planned.kind, *planned.contact.binding()] for planned in self.planned],
            "missing": sorted(self.missing),
        }

    def preview(self) -> list[MoveRow]:
        """What the move would do now (a dry run), in selection order."""
        rows = {planned.contact.contact_id: _would(planned) for planned in self.planned}
        rows.update((contact.contact_id, row) for contact, row in self.left_alone)
        rows.update((contact_id, _not_found(contact_id)) for contact_id in self.missing)
        return [rows[contact_id] for contact_id in self.selection.ids]


_WOULD: dict[MoveKind, MoveStatus] = {"move": "would_move", "schedule": "would_schedule", "take_out": "would_take_out"}


def _would(planned: Planned) -> MoveRow:
    return MoveRow(contact_id=planned.contact.contact_id, status=_WOULD[planned.kind])


def _not_found(contact_id: str) -> MoveRow:
    return MoveRow(contact_id=contact_id, status="not_found", detail=GONE)


def _skip(contact_id: str, reason: SkipReason, detail: str) -> MoveRow:
    return MoveRow(contact_id=contact_id, status="skipped", now="as_before", reason=reason, detail=detail)


def _do_not_call_detail() -> str:
    from telli_mcp.do_not_call import DO_NOT_CALL_REASON

    return DO_NOT_CALL_REASON


def _classify(contact: DialerContact, blocked: bool, also_not_waiting: bool) -> MoveKind | MoveRow:
    """What the move does to one contact, or the row saying why it leaves them alone. In a call comes first:
    nobody in a call is touched."""
    if contact.in_call:
        return _skip(contact.contact_id, "in_call", "in a call right now; left alone (run again after the call)")
    if blocked:
        if contact.waiting:
            return "take_out"
        return _skip(contact.contact_id, "do_not_call", _do_not_call_detail())
    if contact.waiting:
        return "move"
    if also_not_waiting:
        return "schedule"
    return _skip(
        contact.contact_id,
        "not_waiting",
        f"not waiting in the auto-dialer ({contact.record.dialer_status()}); also_not_waiting=true schedules them too",
    )


async def plan_move(
    client: TelliClient,
    selection: Selection,
    *,
    agent_id: str,
    from_number: str | None,
    also_not_waiting: bool,
    account_timezone: str,
    dial_block: DialBlock,
) -> MovePlan:
    """Read the agent, the caller id and every selected contact's dialer state; nothing is written."""
    agent = await client.agents.get(agent_id)
    await check_from_number(client, from_number)
    batch = await client.contacts_v1.get_batch(list(selection.ids))
    contacts = await read_dialer_contacts(client, [found.contact_id for found in batch.found], account_timezone)
    blocked = blocked_contacts(contacts, dial_block)
    planned: list[Planned] = []
    left_alone: list[tuple[DialerContact, MoveRow]] = []
    for contact in contacts:
        kind = _classify(contact, contact.contact_id in blocked, also_not_waiting)
        if isinstance(kind, MoveRow):
            left_alone.append((contact, kind))
        else:
            planned.append(Planned(contact, kind))
    return MovePlan(agent, selection, planned, left_alone, missing=[item.ref for item in batch.missing])


def _removal_check(contact_id: str) -> str:
    return (
        f"call get_contact(contact_id={contact_id}) after {CHECK_AFTER_SECONDS} seconds: next_call_at or in_call_since "
        "set means it is still with its old agent (run reschedule_contacts again for it); neither means it is out of "
        "the dialer (schedule it with schedule_calls). It was not scheduled with the new agent."
    )


def _moved_check(contact: DialerContact) -> str:
    attempts = contact.record.call_attempts or 0
    return (
        f"call get_contact(contact_id={contact.contact_id}) after {CHECK_AFTER_SECONDS} seconds: it was taken out of "
        f"its old agent's dialer; next_call_at or in_call_since set, or call_attempts above {attempts}, means the new "
        "agent has it; none of these means it is out of the dialer (schedule it with schedule_calls). Do not schedule "
        "it again before checking."
    )


def _troubled(report: BatchReport) -> bool:
    """A lost answer, or a whole request refused: stop before the next round."""
    return any(item.status in ("unknown", "not_sent") for item in report.items) or (
        bool(report.items) and all(item.status == "error" for item in report.items)
    )


@dataclass
class _Round:
    """One round of at most 50 contacts, carried out against telli; `rows` collects what happened to each."""

    client: TelliClient
    request: MoveRequest
    dial_block: Callable[[], DialBlock]
    rows: dict[str, MoveRow]
    troubled: bool = False

    async def run(self, planned: list[Planned]) -> None:
        ready = await self._still_ready(planned)
        removed = await self._take_out([p for p in ready if p.kind != "schedule"])
        await self._schedule([p for p in ready if p.kind == "schedule" or p.contact.contact_id in removed])

    async def _still_ready(self, planned: list[Planned]) -> list[Planned]:
        """The round's contacts as telli has them now: leave alone whoever's state changed since the question."""
        fresh = await self.client.contacts_v1.get_batch([p.contact.contact_id for p in planned])
        current = {contact.contact_id: contact for contact in fresh.found}
        ready = []
        for item in planned:
            row = _changed(item, current.get(item.contact.contact_id))
            if row is None:
                ready.append(item)
            else:
                self.rows[item.contact.contact_id] = row
        return ready

    async def _take_out(self, planned: list[Planned]) -> set[str]:
        """Remove from the dialer; the ids telli confirmed."""
        if not planned:
            return set()
        report = await self.client.calls.remove_from_dialer_batch([p.contact.contact_id for p in planned])
        self.troubled |= _troubled(report)
        removed = set()
        for item in report.items:
            if item.status == "success":
                removed.add(item.ref)
            elif item.status == "error":
                self.rows[item.ref] = MoveRow(contact_id=item.ref, status="failed", now="as_before", detail=item.error)
            else:
                check = _removal_check(item.ref)
                self.rows[item.ref] = MoveRow(
                    contact_id=item.ref, status="unknown", now="unknown", detail=item.error, check=check
                )
        return removed

    async def _schedule(self, planned: list[Planned]) -> None:
        """Schedule with the new agent, the do-not-call list read right before the request."""
        from telli_mcp.database import DatabaseUnavailable

        try:
            blocked = blocked_contacts([p.contact for p in planned], self.dial_block())
        except DatabaseUnavailable as err:
            # Nobody is scheduled without the list's answer. Those taken out already are reported as out of the
            # dialer (an error here would read "nothing was sent"), and the later rounds are not sent.
            self.troubled = True
            self.rows.update((p.contact.contact_id, _unlisted(p, err)) for p in planned)
            return
        for item in planned:
            if item.kind == "take_out" or item.contact.contact_id in blocked:
                self.rows[item.contact.contact_id] = _left_out(item)
        sending = [p for p in planned if p.kind != "take_out" and p.contact.contact_id not in blocked]
        if not sending:
            return
        from telli_mcp.client import ScheduleCall

        report = await self.client.calls.schedule_batch(
            [
                ScheduleCall(
                    contact_id=p.contact.contact_id,
                    agent_id=self.request.agent_id,
                    max_retry_days=self.request.max_retry_days,
                    override_from_number=self.request.from_number,
                )
                for p in sending
            ]
        )
        self.troubled |= _troubled(report)
        by_id = {p.contact.contact_id: p for p in sending}
        for result in report.items:
            self.rows[result.ref] = _scheduled_row(by_id[result.ref], result.status, result.error)


def _changed(planned: Planned, current: ContactV1 | None) -> MoveRow | None:
    """Why a planned contact is left alone now (read again right before the round), or None to go ahead."""
    from telli_mcp.campaigns.contact_state import in_dialer

    contact_id = planned.contact.contact_id
    if current is None:
        return _not_found(contact_id)
    if current.in_call_since is not None:
        return _skip(contact_id, "in_call", "went into a call after the question; left alone (run again after it)")
    if planned.kind == "schedule" and in_dialer(current):
        return _skip(contact_id, "waiting", "started waiting in the auto-dialer after the question; left alone")
    if planned.kind == "move" and not in_dialer(current):
        return _skip(
            contact_id,
            "left_dialer",
            "left the auto-dialer after the question (reached, closed or taken out); not scheduled",
        )
    if planned.kind == "take_out" and not in_dialer(current):
        detail = f"{_do_not_call_detail()}; already out of the auto-dialer"
        return MoveRow(
            contact_id=contact_id, status="taken_out", now="out_of_dialer", reason="do_not_call", detail=detail
        )
    return None


def _left_out(planned: Planned) -> MoveRow:
    """A contact on the do-not-call list: taken out of the dialer if it was waiting, never scheduled."""
    contact_id = planned.contact.contact_id
    if planned.kind == "schedule":
        return _skip(contact_id, "do_not_call", _do_not_call_detail())
    detail = f"{_do_not_call_detail()}; taken out of the auto-dialer"
    return MoveRow(contact_id=contact_id, status="taken_out", now="out_of_dialer", reason="do_not_call", detail=detail)


def _unlisted(planned: Planned, err: Exception) -> MoveRow:
    """A contact of a round whose do-not-call list could not be read: not scheduled."""
    if planned.kind == "take_out":  # on the list when the question was put: only ever taken out
        return _left_out(planned)
    reason = f"the do-not-call list could not be read ({err})"
    if planned.kind == "schedule":
        return MoveRow(contact_id=planned.contact.contact_id, status="not_sent", now="as_before", detail=reason)
    return _scheduled_row(planned, "not_sent", reason)


def _scheduled_row(planned: Planned, status: str, error: str | None) -> MoveRow:
    contact = planned.contact
    moving = planned.kind == "move"
    if status == "success":
        return MoveRow(contact_id=contact.contact_id, status="moved" if moving else "scheduled", now="new_agent")
    if status == "unknown":
        check = _moved_check(contact) if moving else schedule_check(contact)
        return MoveRow(contact_id=contact.contact_id, status="unknown", now="unknown", detail=error, check=check)
    if moving:  # taken out, then refused (or never sent): out of the dialer until someone schedules it
        detail = f"taken out of the old agent's dialer, then not scheduled: {error or 'telli refused it'}"
        check = "out of the dialer: schedule it with schedule_calls once the reason is fixed"
        return MoveRow(
            contact_id=contact.contact_id, status="out_of_dialer", now="out_of_dialer", detail=detail, check=check
        )
    return MoveRow(contact_id=contact.contact_id, status="failed", now="as_before", detail=error)


ProgressFn = Callable[[int, int], Awaitable[None]]


async def apply_move(
    client: TelliClient,
    plan: MovePlan,
    request: MoveRequest,
    *,
    dial_block: Callable[[], DialBlock],
    progress: ProgressFn | None = None,
) -> list[MoveRow]:
    """Carry out the plan round by round; one row per selected contact, in selection order."""
    rows: dict[str, MoveRow] = {contact.contact_id: row for contact, row in plan.left_alone}
    rows.update((contact_id, _not_found(contact_id)) for contact_id in plan.missing)
    rounds = list(chunked(plan.planned, ROUND))
    run = _Round(client, request, dial_block, rows)
    for done, planned in enumerate(rounds, start=1):
        if run.troubled:
            rows.update(_unsent(planned))
            continue
        await run.run(list(planned))
        if progress is not None:
            await progress(done, len(rounds))
    return [rows[contact_id] for contact_id in plan.selection.ids]


def _unsent(planned: Iterable[Planned]) -> Iterable[tuple[str, MoveRow]]:
    for item in planned:
        contact_id = item.contact.contact_id
        yield contact_id, MoveRow(contact_id=contact_id, status="not_sent", now="as_before", detail=NOT_SENT)
