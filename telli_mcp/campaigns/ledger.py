"""The campaign ledger: the database that remembers campaigns and where each lead stands, in a SQLite file of
this machine or in the PostgreSQL database that replicas behind a load balancer share.

telli has no campaign object, so the ledger is the campaign: which leads belong to it, their telli contact ids,
whether a schedule request was accepted, rejected or may still be in flight (and when it will have settled).
It is what makes a re-run resume instead of calling people twice. The caller picks where it lives: a SQLite
path (the user data dir, `TELLI_MCP_DATA_DIR`, or `:memory:` in the sandbox), a `postgresql://` URL
(TELLI_MCP_DATABASE_URL: a campaign started through one replica is listed, resumed and stopped through any
other), or an open `SqlSession`.

One body of SQL serves both engines through `telli_mcp.database.sql`: the session translates the parameters
and its `Dialect` spells the few fragments that differ. The SQLite schema and its migrations live in
`ledger_schema.py`; PostgreSQL's tables, the same ones, are migration 2 in `telli_mcp/database/migrations.py`.
Timestamps are ISO 8601 text (UTC, fixed width) in both, so they compare correctly as text in SQL and are
parsed by one function.

Why the calls are synchronous inside async code: every statement is short (one chunk of at most 1000 rows,
committed at once): about a millisecond on a SQLite file in WAL mode, a round trip or a few on PostgreSQL
(see `database/sql.py` for when that stops being small). A hop to a worker thread per statement would cost
about as much as the statement, and a connection shared across threads needs its own lock; blocking the event
loop for that long per chunk is the simpler, honest trade. It also means an anyio cancellation can never land
in the middle of a write. On PostgreSQL a failed connection raises `DatabaseUnavailable`, naming the database
by its redacted URL; the next call connects again.

Campaigns are scoped by `tenant` (e.g. a fingerprint of the API key), so one ledger can serve several telli
accounts without mixing their campaigns.

Run lease: a run claims the campaign (`claim_run`) and gets a `Lease` with a fresh generation number; it
renews it while it works and gives it back at the end (`release_run`). Every lead write a run makes passes its
lease and is refused (`LeaseLostError`) once another run took the campaign over. The check (the fence) and the
write are one transaction that holds the campaign's row: SQLite's write transaction holds the file's only
write lock, PostgreSQL locks the row (`FOR UPDATE`), so a claim by another process or replica waits for the
write to commit instead of slipping in between. The take-over rules are in `lease.py`.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Collection, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from itertools import groupby
from pathlib import Path
from typing import Any

from pydantic import BaseModel, SecretStr

from telli_mcp.bounded import chunked
from telli_mcp.campaigns.errors import CampaignConflictError, CampaignError, LeaseLostError
from telli_mcp.campaigns.lease import LEASE_TTL, Holder, Lease, LeaseView
from telli_mcp.campaigns.ledger_schema import SCHEMA_VERSION, connect, prepare
from telli_mcp.campaigns.models import CampaignState, Lead, LeadState, LeadStateCounts
from telli_mcp.database.sql import PostgresSession, SqliteSession, SqlSession
from telli_mcp.database.url import is_postgres_url

__all__ = [
    "SCHEMA_VERSION",
    "CampaignRecord",
    "LeadRecord",
    "LeadUpdate",
    "Ledger",
    "LedgerLocation",
    "NewCampaign",
]

LedgerLocation = str | Path | SecretStr | SqlSession
"""Where a ledger lives: a SQLite path (or ":memory:"), a `postgresql://` URL (plain or secret), or an open session."""

_CAMPAIGN_COLUMNS = (
    "id, name, agent_id, from_number, max_retry_days, default_region, source, source_sha256, leads_count, "
    "invalid_count, status, created_at, updated_at, run_token, run_heartbeat, seq, lease_generation, "
    "lease_expires_at, lease_host, lease_pid, lease_started"
)
_OTHER_LEADS = (
    "Campaign {campaign_id!r} recorded other valid leads than the list validates to now (did the property "
    "schema or ignore_unknown_columns change?). Use a new campaign id."
)
_ROWS_PER_QUERY = 500
"""Rows named in one `IN (...)`: below SQLite's oldest limit of 999 variables per statement."""
_LEAD_COLUMNS = "row, external_id, e164, contact_id, state, loop_id, last_error, updated_at, sent_at, settle_at"


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
    lease_generation: int = 0
    lease_expires_at: datetime | None = None
    lease_host: str | None = None
    lease_pid: int | None = None
    lease_started: str | None = None

    def lease(self) -> LeaseView:
        holder = None
        if self.lease_host is not None and self.lease_pid is not None:
            holder = Holder(host=self.lease_host, pid=self.lease_pid, started=self.lease_started or "")
        return LeaseView(
            token=self.run_token,
            generation=self.lease_generation,
            holder=holder,
            heartbeat=self.run_heartbeat,
            expires_at=self.lease_expires_at,
        )

    def effective_status(self, now: datetime, here: Holder | None = None) -> CampaignState:
        """`RUNNING` only while a run holds a live lease; a run that died shows as `INTERRUPTED`."""
        if self.status is not CampaignState.RUNNING:
            return self.status
        if self.lease().can_take_over(now, here or Holder.this_process()):
            return CampaignState.INTERRUPTED
        return self.status


