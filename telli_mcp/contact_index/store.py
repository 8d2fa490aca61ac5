"""The contact index: every tenant's copy of its telli contacts in one SQLite file (in memory in the sandbox), or in
the PostgreSQL database the replicas share.

Every row carries its tenant (the key's fingerprint) and every statement names it, so one account never reads or
changes another's contacts. A contact's row holds what `find_contacts` filters on: names (searched through an
FTS5 table, see `names`), the phone number in E.164, the external id, property values (one row per comparable
value in `property_values`, see `values`), when it was created, and its auto-dialer state. The SQL is written once
for both engines (`telli_mcp.database.sql`); only where names are kept for search differs (`name_tables`).

Dialer states arrive from sync reads, events and tools, in any order (telli's webhooks are retried and reordered,
and their timestamp is the delivery's, not the change's). A state replaces the one held only if it is at least as
far along (`DialerRead.progress`: more calls made, or the same number and a call now live), and, equally far,
only if it was read or sent no earlier (`state_at`). A late "pending" thus never undoes a "reached".

A sync (`sync`) walks telli's contact listing; each walk has a number, and every contact it saw carries it, so a
completed walk removes the contacts it did not see (deleted in telli). Replicas sharing PostgreSQL share the walk:
a sync joins the walk under way rather than starting another, and every write of a walk names its number, so a
walk another replica has since replaced (started over) neither moves the cursor nor removes anything. The calls
are synchronous for the reasons `telli_mcp.database.sql` gives; none awaits between statements of one change.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import anyio
from pydantic import SecretStr

from telli_mcp.bounded import chunked
from telli_mcp.contact_index.name_tables import name_table
from telli_mcp.contact_index.query import DialerState
from telli_mcp.contact_index.records import DialerRead, IndexedContact, IndexStatus, SearchPage
from telli_mcp.contact_index.values import stored_values

if TYPE_CHECKING:
    from telli_mcp.client import Contact, ContactV1
    from telli_mcp.contact_index.query import ContactQuery
    from telli_mcp.database.sql import SqlSession

__all__ = ["CONTACT_COLUMNS", "ContactIndex", "TenantIndex", "Walk", "contact_from_row"]

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
"""The SQLite tables; PostgreSQL's are migration 6 (`telli_mcp.database.migrations`), the same columns, with
`contact_name_keys` in place of the FTS5 table `names` (see `name_tables`)."""
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
VALUES {{values}}
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
    last_called_at = {{greatest}}(coalesce(excluded.last_called_at, contacts.last_called_at),
                         coalesce(contacts.last_called_at, excluded.last_called_at)),
    walk = {{greatest}}(contacts.walk, excluded.walk)
RETURNING row, contact_id
"""
_ROW_VALUES = (
    "contact_id",
    "first_name",
    "last_name",
    "phone",
    "external_id",
    "properties",
    "created_at",
    "state",
    "call_attempts",
    "next_call_at",
    "reached_at",
    "in_call_since",
    "at",
    "progress",
    "called",
)
"""The parameters of one contact's row in `_UPSERT` (besides the shared :tenant and :walk), in column order."""
_ROWS_PER_UPSERT = 50
"""Contacts per upsert: one round trip for many, and 50 * 15 parameters stay under SQLite's old limit of 999."""
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


@dataclass(frozen=True)
class Walk:
    """A tenant's walk of telli's listing as kept: its number, whether it is under way, and where it continues."""

    number: int
    walking: bool
    cursor: str | None
    """telli's cursor where the walk continues (None: at the start)."""


class ContactIndex:
    """Every tenant's index in one place; `for_tenant` gives the view a request or a sync uses.

    `location` is where the index is kept: a SQLite file path (":memory:" for a throw-away index; the tables are
    created on open), a `postgresql://` URL (a `SecretStr` or a str; the tables come from the database's
    migrations, and psycopg is loaded only then), or an open `SqlSession`, which stays its owner's to close.
    Handles on one database see each other's changes at once: nothing is cached between calls.
    """

    def __init__(self, location: str | SecretStr | SqlSession, *, now: Callable[[], datetime] = _utc_now) -> None:
        from telli_mcp.database.sql import session_for

        self._session, self._owned = session_for(location, sqlite_schema=_SCHEMA, threads=True)
        self._now = now
        self._locks: dict[str, anyio.Lock] = {}

    def for_tenant(self, tenant: str) -> TenantIndex:
        return TenantIndex(self._session, tenant, self._now)

    def sync_lock(self, tenant: str) -> anyio.Lock:
        """Held while a tenant's index syncs: two requests of this process that both want a sync make it once, one
        after the other (the second then sees the first one's work). Replicas do not wait for each other: their
        syncs share the walk (see the module docstring)."""
        return self._locks.setdefault(tenant, anyio.Lock())

    def close(self) -> None:
        """Close the connection this index opened (a session it was given is left open)."""
        if self._owned:
            self._session.close()


