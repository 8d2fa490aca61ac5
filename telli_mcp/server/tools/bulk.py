"""The bulk toolset: one change, or a move to another agent, for many contacts with one confirmation.

"Set plan=gold for these 300 contacts" is one update_contacts call (telli's v1 update-contacts-batch, 1000 a
request: `server.bulk_update`); "move everyone with plan=basic to the follow-up agent" is one reschedule_contacts
call (out of the dialer, then scheduled with the new agent, 50 a round: `server.bulk_move`). Both select by
contact_ids or by a contact-index query (`server.bulk_selection`), both have a dry run that asks nothing and
writes nothing, and both confirm once for the whole selection: the yes is bound to every argument and to the
resolved ids, so it cannot act on other people than the ones the question was about. Each reports per contact.
Not in `default` (the 20 KB catalogue budget); on by itself in the sandbox.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar

from mcp.server.elicitation import ElicitationResult
from mcp.server.mcpserver import Context, Resolve
from pydantic import AfterValidator, Field

from telli_mcp.contact_index.query import ContactQuery
from telli_mcp.server.budget import fit_to_budget
from telli_mcp.server.bulk_move import MovePlan, MoveRequest, MoveRow, apply_move, plan_move
from telli_mcp.server.bulk_selection import Selection, check_one_selection, resolve_selection
from telli_mcp.server.bulk_update import ContactChange, UpdatePlan, UpdateRow, apply_update, check_change, plan_update
from telli_mcp.server.callees import local_times
from telli_mcp.server.confirm import Arguments, Ask, Confirmable, Confirmation, approval_from
from telli_mcp.server.contact_search import index_properties_changed
from telli_mcp.server.deps import deps_of
from telli_mcp.server.errors import translating
from telli_mcp.server.params import (
    AgentIdArg,
    ConfirmationTokenArg,
    ContactIdArg,
    OptionalPhoneArg,
    OptionalTimezoneArg,
    PropertyKeyArg,
    unique_contact_ids,
)
from telli_mcp.server.previews import move_question
from telli_mcp.server.risk import Risk, ToolSpec
from telli_mcp.server.surface import Instruction, Surface, ToolDef
from telli_mcp.server.views import join_notes
from telli_mcp.text import inline, optional, plain_json, plain_line
from telli_mcp.toolsets import BULK

if TYPE_CHECKING:
    from telli_mcp.client import BatchReport

__all__ = ["MAX_MOVE", "MAX_UPDATE", "SURFACE", "RescheduleContactsResult", "UpdateContactsResult"]

MAX_UPDATE = 5000
"""Contacts one update_contacts call changes at most (5 update requests of 1000)."""
MAX_MOVE = 1000
"""Contacts one reschedule_contacts call moves at most: each is read in full before the question (its time zone
and dialer state, one request each, as every dial path does), which must fit in one tool call's time."""
NAMES_SHOWN = 5

Row = TypeVar("Row", UpdateRow, MoveRow)

QueryArg = Annotated[ContactQuery | None, Field(description="Instead of contact_ids: find_contacts filters")]
UpdateIdsArg = Annotated[
    list[ContactIdArg] | None,
    # The length first: a list of 100,000 ids is refused on its size, not after checking every id.
    Field(min_length=1, max_length=MAX_UPDATE),
    AfterValidator(optional(unique_contact_ids)),
]
MoveIdsArg = Annotated[
    list[ContactIdArg] | None, Field(min_length=1, max_length=MAX_MOVE), AfterValidator(optional(unique_contact_ids))
]
DryRunArg = Annotated[bool, Field(description="Only report what would happen; asks and changes nothing")]


class UpdateContactsResult(Confirmable):
    status: Literal["updated", "partially_updated", "not_updated", "dry_run", "confirmation_required"]
    selected: int
    counts: dict[str, int] = Field(description="Contacts per status")
    unknown: list[str] = Field(default_factory=list, description="telli's answer was lost: run each one's check")
    contacts: list[UpdateRow] = Field(description="Per contact, problems first")
    index_as_of: datetime | None = Field(default=None, description="For a query: contact index synced at")
    note: str | None = None


