"""The campaign ledger: a small SQLite database that remembers campaigns and where each lead stands.

telli has no campaign object, so this file is the campaign: which leads belong to it, their telli contact ids,
whether a schedule request was accepted, rejected or lost. It is what makes a re-run resume instead of
calling people twice. The caller picks the path (the user data dir, `TELLI_MCP_DATA_DIR`, or `:memory:`
in the sandbox).

Why the sqlite3 calls are synchronous inside async code: every statement is a short local write (one
chunk of at most 1000 rows, committed at once) that takes about a millisecond in WAL mode. A hop to a worker
thread per statement would cost about as much as the statement, and a connection shared across threads
needs its own lock; blocking the event loop for a millisecond per chunk is the simpler, honest trade.

Schema versioning: `PRAGMA user_version` holds `SCHEMA_VERSION`; a newer file is refused rather than
misread. Campaigns are scoped by `tenant` (e.g. a fingerprint of the API key), so one ledger file can serve
several telli accounts without mixing their campaigns.

Run lock: a run claims the campaign (`claim_run`) with a random token and refreshes a heartbeat after every
chunk. A second run of the same campaign is refused while the heartbeat is fresh, so two processes never
schedule the same leads; a heartbeat older than `stale_after` (a crashed process) can be taken over.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pydantic import BaseModel

from telli_mcp.campaigns.errors import CampaignConflictError, CampaignError
from telli_mcp.campaigns.models import CampaignState, Lead, LeadState, LeadStateCounts

__all__ = [
    "DEFAULT_STALE_AFTER",
    "SCHEMA_VERSION",
    "CampaignRecord",
    "LeadRecord",
    "LeadUpdate",
    "Ledger",
    "NewCampaign",
]

SCHEMA_VERSION = 1
DEFAULT_STALE_AFTER = timedelta(minutes=10)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS campaigns (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant TEXT NOT NULL,
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    agent_id TEXT NOT NULL,
    from_number TEXT,
    max_retry_days INTEGER,
    default_region TEXT,
    source TEXT NOT NULL,
    source_sha256 TEXT NOT NULL,
    leads_count INTEGER NOT NULL,
    invalid_count INTEGER NOT NULL,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    run_token TEXT,
    run_heartbeat TEXT,
    UNIQUE (tenant, id)
);
CREATE TABLE IF NOT EXISTS leads (
    tenant TEXT NOT NULL,
    campaign_id TEXT NOT NULL,
    row INTEGER NOT NULL,
    external_id TEXT NOT NULL,
    e164 TEXT NOT NULL,
    contact_id TEXT,
    state TEXT NOT NULL,
    loop_id TEXT,
    last_error TEXT,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (tenant, campaign_id, row),
    FOREIGN KEY (tenant, campaign_id) REFERENCES campaigns (tenant, id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS leads_by_state ON leads (tenant, campaign_id, state);
"""

_CAMPAIGN_COLUMNS = (
    "id, name, agent_id, from_number, max_retry_days, default_region, source, source_sha256, leads_count, "
    "invalid_count, status, created_at, updated_at, run_token, run_heartbeat, seq"
)
_LEAD_COLUMNS = "row, external_id, e164, contact_id, state, loop_id, last_error, updated_at"


class NewCampaign(BaseModel):
    """What a caller records when a campaign starts for the first time."""

    id: str
    name: str
    agent_id: str
    from_number: str | None = None
    max_retry_days: int | None = None
    default_region: str | None = None
    source: str
    """Human description of the lead source (file path or "N inline leads")."""
    source_sha256: str
    leads_count: int
    """Valid leads recorded for the campaign."""
    invalid_count: int = 0


class CampaignRecord(NewCampaign):
    """A campaign as recorded in the ledger."""

    status: CampaignState = CampaignState.RUNNING
    created_at: datetime
    updated_at: datetime
    run_token: str | None = None
    run_heartbeat: datetime | None = None
    seq: int = 0

    def effective_status(self, now: datetime, stale_after: timedelta = DEFAULT_STALE_AFTER) -> CampaignState:
        """`RUNNING` only while a run holds a fresh heartbeat; a run that died shows as `INTERRUPTED`."""
        if self.status is not CampaignState.RUNNING:
            return self.status
        if self.run_heartbeat is None or now - self.run_heartbeat > stale_after:
            return CampaignState.INTERRUPTED
        return self.status


class LeadRecord(BaseModel):
    """One lead of a campaign as recorded in the ledger."""

    row: int
    external_id: str
    e164: str
    contact_id: str | None = None
    state: LeadState
    loop_id: str | None = None
    last_error: str | None = None
    updated_at: datetime


