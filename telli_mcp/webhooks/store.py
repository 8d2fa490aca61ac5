"""The event store: every verified telli event, once per delivery id and account, in a SQLite file or in the
PostgreSQL database the replicas share.

The receiver writes an event here and commits before it answers telli, so an event that was answered 2xx is
never lost (telli does not send it again). The MCP server reads it: `wait_for_call_result`, campaign counts,
subscriptions and health. When the receiver runs in another process (`telli-mcp webhooks serve` beside a stdio
server), both open the same file; WAL mode lets one write while the other reads. On PostgreSQL every replica
writes and reads the same tables, and each stored event is announced to the others: `pg_notify` on `CHANNEL` in
the insert's own transaction, so the announcement goes out only if the event is committed
(`telli_mcp.webhooks.relay` turns it into the other replicas' hub publications).

Events are scoped by `account` (the fingerprint of the telli key whose webhook secret verified them), and every
read names its account, so one account's events never reach another tenant.

The SQL is written once for both engines (`telli_mcp.database.sql`) except where SQLite needs its planner steered
(`calls_ended_by_slot`). The calls are synchronous inside async code for the reasons that module gives: each
statement is one short write or an indexed read, and cancellation can never land in the middle of one.

What is kept: the raw body (it holds transcripts and contact data, personal data like everything telli stores),
for `RETENTION` at most, and never after the contact is deleted through this server (`forget_contact`).
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable, Collection, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Final, NamedTuple

from pydantic import BaseModel, SecretStr

from telli_mcp.bounded import chunked
from telli_mcp.webhooks.events import CallEnded, ContactStatusChanged, OtherEvent, parse_event
from telli_mcp.webhooks.signature import VerifiedDelivery

if TYPE_CHECKING:
    from telli_mcp.database.sql import SqliteSession, SqlSession

__all__ = [
    "CHANNEL",
    "EVENT_COLUMNS",
    "RETENTION",
    "ContactWindow",
    "EventStore",
    "Heard",
    "ReceiverHealth",
    "StoredEvent",
    "announced",
    "announcement",
    "stored_event",
]

logger = logging.getLogger("telli_mcp.webhooks")

RETENTION: Final = timedelta(days=30)
_PRUNE_EVERY: Final = 500
"""Prune old events once per this many new ones: cheap, and the table never grows past a month of events."""
_IDS_PER_QUERY: Final = 500
"""Contact ids per `IN (...)` query, well under SQLite's limit on bound parameters."""
_WINDOWS_PER_QUERY: Final = 300
"""Contact windows (3 parameters each) per `calls_ended_by_slot` query, under SQLite's older limit of 999."""
CHANNEL: Final = "telli_mcp_events"
"""The PostgreSQL channel every stored event is announced on (see `announcement`)."""
_RECORD_LOCK: Final = int.from_bytes(b"telli-ev", "big")
"""The advisory lock a PostgreSQL `record` holds from its insert to its commit (see `EventStore.record`)."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    account TEXT NOT NULL,
    delivery_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    contact_id TEXT,
    call_id TEXT,
    sent_at REAL NOT NULL,
    received_at REAL NOT NULL,
    body TEXT NOT NULL,
    received_wall REAL,
    ended_at REAL,
    loop_id TEXT,
    origin TEXT,
    UNIQUE (account, delivery_id)
);
CREATE INDEX IF NOT EXISTS events_by_contact ON events (account, contact_id, seq);
CREATE INDEX IF NOT EXISTS events_by_call ON events (account, call_id);
CREATE TABLE IF NOT EXISTS forgotten (
    account TEXT NOT NULL,
    contact_id TEXT NOT NULL,
    at REAL NOT NULL,
    PRIMARY KEY (account, contact_id)
);
CREATE TABLE IF NOT EXISTS receiving (
    account TEXT PRIMARY KEY,
    since_wall REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS refusals (
    account TEXT PRIMARY KEY,
    count INTEGER NOT NULL,
    last_at REAL NOT NULL,
    last_reason TEXT NOT NULL
);
"""
"""The SQLite tables; PostgreSQL's are migration 4 (`telli_mcp.database.migrations`), the same columns."""
EVENT_COLUMNS: Final = "seq, account, delivery_id, kind, contact_id, call_id, sent_at, received_at, body, received_wall"
"""The columns `stored_event` reads, in its order."""
_ADDED_COLUMNS: Final = (("received_wall", "REAL"), ("ended_at", "REAL"), ("loop_id", "TEXT"), ("origin", "TEXT"))
"""Columns added to the SQLite file after the first release, with their types (a file written before them gets
them on open)."""
_LATER_INDEXES = """
CREATE INDEX IF NOT EXISTS calls_ended_by_contact
ON events (account, contact_id, kind, call_id, received_wall, ended_at, sent_at, loop_id) WHERE kind = 'call_ended';
CREATE INDEX IF NOT EXISTS events_by_arrival ON events (account, received_wall);
"""
"""Indexes on the added columns. The first covers `calls_ended_by_slot`: counting a campaign's calls never reads an
event's body. That query names it and joins contact by contact (CROSS JOIN keeps that order): SQLite would
otherwise walk every call of the account in `call_id` order to spare the GROUP BY a sort, once per contact. The
second answers `heard` (the newest arrival) without reading every event."""
_CALLS_BY_SLOT = """
WITH windows(contact_id, since, loop_id) AS (VALUES {values}),
calls AS (
    SELECT MAX(COALESCE(e.ended_at, e.sent_at)) AS ended
    FROM windows w CROSS JOIN events e INDEXED BY calls_ended_by_contact
        ON e.account = ? AND e.contact_id = w.contact_id AND e.kind = 'call_ended'
    WHERE e.received_wall >= w.since AND (w.loop_id IS NULL OR e.loop_id IS NULL OR e.loop_id = w.loop_id)
    GROUP BY e.call_id
)
SELECT CAST(ended / ? AS INTEGER) * ? AS start, COUNT(*) FROM calls GROUP BY start
"""
_CALLS_BY_SLOT_POSTGRES = """
WITH windows(contact_id, since, loop_id) AS (VALUES {values}),
calls AS (
    SELECT MAX(COALESCE(e.ended_at, e.sent_at)) AS ended
    FROM windows w JOIN events e
        ON e.account = ? AND e.contact_id = w.contact_id AND e.kind = 'call_ended'
    WHERE e.received_wall >= w.since AND (w.loop_id IS NULL OR e.loop_id IS NULL OR e.loop_id = w.loop_id)
    GROUP BY e.call_id
)
SELECT CAST(FLOOR(ended / ?) AS BIGINT) * ? AS start, COUNT(*) FROM calls GROUP BY start
"""
"""The same count on PostgreSQL, whose planner needs no hint (and which has no INDEXED BY), and whose CAST rounds
where SQLite's truncates (hence FLOOR: slots start at or before the call's end)."""
UNKNOWN_ENDPOINT: Final = ""
"""The refusal counter's account for deliveries to an endpoint no account is configured for."""