class RescheduleContactsResult(Confirmable):
    status: Literal["moved", "partially_moved", "not_moved", "dry_run", "confirmation_required"]
    selected: int
    counts: dict[str, int] = Field(description="Contacts per status")
    out_of_dialer: list[str] = Field(
        default_factory=list, description="Taken out of the old agent's dialer but not scheduled with the new one"
    )
    unknown: list[str] = Field(default_factory=list, description="telli's answer was lost: run each one's check")
    contacts: list[MoveRow] = Field(description="Per contact, problems first")
    local_times: str | None = Field(default=None, description="Callees' local time now, zone and why")
    index_as_of: datetime | None = Field(default=None, description="For a query: contact index synced at")
    note: str | None = None


_PROBLEMS_FIRST = ("unknown", "out_of_dialer", "failed", "not_sent", "not_found", "skipped")


def _shown(rows: Sequence[Row]) -> tuple[list[Row], str | None]:
    """The rows that fit in a result, problems first; a note when some are left out (the counts cover all)."""
    rank = {status: index for index, status in enumerate(_PROBLEMS_FIRST)}
    ordered = sorted(rows, key=lambda row: rank.get(row.status, len(rank)))
    shown, hidden = fit_to_budget(ordered)
    return shown, (f"contacts lists {len(shown):,} of {len(rows):,}, problems first." if hidden else None)


def _counts(rows: Sequence[UpdateRow] | Sequence[MoveRow]) -> dict[str, int]:
    return dict(Counter(row.status for row in rows).most_common())


def _unknown(rows: Sequence[UpdateRow] | Sequence[MoveRow]) -> list[str]:
    return [row.contact_id for row in rows if row.status == "unknown"]


def _unknown_note(rows: Sequence[UpdateRow] | Sequence[MoveRow]) -> str | None:
    if not _unknown(rows):
        return None
    return (
        "telli's answer was lost for the contacts with status 'unknown': it may or may not have acted, and nothing "
        "was sent again. Run each one's check (in contacts) before anything else."
    )


# -- update_contacts ---------------------------------------------------------------------------------------------


async def plan_update_contacts(
    contact_ids: list[str] | None,
    query: ContactQuery | None,
    set_properties: dict[str, Any] | None,
    clear_properties: list[str] | None,
    timezone: str | None,
    salutation: str | None,
    ctx: Context,
) -> UpdatePlan:
    """Check the change, resolve the selection and read it from telli (again on every round: nothing is written)."""
    change = ContactChange(dict(set_properties or {}), tuple(clear_properties or ()), timezone, salutation)
    check_one_selection(contact_ids, query)
    client = deps_of(ctx).client()
    await check_change(client, change)
    selection = await resolve_selection(ctx, contact_ids, query, cap=MAX_UPDATE)
    return await plan_update(client, selection, change)


updating = Resolve(translating(plan_update_contacts, writes=False))


def _contact_names(plan: UpdatePlan) -> str:
    names = [inline(f"{c.first_name or ''} {c.last_name or ''}") or "(no name)" for c in plan.found[:NAMES_SHOWN]]
    more = f" and {len(plan.found) - NAMES_SHOWN:,} more" if len(plan.found) > NAMES_SHOWN else ""
    return ", ".join(names) + more


def update_question(plan: UpdatePlan) -> str:
    missing = f" {len(plan.missing):,} of the selection are not in telli (left out)." if plan.missing else ""
    in_call = (
        " Contacts in a call when it is sent are skipped (their properties are written as one whole object)."
        if plan.change.writes_details
        else ""
    )
    return (
        f"Change {len(plan.found):,} contacts in telli ({_contact_names(plan)}): {plan.change.describe()}. The "
        f"values they have now are overwritten and cannot be restored in one step.{in_call}{missing} "
        f"Selection: {plan.selection.label()}."
    )


async def ask_update(args: Arguments, ctx: Context, plan: UpdatePlan) -> Ask | None:
    if args["dry_run"] or not plan.found:
        return None
    return Ask(update_question(plan), binding=plan.binding())


update_confirmation = Confirmation(ask_update, needs={"plan": updating})


def _update_status(rows: Sequence[UpdateRow]) -> Literal["updated", "partially_updated", "not_updated"]:
    done = sum(1 for row in rows if row.status == "updated")
    return "updated" if done == len(rows) else ("partially_updated" if done else "not_updated")


