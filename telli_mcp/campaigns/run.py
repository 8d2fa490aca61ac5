"""The state one run carries through its steps: client, ledger, lease, campaign, options, progress, counters."""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Self

from pydantic import BaseModel, Field, model_validator

from telli_mcp.campaigns.dial_block import DialBlock
from telli_mcp.campaigns.lease import HEARTBEAT_INTERVAL, LEASE_TTL, Lease
from telli_mcp.campaigns.ledger import LeadUpdate, Ledger
from telli_mcp.campaigns.models import CampaignState
from telli_mcp.campaigns.planning import Opened
from telli_mcp.campaigns.results import CampaignProgress, ProgressCallback, ProgressPhase, RequestCounts
from telli_mcp.client import TelliClient

__all__ = ["DEFAULT_SETTLE_MARGIN", "RunContext", "RunOptions", "RunStats", "StopRequested", "canonical_id"]

DEFAULT_SETTLE_MARGIN = timedelta(seconds=30)
PROGRESS_RENEW_EVERY = timedelta(seconds=1)
"""Progress renews the lease at most this often (a write transaction each; 1,000 schedule chunks at 50,000
leads). Every write of the run is fenced anyway, and the heartbeat keeps the lease between events."""
_CANONICAL = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class RunOptions(BaseModel):
    """Tuning knobs of a run; the defaults suit telli's documented limits."""

    contact_concurrency: int = Field(default=2, ge=1, le=8)
    """add-contacts-batch requests (≤1000 contacts each) in flight at once."""
    lookup_concurrency: int = Field(default=8, ge=1, le=32)
    """Lookups of existing contacts by external id in flight at once."""
    schedule_concurrency: int = Field(default=4, ge=1, le=8)
    """schedule-calls-batch requests (≤50 contacts each) in flight at once."""
    max_rounds: int = Field(default=3, ge=1, le=10)
    """Passes over leads whose request failed as a whole (re-sent after verification) within one run."""
    settle_margin: timedelta = Field(default=DEFAULT_SETTLE_MARGIN, ge=timedelta(0))
    """How long after the client's request timeout telli may still apply a request whose answer was lost.
    Such a lead is verified (and possibly re-sent) only once sent_at + timeout + this margin has passed."""
    lease_ttl: timedelta = LEASE_TTL
    """How long a run's lease outlives its last renewal (see `lease.py`)."""
    heartbeat_interval: timedelta = HEARTBEAT_INTERVAL
    """How often a run renews its lease while it works."""

    @model_validator(mode="after")
    def _renewed_before_it_lapses(self) -> Self:
        if self.heartbeat_interval * 2 > self.lease_ttl:
            raise ValueError("lease_ttl must cover at least two heartbeat intervals")
        return self


class RunStats(BaseModel):
    """Counters a run accumulates for its result."""

    created: int = 0
    existing: int = 0
    requests: RequestCounts = Field(default_factory=RequestCounts)


class StopRequested(Exception):
    """The campaign was stopped while this run was scheduling it."""


def canonical_id(value: str) -> str:
    """telli ids are UUIDs; compare them in one spelling."""
    if _CANONICAL.fullmatch(value):
        return value  # already spelled so (telli's own answers): no parse for each of 50,000 leads
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return value


@dataclass
class RunContext:
    """Everything the run's steps share."""

    client: TelliClient
    ledger: Ledger
    lease: Lease
    agent_id: str
    from_number: str | None
    max_retry_days: int | None
    opened: Opened
    """The campaign's source and checks: a lead's data is read from the source again when it is needed
    after its chunk has passed (a retried create), so the run never holds every lead."""
    options: RunOptions
    on_progress: ProgressCallback | None
    stats: RunStats = field(default_factory=RunStats)
    _renewed_at: datetime | None = field(default=None, repr=False)

    @property
    def campaign_id(self) -> str:
        return self.lease.campaign_id

    @property
    def dial_block(self) -> DialBlock | None:
        """The do-not-call list every schedule request is checked against (None: no list)."""
        return self.opened.dial_block

    @property
    def sleep(self) -> Callable[[float], Awaitable[None]]:
        """The client's sleep: waiting for telli is the client's kind of waiting (and tests replace it)."""
        return self.client.sleep

    @property
    def settle_after(self) -> timedelta:
        """How long after sending a request its outcome is settled: the client's timeout plus the margin."""
        return timedelta(seconds=self.client.timeout) + self.options.settle_margin

    def now(self) -> datetime:
        return self.ledger.clock()

    def record(self, updates: Sequence[LeadUpdate]) -> None:
        """Write lead changes to the ledger (one commit), fenced by this run's lease."""
        self.ledger.update_leads(self.campaign_id, updates, lease=self.lease)

    def renew(self) -> None:
        """Extend the lease; raises LeaseLostError when another run took the campaign over."""
        now = self.now()
        self.ledger.renew(self.lease, ttl=self.options.lease_ttl)
        self._renewed_at = now

    async def progress(self, phase: ProgressPhase, done: int, total: int, message: str) -> None:
        """Renew the lease (unless that was done within the last second) and tell the caller."""
        if self._renewed_at is None or self.now() - self._renewed_at >= PROGRESS_RENEW_EVERY:
            self.renew()
        if self.on_progress is not None:
            event = CampaignProgress(campaign_id=self.campaign_id, phase=phase, done=done, total=total, message=message)
            await self.on_progress(event)

    def stopped(self) -> bool:
        """True when the campaign was stopped meanwhile (from this or another process)."""
        return self.ledger.status(self.campaign_id) is CampaignState.STOPPED

    def check_stop(self) -> None:
        """Raise StopRequested when the campaign was stopped meanwhile."""
        if self.stopped():
            raise StopRequested