class StoredEvent(BaseModel):
    """One event as received."""

    seq: int
    """Order of arrival in this store (not telli's order: Svix may deliver out of order)."""
    account: str
    delivery_id: str
    kind: str
    contact_id: str | None
    call_id: str | None
    sent_at: datetime
    received_at: datetime
    body: str
    received_wall: datetime
    """When it arrived by this machine's clock (`received_at` is the simulator's in the sandbox)."""

    def event(self) -> CallEnded | ContactStatusChanged | OtherEvent:
        return parse_event(json.loads(self.body))


class Heard(BaseModel):
    """Since when an account's events reach the store, and the newest one's arrival (this machine's clock)."""

    since: datetime | None
    """The first event's arrival, or when the sandbox said every event would arrive (`mark_receiving`)."""
    last_event: datetime | None


class ContactWindow(NamedTuple):
    """The calls of one contact that count: those whose event arrived from `since` on (this machine's clock), in
    dialer loop `loop_id` when both it and the call name one."""

    contact_id: str
    since: datetime
    loop_id: str | None


class ReceiverHealth(BaseModel):
    """What an operator needs to see whether events are flowing for one account."""

    events: int
    last_event_at: datetime | None
    last_event_kind: str | None
    refused: int
    """Deliveries refused (bad or missing signature, stale timestamp) for this account's endpoint."""
    last_refused_at: datetime | None
    last_refused_reason: str | None


