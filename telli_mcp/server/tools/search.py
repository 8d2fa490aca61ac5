"""The search toolset: find_contacts, "who is Jane Doe?", "who has plan=basic?", "who was not reached this week?"
in one tool call.

telli's API has no contact search, so the tool answers from the contact index (`telli_mcp.contact_index`), a copy
of the account's contacts on this machine. It syncs that copy first when it was never complete, or when asked
(`refresh`), within `contact_search.SYNC_BUDGET` requests, and says what it spent; it says how old the copy is, and
whether it holds every contact. Events (webhooks) and the contact tools keep it current between syncs. Not in
`default` (the 20 KB catalogue budget); on by itself in the sandbox.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Final, Literal

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, WithJsonSchema

from telli_mcp.contact_index.query import ContactQuery, DialerState, PropertyScalar
from telli_mcp.server.budget import fit_to_budget
from telli_mcp.server.contact_search import SYNC_BUDGET, refresh_index
from telli_mcp.server.deps import deps_of
from telli_mcp.server.paging import pack_cursor, unpack_cursor
from telli_mcp.server.params import CursorArg, OptionalMomentArg
from telli_mcp.server.results import ToolResult
from telli_mcp.server.risk import Risk, ToolSpec
from telli_mcp.server.surface import Instruction, Surface, ToolDef
from telli_mcp.server.tokens import canonical_digest
from telli_mcp.server.views import join_notes
from telli_mcp.text import InlineObject, InlineText, optional
from telli_mcp.toolsets import SEARCH

if TYPE_CHECKING:
    from telli_mcp.client import TelliError
    from telli_mcp.contact_index import IndexedContact, IndexStatus, SearchPage, SyncReport

__all__ = ["SURFACE", "ContactSearch", "FoundContact"]

STALE_AFTER: Final = timedelta(hours=1)
"""An index older than this gets a note saying what it may miss and how to refresh it."""
_CURSOR_VERSION: Final = 1


def _check_name(value: str) -> str:
    from telli_mcp.contact_index.names import NameQuery

    NameQuery.parse(value)
    return value


def _check_phone(value: str) -> str:
    from telli_mcp.contact_index import PhoneSearch

    PhoneSearch.parse(value)
    return value


NameIn = Annotated[
    str | None,
    Field(min_length=1, max_length=100, description="Any word order, accents or case; small typos ok"),
    AfterValidator(optional(_check_name)),
]
PhoneIn = Annotated[
    str | None,
    Field(min_length=3, max_length=40, description="Any format; without country code, matches the number's end"),
    AfterValidator(optional(_check_phone)),
]
DialerStateIn = Annotated[
    list[DialerState] | None,
    Field(max_length=5, description="Any of; in_call (on a call now) is not also pending"),
    WithJsonSchema({"type": "array", "items": {"enum": [state.value for state in DialerState]}}),
]
AfterIn = Annotated[OptionalMomentArg, Field(description="From this moment on (ISO 8601 with offset)")]
BeforeIn = Annotated[OptionalMomentArg, Field(description="Before this moment, or never")]


class FoundContact(ToolResult):
    contact_id: InlineText
    name: InlineText
    phone_number: InlineText | None = None
    external_id: InlineText | None = None
    dialer_state: DialerState | None = None
    call_attempts: int | None = None
    created_at: datetime | None = None
    reached_at: datetime | None = None
    last_called_at: datetime | None = None
    next_call_at: datetime | None = None
    properties: InlineObject | None = None


class IndexSync(ToolResult):
    requests: int = Field(description="telli requests spent")
    contacts_read: int
    complete: bool = Field(description="Read to the end: the index holds every contact")
    removed: int = Field(default=0, description="Gone from telli, so removed")


class ContactSearch(ToolResult):
    contacts: list[FoundContact]
    total: int = Field(description="Matches in all, not only this page")
    next_cursor: str | None = Field(description="Pass as cursor, with the same filters, for the next page")
    index_as_of: datetime | None = Field(description="The index holds every contact as of this moment")
    index_age: str | None = None
    complete: bool = Field(description="False: the index has not read every contact yet")
    synced: IndexSync | None = Field(default=None, description="This call read telli first")
    note: str | None = None


class _Cursor(BaseModel):
    """Where the next page starts, for one query only (`q`: its digest)."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)  # built on the first cursor

    v: Literal[1]
    q: str = Field(pattern=r"^[0-9a-f]{16}$")
    o: int = Field(ge=1, le=10_000_000)


def _digest(query: ContactQuery) -> str:
    return canonical_digest(query.model_dump(mode="json"))[:16]


def _encode_cursor(query: ContactQuery, offset: int) -> str:
    return pack_cursor(_Cursor(v=_CURSOR_VERSION, q=_digest(query), o=offset))


def _offset(cursor: str | None, query: ContactQuery) -> int:
    if cursor is None:
        return 0
    parsed = unpack_cursor(_Cursor, cursor)
    if parsed is None:
        raise ToolError("cursor: pass next_cursor exactly as find_contacts returned it.")
    if parsed.q != _digest(query):
        raise ToolError(
            "cursor: it continues another search. Pass it with the same filters it came with, or leave it out to "
            "start this search from its first page."
        )
    return parsed.o


def _query(**filters: object) -> ContactQuery:
    given = {key: value for key, value in filters.items() if value is not None}
    try:
        return ContactQuery.model_validate(given)
    except ValidationError as err:
        problems = [str(problem["msg"]).removeprefix("Value error, ") for problem in err.errors(include_url=False)]
        raise ToolError("; ".join(problems) + ". Nothing was searched.") from None


