"""The contact index: every tenant's copy of its telli contacts in one SQLite file (in memory in the sandbox).

Every row carries its tenant (the key's fingerprint) and every statement names it, so one account never reads or
changes another's contacts. A contact's row holds what `find_contacts` filters on: names (searched through an
FTS5 table, see `names`), the phone number in E.164, the external id, property values (one row per comparable
value in `property_values`, see `values`), when it was created, and its auto-dialer state.

Dialer states arrive from sync reads, events and tools, in any order (telli's webhooks are retried and reordered,
and their timestamp is the delivery's, not the change's). A state replaces the one held only if it is at least as
far along (`DialerRead.progress`: more calls made, or the same number and a call now live), and, equally far,
only if it was read or sent no earlier (`state_at`). A late "pending" thus never undoes a "reached".

A sync (`sync`) walks telli's contact listing; each walk has a number, and every contact it saw carries it, so a
completed walk removes the contacts it did not see (deleted in telli). The sqlite3 calls are synchronous for the
reasons the campaign ledger gives (short local statements); none awaits between statements of one change.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import anyio

from telli_mcp.bounded import chunked
from telli_mcp.contact_index.names import document
from telli_mcp.contact_index.query import DialerState
from telli_mcp.contact_index.records import DialerRead, IndexedContact, IndexStatus, SearchPage
from telli_mcp.contact_index.values import stored_values
from telli_mcp.local_db import open_local_db, write_transaction

if TYPE_CHECKING:
    from telli_mcp.client import Contact, ContactV1
    from telli_mcp.contact_index.query import ContactQuery

__all__ = ["CONTACT_COLUMNS", "ContactIndex", "TenantIndex", "contact_from_row"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS contacts (
    row INTEGER PRIMARY KEY,
    tenant TEXT NOT NULL,
    contact_id TEXT NOT NULL,
    first_name TEXT,
    last_name TEXT,
    phone TEXT,
    external_id TEXT,
    properties TEXT NOT NULL,
    created_at REAL,
    dialer_state TEXT,
    call_attempts INTEGER,
    next_call_at REAL,
    reached_at REAL,
    in_call_since REAL,
    last_called_at REAL,
    state_at REAL,
    progress INTEGER,
    walk INTEGER NOT NULL,
    UNIQUE (tenant, contact_id)
);
CREATE INDEX IF NOT EXISTS contacts_newest ON contacts (tenant, created_at DESC, contact_id);
CREATE INDEX IF NOT EXISTS contacts_phone ON contacts (tenant, phone);
CREATE INDEX IF NOT EXISTS contacts_external_id ON contacts (tenant, external_id);
CREATE INDEX IF NOT EXISTS contacts_walk ON contacts (tenant, walk);
CREATE TABLE IF NOT EXISTS property_values (
    row INTEGER NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (row, key, value)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS property_values_lookup ON property_values (key, value, row);
CREATE VIRTUAL TABLE IF NOT EXISTS names USING fts5(words, keys, tokenize = 'unicode61 remove_diacritics 2');
CREATE TABLE IF NOT EXISTS syncs (
    tenant TEXT PRIMARY KEY,
    walk INTEGER NOT NULL,
    walking INTEGER NOT NULL,
    cursor TEXT,
    walk_started_at REAL,
    walk_seen INTEGER NOT NULL,
    as_of REAL
);
"""
_IDS_PER_STATEMENT = 500
_STATE_COLUMNS = (
    "dialer_state",
    "call_attempts",
    "next_call_at",
    "reached_at",
    "in_call_since",
    "state_at",
    "progress",
)
_NEWER_STATE = (
    "excluded.state_at IS NOT NULL AND (contacts.state_at IS NULL OR excluded.progress > contacts.progress "
    "OR (excluded.progress = contacts.progress AND excluded.state_at >= contacts.state_at))"
)
_UPSERT = f"""
INSERT INTO contacts (tenant, contact_id, first_name, last_name, phone, external_id, properties, created_at,
                      {", ".join(_STATE_COLUMNS)}, last_called_at, walk)
VALUES (:tenant, :contact_id, :first_name, :last_name, :phone, :external_id, :properties, :created_at,
        :state, :call_attempts, :next_call_at, :reached_at, :in_call_since, :at, :progress, :called, :walk)
ON CONFLICT (tenant, contact_id) DO UPDATE SET
    first_name = excluded.first_name, last_name = excluded.last_name, phone = excluded.phone,
    external_id = excluded.external_id, properties = excluded.properties,
    created_at = coalesce(excluded.created_at, contacts.created_at),
    {
    ", ".join(
        f"{column} = CASE WHEN {_NEWER_STATE} THEN excluded.{column} ELSE contacts.{column} END"
        for column in _STATE_COLUMNS
    )
},
    last_called_at = max(coalesce(excluded.last_called_at, contacts.last_called_at),
                         coalesce(contacts.last_called_at, excluded.last_called_at)),
    walk = max(contacts.walk, excluded.walk)
RETURNING row
"""
CONTACT_COLUMNS = (
    "contact_id, first_name, last_name, phone, external_id, properties, created_at, dialer_state, call_attempts, "
    "next_call_at, reached_at, in_call_since, last_called_at"
)
"""The columns `contact_from_row` reads, in its order."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _epoch(moment: datetime | None) -> float | None:
    return None if moment is None else moment.timestamp()


def _moment(epoch: object) -> datetime | None:
    if epoch is None:
        return None
    assert isinstance(epoch, float | int)
    return datetime.fromtimestamp(epoch, tz=UTC)


class ContactIndex:
    """Every tenant's index in one file; `for_tenant` gives the view a request or a sync uses."""

    def __init__(self, path: str, *, now: Callable[[], datetime] = _utc_now) -> None:
        self._db = open_local_db(path, threads=True)
        self._db.executescript(_SCHEMA)
        self._now = now
        self._locks: dict[str, anyio.Lock] = {}

    def for_tenant(self, tenant: str) -> TenantIndex:
        return TenantIndex(self._db, tenant, self._now)

    def sync_lock(self, tenant: str) -> anyio.Lock:
        """Held while a tenant's index syncs: two requests that both want a sync make it once, one after the
        other (the second then sees the first one's work)."""
        return self._locks.setdefault(tenant, anyio.Lock())

    def close(self) -> None:
        self._db.close()