def _utc_now() -> datetime:
    return datetime.now(UTC)


class EventStore:
    """The events of every account this server receives webhooks for.

    `location` is where they are kept: a SQLite file path (":memory:" for throw-away events; the tables are
    created, and an older file's upgraded, on open), a `postgresql://` URL (a `SecretStr` or a str; the tables come
    from the database's migrations, and psycopg is loaded only then), or an open `SqlSession`, which stays its
    owner's to close."""

    def __init__(
        self,
        location: Path | str | SecretStr | SqlSession,
        *,
        now: Callable[[], datetime] = _utc_now,
        wall: Callable[[], datetime] = _utc_now,
    ) -> None:
        """`now` stamps `received_at` (the simulator's clock in the sandbox); `wall` stamps `received_wall`, this
        machine's clock, the one the campaign ledger keeps."""
        from telli_mcp.database.sql import SqliteSession, session_for

        self._db, self._owned = session_for(location, sqlite_schema=_SCHEMA, threads=True, timeout=5.0)
        self._postgres = self._db.dialect.name == "postgresql"
        if isinstance(self._db, SqliteSession):
            self._migrate(self._db)  # a file written before the later columns and indexes
        self._now, self._wall = now, wall
        self._recorded = 0
        self.origin = secrets.token_hex(8)
        """This handle's name, kept with every event it stores: the relay tells the events this process stored
        (and published to its own hub) from other replicas' by it."""

    def close(self) -> None:
        """Close the connection this store opened (a session it was given is left open)."""
        if self._owned:
            self._db.close()

    def _migrate(self, db: SqliteSession) -> None:
        """Give a file written by an older version the columns it lacks, filled in for the events it holds (once;
        the columns are read again under the write lock, as a receiver in another process may be opening it too)."""
        if self._missing_columns():
            with db.transaction():
                missing = self._missing_columns()
                for name, kind in missing:
                    db.execute(f"ALTER TABLE events ADD COLUMN {name} {kind}")
                db.execute("UPDATE events SET received_wall = received_at WHERE received_wall IS NULL")
                if any(name == "ended_at" for name, _kind in missing):
                    self._fill_calls()
        db.executescript(_LATER_INDEXES)

    def _missing_columns(self) -> list[tuple[str, str]]:
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(events)")}
        return [(name, kind) for name, kind in _ADDED_COLUMNS if name not in columns]

    def _fill_calls(self) -> None:
        """`ended_at` and `loop_id` of the stored `call_ended` events, read from their bodies by the Call model, a
        bounded number of bodies at a time. A body the model no longer reads keeps them empty (then a call counts at
        its delivery's time)."""
        after = 0
        while rows := self._db.execute(
            "SELECT seq, body FROM events WHERE kind = 'call_ended' AND seq > ? ORDER BY seq LIMIT ?",
            (after, _IDS_PER_QUERY),
        ).fetchall():
            after = rows[-1][0]
            filled = []
            for seq, body in rows:
                try:
                    filled.append((*_call_columns(parse_event(json.loads(body))), seq))
                except ValueError:
                    continue
            self._db.executemany("UPDATE events SET ended_at = ?, loop_id = ? WHERE seq = ?", filled)

    def record(
        self, account: str, delivery: VerifiedDelivery, event: CallEnded | ContactStatusChanged | OtherEvent, body: str
    ) -> StoredEvent | None:
        """Store `event` durably; None when this delivery id was already stored for `account` (a retry, here or on
        another replica: nothing is announced for it).

        On PostgreSQL the transaction first takes an advisory lock that it holds until it commits, so replicas
        store events one at a time and `seq` grows in commit order: whoever has read the event with seq N has
        seen every event committed before it, which is what lets a relay catch up by `seq` alone. A recording
        holds the lock for a few round trips; PostgreSQL already orders the commits of notifying transactions."""
        received_at, received_wall = self._now(), self._wall()
        with self._db.transaction():
            if self._postgres:
                self._db.execute("SELECT pg_advisory_xact_lock(?)", (_RECORD_LOCK,))
            inserted = self._db.execute(
                "INSERT INTO events (account, delivery_id, kind, contact_id, call_id, sent_at, received_at, body,"
                " received_wall, ended_at, loop_id, origin) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (account, delivery_id) DO NOTHING RETURNING seq",
                (
                    account,
                    delivery.delivery_id,
                    event.event,
                    event.contact_id,
                    event.call_id,
                    delivery.sent_at.timestamp(),
                    received_at.timestamp(),
                    body,
                    received_wall.timestamp(),
                    *_call_columns(event),
                    self.origin,
                ),
            ).fetchall()
            if not inserted:
                return None
            seq = int(inserted[0][0])
            self._mark_receiving(account, received_wall)
            if self._postgres:
                self._db.execute("SELECT pg_notify(?, ?)", (CHANNEL, announcement(self.origin, seq)))
        self._recorded += 1
        if self._recorded % _PRUNE_EVERY == 0:
            self._prune_after_recording()
        return StoredEvent(
            seq=seq,
            account=account,
            delivery_id=delivery.delivery_id,
            kind=event.event,
            contact_id=event.contact_id,
            call_id=event.call_id,
            sent_at=delivery.sent_at,
            received_at=received_at,
            body=body,
            received_wall=received_wall,
        )

    def mark_receiving(self, account: str) -> None:
        """Record that every event of `account` reaches this store from now on: the sandbox, whose simulator
        hands each event to the receiver directly, says so before the first one."""
        self._mark_receiving(account, self._wall())

    def _mark_receiving(self, account: str, at: datetime) -> None:
        self._db.execute(
            "INSERT INTO receiving (account, since_wall) VALUES (?, ?) ON CONFLICT (account) DO NOTHING",
            (account, at.timestamp()),
        )

    def heard(self, account: str) -> Heard:
        """Since when `account`'s events reach this store and when the last one arrived (wall clock)."""
        since = self._db.execute("SELECT since_wall FROM receiving WHERE account = ?", (account,)).fetchone()
        last = self._db.execute("SELECT MAX(received_wall) FROM events WHERE account = ?", (account,)).fetchone()
        return Heard(
            since=_instant(since[0]) if since else None,
            last_event=_instant(last[0]) if last[0] is not None else None,
        )

    def events_of_contacts(self, account: str, contact_ids: Collection[str]) -> list[StoredEvent]:
        """Every stored event of `account` about these contacts, oldest first."""
        rows = self._for_contacts(f"SELECT {EVENT_COLUMNS} FROM events", account, contact_ids)
        return sorted((stored_event(row) for row in rows), key=lambda stored: stored.seq)

    def forgotten_among(self, account: str, contact_ids: Collection[str]) -> set[str]:
        """Which of these contacts were deleted through this server (their events are erased)."""
        return {str(row[0]) for row in self._for_contacts("SELECT contact_id FROM forgotten", account, contact_ids)}

    def _for_contacts(self, select: str, account: str, contact_ids: Collection[str]) -> list[tuple[object, ...]]:
        """The rows of `select` for `account` and these contacts, a bounded number of ids per query."""
        rows = []
        for chunk in chunked(list(contact_ids), _IDS_PER_QUERY):
            marks = ", ".join("?" * len(chunk))
            rows += self._db.execute(
                f"{select} WHERE account = ? AND contact_id IN ({marks})", (account, *chunk)
            ).fetchall()
        return rows

    def calls_ended_by_slot(self, account: str, windows: Sequence[ContactWindow], slot_seconds: int) -> dict[int, int]:
        """How many calls of these contacts ended in each slot of `slot_seconds` (epoch seconds of the slot's start,
        UTC-aligned): each call once, at the `ended_at` telli gave it (when it gave none, when the delivery was
        signed).

        The database counts; Python sees one row per slot and query. Give each contact one window: a call delivered
        twice is told apart from two calls within one query only."""
        statement = _CALLS_BY_SLOT_POSTGRES if self._postgres else _CALLS_BY_SLOT
        counts: dict[int, int] = {}
        for chunk in chunked(list(windows), _WINDOWS_PER_QUERY):
            values = ", ".join(["(?, ?, ?)"] * len(chunk))
            args = [
                value for window in chunk for value in (window.contact_id, window.since.timestamp(), window.loop_id)
            ]
            query = statement.format(values=values)
            for start, calls in self._db.execute(query, (*args, account, slot_seconds, slot_seconds)):
                counts[int(start)] = counts.get(int(start), 0) + int(calls)
        return counts

    def refused(self, account: str, reason: str) -> None:
        """Count a refused delivery for `account`'s endpoint (`UNKNOWN_ENDPOINT` when none matched)."""
        self._db.execute(
            "INSERT INTO refusals (account, count, last_at, last_reason) VALUES (?, 1, ?, ?) "
            "ON CONFLICT (account) DO UPDATE SET count = refusals.count + 1, last_at = excluded.last_at, "
            "last_reason = excluded.last_reason",
            (account, self._now().timestamp(), reason),
        )

    def latest_seq(self, account: str) -> int:
        """The newest event's `seq` for `account` (0 when none): wait for events after this."""
        row = self._db.execute("SELECT MAX(seq) FROM events WHERE account = ?", (account,)).fetchone()
        return int(row[0] or 0)

    def events_after(
        self,
        account: str,
        seq: int,
        *,
        contact_id: str | None = None,
        call_id: str | None = None,
        kind: str | None = None,
        limit: int = 100,
    ) -> list[StoredEvent]:
        """`account`'s events newer than `seq`, oldest first, optionally for one contact, call or kind."""
        where, args = ["account = ?", "seq > ?"], [account, seq]
        for column, value in (("contact_id", contact_id), ("call_id", call_id), ("kind", kind)):
            if value is not None:
                where.append(f"{column} = ?")
                args.append(value)
        rows = self._db.execute(
            f"SELECT {EVENT_COLUMNS} FROM events WHERE {' AND '.join(where)} ORDER BY seq LIMIT ?", (*args, limit)
        ).fetchall()
        return [stored_event(row) for row in rows]

    def calls_ended(
        self, account: str, *, contact_id: str | None = None, call_id: str | None = None, limit: int = 20
    ) -> list[StoredEvent]:
        """The newest `call_ended` events of one contact or one call, newest first."""
        column, value = ("call_id", call_id) if call_id is not None else ("contact_id", contact_id)
        rows = self._db.execute(
            f"SELECT {EVENT_COLUMNS} FROM events WHERE account = ? AND kind = 'call_ended' AND {column} = ? "
            "ORDER BY seq DESC LIMIT ?",
            (account, value, limit),
        ).fetchall()
        return [stored_event(row) for row in rows]

    def last_call_ended(
        self, account: str, *, contact_id: str | None = None, call_id: str | None = None
    ) -> StoredEvent | None:
        """The newest `call_ended` event of one contact or one call."""
        newest = self.calls_ended(account, contact_id=contact_id, call_id=call_id, limit=1)
        return newest[0] if newest else None

    def health(self, account: str) -> ReceiverHealth:
        count, last_seq = self._db.execute(
            "SELECT COUNT(*), MAX(seq) FROM events WHERE account = ?", (account,)
        ).fetchone()
        last = None
        if last_seq is not None:
            last = self._db.execute("SELECT kind, received_at FROM events WHERE seq = ?", (last_seq,)).fetchone()
        refusal = self._db.execute(
            "SELECT count, last_at, last_reason FROM refusals WHERE account = ?", (account,)
        ).fetchone()
        return ReceiverHealth(
            events=count,
            last_event_kind=last[0] if last else None,
            last_event_at=_instant(last[1]) if last else None,
            refused=refusal[0] if refusal else 0,
            last_refused_at=_instant(refusal[1]) if refusal else None,
            last_refused_reason=refusal[2] if refusal else None,
        )

    def forget_contact(self, account: str, contact_id: str) -> int:
        """Erase every stored event of a deleted contact, and keep none that arrives later (a call that was in
        progress when the contact was deleted still ends and is reported); returns how many were erased."""
        self._db.execute(
            "INSERT INTO forgotten (account, contact_id, at) VALUES (?, ?, ?)"
            " ON CONFLICT (account, contact_id) DO NOTHING",
            (account, contact_id, self._now().timestamp()),
        )
        return self._db.execute(
            "DELETE FROM events WHERE account = ? AND contact_id = ?", (account, contact_id)
        ).rowcount

    def is_forgotten(self, account: str, contact_id: str | None) -> bool:
        """Whether events of this contact must not be kept (it was deleted through this server)."""
        if contact_id is None:
            return False
        row = self._db.execute(
            "SELECT 1 FROM forgotten WHERE account = ? AND contact_id = ?", (account, contact_id)
        ).fetchone()
        return row is not None

    def _prune_after_recording(self) -> None:
        # The event is committed: a failure to tidy up must not turn its delivery into an error, or telli's retry
        # would be a duplicate and this replica would never announce the event. The next prune catches up.
        try:
            self.prune(RETENTION)
        except Exception:
            logger.exception("Old webhook events could not be pruned; the next prune tries again")

    def prune(self, older_than: timedelta) -> int:
        """Erase events received more than `older_than` ago; returns how many."""
        cutoff = (self._now() - older_than).timestamp()
        self._db.execute("DELETE FROM forgotten WHERE at < ?", (cutoff,))  # telli retries for a day at most
        return self._db.execute("DELETE FROM events WHERE received_at < ?", (cutoff,)).rowcount