@dataclass(frozen=True, slots=True, kw_only=True)
class LeadRecord:
    """One lead of a campaign as recorded in the ledger (a plain dataclass: a run reads one per lead)."""

    row: int
    external_id: str
    e164: str
    contact_id: str | None = None
    state: LeadState
    loop_id: str | None = None
    last_error: str | None = None
    updated_at: datetime
    sent_at: datetime | None = None
    """When the latest schedule request for this lead was sent."""
    settle_at: datetime | None = None
    """For an `unknown` lead: from when telli's view of it can be trusted (see `settle.py`)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LeadUpdate:
    """A change to one lead: `contact_id`, `loop_id`, `sent_at` and `settle_at` are kept when None;
    `last_error` is always replaced."""

    row: int
    state: LeadState
    contact_id: str | None = None
    loop_id: str | None = None
    last_error: str | None = None
    sent_at: datetime | None = None
    settle_at: datetime | None = None


class Ledger:
    """The campaign ledger of one tenant, in a SQLite file or the shared PostgreSQL (see the module docstring)."""

    def __init__(
        self,
        location: LedgerLocation,
        *,
        tenant: str = "default",
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._db = _session(location)
        self.path = _label(self._db, location)
        """How the ledger may be named: its SQLite path, or the database's redacted URL (never the password)."""
        self.tenant = tenant
        self.clock: Callable[[], datetime] = clock or self._db.now
        """The clock leases and settle times are stamped with: the database's (PostgreSQL: one clock for every
        replica), unless a test gives its own."""

    def for_tenant(self, tenant: str) -> Ledger:
        """A view of the same database for another tenant (shares the session)."""
        view = copy.copy(self)
        view.tenant = tenant
        return view

    def close(self) -> None:
        """Close the session (and so every view `for_tenant` made of it)."""
        self._db.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- campaigns -------------------------------------------------------------------------------------

    def create_campaign(self, record: NewCampaign, leads: Sequence[Lead] = ()) -> CampaignRecord:
        """Record a new campaign and its leads (state `pending`) in one transaction. A streamed run records
        no lead here: `record_leads` adds them chunk by chunk.

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
                        (self.tenant, record.id, lead.row, lead.external_id, lead.phone_number, "pending", now)
                        for lead in leads
                    ],
                )
        except self._db.integrity_errors:
            raise CampaignConflictError(f"A campaign with id {record.id!r} already exists.") from None
        created = self.get_campaign(record.id)
        assert created is not None
        return created

    def get_campaign(self, campaign_id: str) -> CampaignRecord | None:
        return self._read_campaign(campaign_id)

    def _read_campaign(self, campaign_id: str, *, lock: bool = False) -> CampaignRecord | None:
        """The campaign; with `lock` (inside a write transaction) its row stays this transaction's until it ends."""
        row = self._db.execute(
            f"SELECT {_CAMPAIGN_COLUMNS} FROM campaigns WHERE tenant = ? AND id = ?{self._lock(lock)}",
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

    def status(self, campaign_id: str) -> CampaignState | None:
        """The campaign's recorded status (None: unknown id): what a run checks before each request, so it
        reads one column instead of the whole record."""
        row = self._db.execute(
            "SELECT status FROM campaigns WHERE tenant = ? AND id = ?", (self.tenant, campaign_id)
        ).fetchone()
        return None if row is None else CampaignState(row[0])

    def set_status(self, campaign_id: str, status: CampaignState) -> None:
        """Record `status` (a stop); a campaign no longer running no longer keeps its source."""
        with self._transaction():
            self._db.execute(
                "UPDATE campaigns SET status = ?, updated_at = ? WHERE tenant = ? AND id = ?",
                (status.value, _iso(self.clock()), self.tenant, campaign_id),
            )
            if status is not CampaignState.RUNNING:
                self._forget_source(campaign_id)

    # -- the source of a running campaign --------------------------------------------------------------

    @property
    def shared(self) -> bool:
        """Other processes on other machines work on these campaigns too (the shared PostgreSQL database)."""
        return isinstance(self._db, PostgresSession)

    def keep_source(self, campaign_id: str, request_json: str) -> None:
        """Keep what the campaign was started with (its request: the leads, personal data) while a run works on it,
        so that when the run's process dies another replica can resume it (`orphans`). Forgotten when a run
        ends (`release_run`) or the campaign is stopped."""
        with self._transaction():
            self._db.execute(
                "INSERT INTO campaign_sources (tenant, campaign_id, request) VALUES (?, ?, ?) "
                "ON CONFLICT (tenant, campaign_id) DO UPDATE SET request = excluded.request",
                (self.tenant, campaign_id, request_json),
            )

    def source(self, campaign_id: str) -> str | None:
        """The request kept by `keep_source` (None: none is kept)."""
        row = self._db.execute(
            "SELECT request FROM campaign_sources WHERE tenant = ? AND campaign_id = ?", (self.tenant, campaign_id)
        ).fetchone()
        return None if row is None else str(row[0])

    def orphans(self, here: Holder | None = None) -> list[str]:
        """This tenant's campaigns whose run died with its process: recorded as running, with a lease that may be
        taken over (see `lease.py`) and a kept source, oldest first."""
        rows = self._db.execute(
            f"SELECT {_CAMPAIGN_COLUMNS} FROM campaigns WHERE tenant = ? AND status = ? AND EXISTS "
            "(SELECT 1 FROM campaign_sources s WHERE s.tenant = campaigns.tenant AND s.campaign_id = campaigns.id) "
            "ORDER BY seq",
            (self.tenant, CampaignState.RUNNING.value),
        ).fetchall()
        now, here = self.clock(), here or Holder.this_process()
        return [record.id for record in map(_campaign, rows) if record.lease().can_take_over(now, here)]

    def _forget_source(self, campaign_id: str) -> None:
        self._db.execute(
            "DELETE FROM campaign_sources WHERE tenant = ? AND campaign_id = ?", (self.tenant, campaign_id)
        )

    # -- run lease -------------------------------------------------------------------------------------

    def claim_run(
        self, campaign_id: str, token: str, *, holder: Holder | None = None, ttl: timedelta = LEASE_TTL
    ) -> Lease | None:
        """Take the campaign's lease (see `lease.py` for when a held one may be taken over); None when it
        is held by a live run or the campaign is stopped or unknown. `holder` names the claiming process
        (this one by default)."""
        here = holder or Holder.this_process()
        now = self.clock()
        with self._transaction():
            # Locked: a concurrent claim (another replica) waits here and then reads this one's lease.
            record = self._read_campaign(campaign_id, lock=True)
            if record is None or record.status is CampaignState.STOPPED:
                return None
            if not record.lease().can_take_over(now, here):
                return None
            generation = record.lease_generation + 1
            self._db.execute(
                "UPDATE campaigns SET run_token = ?, run_heartbeat = ?, lease_generation = ?, lease_expires_at = ?, "
                "lease_host = ?, lease_pid = ?, lease_started = ?, status = ?, updated_at = ? "
                "WHERE tenant = ? AND id = ?",
                (
                    token,
                    _iso(now),
                    generation,
                    _iso(now + ttl),
                    here.host,
                    here.pid,
                    here.started,
                    CampaignState.RUNNING.value,
                    _iso(now),
                    self.tenant,
                    campaign_id,
                ),
            )
        return Lease(campaign_id=campaign_id, token=token, generation=generation, holder=here)

    def renew(self, lease: Lease, *, ttl: timedelta = LEASE_TTL) -> None:
        """Extend the lease to now + `ttl`.

        Raises:
            LeaseLostError: another run took the campaign over; nothing was written.
        """
        with self._transaction():
            self._check_fence(lease)
            self._extend(lease, ttl)

    def _extend(self, lease: Lease, ttl: timedelta) -> None:
        """Inside a fenced write transaction: the lease runs until now + `ttl`."""
        now = self.clock()
        self._db.execute(
            "UPDATE campaigns SET run_heartbeat = ?, lease_expires_at = ? WHERE tenant = ? AND id = ?",
            (_iso(now), _iso(now + ttl), self.tenant, lease.campaign_id),
        )

    def release_run(self, lease: Lease, status: CampaignState) -> None:
        """Give the lease back and record how the run ended (a stop recorded meanwhile is kept). A lease
        that was already taken over is left to its new holder. The campaign's source is forgotten: a run that
        ended (however) is resumed only when someone starts it again."""
        with self._transaction():
            released = self._db.execute(
                "UPDATE campaigns SET run_token = NULL, run_heartbeat = NULL, lease_expires_at = NULL, "
                "lease_host = NULL, lease_pid = NULL, lease_started = NULL, updated_at = ?, "
                "status = CASE WHEN status = 'stopped' THEN status ELSE ? END "
                "WHERE tenant = ? AND id = ? AND run_token = ? AND lease_generation = ?",
                (
                    _iso(self.clock()),
                    status.value,
                    self.tenant,
                    lease.campaign_id,
                    lease.token,
                    lease.generation,
                ),
            ).rowcount
            if released:
                self._forget_source(lease.campaign_id)

    def _check_fence(self, lease: Lease) -> CampaignState:
        """Inside a write transaction: the lease must still be the campaign's current one, and stays so until the
        transaction ends (the row is locked, so no claim can take the campaign over between this check and the
        writes it guards, and no stop can be recorded in between). Returns the campaign's recorded status."""
        row = self._db.execute(
            f"SELECT run_token, lease_generation, status FROM campaigns WHERE tenant = ? AND id = ?{self._lock(True)}",
            (self.tenant, lease.campaign_id),
        ).fetchone()
        if row is None or (row[0], row[1]) != (lease.token, lease.generation):
            raise LeaseLostError(lease.campaign_id)
        return CampaignState(row[2])

    # -- leads -----------------------------------------------------------------------------------------

    def leads(
        self,
        campaign_id: str,
        states: Iterable[LeadState] | None = None,
        *,
        after_row: int = 0,
        limit: int | None = None,
    ) -> list[LeadRecord]:
        """The campaign's leads in row order, optionally only those in `states`; `after_row` and `limit`
        read one page (keyset on the row, so a page costs the same however far into the campaign it is)."""
        query = f"SELECT {_LEAD_COLUMNS} FROM leads WHERE tenant = ? AND campaign_id = ? AND row > ?"
        params: list[object] = [self.tenant, campaign_id, after_row]
        if states is not None:
            wanted = [state.value for state in states]
            query += f" AND state IN ({', '.join('?' for _ in wanted)})"
            params.extend(wanted)
        query += " ORDER BY row"
        if limit is not None:
            query += " LIMIT ?"
            params.append(limit)
        return [_lead(row) for row in self._db.execute(query, params).fetchall()]

    def record_leads(self, campaign_id: str, leads: Sequence[Lead], *, lease: Lease) -> list[LeadRecord]:
        """Add one chunk of validated leads (consecutive rows) as `pending`, keeping the ones a run recorded
        before, and return the chunk's records as they stand now (one fenced transaction).

        Raises:
            CampaignConflictError: the ledger recorded other leads for these rows (the property schema or
                `ignore_unknown_columns` changed since the campaign started); nothing was written.
            LeaseLostError: `lease` was taken over; nothing was written.
        """
        if not leads:
            return []
        now = _iso(self.clock())
        with self._transaction():
            self._check_fence(lease)
            inserted = self._db.executemany(
                "INSERT INTO leads (tenant, campaign_id, row, external_id, e164, state, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                [
                    (self.tenant, campaign_id, lead.row, lead.external_id, lead.phone_number, "pending", now)
                    for lead in leads
                ],
            )
            # A first run inserts every row, so the chunk stands as written: reading it back (and parsing
            # 1000 rows) only matters when a previous run recorded some of them.
            records = _new_records(leads, now) if inserted == len(leads) else self._recorded(campaign_id, leads)
            # Kept current while the run records, so a run that ends early is listed with what it recorded.
            self._db.execute(
                f"UPDATE campaigns SET leads_count = {self._db.dialect.greatest}(leads_count, ?) "
                "WHERE tenant = ? AND id = ?",
                (self._count(campaign_id, ""), self.tenant, campaign_id),
            )
        return records

    def _recorded(self, campaign_id: str, leads: Sequence[Lead]) -> list[LeadRecord]:
        """The records of `leads` (consecutive rows) as the ledger holds them; inside `record_leads`.

        Raises:
            CampaignConflictError: the ledger recorded other leads for these rows.
        """
        rows = self._db.execute(
            f"SELECT {_LEAD_COLUMNS} FROM leads WHERE tenant = ? AND campaign_id = ? AND row BETWEEN ? AND ? "
            "ORDER BY row",
            (self.tenant, campaign_id, leads[0].row, leads[-1].row),
        ).fetchall()
        records = [_lead(row) for row in rows]
        expected = [(lead.row, lead.external_id) for lead in leads]
        if [(record.row, record.external_id) for record in records] != expected:
            raise CampaignConflictError(_OTHER_LEADS.format(campaign_id=campaign_id))
        return records

    def finish_recording(self, campaign_id: str, *, leads_count: int, invalid_count: int, lease: Lease) -> None:
        """After the last chunk: store the campaign's counts, and check no lead is recorded that the source
        no longer validates to.

        Raises:
            CampaignConflictError: more leads are recorded than the source holds now.
            LeaseLostError: `lease` was taken over; nothing was written.
        """
        with self._transaction():
            self._check_fence(lease)
            recorded = self._count(campaign_id, "")
            if recorded != leads_count:
                raise CampaignConflictError(_OTHER_LEADS.format(campaign_id=campaign_id))
            self._db.execute(
                "UPDATE campaigns SET leads_count = ?, invalid_count = ? WHERE tenant = ? AND id = ?",
                (leads_count, invalid_count, self.tenant, campaign_id),
            )

    def campaigns_with_contact(self, contact_id: str) -> list[str]:
        """The ids of this tenant's campaigns that have a lead for this telli contact (an indexed read)."""
        rows = self._db.execute(
            "SELECT DISTINCT campaign_id FROM leads WHERE tenant = ? AND contact_id = ? ORDER BY campaign_id",
            (self.tenant, contact_id),
        ).fetchall()
        return [str(row[0]) for row in rows]

    def count_with_contact(self, campaign_id: str) -> int:
        """Leads whose telli contact id the ledger knows."""
        return self._count(campaign_id, " AND contact_id IS NOT NULL")

    def _count(self, campaign_id: str, condition: str) -> int:
        row = self._db.execute(
            f"SELECT COUNT(*) FROM leads WHERE tenant = ? AND campaign_id = ?{condition}", (self.tenant, campaign_id)
        ).fetchone()
        return int(row[0])

    def reason_counts(self, campaign_id: str, states: Iterable[LeadState]) -> list[tuple[LeadState, str | None, int]]:
        """(state, last_error, leads) among the leads in `states`, most frequent first."""
        wanted = [state.value for state in states]
        rows = self._db.execute(
            "SELECT state, last_error, COUNT(*) AS n FROM leads WHERE tenant = ? AND campaign_id = ? "
            f"AND state IN ({', '.join('?' for _ in wanted)}) GROUP BY state, last_error ORDER BY n DESC, state",
            (self.tenant, campaign_id, *wanted),
        ).fetchall()
        return [(LeadState(state), error, int(count)) for state, error, count in rows]

    def update_leads(self, campaign_id: str, updates: Iterable[LeadUpdate], *, lease: Lease | None = None) -> None:
        """Apply `updates` and commit (one transaction per call: call it once per chunk).

        With `lease` (every write a run makes) the write is fenced: it happens only while that lease is
        the campaign's current one.

        Raises:
            LeaseLostError: `lease` was taken over; nothing was written.
        """
        # In row order, as every other write of leads locks them: two writers (a run and a stop on another replica)
        # then never each hold a row the other waits for.
        ordered = sorted(updates, key=lambda update: update.row)
        if not ordered:
            return
        now = _iso(self.clock())
        with self._transaction():
            if lease is not None:
                self._check_fence(lease)
            for kept, run in groupby(ordered, key=_kept_columns):
                self._db.executemany(
                    _update_statement(kept),
                    [(*_update_values(update, kept, now), self.tenant, campaign_id, update.row) for update in run],
                )

    def mark_in_flight(
        self,
        campaign_id: str,
        rows: Sequence[int],
        *,
        sent_at: datetime,
        settle_at: datetime,
        note: str,
        lease: Lease,
        renew_ttl: timedelta | None = None,
        refused: Collection[int] = (),
        refused_note: str = "",
    ) -> set[int]:
        """The write-ahead of a schedule request: those of `rows` still `contact_ready` become `unknown`
        (sent at `sent_at`, settled at `settle_at`) in one fenced transaction; returns them. Leads a stop
        took meanwhile (now `removed`) are left out, so they are never sent. With `renew_ttl` the same
        transaction renews the lease (as `renew` does), so the request goes out under a fresh lease.
        Those of `refused` (leads of the chunk that must not be dialled) still `contact_ready` become `failed`
        with `refused_note` in the same transaction: never written ahead, never sent.

        Once the campaign is recorded as stopped nothing is written ahead (an empty set): a stop first records
        its status, then takes the leads that were never sent, and a write-ahead between the two would turn a lead
        it is about to take into one in flight, which the stop would then overwrite and never take off the dialer.

        Raises:
            LeaseLostError: `lease` was taken over; nothing was written.
        """
        with self._transaction():
            if self._check_fence(lease) is CampaignState.STOPPED:
                return set()
            if renew_ttl is not None:
                self._extend(lease, renew_ttl)
            if refused:
                self._db.execute(
                    "UPDATE leads SET state = ?, last_error = ?, updated_at = ? WHERE tenant = ? AND campaign_id = ? "
                    f"AND {self._db.dialect.unindexed('state')} = ? AND row IN ({_marks(refused)})",
                    (
                        LeadState.FAILED.value,
                        refused_note,
                        _iso(sent_at),
                        self.tenant,
                        campaign_id,
                        LeadState.CONTACT_READY.value,
                        *refused,
                    ),
                )
            # Locked: a stop (which takes no lease) that turns one of them `removed` meanwhile waits for this
            # transaction, so a lead is marked only if it is still ready when the request goes out.
            ready = self._rows_in_state(campaign_id, rows, LeadState.CONTACT_READY, lock=True)
            if ready:
                # One statement for the chunk (not one per lead): every lead it marks gets the same values.
                sent = _iso(sent_at)
                self._db.execute(
                    "UPDATE leads SET state = ?, last_error = ?, updated_at = ?, sent_at = ?, settle_at = ? "
                    f"WHERE tenant = ? AND campaign_id = ? AND row IN ({_marks(ready)})",
                    (
                        LeadState.UNKNOWN.value,
                        note,
                        sent,
                        sent,
                        _iso(settle_at),
                        self.tenant,
                        campaign_id,
                        *sorted(ready),
                    ),
                )
        return ready

    def rows_in_state(self, campaign_id: str, rows: Collection[int], state: LeadState) -> set[int]:
        """Those of `rows` whose lead is in `state` (primary-key look-ups, a few hundred rows per statement)."""
        return self._rows_in_state(campaign_id, rows, state)

    def _rows_in_state(
        self, campaign_id: str, rows: Collection[int], state: LeadState, *, lock: bool = False
    ) -> set[int]:
        """`rows_in_state`; with `lock` (inside a write transaction) the leads found stay this transaction's."""
        found: set[int] = set()
        state_column = self._db.dialect.unindexed("state")
        # The unindexed state keeps SQLite on the primary key (look-ups by row) instead of the state index, which
        # would walk every lead of the campaign in that state (for each schedule chunk's write-ahead, say).
        for part in chunked(sorted(set(rows)), _ROWS_PER_QUERY):
            found.update(
                int(row[0])
                for row in self._db.execute(
                    f"SELECT row FROM leads WHERE tenant = ? AND campaign_id = ? AND {state_column} = ? "
                    f"AND row IN ({_marks(part)}){self._lock(lock)}",
                    (self.tenant, campaign_id, state.value, *part),
                )
            )
        return found

    def state_counts(self, campaign_id: str) -> LeadStateCounts:
        rows = self._db.execute(
            "SELECT state, COUNT(*) FROM leads WHERE tenant = ? AND campaign_id = ? GROUP BY state",
            (self.tenant, campaign_id),
        ).fetchall()
        return LeadStateCounts.model_validate(dict(rows))

    def _transaction(self) -> AbstractContextManager[None]:
        transaction: AbstractContextManager[None] = self._db.transaction()
        return transaction

    def _lock(self, lock: bool) -> str:
        """What ends a SELECT whose rows the transaction goes on to change (see `Dialect.lock_row`)."""
        return self._db.dialect.lock_row if lock else ""


