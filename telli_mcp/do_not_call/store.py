"""The do-not-call list in one small SQLite file (in memory in the sandbox), one list per tenant.

Numbers are kept in E.164, so "+49 30 1234567", "+49301234567" and "+49 (30) 123 4567" are one entry, and a
lead or contact is matched by its E.164 number however it was typed. Each entry says why (free text from the
user, kept as given), where it came from (`tool`, `import <file>`, ...) and when it was added.

Entries are per tenant (the key's fingerprint): one account's list never blocks or reveals another's numbers.
The sqlite3 calls are synchronous for the reasons the campaign ledger gives (short local statements).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Collection, Iterator, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final

from pydantic import BaseModel

from telli_mcp.bounded import chunked
from telli_mcp.local_db import open_local_db, write_transaction

if TYPE_CHECKING:
    from telli_mcp.client.types import PhoneNumberError

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
    """Every tenant's list in one file; `for_tenant` gives the view a request or run uses."""

    def __init__(self, path: str, *, now: Callable[[], datetime] = _utc_now) -> None:
        self._db = open_local_db(path, threads=True)
        self._db.executescript(_SCHEMA)
        self._now = now

    def for_tenant(self, tenant: str) -> TenantList:
        return TenantList(self._db, tenant, self._now)

    def close(self) -> None:
        self._db.close()


class TenantList:
    """One tenant's do-not-call list. Numbers given to it must already be E.164 (`normalise_number`)."""

    def __init__(self, db: sqlite3.Connection, tenant: str, now: Callable[[], datetime]) -> None:
        self._db, self.tenant, self._now = db, tenant, now

    def add(self, numbers: Sequence[str], *, reason: str | None, source: str) -> Added:
        """Put `numbers` on the list (one transaction); numbers already on it keep their entry."""
        unique = list(dict.fromkeys(numbers))
        before = self.blocked(unique)
        at = self._now().timestamp()
        with write_transaction(self._db):
            self._db.executemany(
                "INSERT OR IGNORE INTO do_not_call (tenant, e164, reason, source, added_at) VALUES (?, ?, ?, ?, ?)",
                [(self.tenant, number, reason, source, at) for number in unique],
            )
        return Added(
            added=[number for number in unique if number not in before],
            already=[number for number in unique if number in before],
        )

    def remove(self, numbers: Sequence[str]) -> list[str]:
        """Take `numbers` off the list; returns the ones that were on it."""
        on_list = self.blocked(numbers)
        self._db.executemany(
            "DELETE FROM do_not_call WHERE tenant = ? AND e164 = ?", [(self.tenant, number) for number in on_list]
        )
        return [number for number in dict.fromkeys(numbers) if number in on_list]

    def blocked(self, numbers: Collection[str]) -> set[str]:
        """Which of these E.164 numbers are on the list."""
        found: set[str] = set()
        for chunk in chunked(list(set(numbers)), _IDS_PER_QUERY):
            rows = self._db.execute(
                f"SELECT e164 FROM do_not_call WHERE tenant = ? AND e164 IN ({', '.join('?' * len(chunk))})",
                (self.tenant, *chunk),
            )
            found.update(str(row[0]) for row in rows)
        return found

    def page(self, *, limit: int, after: str | None = None) -> tuple[list[Entry], str | None]:
        """Entries in number order after `after` (a cursor: the last number of the previous page)."""
        rows = self._db.execute(
            "SELECT e164, reason, source, added_at FROM do_not_call WHERE tenant = ? AND e164 > ? ORDER BY e164 "
            "LIMIT ?",
            (self.tenant, after or "", limit + 1),
        ).fetchall()
        entries = [_entry(row) for row in rows[:limit]]
        return entries, (entries[-1].phone_number if len(rows) > limit else None)

    def count(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM do_not_call WHERE tenant = ?", (self.tenant,)).fetchone()[0])

    def entries(self) -> Iterator[Entry]:
        """Every entry in number order (an export), read a page at a time."""
        after: str | None = None
        while True:
            page, after = self.page(limit=1000, after=after)
            yield from page
            if after is None:
                return


def _entry(row: tuple[object, ...]) -> Entry:
    number, reason, source, added_at = row
    assert isinstance(added_at, float | int)
    return Entry(
        phone_number=str(number),
        reason=None if reason is None else str(reason),
        source=str(source),
        added_at=datetime.fromtimestamp(added_at, tz=UTC),
    )
