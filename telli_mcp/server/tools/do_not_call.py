"""The do-not-call toolset: add, list and remove the numbers this account must never dial.

The list (`telli_mcp.do_not_call`, one per telli key) is checked by every dial path whether these tools are offered
or not: schedule_calls and call_now (`server.dialing`) and start_campaign (the campaign engine), each when it plans
and again right before it sends. Adding only ever stops calls, so it is a plain write; removing makes calling a
number possible again, so it asks the human, for exactly the numbers it will take off.

The list lives on this machine, not in telli: a call already waiting in telli's auto-dialer is not cancelled by
adding its number (cancel_scheduled_calls or stop_campaign does that).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from mcp.server.elicitation import ElicitationResult
from mcp.server.mcpserver import Context, Resolve
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import AfterValidator, Field

from telli_mcp.bounded import clip, first, more
from telli_mcp.server.confirm import Arguments, Ask, Confirmable, Confirmation, approval_from
from telli_mcp.server.deps import deps_of
from telli_mcp.server.errors import translating
from telli_mcp.server.params import ConfirmationTokenArg, CursorArg
from telli_mcp.server.results import ToolResult
from telli_mcp.server.risk import Risk, ToolSpec
from telli_mcp.server.surface import Instruction, Surface, ToolDef
from telli_mcp.text import InlineText, fence_inline, optional, plain_line
from telli_mcp.toolsets import DO_NOT_CALL

__all__ = ["SURFACE", "DoNotCallAdded", "DoNotCallPage", "DoNotCallRemoved"]

SOURCE = "tool"
"""Where an entry added through these tools says it came from (the `telli-mcp dnc` command writes its own)."""
NUMBERS_SHOWN = 100
"""Numbers a result lists per kind; its count says how many there are in all."""
_ASKED = 10
"""Numbers a removal question names before it only counts the rest."""
_VALUE_SHOWN = 60
"""Characters of a rejected number quoted in its error."""
_E164_CURSOR = re.compile(r"\+[1-9]\d{1,14}")

PhoneNumbersArg = Annotated[
    list[str],
    # The length first: a list of 100,000 numbers is refused on its size, not after checking every number.
    Field(min_length=1, max_length=1000, description="E.164, e.g. +4930555010"),
]
ReasonArg = Annotated[
    str | None,
    Field(max_length=500, description="Why, e.g. 'asked not to be called'"),
    # Kept and shown back to people: no control, escape, bidi or invisible characters.
    AfterValidator(optional(plain_line)),
]


class DoNotCallAdded(ToolResult):
    added_count: int
    already_count: int = Field(description="Were on the list already; their entry is unchanged")
    added: list[str]
    already: list[str]
    total: int = Field(description="Numbers on the list now")
    note: str


class DoNotCallEntry(ToolResult):
    phone_number: str
    reason: str | None = Field(default=None, description="Fenced: as the user gave it")
    source: InlineText = Field(description="tool, or the import it came from")
    added_at: str


class DoNotCallPage(ToolResult):
    entries: list[DoNotCallEntry]
    next_cursor: str | None = Field(description="Pass as cursor to get the next page; null at the end")
    total: int


class DoNotCallRemoved(Confirmable):
    status: Literal["removed", "nothing_to_remove", "confirmation_required"]
    removed: list[str] = Field(default_factory=list, description="Taken off the list: they may be called again")
    not_on_list: list[str] = Field(default_factory=list)
    total: int = Field(description="Numbers on the list now")
    note: str | None = None


def _normalised(raw: list[str], *, nothing: str) -> list[str]:
    """Every number in E.164, each once, in the order given; any bad one refuses the whole call, each bad one
    named by its index (the first few, then how many more)."""
    from telli_mcp.do_not_call import normalise_numbers

    numbers, invalid = normalise_numbers(raw)
    problems = [f"phone_numbers[{index}]: {clip(repr(err.text), _VALUE_SHOWN)} {err.reason}" for index, err in invalid]
    if problems:
        shown, hidden = first(problems)
        raise ToolError(
            "; ".join(shown)
            + (f"; {more(hidden)}" if hidden else "")
            + f". Write each number in E.164 with its country code, e.g. +4930555010. {nothing}"
        )
    return list(dict.fromkeys(numbers))


def _shown(numbers: list[str]) -> list[str]:
    return first(numbers, NUMBERS_SHOWN)[0]


def _more(kind: str, numbers: list[str]) -> str:
    return f" {kind} lists the first {NUMBERS_SHOWN} of {len(numbers):,}." if len(numbers) > NUMBERS_SHOWN else ""


async def add_to_do_not_call(phone_numbers: PhoneNumbersArg, ctx: Context, reason: ReasonArg = None) -> DoNotCallAdded:
    """Put numbers on this account's do-not-call list: no call tool or campaign will dial them. Safe to repeat.

    Calls already waiting in telli's auto-dialer are not cancelled; use cancel_scheduled_calls for those.
    """
    numbers = _normalised(phone_numbers, nothing="Nothing was added.")
    tenant = deps_of(ctx).do_not_call()
    outcome = tenant.add(numbers, reason=reason or None, source=SOURCE)
    note = (
        "schedule_calls, call_now and start_campaign now skip these numbers. A call already waiting in telli's "
        "auto-dialer is not cancelled by this: cancel_scheduled_calls (or stop_campaign) does that."
    )
    return DoNotCallAdded(
        added_count=len(outcome.added),
        already_count=len(outcome.already),
        added=_shown(outcome.added),
        already=_shown(outcome.already),
        total=tenant.count(),
        note=note + _more("added", outcome.added) + _more("already", outcome.already),
    )


def _check_cursor(cursor: str | None) -> str | None:
    # The list's cursor is the last number of the previous page; anything else would silently skip entries.
    if cursor is not None and not _E164_CURSOR.fullmatch(cursor):
        raise ToolError("cursor: pass next_cursor exactly as list_do_not_call returned it.")
    return cursor


async def list_do_not_call(
    ctx: Context,
    limit: Annotated[int, Field(ge=1, le=200)] = 50,
    cursor: CursorArg = None,
) -> DoNotCallPage:
    """This account's do-not-call list, in number order: each number with why, from where and when it was added."""
    tenant = deps_of(ctx).do_not_call()
    entries, next_cursor = tenant.page(limit=limit, after=_check_cursor(cursor))
    return DoNotCallPage(
        entries=[
            DoNotCallEntry(
                phone_number=entry.phone_number,
                # Free text someone typed (or an import carried): data for the model, never instructions.
                reason=fence_inline(entry.reason) if entry.reason else None,
                source=entry.source,
                added_at=entry.added_at.isoformat(timespec="seconds"),
            )
            for entry in entries
        ],
        next_cursor=next_cursor,
        total=tenant.count(),
    )