def _session(location: LedgerLocation) -> SqlSession:
    """The session on `location`, the ledger's schema in place (on PostgreSQL: on first connect)."""
    if isinstance(location, (str, Path, SecretStr)):
        raw = location.get_secret_value() if isinstance(location, SecretStr) else str(location)
        return PostgresSession(SecretStr(raw)) if is_postgres_url(raw) else SqliteSession(connect(raw))
    if isinstance(location, SqliteSession):
        prepare(location.connection, _sqlite_name(location))
    return location


def _label(session: SqlSession, location: LedgerLocation) -> str:
    if isinstance(session, PostgresSession):
        return session.label
    if isinstance(location, (str, Path)):
        return str(location)
    return _sqlite_name(session) if isinstance(session, SqliteSession) else type(session).__name__


def _sqlite_name(session: SqliteSession) -> str:
    """The file of a SQLite session (":memory:" for an in-memory one)."""
    file = session.connection.execute("PRAGMA database_list").fetchone()[2]
    return str(file) if file else ":memory:"


def _marks(values: Collection[object]) -> str:
    """The placeholders of an `IN (...)` list of `values`."""
    return ", ".join("?" for _ in values)


def _iso(moment: datetime) -> str:
    # Fixed width, so stored timestamps compare correctly as text in SQL.
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


