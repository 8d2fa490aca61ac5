"""The do-not-call list, one list per tenant, in a SQLite file (in memory in the sandbox) or in the PostgreSQL
database the replicas share.

Numbers are kept in E.164, so "+49 30 1234567", "+49301234567" and "+49 (30) 123 4567" are one entry, and a
lead or contact is matched by its E.164 number however it was typed. Each entry says why (free text from the
user, kept as given), where it came from (`tool`, `import <file>`, ...) and when it was added.

Entries are per tenant (the key's fingerprint): one account's list never blocks or reveals another's numbers.
The SQL is written once for both engines (`telli_mcp.database.sql`); the calls are synchronous for the reasons
that module gives (one short statement per round trip, no await inside a check-then-dial).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final

from pydantic import BaseModel, SecretStr

from telli_mcp.bounded import chunked

if TYPE_CHECKING:
    from telli_mcp.client.types import PhoneNumberError
    from telli_mcp.database.sql import SqlSession

__all__ = [
    "DO_NOT_CALL_REASON",
    "Added",
    "DoNotCallList",
    "Entry",
    "TenantList",
    "normalise_number",
    "normalise_numbers",
]

DO_NOT_CALL_REASON: Final = "on the do-not-call list; not dialled"
"""What a dial path reports for a number it refused because of the list."""
_IDS_PER_QUERY: Final = 500
"""Numbers per statement: SQLite allows 999 parameters in a statement where it was built with its old default."""
_SCHEMA = """
CREATE TABLE IF NOT EXISTS do_not_call (
    tenant TEXT NOT NULL,
    e164 TEXT NOT NULL,
    reason TEXT,
    source TEXT NOT NULL,
    added_at REAL NOT NULL,
    PRIMARY KEY (tenant, e164)
);
"""
"""The SQLite table; PostgreSQL's is migration 3 (`telli_mcp.database.migrations`), the same columns."""


def normalise_number(raw: str) -> str:
    """`raw` in E.164 (it must start with `+`); raises the client's PhoneNumberError (a ValueError) saying why not."""
    from telli_mcp.client.types import normalize_e164

    return normalize_e164(raw)


def normalise_numbers(raws: Sequence[str]) -> tuple[list[str], list[tuple[int, PhoneNumberError]]]:
    """The E.164 form of each of `raws` that is a phone number (in order), and (index, why not) for each that is
    not: the tools and the `dnc` command each say so in their own words."""
    from telli_mcp.client.types import PhoneNumberError

    numbers: list[str] = []
    problems: list[tuple[int, PhoneNumberError]] = []
    for index, raw in enumerate(raws):
        try:
            numbers.append(normalise_number(raw))
        except PhoneNumberError as err:
            problems.append((index, err))
    return numbers, problems


class Entry(BaseModel):
    phone_number: str
    """E.164."""
    reason: str | None
    source: str
    added_at: datetime


