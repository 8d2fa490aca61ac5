"""A `ContactQuery` answered with SQL over one tenant's rows: every filter a condition, one count, one page.

The order: with a name, the best name match first (see `names`); otherwise, and among equal matches, the newest
contact first, ties by contact id, so paging with offsets neither repeats nor skips while the index is unchanged.
Ranges include their start and exclude their end (`created_after <= created_at < created_before`). "Before"
includes the contacts that never were (`last_called_before`, `reached_before`: never called, never reached), so
"not reached this week" is one filter.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime

from telli_mcp.contact_index.names import NameMatch, NameQuery
from telli_mcp.contact_index.phones import PhoneSearch
from telli_mcp.contact_index.query import ContactQuery
from telli_mcp.contact_index.records import IndexedContact, SearchPage
from telli_mcp.contact_index.store import CONTACT_COLUMNS, contact_from_row
from telli_mcp.contact_index.values import comparable

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


def run_query(
    db: sqlite3.Connection, tenant: str, query: ContactQuery, *, offset: int, limit: int, ids_only: bool = False
) -> SearchPage:
    """The page of `tenant`'s contacts matching `query` from `offset` on (only their ids with `ids_only`)."""
    where = _filters(tenant, query)
    tables, order, name_match = "contacts AS c", "c.created_at DESC, c.contact_id", None
    if query.name is not None:
        scores, name_match = _name_scores(db, tenant, NameQuery.parse(query.name))
        if not scores:
            return SearchPage(contacts=[], total=0, name_match=None)
        # The name's matches drive the query (CROSS JOIN keeps that order): each looks up its row by rowid.
        tables = "json_each(?) AS hit CROSS JOIN contacts AS c ON c.row = CAST(hit.key AS INTEGER)"
        order = "hit.value DESC, " + order
        where.params.insert(0, json.dumps(scores))
    source = f"FROM {tables} WHERE {where.sql()}"
    total = int(db.execute(f"SELECT COUNT(*) {source}", where.params).fetchone()[0])
    columns = "c.contact_id" if ids_only else ", ".join(f"c.{column.strip()}" for column in CONTACT_COLUMNS.split(","))
    rows = db.execute(f"SELECT {columns} {source} ORDER BY {order} LIMIT ? OFFSET ?", [*where.params, limit, offset])
    contacts = [IndexedContact(contact_id=str(row[0])) if ids_only else contact_from_row(row) for row in rows]
    return SearchPage(contacts=contacts, total=total, name_match=name_match)


def _name_scores(db: sqlite3.Connection, tenant: str, name: NameQuery) -> tuple[dict[int, float], NameMatch | None]:
    """Each matching row's score: every word in full or as a prefix, or, when no name matches so, with a typo."""
    for typos, match in ((False, "exact"), (True, "typo")):
        rows = db.execute(
            # CROSS JOIN keeps this order: the full-text match first, then each hit's row (the other way round,
            # SQLite would test the match once per contact of the tenant).
            "SELECT c.row, c.first_name, c.last_name FROM names CROSS JOIN contacts AS c ON c.row = names.rowid "
            "WHERE names MATCH ? AND c.tenant = ?",
            (name.fts(typos=typos), tenant),
        )
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