_KEEPABLE = ("contact_id", "loop_id", "sent_at", "settle_at")
"""`LeadUpdate` fields that leave the stored value as it is when None."""


def _kept_columns(update: LeadUpdate) -> tuple[str, ...]:
    return tuple(name for name in _KEEPABLE if getattr(update, name) is None)


@lru_cache(maxsize=32)
def _update_statement(kept: tuple[str, ...]) -> str:
    """The UPDATE of one lead that sets only the columns its update gives. Not `column = COALESCE(?, column)`:
    assigning an indexed column (`contact_id`) makes the database rewrite its index entry even when the value stays
    the same, which made recording 50 schedule results four times as slow."""
    given = [name for name in _KEEPABLE if name not in kept]
    assignments = ", ".join(f"{name} = ?" for name in ("state", "last_error", "updated_at", *given))
    return f"UPDATE leads SET {assignments} WHERE tenant = ? AND campaign_id = ? AND row = ?"


def _update_values(update: LeadUpdate, kept: tuple[str, ...], now: str) -> list[object]:
    values: list[object] = [update.state.value, update.last_error, now]
    for name in _KEEPABLE:
        if name not in kept:
            value = getattr(update, name)
            values.append(_iso(value) if isinstance(value, datetime) else value)
    return values


def _parse_cursor(cursor: str | None) -> int:
    if cursor is None:
        return 2**62
    try:
        return int(cursor)
    except ValueError:
        raise CampaignError(f"Invalid cursor {cursor!r}: pass the next_cursor of the previous page.") from None