class Added(BaseModel):
    added: list[str]
    already: list[str]
    """Numbers that were on the list before (their entry is kept as it was)."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


class DoNotCallList:
    """Every tenant's list in one place; `for_tenant` gives the view a request or run uses.

    `location` is where the lists are kept: a SQLite file path (":memory:" for a throw-away list; the table is
    created on open), a `postgresql://` URL (a `SecretStr` or a str; the table comes from the database's
    migrations, and psycopg is loaded only then), or an open `SqlSession`, which stays its owner's to close.
    Handles on one database see each other's changes at once: nothing is cached between calls.
    """

    def __init__(self, location: str | SecretStr | SqlSession, *, now: Callable[[], datetime] = _utc_now) -> None:
        from telli_mcp.database.sql import session_for

        self._session, self._owned = session_for(location, sqlite_schema=_SCHEMA, threads=True)
        self.label = _label(self._session, location)
        """Where the lists are kept, as it may be shown: the file path, or the database without its password."""
        self._now = now

    def for_tenant(self, tenant: str) -> TenantList:
        return TenantList(self._session, tenant, self._now)

    def close(self) -> None:
        """Close the connection this list opened (a session it was given is left open)."""
        if self._owned:
            self._session.close()

    def __repr__(self) -> str:
        return f"DoNotCallList({self.label!r})"


def _label(session: SqlSession, location: str | SecretStr | SqlSession) -> str:
    label = getattr(session, "label", None)  # a PostgresSession's: its URL without the password
    if isinstance(label, str):
        return label
    return location if isinstance(location, str) else f"a {session.dialect.name} database"


class TenantList:
    """One tenant's do-not-call list. Numbers given to it must already be E.164 (`normalise_number`).

    Every method is one synchronous call (a dial path asks `blocked` right before each schedule request, with no
    await in between) and decides in the database, so two replicas on one PostgreSQL agree: a number one adds is
    blocked by the other at once, and of two adding the same number at once, exactly one reports it added."""

    def __init__(self, session: SqlSession, tenant: str, now: Callable[[], datetime]) -> None:
        self._session, self.tenant, self._now = session, tenant, now

    def add(self, numbers: Sequence[str], *, reason: str | None, source: str) -> Added:
        """Put `numbers` on the list (one transaction); numbers already on it keep their entry. A number counts as
        added only if this call's insert created its entry (the database's word, not a read before the insert)."""
        unique = list(dict.fromkeys(numbers))
        fixed = {"tenant": self.tenant, "reason": reason, "source": source, "at": self._now().timestamp()}
        inserted: set[str] = set()
        with self._session.transaction():
            # In number order: PostgreSQL locks each new row until the transaction ends, so two replicas adding
            # overlapping numbers in different orders would each wait for the other (a deadlock, one add failing).
            for chunk in chunked(sorted(unique), _IDS_PER_QUERY):
                values = ", ".join(f"(:tenant, :n{i}, :reason, :source, :at)" for i in range(len(chunk)))
                rows = self._session.execute(
                    f"INSERT INTO do_not_call (tenant, e164, reason, source, added_at) VALUES {values} "
                    "ON CONFLICT (tenant, e164) DO NOTHING RETURNING e164",
                    fixed | {f"n{i}": number for i, number in enumerate(chunk)},
                )
                inserted.update(str(row[0]) for row in rows.fetchall())
        return Added(
            added=[number for number in unique if number in inserted],
            already=[number for number in unique if number not in inserted],
        )

    def remove(self, numbers: Sequence[str]) -> list[str]:
        """Take `numbers` off the list (one transaction); returns the ones this call took off."""
        unique = list(dict.fromkeys(numbers))
        deleted: set[str] = set()
        with self._session.transaction():
            for chunk in chunked(sorted(unique), _IDS_PER_QUERY):  # in number order, as `add` says why
                rows = self._session.execute(
                    f"DELETE FROM do_not_call WHERE tenant = ? AND e164 IN ({_marks(chunk)}) RETURNING e164",
                    (self.tenant, *chunk),
                )
                deleted.update(str(row[0]) for row in rows.fetchall())
        return [number for number in unique if number in deleted]

    def blocked(self, numbers: Collection[str]) -> set[str]:
        """Which of these E.164 numbers are on the list."""
        found: set[str] = set()
        for chunk in chunked(list(set(numbers)), _IDS_PER_QUERY):
            rows = self._session.execute(
                f"SELECT e164 FROM do_not_call WHERE tenant = ? AND e164 IN ({_marks(chunk)})", (self.tenant, *chunk)
            )
            found.update(str(row[0]) for row in rows.fetchall())
        return found

    def page(self, *, limit: int, after: str | None = None) -> tuple[list[Entry], str | None]:
        """Entries in number order after `after` (a cursor: the last number of the previous page). The cursor is a
        number, not a position, so numbers added or removed meanwhile never make a page repeat or skip another."""
        rows = self._session.execute(
            "SELECT e164, reason, source, added_at FROM do_not_call WHERE tenant = ? AND e164 > ? ORDER BY e164 "
            "LIMIT ?",
            (self.tenant, after or "", limit + 1),
        ).fetchall()
        entries = [_entry(row) for row in rows[:limit]]
        return entries, (entries[-1].phone_number if len(rows) > limit else None)

    def count(self) -> int:
        row = self._session.execute("SELECT COUNT(*) FROM do_not_call WHERE tenant = ?", (self.tenant,)).fetchone()
        return int(row[0])

    def entries(self) -> Iterator[Entry]:
        """Every entry in number order (an export), read a page at a time."""
        after: str | None = None
        while True:
            page, after = self.page(limit=1000, after=after)
            yield from page
            if after is None:
                return


def _marks(chunk: Sequence[str]) -> str:
    return ", ".join("?" * len(chunk))


def _entry(row: tuple[object, ...]) -> Entry:
    number, reason, source, added_at = row
    assert isinstance(added_at, float | int)
    return Entry(
        phone_number=str(number),
        reason=None if reason is None else str(reason),
        source=str(source),
        added_at=datetime.fromtimestamp(added_at, tz=UTC),
    )
