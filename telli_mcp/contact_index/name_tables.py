"""Where each engine keeps the contacts' names for search, and how it finds a `NameQuery`'s candidates.

SQLite: the FTS5 table `names` (one row per contact, its rowid the contact's row; columns `words` and `keys`).
PostgreSQL has no FTS5: `contact_name_keys` holds one row per word (`typo` 0) and per key (`typo` 1) of each
contact, in a btree index on (tenant, typo, key) with the "C" collation, so a prefix is an index range
(`LIKE 'jan%'`) and a key an index lookup. Both hold what `names.document` computes and answer what
`NameQuery.lookups` asks, so the two engines find the same candidates; `search` scores them in Python, the same way
for both.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Final, Protocol

from telli_mcp.bounded import chunked
from telli_mcp.contact_index.names import NameQuery, document

if TYPE_CHECKING:
    from telli_mcp.database.sql import SqlSession

__all__ = ["NameTable", "name_table"]

_ROWS_PER_STATEMENT: Final = 500
"""Rows per DELETE: SQLite allows 999 parameters in a statement where it was built with its old default."""

Name = tuple[int, str | None, str | None]
"""A contact's row, first name and last name."""


class NameTable(Protocol):
    def keep(self, tenant: str, names: Sequence[Name]) -> None:
        """Replace the names kept for these contacts' rows."""
        ...

    def forget(self, marks: str, rows: Sequence[object]) -> None:
        """Drop the names of `rows` (`marks`: their `?` placeholders)."""
        ...

    def candidates(self, tenant: str, name: NameQuery, *, typos: bool) -> list[tuple[int, str | None, str | None]]:
        """Row, first and last name of each of the tenant's contacts that `name.lookups(typos=typos)` finds."""
        ...


class Fts5Names:
    def __init__(self, session: SqlSession) -> None:
        self._session = session

    def keep(self, tenant: str, names: Sequence[Name]) -> None:
        for marks, rows in _row_chunks(names):
            self.forget(marks, rows)
        self._session.executemany(
            "INSERT INTO names (rowid, words, keys) VALUES (?, ?, ?)",
            [(row, *document(first_name, last_name)) for row, first_name, last_name in names],
        )

    def forget(self, marks: str, rows: Sequence[object]) -> None:
        self._session.execute(f"DELETE FROM names WHERE rowid IN ({marks})", rows)

    def candidates(self, tenant: str, name: NameQuery, *, typos: bool) -> list[tuple[int, str | None, str | None]]:
        rows = self._session.execute(
            # CROSS JOIN keeps this order: the full-text match first, then each hit's row (the other way round,
            # SQLite would test the match once per contact of the tenant).
            "SELECT c.row, c.first_name, c.last_name FROM names CROSS JOIN contacts AS c ON c.row = names.rowid "
            "WHERE names MATCH ? AND c.tenant = ?",
            (name.fts(typos=typos), tenant),
        )
        return [(int(row), first, last) for row, first, last in rows]


class KeyTableNames:
    def __init__(self, session: SqlSession) -> None:
        self._session = session

    def keep(self, tenant: str, names: Sequence[Name]) -> None:
        for marks, rows in _row_chunks(names):
            self.forget(marks, rows)
        keys = list(dict.fromkeys(_key_rows(names)))  # a word twice in one name is one key
        if keys:
            # One statement for all of them (a round's contacts have some 25,000 keys; a statement each costs
            # more in psycopg than in the database).
            rows, typos, texts = (list(column) for column in zip(*keys, strict=True))
            self._session.execute(
                "INSERT INTO contact_name_keys (tenant, row, typo, key) SELECT ?, * FROM "
                "unnest(CAST(? AS BIGINT[]), CAST(? AS SMALLINT[]), CAST(? AS TEXT[]))",
                (tenant, rows, typos, texts),
            )

    def forget(self, marks: str, rows: Sequence[object]) -> None:
        self._session.execute(f"DELETE FROM contact_name_keys WHERE row IN ({marks})", rows)

    def candidates(self, tenant: str, name: NameQuery, *, typos: bool) -> list[tuple[int, str | None, str | None]]:
        # One set of rows per query word, intersected: the planner then reads each word's index range once
        # (a chain of `row IN (...)` conditions was planned as a nested loop, seconds on 20,000 contacts).
        found: list[str] = []
        params: list[object] = []
        for lookup in name.lookups(typos=typos):
            word = "SELECT row FROM contact_name_keys WHERE tenant = ? AND typo = 0 AND key LIKE ?"
            params += [tenant, _escaped(lookup.prefix) + "%"]
            if lookup.near:
                word += (
                    " UNION SELECT row FROM contact_name_keys "
                    f"WHERE tenant = ? AND typo IN (0, 1) AND key IN ({', '.join('?' * len(lookup.near))})"
                )
                params += [tenant, *lookup.near]
            found.append(f"({word})")
        rows = self._session.execute(
            "SELECT c.row, c.first_name, c.last_name FROM contacts AS c "
            f"WHERE c.tenant = ? AND c.row IN ({' INTERSECT '.join(found)})",
            [tenant, *params],
        )
        return [(int(row), first, last) for row, first, last in rows]


def _key_rows(names: Sequence[Name]) -> Iterator[tuple[int, int, str]]:
    """(row, typo, key) of every word (typo 0) and key (typo 1) of these names."""
    for row, first_name, last_name in names:
        words, keys = document(first_name, last_name)
        yield from ((row, 0, word) for word in words.split())
        yield from ((row, 1, key) for key in keys.split())


def _row_chunks(names: Sequence[Name]) -> Iterator[tuple[str, list[object]]]:
    for chunk in chunked([row for row, _first, _last in names], _ROWS_PER_STATEMENT):
        yield ", ".join("?" * len(chunk)), list(chunk)


def _escaped(text: str) -> str:
    """`text` as a LIKE pattern matching itself (name words hold none of these characters; a guard all the same)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def name_table(session: SqlSession) -> NameTable:
    return Fts5Names(session) if session.dialect.name == "sqlite" else KeyTableNames(session)