async def find_contacts(
    ctx: Context,
    name: NameIn = None,
    phone: PhoneIn = None,
    external_id: Annotated[str | None, Field(min_length=1, max_length=200)] = None,
    property_equals: Annotated[
        dict[str, PropertyScalar] | None, Field(description="key: value as telli keeps it (text, number, boolean)")
    ] = None,
    property_in: Annotated[
        dict[str, Annotated[list[PropertyScalar], Field(min_length=1, max_length=100)]] | None,
        Field(description="key: any of these values"),
    ] = None,
    property_empty: Annotated[list[str] | None, Field(max_length=50, description="Keys without a value")] = None,
    dialer_state: DialerStateIn = None,
    reached_after: AfterIn = None,
    reached_before: BeforeIn = None,
    last_called_after: AfterIn = None,
    last_called_before: BeforeIn = None,
    created_after: AfterIn = None,
    created_before: Annotated[OptionalMomentArg, Field(description="Before this moment")] = None,
    limit: Annotated[int, Field(ge=1, le=100)] = 20,
    cursor: CursorArg = None,
    refresh: Annotated[bool, Field(description="Re-read telli first (costs requests; reported)")] = False,
) -> ContactSearch:
    """Find contacts by name, phone, external id, property values, dialer state and dates, with the total count.

    Filters combine with AND. Answers from a local index of the account's contacts (read from telli on first use;
    index_as_of says how fresh). dialer_state: new, pending (in the dialer), reached, closed, in_call.
    """
    query = _query(
        name=name,
        phone=phone,
        external_id=external_id,
        property_equals=property_equals,
        property_in=property_in,
        property_empty=property_empty,
        dialer_state=dialer_state,
        reached_after=reached_after,
        reached_before=reached_before,
        last_called_after=last_called_after,
        last_called_before=last_called_before,
        created_after=created_after,
        created_before=created_before,
    )
    offset = _offset(cursor, query)
    deps = deps_of(ctx)
    spent, failure = await _synced(ctx, refresh=refresh)
    index = deps.contact_index()
    page = index.search(query, offset=offset, limit=limit)
    status = index.status()
    shown, trimmed = fit_to_budget([_found(contact) for contact in page.contacts])
    following = offset + len(shown)
    age = None if status.as_of is None else deps.now() - status.as_of
    return ContactSearch(
        contacts=shown,
        total=page.total,
        next_cursor=_encode_cursor(query, following) if following < page.total else None,
        index_as_of=status.as_of,
        index_age=None if age is None else _age(age),
        complete=status.synced,
        synced=None if spent is None else _spent(spent),
        note=join_notes(
            _failure_note(failure),
            _match_note(page),
            _coverage_note(status, age, receiving=bool(deps.webhook_endpoints())),
            f"{trimmed} more contacts did not fit in this result; next_cursor continues with them."
            if trimmed
            else None,
        ),
    )


async def _synced(ctx: Context, *, refresh: bool) -> tuple[SyncReport | None, TelliError | None]:
    """Sync as `refresh_index` decides; a telli failure is returned when the index already holds contacts to
    answer from, and raised (as the tool's error) when it holds none."""
    from telli_mcp.client import TelliError

    deps = deps_of(ctx)
    try:
        _index, spent = await refresh_index(deps, refresh=refresh)
    except TelliError as err:
        if not deps.contact_index().status().contacts:
            raise
        return None, err
    return spent, None


def _found(contact: IndexedContact) -> FoundContact:
    return FoundContact(
        contact_id=contact.contact_id,
        name=f"{contact.first_name or ''} {contact.last_name or ''}".strip(),
        phone_number=contact.phone_number,
        external_id=contact.external_id,
        dialer_state=contact.dialer_state,
        call_attempts=contact.call_attempts,
        created_at=contact.created_at,
        reached_at=contact.reached_at,
        last_called_at=contact.last_called_at,
        next_call_at=contact.next_call_at,
        properties=contact.properties or None,
    )


def _spent(report: SyncReport) -> IndexSync:
    return IndexSync(
        requests=report.requests, contacts_read=report.contacts_seen, complete=report.complete, removed=report.swept
    )


def _age(age: timedelta) -> str:
    seconds = max(0, int(age.total_seconds()))
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 2 * 3600:
        return f"{seconds // 60} min"
    if seconds < 2 * 86400:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} days"


def _failure_note(failure: TelliError | None) -> str | None:
    if failure is None:
        return None
    from telli_mcp.server.errors import describe

    return f"Reading telli stopped, so these results come from the index as it was: {describe(failure)}"


def _match_note(page: SearchPage) -> str | None:
    if page.name_match != "typo":
        return None
    return "No name has every word of the query; these have each word with at most one typo."


def _coverage_note(status: IndexStatus, age: timedelta | None, *, receiving: bool) -> str | None:
    if not status.synced:
        return (
            f"The index has read {status.walk_seen:,} contacts so far, not yet all: results and total may miss "
            f"contacts. Call again to read on (up to {SYNC_BUDGET} requests a call)."
        )
    if age is None or age < STALE_AFTER:
        return None
    events = "Dialer states and calls are updated from telli's events; other" if receiving else "Any"
    return (
        f"The index is {_age(age)} old. {events} changes made in telli since then, outside this server, are not in "
        "it; pass refresh=true to re-read telli."
    )


SURFACE = Surface(
    SEARCH,
    tools=(
        ToolDef(
            ToolSpec("find_contacts", "Find contacts", SEARCH, Risk.READ, idempotent=True),
            find_contacts,
        ),
    ),
    instructions=(
        Instruction(
            '- "Who is Jane Doe / who has plan=basic / who was not reached this week" is one find_contacts call\n'
            "  (with total); use get_status for the current time when a question is relative.",
            uses=("find_contacts", "get_status"),
        ),
    ),
)
