"""Results of the campaign operations: plan, run, status, stop, list, plus progress events.

All are pydantic models so the MCP layer can return them as structured content and the CLI can print them;
none of them carries the API key.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from telli_mcp.campaigns.lead_zones import TimezonePlan, TimezoneSource
from telli_mcp.campaigns.models import (
    DIALER_NOTE,
    CampaignRequest,
    CampaignState,
    LeadStateCounts,
    ValidationReport,
)

__all__ = [
    "CampaignPage",
    "CampaignPlan",
    "CampaignProgress",
    "CampaignRunResult",
    "CampaignStatusReport",
    "CampaignSummary",
    "ContactStatusCounts",
    "LeadFailure",
    "LeadPreview",
    "NotableKind",
    "NotableLead",
    "OutcomeCounts",
    "ProgressCallback",
    "ProgressPhase",
    "ReasonCount",
    "RequestCounts",
    "StopResult",
]

MAX_FAILURES_SHOWN = 50

ProgressPhase = Literal["contacts", "lookup", "settle", "verify", "schedule", "remove"]


class _Result(BaseModel):
    """Base of the engine's results (its attribute docstrings are for readers, not schemas)."""

    # Validators are built on first use: the MCP server imports these types at startup but uses them only in a run.
    model_config = ConfigDict(defer_build=True)


class CampaignProgress(_Result):
    """One progress event: emitted after every chunk (contacts, schedule, remove) or lookup batch."""

    campaign_id: str
    phase: ProgressPhase
    """contacts (create), lookup (find existing), settle (waiting until requests whose answer was lost can no
    longer land), verify (unknown leads), schedule, remove (stop)."""
    done: int
    """Items of this phase handled so far."""
    total: int
    """Items this phase will handle in this run."""
    message: str
    """One line for a progress bar or an MCP progress notification."""


ProgressCallback = Callable[[CampaignProgress], Awaitable[None]]
"""Awaited after each chunk; an exception raised here aborts the run (it can be resumed)."""


class LeadPreview(_Result):
    """A lead as shown in a confirmation question."""

    row: int
    first_name: str
    last_name: str
    phone_number: str
    external_id: str
    timezone: str
    """The zone telli will evaluate the dialer window in for this lead."""
    timezone_source: TimezoneSource
    """column (the lead's own), inferred (the number's only zone; sent with the contact) or account_default."""


class LeadFailure(_Result):
    """A lead that could not be created, scheduled or removed, with telli's reason."""

    row: int
    external_id: str
    phone_number: str
    reason: str


class CampaignPlan(_Result):
    """What a start would do: shown to the human before anything is sent (the dry run)."""

    campaign_id: str
    name: str
    agent_id: str
    agent_name: str | None = None
    """The agent's title in telli, when the agent was looked up."""
    from_number: str | None = None
    max_retry_days: int | None = None
    source: str
    source_sha256: str
    validation: ValidationReport
    sample: list[LeadPreview]
    """The first few valid leads."""
    timezones: TimezonePlan
    """Which clock telli will call the leads on: counts per source and zone, and leads on the account default."""
    warnings: list[str] = Field(default_factory=list)
    """Things the human should know before confirming (e.g. leads that fall back to the account's time zone)."""
    resumes_existing: bool
    """True when the campaign id exists in the ledger: a start resumes it."""
    already_scheduled: int = 0
    """Leads the ledger already has as scheduled (resume)."""
    do_not_call: int = 0
    """Valid leads not yet scheduled whose number is on the do-not-call list: a start does not send them
    (`warnings` names their numbers)."""
    to_schedule: int
    """Valid leads a start would still schedule (not those on the do-not-call list)."""
    launchable: bool
    blocking_reasons: list[str] = Field(default_factory=list)
    """Why the plan cannot start (validation, agent, caller id, a stopped campaign)."""
    dialer_note: str = DIALER_NOTE
    request: CampaignRequest = Field(exclude=True)
    """The request with `campaign_id` filled in; `start(plan)` uses it. Left out of `model_dump()` because
    inline leads can be thousands of rows: keep the plan object, or call `start` with the same request."""


class ReasonCount(_Result):
    """Why some leads are not scheduled, and how many."""

    reason: str
    leads: int


class RequestCounts(_Result):
    """Requests a run sent to telli, by kind."""

    contact_batches: int = 0
    contact_lookups: int = 0
    verify_batches: int = 0
    schedule_batches: int = 0