def _update_result(
    selection: Selection,
    rows: Sequence[UpdateRow],
    status: Literal["updated", "partially_updated", "not_updated", "dry_run", "confirmation_required"],
) -> UpdateContactsResult:
    shown, cut = _shown(rows)
    return UpdateContactsResult(
        status=status,
        selected=len(selection.ids),
        counts=_counts(rows),
        unknown=_unknown(rows),
        contacts=shown,
        index_as_of=selection.index_as_of,
        note=join_notes(
            "Dry run: nothing was asked and nothing was changed." if status == "dry_run" else None,
            _unknown_note(rows),
            cut,
        ),
    )


async def update_contacts(
    ctx: Context,
    plan: Annotated[UpdatePlan, updating],
    answer: Annotated[ElicitationResult[Any], Resolve(update_confirmation.resolver)],
    contact_ids: UpdateIdsArg = None,
    query: QueryArg = None,
    set_properties: Annotated[
        dict[str, Any] | None, Field(description="Keys from list_contact_properties"), AfterValidator(plain_json)
    ] = None,
    clear_properties: Annotated[list[PropertyKeyArg] | None, Field(min_length=1, max_length=100)] = None,
    timezone: OptionalTimezoneArg = None,
    salutation: Annotated[str | None, Field(min_length=1, max_length=50), AfterValidator(optional(plain_line))] = None,
    dry_run: DryRunArg = False,
    confirmation_token: ConfirmationTokenArg = None,
) -> UpdateContactsResult:
    """Apply one change (set or clear properties, timezone, salutation) to many contacts. Asks the user.
    Select by contact_ids or query (up to 5,000). Per-contact report; nobody is called.
    """
    if dry_run:
        return _update_result(plan.selection, plan.preview(), "dry_run")
    approval = approval_from(answer, what="no contact was changed.")
    if not approval.granted:
        return _update_result(plan.selection, plan.preview(), "confirmation_required").awaiting(approval.request)

    async def progress(done: int, total: int, _chunk: BatchReport) -> None:
        await ctx.report_progress(done, total, f"updated batch {done} of {total}")

    rows = await apply_update(deps_of(ctx).client(), plan, on_chunk=progress)
    if plan.change.writes_details:
        updated = [row.contact_id for row in rows if row.status == "updated"]
        change = plan.change
        index_properties_changed(ctx, updated, set_values=change.set_properties, clear=change.clear_properties)
    return _update_result(plan.selection, rows, _update_status(rows))


# -- reschedule_contacts -----------------------------------------------------------------------------------------


async def plan_reschedule_contacts(
    agent_id: str,
    contact_ids: list[str] | None,
    query: ContactQuery | None,
    also_not_waiting: bool,
    from_number: str | None,
    ctx: Context,
) -> MovePlan:
    """Resolve the selection and read the agent and every contact's dialer state (again on every round)."""
    check_one_selection(contact_ids, query)
    deps = deps_of(ctx)
    selection = await resolve_selection(ctx, contact_ids, query, cap=MAX_MOVE)
    return await plan_move(
        deps.client(),
        selection,
        agent_id=agent_id,
        from_number=from_number,
        also_not_waiting=also_not_waiting,
        account_timezone=deps.default_timezone,
        dial_block=deps.do_not_call(),
    )


moving = Resolve(translating(plan_reschedule_contacts, writes=False))


async def ask_reschedule(args: Arguments, ctx: Context, plan: MovePlan) -> Ask | None:
    # Nobody to schedule (at most do-not-call contacts to take out of the dialer, which rings nobody): no question.
    if args["dry_run"] or not plan.dial:
        return None
    question = move_question(plan, args["from_number"], args["max_retry_days"])
    return Ask(question, binding=plan.binding(), callees=[contact.callee for contact in plan.dial])


reschedule_confirmation = Confirmation(ask_reschedule, needs={"plan": moving})

_MOVED = ("moved", "scheduled", "taken_out")


def _move_status(rows: Sequence[MoveRow]) -> Literal["moved", "partially_moved", "not_moved"]:
    done = sum(1 for row in rows if row.status in _MOVED)
    troubled = any(row.status in ("unknown", "out_of_dialer", "failed", "not_sent") for row in rows)
    return "not_moved" if not done else ("partially_moved" if troubled else "moved")