class TenantIndex:
    """One tenant's contacts. Reads answer queries; writes come from a sync, from events and from the tools that
    change contacts (write-through)."""

    def __init__(self, db: sqlite3.Connection, tenant: str, now: Callable[[], datetime]) -> None:
        self._db, self.tenant, self._now = db, tenant, now

    def now(self) -> datetime:
        """The index's clock (the simulator's in the sandbox and in tests)."""
        return self._now()

    # -- reading ---------------------------------------------------------------------------------------------

    def status(self) -> IndexStatus:
        count = self._db.execute("SELECT COUNT(*) FROM contacts WHERE tenant = ?", (self.tenant,)).fetchone()[0]
        row = self._db.execute(
            "SELECT walking, walk_seen, as_of FROM syncs WHERE tenant = ?", (self.tenant,)
        ).fetchone()
        walking, seen, as_of = row if row is not None else (0, 0, None)
        return IndexStatus(contacts=int(count), as_of=_moment(as_of), walking=bool(walking), walk_seen=int(seen))

    def search(self, query: ContactQuery, *, offset: int, limit: int) -> SearchPage:
        """The page of contacts matching `query` from `offset` on, in the query's order, with the total."""
        from telli_mcp.contact_index.search import run_query

        return run_query(self._db, self.tenant, query, offset=offset, limit=limit)

    def select(self, query: ContactQuery, *, limit: int) -> tuple[list[str], int]:
        """The ids of the first `limit` contacts matching `query` (in its order), and how many match in all."""
        from telli_mcp.contact_index.search import run_query

        page = run_query(self._db, self.tenant, query, offset=0, limit=limit, ids_only=True)
        return [contact.contact_id for contact in page.contacts], page.total

    def get(self, contact_id: str) -> IndexedContact | None:
        row = self._db.execute(
            f"SELECT {CONTACT_COLUMNS} FROM contacts WHERE tenant = ? AND contact_id = ?", (self.tenant, contact_id)
        ).fetchone()
        return None if row is None else contact_from_row(row)

    # -- write-through and events -------------------------------------------------------------------------

    def put(self, contact: Contact, dialer: DialerRead | None = None) -> None:
        """Keep `contact` as telli returned it (a tool created or changed it); `dialer`: its state, when known.
        A state older than the one held is ignored."""
        with self._transaction():
            self._upsert(contact, dialer, walk=self._walk_number())

    def remove(self, contact_id: str) -> bool:
        """Forget a contact (deleted in telli); whether it was in the index."""
        with self._transaction():
            return (
                self._delete_rows(
                    [
                        row
                        for (row,) in self._db.execute(
                            "SELECT row FROM contacts WHERE tenant = ? AND contact_id = ?", (self.tenant, contact_id)
                        )
                    ]
                )
                > 0
            )

    def apply_dialer(self, contact: ContactV1, at: datetime) -> bool:
        """The dialer state in a v1 record read or sent at `at` (an event), unless the index holds a newer one;
        whether a contact of the index was changed. A contact the index does not hold is left for the next sync."""
        read = DialerRead.of(contact, at)
        cursor = self._db.execute(
            "UPDATE contacts SET dialer_state = :state, call_attempts = :call_attempts, "
            "next_call_at = :next_call_at, reached_at = :reached_at, in_call_since = :in_call_since, state_at = :at, "
            "progress = :progress, "
            "last_called_at = max(coalesce(last_called_at, :called), coalesce(:called, last_called_at)) "
            "WHERE tenant = :tenant AND contact_id = :contact_id AND (state_at IS NULL OR :progress > progress "
            "OR (:progress = progress AND :at >= state_at))",
            {**_state_values(read), "tenant": self.tenant, "contact_id": contact.contact_id},
        )
        return cursor.rowcount > 0

    def change_properties(
        self, contact_ids: Sequence[str], *, set_values: Mapping[str, object], clear: Collection[str]
    ) -> None:
        """telli took one change of these contacts' property values (update_contacts): set `set_values`, clear the
        keys in `clear`, keep every other value, so the next search shows the change without a sync."""
        with self._transaction():
            for chunk in _chunks(contact_ids):
                marks = ", ".join("?" * len(chunk))
                found = self._db.execute(
                    f"SELECT row, properties FROM contacts WHERE tenant = ? AND contact_id IN ({marks})",
                    (self.tenant, *chunk),
                ).fetchall()
                for row, stored in found:
                    kept = {key: value for key, value in json.loads(stored).items() if key not in clear}
                    properties = {**kept, **set_values}
                    self._db.execute(
                        "UPDATE contacts SET properties = ? WHERE row = ?",
                        (json.dumps(properties, ensure_ascii=False), row),
                    )
                    self._keep_values(row, properties)

    def called(self, contact_id: str, at: datetime) -> bool:
        """A call to the contact ended (or started) at `at`; whether a contact of the index learned of it."""
        cursor = self._db.execute(
            "UPDATE contacts SET last_called_at = max(coalesce(last_called_at, :at), :at) "
            "WHERE tenant = :tenant AND contact_id = :contact_id",
            {"at": at.timestamp(), "tenant": self.tenant, "contact_id": contact_id},
        )
        return cursor.rowcount > 0

    # -- walks (see `sync`) -------------------------------------------------------------------------------------

    def walk(self) -> tuple[bool, str | None]:
        """Whether a walk is under way, and telli's cursor where it continues (None: at the start)."""
        row = self._db.execute("SELECT walking, cursor FROM syncs WHERE tenant = ?", (self.tenant,)).fetchone()
        return (False, None) if row is None or not row[0] else (True, row[1])

    def begin_walk(self) -> None:
        """Start a new walk at the start of telli's listing (one under way is abandoned)."""
        self._db.execute(
            "INSERT INTO syncs (tenant, walk, walking, cursor, walk_started_at, walk_seen) "
            "VALUES (?, 1, 1, NULL, ?, 0) "
            "ON CONFLICT (tenant) DO UPDATE SET walk = syncs.walk + 1, walking = 1, cursor = NULL, "
            "walk_started_at = excluded.walk_started_at, walk_seen = 0",
            (self.tenant, self._now().timestamp()),
        )

    def save_round(
        self, contacts: Sequence[tuple[Contact, DialerRead]], *, seen_ids: Sequence[str], cursor: str | None
    ) -> None:
        """Keep one round of the walk (its contacts with their dialer state) and where the walk continues, at once.
        `seen_ids`: contacts telli listed but the index cannot read again (kept as they are, not swept)."""
        with self._transaction():
            walk = self._walk_number()
            for contact, dialer in contacts:
                self._upsert(contact, dialer, walk=walk)
            for chunk in _chunks(seen_ids):
                self._db.execute(
                    f"UPDATE contacts SET walk = ? WHERE tenant = ? AND contact_id IN ({', '.join('?' * len(chunk))})",
                    (walk, self.tenant, *chunk),
                )
            self._db.execute(
                "UPDATE syncs SET cursor = ?, walk_seen = walk_seen + ? WHERE tenant = ?",
                (cursor, len(contacts), self.tenant),
            )

    def finish_walk(self) -> int:
        """The walk reached the end of telli's listing: forget the contacts it did not see (deleted in telli), and
        the index is as of the walk's start. Returns how many were forgotten."""
        with self._transaction():
            walk = self._walk_number()
            gone = [
                row
                for (row,) in self._db.execute(
                    "SELECT row FROM contacts WHERE tenant = ? AND walk < ?", (self.tenant, walk)
                )
            ]
            swept = self._delete_rows(gone)
            self._db.execute(
                "UPDATE syncs SET walking = 0, cursor = NULL, as_of = walk_started_at WHERE tenant = ?", (self.tenant,)
            )
        return swept

    # -- internals ------------------------------------------------------------------------------------------

    def _transaction(self) -> AbstractContextManager[None]:
        return write_transaction(self._db)

    def _walk_number(self) -> int:
        row = self._db.execute("SELECT walk FROM syncs WHERE tenant = ?", (self.tenant,)).fetchone()
        return 0 if row is None else int(row[0])

    def _upsert(self, contact: Contact, dialer: DialerRead | None, *, walk: int) -> None:
        properties = {item.key: item.value for item in contact.properties}
        (row,) = self._db.execute(
            _UPSERT,
            {
                "tenant": self.tenant,
                "contact_id": contact.id,
                "first_name": contact.first_name,
                "last_name": contact.last_name,
                "phone": contact.phone_number,
                "external_id": contact.external_id,
                "properties": json.dumps(properties, ensure_ascii=False),
                "created_at": _epoch(contact.created_at),
                **_state_values(dialer),
                "walk": walk,
            },
        ).fetchone()
        words, keys = document(contact.first_name, contact.last_name)
        self._db.execute("DELETE FROM names WHERE rowid = ?", (row,))
        self._db.execute("INSERT INTO names (rowid, words, keys) VALUES (?, ?, ?)", (row, words, keys))
        self._keep_values(row, properties)

    def _keep_values(self, row: int, properties: Mapping[str, object]) -> None:
        """The comparable values of one contact's properties, replacing those held (what property filters read)."""
        self._db.execute("DELETE FROM property_values WHERE row = ?", (row,))
        self._db.executemany(
            "INSERT OR IGNORE INTO property_values (row, key, value) VALUES (?, ?, ?)",
            [(row, key, text) for key, value in properties.items() for text in stored_values(value)],
        )

    def _delete_rows(self, rows: Sequence[int]) -> int:
        for chunk in _chunks(rows):
            marks = ", ".join("?" * len(chunk))
            self._db.execute(f"DELETE FROM names WHERE rowid IN ({marks})", chunk)
            self._db.execute(f"DELETE FROM property_values WHERE row IN ({marks})", chunk)
            self._db.execute(f"DELETE FROM contacts WHERE row IN ({marks})", chunk)
        return len(rows)