def _call_columns(event: CallEnded | ContactStatusChanged | OtherEvent) -> tuple[float | None, str | None]:
    """A `call_ended` event's `ended_at` (epoch seconds) and `loop_id`, kept beside its body so that counting calls
    reads neither body nor JSON; None for other events."""
    if not isinstance(event, CallEnded):
        return None, None
    ended = event.call.ended_at
    return (ended.timestamp() if ended is not None else None), event.call.loop_id


def announcement(origin: str, seq: int) -> str:
    """The payload a stored event is announced with on `CHANNEL`: who stored it, and its `seq`."""
    return f"{origin}:{seq}"


def announced(payload: str) -> tuple[str, int] | None:
    """The origin and `seq` of an `announcement`; None for a payload that is not one (the channel is the
    database's, not the schema's: another deployment sharing the database may speak on it too)."""
    origin, _colon, seq = payload.rpartition(":")
    return (origin, int(seq)) if origin and seq.isascii() and seq.isdigit() else None


def stored_event(row: Sequence[object]) -> StoredEvent:
    """The event in a row of `EVENT_COLUMNS`."""
    seq, account, delivery_id, kind, contact_id, call_id, sent_at, received_at, body, received_wall = row
    return StoredEvent(
        seq=seq,
        account=account,
        delivery_id=delivery_id,
        kind=kind,
        contact_id=contact_id,
        call_id=call_id,
        sent_at=_instant(sent_at),
        received_at=_instant(received_at),
        body=body,
        received_wall=_instant(received_wall if received_wall is not None else received_at),
    )


def _instant(epoch_seconds: object) -> datetime:
    assert isinstance(epoch_seconds, float | int)
    return datetime.fromtimestamp(epoch_seconds, tz=UTC)
