"""A `ContactQuery` answered with SQL over one tenant's rows: every filter a condition, one count, one page.

The order: with a name, the best name match first (see `names`); otherwise, and among equal matches, the newest
contact first, ties by contact id, so paging with offsets neither repeats nor skips while the index is unchanged.
Ranges include their start and exclude their end (`created_after <= created_at < created_before`). "Before"
includes the contacts that never were (`last_called_before`, `reached_before`: never called, never reached), so
"not reached this week" is one filter.

Both engines answer alike: the name's candidates come from either engine's name table (`name_tables`), and are
scored here, in Python (`NameQuery.score`), the one ranking rule; ids compare byte by byte (PostgreSQL's columns
use the "C" collation), and a contact without a creation time comes last on both.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Final

from telli_mcp.contact_index.name_tables import name_table
from telli_mcp.contact_index.names import NameMatch, NameQuery
from telli_mcp.contact_index.phones import PhoneSearch
from telli_mcp.contact_index.query import ContactQuery
from telli_mcp.contact_index.records import IndexedContact, SearchPage
from telli_mcp.contact_index.store import CONTACT_COLUMNS, contact_from_row
from telli_mcp.contact_index.values import comparable

if TYPE_CHECKING:
    from telli_mcp.database.sql import SqlSession

__all__ = ["run_query"]


@dataclass
class _Where:
    conditions: list[str] = field(default_factory=list)
    params: list[object] = field(default_factory=list)

    def add(self, condition: str, *params: object) -> None:
        self.conditions.append(condition)
        self.params.extend(params)

    def sql(self) -> str:
        return " AND ".join(self.conditions)


@dataclass(frozen=True)
class _Spelling:
    """What the engines spell differently here."""

    scored: str
    """The rows of a JSON object {row: score} (the one parameter), joined to their contacts."""
    score: str
    newest_first: str


_SPELLINGS: Final = {
    # The name's matches drive the query (CROSS JOIN keeps that order): each looks up its row by rowid.
    "sqlite": _Spelling(
        scored="json_each(?) AS hit CROSS JOIN contacts AS c ON c.row = CAST(hit.key AS INTEGER)",
        score="hit.value",
        newest_first="c.created_at DESC, c.contact_id",
    ),
    # PostgreSQL puts NULL first in a descending order, SQLite last: said out loud, both put it last.
    "postgresql": _Spelling(
        scored="json_each_text(CAST(? AS json)) AS hit JOIN contacts AS c ON c.row = CAST(hit.key AS BIGINT)",
        score="CAST(hit.value AS DOUBLE PRECISION)",
        newest_first="c.created_at DESC NULLS LAST, c.contact_id",
    ),
}


def run_query(
    db: SqlSession, tenant: str, query: ContactQuery, *, offset: int, limit: int, ids_only: bool = False
) -> SearchPage:
    """The page of `tenant`'s contacts matching `query` from `offset` on (only their ids with `ids_only`)."""
    spelling = _SPELLINGS[db.dialect.name]
    where = _filters(tenant, query)
    tables, order, name_match = "contacts AS c", spelling.newest_first, None
    if query.name is not None:
        scores, name_match = _name_scores(db, tenant, NameQuery.parse(query.name))
        if not scores:
            return SearchPage(contacts=[], total=0, name_match=None)
        tables = spelling.scored
        order = f"{spelling.score} DESC, {order}"
        where.params.insert(0, json.dumps(scores))
    source = f"FROM {tables} WHERE {where.sql()}"
    total = int(db.execute(f"SELECT COUNT(*) {source}", where.params).fetchone()[0])
    columns = "c.contact_id" if ids_only else ", ".join(f"c.{column.strip()}" for column in CONTACT_COLUMNS.split(","))
    rows = db.execute(f"SELECT {columns} {source} ORDER BY {order} LIMIT ? OFFSET ?", [*where.params, limit, offset])
    contacts = [IndexedContact(contact_id=str(row[0])) if ids_only else contact_from_row(row) for row in rows]
    return SearchPage(contacts=contacts, total=total, name_match=name_match)


def _name_scores(db: SqlSession, tenant: str, name: NameQuery) -> tuple[dict[int, float], NameMatch | None]:
    """Each matching row's score: every word in full or as a prefix, or, when no name matches so, with a typo."""
    names = name_table(db)
    for typos, match in ((False, "exact"), (True, "typo")):
        rows = names.candidates(tenant, name, typos=typos)
        scores = {
            int(row): score
            for row, first_name, last_name in rows
            if (score := name.score(first_name, last_name, typos=typos)) is not None
        }
        if scores:
            return scores, match  # type: ignore[return-value]
    return {}, None


def _filters(tenant: str, query: ContactQuery) -> _Where:
    where = _Where()
    where.add("c.tenant = ?", tenant)
    if query.phone is not None:
        phone = PhoneSearch.parse(query.phone)
        if phone.e164 is not None:
            where.add("c.phone = ?", phone.e164)
        else:
            where.add("c.phone LIKE ?", f"%{phone.ending}")
    if query.external_id is not None:
        where.add("c.external_id = ?", query.external_id)
    for key, value in query.property_equals.items():
        where.add(_HAS_VALUE.format(values="?"), key, comparable(value))
    for key, values in query.property_in.items():
        texts = list(dict.fromkeys(comparable(value) for value in values))
        where.add(_HAS_VALUE.format(values=", ".join("?" * len(texts))), key, *texts)
    for key in query.property_empty:
        where.add("c.row NOT IN (SELECT row FROM property_values WHERE key = ?)", key)
    if query.dialer_state:
        states = [state.value for state in dict.fromkeys(query.dialer_state)]
        where.add(f"c.dialer_state IN ({', '.join('?' * len(states))})", *states)
    _range(where, "reached_at", query.reached_after, query.reached_before)
    _range(where, "last_called_at", query.last_called_after, query.last_called_before)
    _range(where, "created_at", query.created_after, query.created_before, never_counts_as_before=False)
    return where


_HAS_VALUE = "c.row IN (SELECT row FROM property_values WHERE key = ? AND value IN ({values}))"


def _range(
    where: _Where,
    column: str,
    after: datetime | None,
    before: datetime | None,
    *,
    never_counts_as_before: bool = True,
) -> None:
    if after is not None:
        where.add(f"c.{column} >= ?", after.timestamp())
    if before is not None:
        never = f"c.{column} IS NULL OR " if never_counts_as_before else ""
        where.add(f"({never}c.{column} < ?)", before.timestamp())
