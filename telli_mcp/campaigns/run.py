"""The state one run carries through its steps: client, ledger, campaign, options, progress and counters."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from pydantic import BaseModel, Field

from telli_mcp.campaigns.ledger import DEFAULT_STALE_AFTER, LeadUpdate, Ledger
from telli_mcp.campaigns.models import CampaignState, Lead
from telli_mcp.campaigns.results import CampaignProgress, ProgressCallback, ProgressPhase, RequestCounts
from telli_mcp.client import TelliClient

__all__ = ["RunContext", "RunOptions", "RunStats", "StopRequested", "canonical_id"]


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
    stale_after: timedelta = DEFAULT_STALE_AFTER
    """How old another run's heartbeat must be before this run may take the campaign over."""


class RunStats(BaseModel):
    """Counters a run accumulates for its result."""

    created: int = 0
    existing: int = 0
    requests: RequestCounts = Field(default_factory=RequestCounts)


class StopRequested(Exception):
    """The campaign was stopped while this run was scheduling it."""


def canonical_id(value: str) -> str:
    """telli ids are UUIDs; compare them in one spelling."""
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return value


@dataclass
class RunContext:
    """Everything the run's steps share."""

    client: TelliClient
    ledger: Ledger
    campaign_id: str
    agent_id: str
    from_number: str | None
    max_retry_days: int | None
    leads: dict[int, Lead]
    token: str
    options: RunOptions
    on_progress: ProgressCallback | None
    stats: RunStats = field(default_factory=RunStats)

    def record(self, updates: Sequence[LeadUpdate]) -> None:
        """Write lead changes to the ledger (one commit)."""
        self.ledger.update_leads(self.campaign_id, updates)

    async def progress(self, phase: ProgressPhase, done: int, total: int, message: str) -> None:
        """Refresh the run's heartbeat and tell the caller."""
        self.ledger.heartbeat(self.campaign_id, self.token)
        if self.on_progress is not None:
            event = CampaignProgress(campaign_id=self.campaign_id, phase=phase, done=done, total=total, message=message)
            await self.on_progress(event)

    def stop_requested(self) -> bool:
        campaign = self.ledger.get_campaign(self.campaign_id)
        return campaign is not None and campaign.status is CampaignState.STOPPED