@dataclass(frozen=True)
class Removal:
    """Which of the given numbers are on the list now: exactly what the human is asked to take off."""

    on_list: list[str]
    not_on_list: list[str]


async def plan_removal(phone_numbers: list[str], ctx: Context) -> Removal:
    """Read before asking and again on every round: the question and the removal cover the same numbers."""
    numbers = _normalised(phone_numbers, nothing="Nothing was removed.")
    blocked = deps_of(ctx).do_not_call().blocked(numbers)
    return Removal(
        on_list=[number for number in numbers if number in blocked],
        not_on_list=[number for number in numbers if number not in blocked],
    )


removing = Resolve(translating(plan_removal, writes=False))


async def ask_remove(args: Arguments, ctx: Context, removal: Removal) -> Ask | None:
    if not removal.on_list:
        return None  # nothing would change (a token passed anyway is still checked)
    count = len(removal.on_list)
    named, hidden = first(removal.on_list, _ASKED)
    listed = ", ".join(named) + (f" and {hidden} more" if hidden else "")
    which = "this number" if count == 1 else f"these {count} numbers"
    question = (
        f"Take {which} off the do-not-call list: {listed}? Calling {'it' if count == 1 else 'them'} becomes "
        "possible again: schedule_calls, call_now and campaigns will dial them when asked to."
    )
    return Ask(question, binding={"remove": removal.on_list})


remove_confirmation = Confirmation(ask_remove, needs={"removal": removing})


async def remove_from_do_not_call(
    phone_numbers: PhoneNumbersArg,
    ctx: Context,
    removal: Annotated[Removal, removing],
    answer: Annotated[ElicitationResult[Any], Resolve(remove_confirmation.resolver)],
    confirmation_token: ConfirmationTokenArg = None,
) -> DoNotCallRemoved:
    """Take numbers off the do-not-call list, so they may be called again. Asks the user."""
    approval = approval_from(answer, what="no number was taken off the do-not-call list.")
    tenant = deps_of(ctx).do_not_call()
    not_on_list = _shown(removal.not_on_list)
    if not removal.on_list:
        return DoNotCallRemoved(
            status="nothing_to_remove",
            not_on_list=not_on_list,
            total=tenant.count(),
            note="None of these numbers is on the list; nothing changed.",
        )
    if not approval.granted:
        return DoNotCallRemoved(status="confirmation_required", not_on_list=not_on_list, total=tenant.count()).awaiting(
            approval.request
        )
    # Only the numbers the human was asked about: one added by someone else meanwhile stays on the list.
    removed = tenant.remove(removal.on_list)
    return DoNotCallRemoved(
        status="removed",
        removed=_shown(removed),
        not_on_list=not_on_list,
        total=tenant.count(),
        note=(_more("removed", removed) + _more("not_on_list", removal.not_on_list)).strip() or None,
    )


SURFACE = Surface(
    DO_NOT_CALL,
    tools=(
        ToolDef(
            ToolSpec(
                "add_to_do_not_call",
                "Add to do-not-call list",
                DO_NOT_CALL,
                Risk.WRITE,
                idempotent=True,
                open_world=False,
            ),
            add_to_do_not_call,
        ),
        ToolDef(
            ToolSpec("list_do_not_call", "Do-not-call list", DO_NOT_CALL, Risk.READ, idempotent=True, open_world=False),
            list_do_not_call,
        ),
        ToolDef(
            ToolSpec(
                "remove_from_do_not_call",
                "Remove from do-not-call list",
                DO_NOT_CALL,
                Risk.DESTRUCTIVE,
                idempotent=True,
                open_world=False,
            ),
            remove_from_do_not_call,
        ),
    ),
    instructions=(
        Instruction(
            '- "Never call X again" is add_to_do_not_call (every call tool then skips the number); a call already\n'
            "  waiting in the auto-dialer still needs cancel_scheduled_calls.",
            uses=("add_to_do_not_call", "cancel_scheduled_calls"),
        ),
    ),
)