class LeadUpdate(BaseModel):
    """A change to one lead: `contact_id`/`loop_id` are kept when None; `last_error` is always replaced."""

    row: int
    state: LeadState
    contact_id: str | None = None
    loop_id: str | None = None
    last_error: str | None = None


class Ledger:
    """The campaign ledger of one tenant in one SQLite file (see the module docstring)."""

    def __init__(
        self,
        path: str | Path,
        *,
        tenant: str = "default",
        clock: Callable[[], datetime] | None = None,
        _connection: sqlite3.Connection | None = None,
    ) -> None:
        self.path = str(path)
        self.tenant = tenant
        self.clock: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        self._db = _connection if _connection is not None else _connect(self.path)

    def for_tenant(self, tenant: str) -> Ledger:
        """A view of the same database for another tenant (shares the connection)."""
        return Ledger(self.path, tenant=tenant, clock=self.clock, _connection=self._db)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- campaigns -------------------------------------------------------------------------------------

    def create_campaign(self, record: NewCampaign, leads: Sequence[Lead]) -> CampaignRecord:
        """Record a new campaign and its leads (state `pending`) in one transaction.

        Raises:
            CampaignConflictError: a campaign with this id already exists for the tenant.
        """
        now = _iso(self.clock())
        values = record.model_dump()
        try:
            with self._transaction():
                self._db.execute(
                    "INSERT INTO campaigns (tenant, id, name, agent_id, from_number, max_retry_days, "
                    "default_region, source, source_sha256, leads_count, invalid_count, status, created_at, "
                    "updated_at) VALUES (:tenant, :id, :name, :agent_id, :from_number, :max_retry_days, "
                    ":default_region, :source, :source_sha256, :leads_count, :invalid_count, :status, "
                    ":now, :now)",
                    {**values, "status": CampaignState.RUNNING.value, "tenant": self.tenant, "now": now},
                )
                self._db.executemany(
                    "INSERT INTO leads (tenant, campaign_id, row, external_id, e164, state, updated_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [
                        (
                            self.tenant,
                            record.id,
                            lead.row,
                            lead.external_id,
                            lead.phone_number,
                            "pending",
                            now,
                        )
                        for lead in leads
                    ],
                )
        except sqlite3.IntegrityError:
            raise CampaignConflictError(f"A campaign with id {record.id!r} already exists.") from None
        created = self.get_campaign(record.id)
        assert created is not None
        return created

    def get_campaign(self, campaign_id: str) -> CampaignRecord | None:
        row = self._db.execute(
            f"SELECT {_CAMPAIGN_COLUMNS} FROM campaigns WHERE tenant = ? AND id = ?",
            (self.tenant, campaign_id),
        ).fetchone()
        return None if row is None else _campaign(row)

    def list_campaigns(self, *, limit: int = 20, cursor: str | None = None) -> tuple[list[CampaignRecord], str | None]:
        """Newest first. `cursor` is the `next_cursor` of the previous page (None on the last page)."""
        before = _parse_cursor(cursor)
        rows = self._db.execute(
            f"SELECT {_CAMPAIGN_COLUMNS} FROM campaigns WHERE tenant = ? AND seq < ? ORDER BY seq DESC LIMIT ?",
            (self.tenant, before, limit + 1),
        ).fetchall()
        records = [_campaign(row) for row in rows[:limit]]
        next_cursor = str(records[-1].seq) if len(rows) > limit else None
        return records, next_cursor

    def set_status(self, campaign_id: str, status: CampaignState) -> None:
        with self._transaction():
            self._db.execute(
                "UPDATE campaigns SET status = ?, updated_at = ? WHERE tenant = ? AND id = ?",
                (status.value, _iso(self.clock()), self.tenant, campaign_id),
            )

    # -- run lock --------------------------------------------------------------------------------------

    def claim_run(self, campaign_id: str, token: str, *, stale_after: timedelta = DEFAULT_STALE_AFTER) -> bool:
        """Take the run lock unless another run holds a fresh heartbeat; True when taken."""
        now = self.clock()
        with self._transaction():
            cursor = self._db.execute(
                "UPDATE campaigns SET run_token = ?, run_heartbeat = ?, status = ?, updated_at = ? "
                "WHERE tenant = ? AND id = ? AND status != 'stopped' "
                "AND (run_token IS NULL OR run_heartbeat < ?)",
                (
                    token,
                    _iso(now),
                    CampaignState.RUNNING.value,
                    _iso(now),
                    self.tenant,
                    campaign_id,
                    _iso(now - stale_after),
                ),
            )
        return cursor.rowcount == 1

    def heartbeat(self, campaign_id: str, token: str) -> None:
        with self._transaction():
            self._db.execute(
                "UPDATE campaigns SET run_heartbeat = ? WHERE tenant = ? AND id = ? AND run_token = ?",
                (_iso(self.clock()), self.tenant, campaign_id, token),
            )

    def release_run(self, campaign_id: str, token: str, status: CampaignState) -> None:
        """Give the lock back and record how the run ended (a stop recorded meanwhile is kept)."""
        with self._transaction():
            self._db.execute(
                "UPDATE campaigns SET run_token = NULL, run_heartbeat = NULL, updated_at = ?, "
                "status = CASE WHEN status = 'stopped' THEN status ELSE ? END "
                "WHERE tenant = ? AND id = ? AND run_token = ?",
                (_iso(self.clock()), status.value, self.tenant, campaign_id, token),
            )

    # -- leads -----------------------------------------------------------------------------------------

    def leads(self, campaign_id: str, states: Iterable[LeadState] | None = None) -> list[LeadRecord]:
        """The campaign's leads in row order, optionally only those in `states`."""
        query = f"SELECT {_LEAD_COLUMNS} FROM leads WHERE tenant = ? AND campaign_id = ?"
        params: list[object] = [self.tenant, campaign_id]
        if states is not None:
            wanted = [state.value for state in states]
            query += f" AND state IN ({', '.join('?' for _ in wanted)})"
            params.extend(wanted)
        rows = self._db.execute(query + " ORDER BY row", params).fetchall()
        return [_lead(row) for row in rows]

    def update_leads(self, campaign_id: str, updates: Iterable[LeadUpdate]) -> None:
        """Apply `updates` and commit (one transaction per call: call it once per chunk)."""
        now = _iso(self.clock())
        rows = [
            (
                update.state.value,
                update.contact_id,
                update.loop_id,
                update.last_error,
                now,
                self.tenant,
                campaign_id,
                update.row,
            )
            for update in updates
        ]
        if not rows:
            return
        with self._transaction():
            self._db.executemany(
                "UPDATE leads SET state = ?, contact_id = COALESCE(?, contact_id), "
                "loop_id = COALESCE(?, loop_id), last_error = ?, updated_at = ? "
                "WHERE tenant = ? AND campaign_id = ? AND row = ?",
                rows,
            )

    def state_counts(self, campaign_id: str) -> LeadStateCounts:
        rows = self._db.execute(
            "SELECT state, COUNT(*) FROM leads WHERE tenant = ? AND campaign_id = ? GROUP BY state",
            (self.tenant, campaign_id),
        ).fetchall()
        return LeadStateCounts.model_validate(dict(rows))

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        # BEGIN IMMEDIATE takes the write lock up front, so two processes serialise instead of failing later.
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")