def _campaign(row: Sequence[Any]) -> CampaignRecord:
    names = [name.strip() for name in _CAMPAIGN_COLUMNS.split(",")]
    return CampaignRecord.model_validate(dict(zip(names, row, strict=True)))


def _new_records(leads: Sequence[Lead], now: str) -> list[LeadRecord]:
    """The records `record_leads` just inserted for `leads`, as reading them back would return them."""
    updated_at = _moment(now)
    return [
        LeadRecord(
            row=lead.row,
            external_id=lead.external_id,
            e164=lead.phone_number,
            state=LeadState.PENDING,
            updated_at=updated_at,
        )
        for lead in leads
    ]


def _lead(row: Sequence[Any]) -> LeadRecord:
    row_, external_id, e164, contact_id, state, loop_id, last_error, updated_at, sent_at, settle_at = row
    return LeadRecord(
        row=int(str(row_)),
        external_id=str(external_id),
        e164=str(e164),
        contact_id=_text_or_none(contact_id),
        state=LeadState(str(state)),
        loop_id=_text_or_none(loop_id),
        last_error=_text_or_none(last_error),
        updated_at=_moment(updated_at),
        sent_at=None if sent_at is None else _moment(sent_at),
        settle_at=None if settle_at is None else _moment(settle_at),
    )


def _text_or_none(value: object) -> str | None:
    return None if value is None else str(value)


def _moment(value: object) -> datetime:
    # Stored by `_iso` (UTC, fixed width); a naive value from an older writer is read as UTC.
    moment = datetime.fromisoformat(str(value))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
