"""The campaign ledger: a small SQLite database that remembers campaigns and where each lead stands.

telli has no campaign object, so this file is the campaign: which leads belong to it, their telli contact ids,
whether a schedule request was accepted, rejected or may still be in flight (and when it will have settled).
It is what makes a re-run resume instead of calling people twice. The caller picks the path (the user data
dir, `TELLI_MCP_DATA_DIR`, or `:memory:` in the sandbox).

Why the sqlite3 calls are synchronous inside async code: every statement is a short local write (one
chunk of at most 1000 rows, committed at once) that takes about a millisecond in WAL mode. A hop to a worker
thread per statement would cost about as much as the statement, and a connection shared across threads
needs its own lock; blocking the event loop for a millisecond per chunk is the simpler, honest trade. It also
means an anyio cancellation can never land in the middle of a write.

Campaigns are scoped by `tenant` (e.g. a fingerprint of the API key), so one ledger file can serve several
telli accounts without mixing their campaigns. The schema and its migrations live in `ledger_schema.py`.

Run lease: a run claims the campaign (`claim_run`) and gets a `Lease` with a fresh generation number; it
renews it while it works and gives it back at the end (`release_run`). Every lead write a run makes passes its
lease and is refused (`LeaseLostError`) once another run took the campaign over. The take-over rules are in
`lease.py`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Collection, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pydantic import BaseModel

from telli_mcp.bounded import chunked
from telli_mcp.campaigns.errors import CampaignConflictError, CampaignError, LeaseLostError
from telli_mcp.campaigns.lease import LEASE_TTL, Holder, Lease, LeaseView
from telli_mcp.campaigns.ledger_schema import SCHEMA_VERSION, connect
from telli_mcp.campaigns.models import CampaignState, Lead, LeadState, LeadStateCounts
from telli_mcp.local_db import write_transaction

__all__ = [
    "SCHEMA_VERSION",
    "CampaignRecord",
    "LeadRecord",
    "LeadUpdate",
    "Ledger",
    "NewCampaign",
]

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
        self._db = _connection if _connection is not None else connect(self.path)

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

    def status(self, campaign_id: str) -> CampaignState | None:
        """The campaign's recorded status (None: unknown id): what a run checks before each request, so it
        reads one column instead of the whole record."""
        row = self._db.execute(
            "SELECT status FROM campaigns WHERE tenant = ? AND id = ?", (self.tenant, campaign_id)
        ).fetchone()
        return None if row is None else CampaignState(row[0])

    def set_status(self, campaign_id: str, status: CampaignState) -> None:
        with self._transaction():
            self._db.execute(
                "UPDATE campaigns SET status = ?, updated_at = ? WHERE tenant = ? AND id = ?",
                (status.value, _iso(self.clock()), self.tenant, campaign_id),
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
            record = self.get_campaign(campaign_id)
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
        that was already taken over is left to its new holder."""
        with self._transaction():
            self._db.execute(
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
            )

    def _check_fence(self, lease: Lease) -> None:
        """Inside a write transaction: the lease must still be the campaign's current one."""
        row = self._db.execute(
            "SELECT run_token, lease_generation FROM campaigns WHERE tenant = ? AND id = ?",
            (self.tenant, lease.campaign_id),
        ).fetchone()
        if row is None or tuple(row) != (lease.token, lease.generation):
            raise LeaseLostError(lease.campaign_id)

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
                "INSERT OR IGNORE INTO leads (tenant, campaign_id, row, external_id, e164, state, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (self.tenant, campaign_id, lead.row, lead.external_id, lead.phone_number, "pending", now)
                    for lead in leads
                ],
            ).rowcount
            # A first run inserts every row, so the chunk stands as written: reading it back (and parsing
            # 1000 rows) only matters when a previous run recorded some of them.
            records = _new_records(leads, now) if inserted == len(leads) else self._recorded(campaign_id, leads)
            # Kept current while the run records, so a run that ends early is listed with what it recorded.
            self._db.execute(
                "UPDATE campaigns SET leads_count = MAX(leads_count, ?) WHERE tenant = ? AND id = ?",
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
        now = _iso(self.clock())
        rows = [
            (
                update.state.value,
                update.contact_id,
                update.loop_id,
                update.last_error,
                now,
                _iso_or_none(update.sent_at),
                _iso_or_none(update.settle_at),
                self.tenant,
                campaign_id,
                update.row,
            )
            for update in updates
        ]
        if not rows:
            return
        with self._transaction():
            if lease is not None:
                self._check_fence(lease)
            self._db.executemany(
                "UPDATE leads SET state = ?, contact_id = COALESCE(?, contact_id), "
                "loop_id = COALESCE(?, loop_id), last_error = ?, updated_at = ?, "
                "sent_at = COALESCE(?, sent_at), settle_at = COALESCE(?, settle_at) "
                "WHERE tenant = ? AND campaign_id = ? AND row = ?",
                rows,
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

        Raises:
            LeaseLostError: `lease` was taken over; nothing was written.
        """
        with self._transaction():
            self._check_fence(lease)
            if renew_ttl is not None:
                self._extend(lease, renew_ttl)
            if refused:
                self._db.execute(
                    "UPDATE leads SET state = ?, last_error = ?, updated_at = ? WHERE tenant = ? AND campaign_id = ? "
                    f"AND +state = ? AND row IN ({_marks(refused)})",
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
            ready = self.rows_in_state(campaign_id, rows, LeadState.CONTACT_READY)
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
        found: set[int] = set()
        # `+state` keeps SQLite on the primary key (look-ups by row) instead of the state index, which would walk
        # every lead of the campaign in that state (for each schedule chunk's write-ahead, say).
        for part in chunked(sorted(set(rows)), _ROWS_PER_QUERY):
            found.update(
                int(row[0])
                for row in self._db.execute(
                    "SELECT row FROM leads WHERE tenant = ? AND campaign_id = ? AND +state = ? "
                    f"AND row IN ({_marks(part)})",
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
        return write_transaction(self._db)


def _marks(values: Collection[object]) -> str:
    """The placeholders of an `IN (...)` list of `values`."""
    return ", ".join("?" for _ in values)


def _iso(moment: datetime) -> str:
    # Fixed width, so stored timestamps compare correctly as text in SQL.
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _iso_or_none(moment: datetime | None) -> str | None:
    return None if moment is None else _iso(moment)


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


def _lead(row: sqlite3.Row | tuple[object, ...]) -> LeadRecord:
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