class TenantIndex:
    """One tenant's contacts. Reads answer queries; writes come from a sync, from events and from the tools that
    change contacts (write-through)."""

    def __init__(self, session: SqlSession, tenant: str, now: Callable[[], datetime]) -> None:
        self._db, self.tenant, self._now = session, tenant, now
        self._names = name_table(session)
        self._greatest = session.dialect.greatest

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
            self._upsert([(contact, dialer)], walk=self._walk_number())

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
        greatest = self._db.dialect.greatest
        cursor = self._db.execute(
            "UPDATE contacts SET dialer_state = :state, call_attempts = :call_attempts, "
            "next_call_at = :next_call_at, reached_at = :reached_at, in_call_since = :in_call_since, state_at = :at, "
            "progress = :progress, "
            f"last_called_at = {greatest}(coalesce(last_called_at, :called), coalesce(:called, last_called_at)) "
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
                    f"SELECT row, properties FROM contacts WHERE tenant = ? AND contact_id IN ({marks}) ORDER BY row",
                    (self.tenant, *chunk),
                ).fetchall()
                changed: dict[int, Mapping[str, object]] = {}
                for row, stored in found:
                    kept = {key: value for key, value in json.loads(stored).items() if key not in clear}
                    changed[int(row)] = properties = {**kept, **set_values}
                    self._db.execute(
                        "UPDATE contacts SET properties = ? WHERE row = ?",
                        (json.dumps(properties, ensure_ascii=False), row),
                    )
                self._keep_values(changed)

    def called(self, contact_id: str, at: datetime) -> bool:
        """A call to the contact ended (or started) at `at`; whether a contact of the index learned of it."""
        cursor = self._db.execute(
            f"UPDATE contacts SET last_called_at = {self._db.dialect.greatest}(coalesce(last_called_at, :at), :at) "
            "WHERE tenant = :tenant AND contact_id = :contact_id",
            {"at": at.timestamp(), "tenant": self.tenant, "contact_id": contact_id},
        )
        return cursor.rowcount > 0

    # -- walks (see `sync`) -------------------------------------------------------------------------------------

    def walk(self) -> Walk:
        """The walk as kept: number 0 and not under way before the tenant's first."""
        row = self._db.execute("SELECT walk, walking, cursor FROM syncs WHERE tenant = ?", (self.tenant,)).fetchone()
        return Walk(0, False, None) if row is None else _walk(row)

    def begin_walk(self, *, replacing: int | None = None) -> Walk:
        """Start a new walk at the start of telli's listing, replacing the walk `replacing` (one whose cursor telli
        refused) if it is under way; the walk this sync goes on with. A walk under way other than `replacing`
        (another replica's, started since this one looked) is joined instead: one walk at a time per tenant."""
        with self._transaction():
            held = self._held_walk()
            if held is None:  # the tenant's first walk: a row to lock first (PostgreSQL has none to lock before)
                self._db.execute(
                    "INSERT INTO syncs (tenant, walk, walking, walk_seen) VALUES (?, 0, 0, 0) "
                    "ON CONFLICT (tenant) DO NOTHING",
                    (self.tenant,),
                )
                held = self._held_walk()  # another replica's first walk, if it got there first (its insert waited)
                assert held is not None
            if held.walking and held.number != replacing:
                return held
            self._db.execute(
                "UPDATE syncs SET walk = walk + 1, walking = 1, cursor = NULL, walk_started_at = ?, walk_seen = 0 "
                "WHERE tenant = ?",
                (self._now().timestamp(), self.tenant),
            )
            return Walk(held.number + 1, True, None)

    def save_round(
        self,
        contacts: Sequence[tuple[Contact, DialerRead]],
        *,
        seen_ids: Sequence[str],
        cursor: str | None,
        walk: int,
    ) -> Walk:
        """Keep one round of walk `walk` (its contacts with their dialer state) and where the walk continues, at
        once; the tenant's walk after it. `seen_ids`: contacts telli listed but the index cannot read again (kept as
        they are, not swept). When `walk` is no longer under way (another replica finished it, or started over),
        the contacts are kept all the same (they are telli's), the cursor is left alone, and the sync should stop."""
        with self._transaction():
            held = self._held_walk()
            # Contacts in id order: PostgreSQL locks each row until the transaction ends, so two replicas keeping
            # overlapping rounds in different orders would each wait for the other.
            self._upsert(sorted(contacts, key=lambda pair: pair[0].id), walk=walk)
            for chunk in _chunks(sorted(seen_ids)):
                self._db.execute(
                    f"UPDATE contacts SET walk = {self._db.dialect.greatest}(walk, ?) "
                    f"WHERE tenant = ? AND contact_id IN ({', '.join('?' * len(chunk))})",
                    (walk, self.tenant, *chunk),
                )
            if held is None or held.number != walk or not held.walking:
                return held or Walk(0, False, None)
            self._db.execute(
                "UPDATE syncs SET cursor = ?, walk_seen = walk_seen + ? WHERE tenant = ?",
                (cursor, len(contacts), self.tenant),
            )
            return Walk(walk, True, cursor)

    def finish_walk(self, walk: int) -> int | None:
        """Walk `walk` reached the end of telli's listing: forget the contacts it did not see (deleted in telli),
        and the index is as of the walk's start. Returns how many were forgotten; None when `walk` is no longer
        the tenant's walk (another replica started over), and nothing was changed."""
        with self._transaction():
            held = self._held_walk()
            if held is None or held.number != walk:
                return None
            gone = [
                row
                for (row,) in self._db.execute(
                    "SELECT row FROM contacts WHERE tenant = ? AND walk < ? ORDER BY row", (self.tenant, walk)
                )
            ]
            swept = self._delete_rows(gone)
            self._db.execute(
                "UPDATE syncs SET walking = 0, cursor = NULL, as_of = walk_started_at WHERE tenant = ?", (self.tenant,)
            )
        return swept

    # -- internals ------------------------------------------------------------------------------------------

    def _transaction(self) -> Any:
        return self._db.transaction()

    def _held_walk(self) -> Walk | None:
        """The walk as kept, its row locked until the transaction ends: every write of a walk (and every contact
        written meanwhile) waits for the one before, so a round never lands between a sweep's read and delete."""
        row = self._db.execute(
            f"SELECT walk, walking, cursor FROM syncs WHERE tenant = ?{self._db.dialect.lock_row}", (self.tenant,)
        ).fetchone()
        return None if row is None else _walk(row)

    def _walk_number(self) -> int:
        held = self._held_walk()
        return 0 if held is None else held.number

    def _upsert(self, contacts: Sequence[tuple[Contact, DialerRead | None]], *, walk: int) -> None:
        """Keep `contacts` (each with its dialer state, when known) as walk `walk` saw them; their names and property
        values are written together after their rows (a few statements for a whole round, not a few per contact)."""
        latest = {contact.id: (contact, dialer) for contact, dialer in contacts}  # a contact listed twice: once
        names: list[tuple[int, str | None, str | None]] = []
        values: dict[int, Mapping[str, object]] = {}
        for chunk in chunked(list(latest.values()), _ROWS_PER_UPSERT):
            params: dict[str, object] = {"tenant": self.tenant, "walk": walk}
            properties: dict[str, dict[str, Any]] = {}
            for index, (contact, dialer) in enumerate(chunk):
                properties[contact.id] = {item.key: item.value for item in contact.properties}
                row_values = {
                    "contact_id": contact.id,
                    "first_name": contact.first_name,
                    "last_name": contact.last_name,
                    "phone": contact.phone_number,
                    "external_id": contact.external_id,
                    "properties": json.dumps(properties[contact.id], ensure_ascii=False),
                    "created_at": _epoch(contact.created_at),
                    **_state_values(dialer),
                }
                params.update({f"{name}{index}": row_values[name] for name in _ROW_VALUES})
            rows = ", ".join(
                "(:tenant, " + ", ".join(f":{name}{index}" for name in _ROW_VALUES) + ", :walk)"
                for index in range(len(chunk))
            )
            row_of = {
                str(contact_id): int(row)
                for row, contact_id in self._db.execute(_UPSERT.format(greatest=self._greatest, values=rows), params)
            }
            for contact, _dialer in chunk:
                names.append((row_of[contact.id], contact.first_name, contact.last_name))
                values[row_of[contact.id]] = properties[contact.id]
        self._names.keep(self.tenant, names)
        self._keep_values(values)

    def _keep_values(self, properties: Mapping[int, Mapping[str, object]]) -> None:
        """The comparable values of these rows' properties, replacing those held (what property filters read).
        Each (row, key, value) once: a multi-select's duplicates are stored once."""
        for chunk in _chunks(list(properties)):
            self._db.execute(f"DELETE FROM property_values WHERE row IN ({', '.join('?' * len(chunk))})", chunk)
        self._db.executemany(
            "INSERT INTO property_values (row, key, value) VALUES (?, ?, ?)",
            list(
                dict.fromkeys(
                    (row, key, text)
                    for row, held in properties.items()
                    for key, value in held.items()
                    for text in stored_values(value)
                )
            ),
        )

    def _delete_rows(self, rows: Sequence[int]) -> int:
        for chunk in _chunks(rows):
            marks = ", ".join("?" * len(chunk))
            self._names.forget(marks, chunk)
            self._db.execute(f"DELETE FROM property_values WHERE row IN ({marks})", chunk)
            self._db.execute(f"DELETE FROM contacts WHERE row IN ({marks})", chunk)
        return len(rows)


def _walk(row: Sequence[Any]) -> Walk:
    number, walking, cursor = row
    return Walk(int(number), bool(walking), None if cursor is None else str(cursor))


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
