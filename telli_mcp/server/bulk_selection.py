"""Who a bulk tool acts on: the contacts given by id, or those a contact-index query matches, resolved to ids.

Both bulk tools take exactly one of `contact_ids` or `query`. A query is answered by the local contact index
(`contact_search.select_contacts`); the ids it resolves to are what the confirmation binds (`Selection.digest`),
so a query that matches other people when the yes comes back (a contact added or changed since the question)
cannot act on them: the question is asked again, or the token is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from mcp.server.mcpserver.exceptions import ToolError

from telli_mcp.server.tokens import canonical_digest

if TYPE_CHECKING:
    from mcp.server.mcpserver import Context

    from telli_mcp.contact_index.query import ContactQuery

__all__ = ["Selection", "check_one_selection", "resolve_selection"]

DIGEST_SHOWN = 12
"""Hex digits of the selection digest the question shows: a new question whenever the selection changes."""


@dataclass(frozen=True)
class Selection:
    """The contacts a bulk tool acts on, in order, and where they came from."""

    ids: tuple[str, ...]
    by_query: bool = False
    index_as_of: datetime | None = None
    """For a query: when the contact index that answered it last held every contact (None: it never has)."""
    complete: bool = True
    """For a query: False while the index has not read every contact yet (the query may then miss some)."""

    @property
    def digest(self) -> str:
        """Stands for exactly these contacts (any order): what the confirmation binds."""
        return canonical_digest(sorted(self.ids))

    def label(self) -> str:
        """How the question names the selection: its size, its short digest and, for a query, the index age."""
        people = "1 contact" if len(self.ids) == 1 else f"{len(self.ids):,} contacts"
        return f"{people} (selection {self.digest[:DIGEST_SHOWN]}{self._source()})"

    def _source(self) -> str:
        if not self.by_query:
            return ""
        moment = self.index_as_of
        as_of = "" if moment is None else f" as of {moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
        partial = "" if self.complete else ", which has not read every contact yet, so it may miss some"
        return f", matched by the query in the contact index{as_of}{partial}"


def check_one_selection(contact_ids: list[str] | None, query: ContactQuery | None) -> None:
    """Refuse both or neither of the two ways to select contacts (before anything is read)."""
    if (contact_ids is None) == (query is None):
        raise ToolError(
            "Pass exactly one of contact_ids (a list of ids) or query (filters as in find_contacts). Nothing was done."
        )


async def resolve_selection(
    ctx: Context, contact_ids: list[str] | None, query: ContactQuery | None, *, cap: int
) -> Selection:
    """The selection named by exactly one of `contact_ids` or `query`; refused, naming the argument, when both or
    neither are given, or when the query matches more than `cap` contacts or none."""
    check_one_selection(contact_ids, query)
    if contact_ids is not None:
        return Selection(tuple(contact_ids))
    assert query is not None
    from telli_mcp.server.contact_search import select_contacts

    found = await select_contacts(ctx, query, limit=cap)
    if found.total > cap:
        raise ToolError(
            f"query: matches {found.total:,} contacts, more than the {cap:,} one call acts on. Narrow the query "
            "(add a filter), or act on the matches in parts with contact_ids. Nothing was done."
        )
    if not found.ids:
        raise ToolError(
            "query: matches no contact in the contact index. Check the filters with find_contacts "
            "(refresh=true syncs the index first). Nothing was done."
        )
    return Selection(tuple(found.ids), by_query=True, index_as_of=found.index_as_of, complete=found.complete)