def _connect(path: str) -> sqlite3.Connection:
    if path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path, isolation_level=None, timeout=10.0)
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = NORMAL")
    connection.execute("PRAGMA foreign_keys = ON")
    _migrate(connection, path)
    return connection


def _migrate(connection: sqlite3.Connection, path: str) -> None:
    version = connection.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        connection.close()
        raise CampaignError(
            f"The campaign ledger {path} was written by a newer telli-mcp (schema {version}); upgrade telli-mcp."
        )
    if version == 0:
        # IF NOT EXISTS: two processes may both see version 0; the second script then changes nothing.
        connection.executescript(f"BEGIN IMMEDIATE;\n{_SCHEMA}\nPRAGMA user_version = {SCHEMA_VERSION};\nCOMMIT;")


def _iso(moment: datetime) -> str:
    # Fixed width, so stored timestamps compare correctly as text in SQL.
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _parse_cursor(cursor: str | None) -> int:
    if cursor is None:
        return 2**62
    try:
        return int(cursor)
    except ValueError:
        raise CampaignError(f"Invalid cursor {cursor!r}: pass the next_cursor of the previous page.") from None


def _campaign(row: sqlite3.Row | tuple[object, ...]) -> CampaignRecord:
    names = [name.strip() for name in _CAMPAIGN_COLUMNS.split(",")]
    return CampaignRecord.model_validate(dict(zip(names, row, strict=True)))


def _lead(row: sqlite3.Row | tuple[object, ...]) -> LeadRecord:
    names = [name.strip() for name in _LEAD_COLUMNS.split(",")]
    return LeadRecord.model_validate(dict(zip(names, row, strict=True)))