def _state_values(read: DialerRead | None) -> dict[str, object]:
    """The statement parameters of a dialer read (all None without one: the state held is kept)."""
    if read is None:
        keys = ("state", "call_attempts", "next_call_at", "reached_at", "in_call_since", "at", "progress", "called")
        return dict.fromkeys(keys)
    return {
        "state": read.state.value,
        "call_attempts": read.call_attempts,
        "next_call_at": _epoch(read.next_call_at),
        "reached_at": _epoch(read.reached_at),
        "in_call_since": _epoch(read.in_call_since),
        "at": read.at.timestamp(),
        "progress": read.progress,
        "called": _epoch(read.called_at),
    }


def _chunks(items: Sequence[object]) -> Iterator[list[object]]:
    return (list(chunk) for chunk in chunked(list(items), _IDS_PER_STATEMENT))


def contact_from_row(row: Sequence[object]) -> IndexedContact:
    """A contact from the columns `CONTACT_COLUMNS` names, in that order."""
    (contact_id, first_name, last_name, phone, external_id, properties, created_at, state, attempts, *moments) = row
    next_call_at, reached_at, in_call_since, last_called_at = (_moment(value) for value in moments)
    return IndexedContact(
        contact_id=str(contact_id),
        first_name=None if first_name is None else str(first_name),
        last_name=None if last_name is None else str(last_name),
        phone_number=None if phone is None else str(phone),
        external_id=None if external_id is None else str(external_id),
        properties=json.loads(str(properties)),
        created_at=_moment(created_at),
        dialer_state=None if state is None else DialerState(str(state)),
        call_attempts=None if attempts is None else int(str(attempts)),
        next_call_at=next_call_at,
        reached_at=reached_at,
        in_call_since=in_call_since,
        last_called_at=last_called_at,
    )