class CampaignRunResult(_Result):
    """Outcome of a (possibly resumed) run."""

    campaign_id: str
    name: str
    agent_id: str
    from_number: str | None = None
    status: CampaignState
    resumed: bool
    validation: ValidationReport
    leads_total: int
    """Valid leads in the campaign."""
    contacts_created: int = 0
    """telli contacts created by this run."""
    contacts_existing: int = 0
    """Leads whose external id already belonged to a telli contact (reused, not duplicated)."""
    contacts_reused: int = 0
    """Leads whose contact id the ledger already knew (no request needed)."""
    scheduled_now: int = 0
    """Leads put into the auto-dialer by this run (including ones verified as scheduled after a lost
    response)."""
    scheduled_before: int = 0
    """Leads that were already scheduled when this run began."""
    scheduled_total: int = 0
    failed: int = 0
    """Leads telli definitely rejected, or not sent because their number is on the do-not-call list (a re-run
    retries them, and asks the list again)."""
    do_not_call: int = 0
    """Of `failed`: leads not sent because their number is on the do-not-call list."""
    unknown: int = 0
    """Leads whose schedule request may or may not have been applied (a re-run verifies them first)."""
    pending: int = 0
    """Leads not sent to the auto-dialer (no telli contact yet, or not sent because telli kept failing)."""
    not_scheduled: int = 0
    """Valid leads that are not in the auto-dialer after this run: failed + unknown + pending."""
    not_scheduled_reasons: list[ReasonCount] = Field(default_factory=list)
    """The most common reasons among them, most frequent first (at most 5)."""
    failures: list[LeadFailure] = Field(default_factory=list)
    """Failed leads with reasons, at most 50."""
    failures_truncated: int = 0
    requests: RequestCounts = Field(default_factory=RequestCounts)
    timezones: TimezonePlan | None = None
    """Which clock telli calls the leads on (see `CampaignPlan.timezones`)."""
    warnings: list[str] = Field(default_factory=list)
    dialer_note: str = DIALER_NOTE
    message: str
    """One plain sentence for the human."""


class CampaignSummary(_Result):
    """A campaign as listed: ledger data only, no request to telli."""

    campaign_id: str
    name: str
    agent_id: str
    from_number: str | None = None
    max_retry_days: int | None = None
    status: CampaignState
    source: str
    leads_count: int
    invalid_count: int
    created_at: datetime
    updated_at: datetime
    counts: LeadStateCounts


class CampaignPage(_Result):
    """One page of campaigns, newest first."""

    items: list[CampaignSummary]
    next_cursor: str | None = None
    """Pass as `cursor` for the next page; None on the last page."""


class ContactStatusCounts(_Result):
    """Live dialer status of the campaign's contacts in telli."""

    new: int = 0
    """Not (or no longer) in the dialer and never called."""
    pending: int = 0
    """In the dialer, being tried."""
    reached: int = 0
    """Had a conversation."""
    closed: int = 0
    """The dialer gave up (or the contact was removed after calls)."""
    missing: int = 0
    """Contacts telli no longer returns (deleted)."""

    @property
    def known(self) -> int:
        """Every contact counted, whatever its state."""
        return self.new + self.pending + self.reached + self.closed + self.missing

    def dialer_sentence(self, campaign_status: str) -> str | None:
        """What telli's dialer is doing with these contacts, when the ledger's status does not say it: a
        `completed` campaign has every lead scheduled, yet telli may be calling them for days."""
        if self.pending:
            return f"{self.pending} of {self.known} contacts still pending in telli's auto-dialer"
        if campaign_status == "completed" and self.known:
            return "no contact is left in telli's auto-dialer"
        return None


class OutcomeCounts(_Result):
    """Call outcomes among the inspected contacts."""

    reached: int = 0
    callback_requested: int = 0
    appointment: int = 0
    failed: int = 0
    """Leads that failed in the ledger plus contacts closed without being reached."""
    opted_out: int = 0
    """Contacts whose call says they asked not to be called again (`outcomes.py`)."""


NotableKind = Literal["opted_out", "appointment", "callback", "reached", "failed", "not_reached"]


class NotableLead(_Result):
    """A lead worth a human's attention."""

    row: int
    external_id: str
    contact_id: str | None = None
    name: str | None = None
    phone_number: str
    kind: NotableKind
    """opted_out > appointment > callback > reached (the most specific one), failed, or not_reached (closed)."""
    detail: str | None = None
    """E.g. the opt-out outcome or summary, the booked slot, the callback note, or the failure reason."""
    at: datetime | None = None
    """When the call that produced this ended, when known."""


class CampaignStatusReport(_Result):
    """Live status of one campaign: ledger counts, telli dialer status, outcomes and notable leads."""

    campaign: CampaignSummary
    contacts: ContactStatusCounts
    progress_percent: float
    """(reached + closed) / scheduled × 100: how much of the dialing is finished."""
    outcomes: OutcomeCounts
    calls_inspected_contacts: int
    """Contacts whose calls were read to find outcomes."""
    calls_inspection_capped: bool
    """True when more reached/closed contacts exist than were inspected (outcomes are a lower bound)."""
    notable: list[NotableLead]
    """This page of notable leads (opt-outs first, then appointments and callbacks)."""
    notable_total: int
    next_cursor: str | None = None
    """Pass as `cursor` for the next page of notable leads."""
    note: str | None = None
    freshness: str = ""
    """Where the contact states came from (telli's webhook events or a read of telli) and how new they are."""
    opt_outs_not_listed: list[str] = Field(default_factory=list)
    """E.164 numbers of the leads that opted out (those `outcomes` counts) and are not on the do-not-call list, each
    once, in row order: what to propose adding (never added by the status itself)."""
    opt_outs_listed: int = 0
    """Numbers of leads that opted out which are on the do-not-call list already."""
    dialer_note: str = DIALER_NOTE


class StopResult(_Result):
    """Outcome of a stop."""

    campaign_id: str
    status: CampaignState
    removed_now: int = 0
    """Contacts this stop took off the auto-dialer."""
    already_stopped: int = 0
    """Leads with nothing to remove: never scheduled, finished, not in a dialer queue, or stopped before."""
    failed: int = 0
    unknown: int = 0
    """Removals whose response was lost; stop again to make sure."""
    failures: list[LeadFailure] = Field(default_factory=list)
    requests_sent: int = 0
    message: str