def _nothing_note(plan: MovePlan, status: str) -> str | None:
    if plan.planned or status == "dry_run":
        return None
    return (
        "Nothing was sent: everyone selected is in a call, not waiting in the dialer (see also_not_waiting), on the "
        "do-not-call list, or not in telli (see contacts)."
    )


def _out_note(out: Sequence[str]) -> str | None:
    if not out:
        return None
    return (
        f"{len(out):,} contacts (out_of_dialer) were taken out of the old agent's dialer and then not scheduled with "
        "the new one: nobody will call them until they are scheduled again (schedule_calls), see each one's detail."
    )


def _move_result(
    plan: MovePlan,
    rows: Sequence[MoveRow],
    status: Literal["moved", "partially_moved", "not_moved", "dry_run", "confirmation_required"],
    times: str | None = None,
) -> RescheduleContactsResult:
    shown, cut = _shown(rows)
    out = [row.contact_id for row in rows if row.status == "out_of_dialer"]
    return RescheduleContactsResult(
        status=status,
        selected=len(plan.selection.ids),
        counts=_counts(rows),
        out_of_dialer=out,
        unknown=_unknown(rows),
        contacts=shown,
        local_times=times,
        index_as_of=plan.selection.index_as_of,
        note=join_notes(
            "Dry run: nothing was asked and nothing was sent." if status == "dry_run" else None,
            _nothing_note(plan, status),
            _unknown_note(rows),
            _out_note(out),
            cut,
        ),
    )


async def reschedule_contacts(
    agent_id: AgentIdArg,
    ctx: Context,
    plan: Annotated[MovePlan, moving],
    answer: Annotated[ElicitationResult[Any], Resolve(reschedule_confirmation.resolver)],
    contact_ids: MoveIdsArg = None,
    query: QueryArg = None,
    also_not_waiting: Annotated[bool, Field(description="Also schedule those not in the dialer")] = False,
    max_retry_days: Annotated[int | None, Field(ge=1, le=60, description="Days to retry (default: account's)")] = None,
    from_number: OptionalPhoneArg = None,
    dry_run: DryRunArg = False,
    confirmation_token: ConfirmationTokenArg = None,
) -> RescheduleContactsResult:
    """Move many contacts to another agent: out of the auto-dialer, then scheduled with agent_id. Asks the user.
    Select by contact_ids or query (up to 1,000). Skips anyone in a call or on the do-not-call list.
    """
    deps = deps_of(ctx)
    times = local_times([contact.callee for contact in plan.dial], deps.now()) if plan.dial else None
    if dry_run:
        return _move_result(plan, plan.preview(), "dry_run", times)
    approval = approval_from(answer, what="nobody was moved.")
    if not approval.granted:
        return _move_result(plan, plan.preview(), "confirmation_required", times).awaiting(approval.request)

    async def progress(done: int, total: int) -> None:
        await ctx.report_progress(done, total, f"moved round {done} of {total}")

    request = MoveRequest(agent_id=agent_id, max_retry_days=max_retry_days, from_number=from_number)
    rows = await apply_move(deps.client(), plan, request, dial_block=deps.do_not_call, progress=progress)
    return _move_result(plan, rows, _move_status(rows), times)


SURFACE = Surface(
    BULK,
    tools=(
        ToolDef(
            ToolSpec("update_contacts", "Update many contacts", BULK, Risk.DESTRUCTIVE, idempotent=True),
            update_contacts,
        ),
        ToolDef(
            ToolSpec(
                "reschedule_contacts",
                "Move contacts to another agent",
                BULK,
                Risk.DESTRUCTIVE,
                idempotent=False,
                dials=True,
            ),
            reschedule_contacts,
        ),
    ),
    instructions=(
        Instruction(
            "- One change for many contacts is one update_contacts call; moving many to another agent is one\n"
            "  reschedule_contacts call. Both take contact_ids or a query, and dry_run=true first shows who is\n"
            "  affected without asking or changing anything.",
            uses=("update_contacts", "reschedule_contacts"),
        ),
    ),
)
