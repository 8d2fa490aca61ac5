"""Domain models of the campaign engine: the request, a validated lead, the validation report, states.

Results of the operations (plan, run, status, stop, list) live in `results.py`.
"""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, JsonValue, field_validator, model_validator

from telli_mcp.campaigns.ids import CAMPAIGN_ID_PATTERN
from telli_mcp.client.types import AgentId

__all__ = [
    "CAMPAIGN_ID_PATTERN",
    "DIALER_NOTE",
    "CampaignRequest",
    "CampaignState",
    "ColumnProblem",
    "Lead",
    "LeadProblem",
    "LeadState",
    "LeadStateCounts",
    "PropertyValue",
    "ValidationReport",
]


DIALER_NOTE = (
    "telli's auto-dialer places each call at the earliest opportunity inside the account's dialer window, "
    "in the contact's own timezone, and retries per the dialer strategy; the API offers no way to pin an "
    "exact call time."
)

PropertyValue = str | int | float | bool | list[str]
"""A contact property value as sent to telli: text, number, boolean, or a multi-select's option values."""


class LeadState(StrEnum):
    """Where a lead of a campaign stands, as recorded in the ledger."""

    PENDING = "pending"
    """Recorded; no telli contact id known yet."""
    CONTACT_READY = "contact_ready"
    """The telli contact exists (created or found); no schedule request sent."""
    SCHEDULED = "scheduled"
    """telli accepted the schedule request (or a verification showed the contact in the dialer)."""
    FAILED = "failed"
    """Definitely not scheduled (telli rejected it); a re-run tries again."""
    UNKNOWN = "unknown"
    """A schedule request may have been applied (response lost or not yet seen): verify before resending."""
    REMOVED = "removed"
    """Taken off the auto-dialer by a stop (or never scheduled before the stop)."""


class CampaignState(StrEnum):
    """Lifecycle of a campaign."""

    RUNNING = "running"
    """A run is in progress."""
    INTERRUPTED = "interrupted"
    """A run ended abruptly (crash, kill, error); start it again with the same id to resume."""
    COMPLETED = "completed"
    """Every valid lead is scheduled."""
    INCOMPLETE = "incomplete"
    """The run finished but some leads failed or are unverified; start it again with the same id to retry."""
    STOPPED = "stopped"
    """Stopped: its contacts were taken off the auto-dialer; it cannot be started again."""


class CampaignRequest(BaseModel):
    """What a caller asks for: the leads (inline or a file), the agent and the dialer options."""

    model_config = ConfigDict(extra="forbid", defer_build=True)  # built on first use (server startup)

    agent_id: AgentId
    """The telli agent that makes the calls (a UUID)."""
    leads: list[dict[str, JsonValue]] | None = None
    """Inline leads: one object per lead (keys as in the CSV header)."""
    leads_file: Path | None = None
    """A CSV or JSON file of leads (instead of `leads`)."""
    name: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    """A human name for the campaign; defaults to the file name or "inline leads"."""
    campaign_id: Annotated[str, Field(pattern=CAMPAIGN_ID_PATTERN)] | None = None
    """Reuse an id to resume a campaign; a new short slug is generated when omitted."""
    from_number: str | None = None
    """Caller id (E.164, must belong to the account); telli's default number when omitted."""
    max_retry_days: Annotated[int, Field(ge=0, le=365)] | None = None
    """How many days the dialer keeps retrying; the account default when omitted."""
    default_region: str | None = None
    """ISO country code (e.g. "DE", "US") used to read phone numbers written without a country code."""
    ignore_unknown_columns: bool = False
    """Launch even though some columns match no contact property (those columns are dropped)."""

    @field_validator("default_region")
    @classmethod
    def _region_code(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not re.fullmatch(r"[A-Za-z]{2}", value):
            raise ValueError("default_region must be a two-letter country code such as DE or US")
        return value.upper()

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        if (self.leads is None) == (self.leads_file is None):
            raise ValueError("give the leads either inline (leads) or as a file (leads_file), not both or neither")
        return self


class Lead(BaseModel):
    """A validated, normalised lead: everything needed to create the telli contact."""

    model_config = ConfigDict(frozen=True)

    row: int
    """The row a human sees: CSV line (header = 1) or 1-based position in a JSON/inline list."""
    phone_number: str
    """E.164."""
    first_name: str
    last_name: str
    external_id: str
    """The lead's own external id, or one derived from its number (see `validation.derive_external_id`)."""
    external_id_derived: bool = False
    email: str | None = None
    timezone: str | None = None
    salutation: str | None = None
    external_url: str | None = None
    properties: dict[str, PropertyValue] = Field(default_factory=dict)
    """Contact properties by their telli key, values normalised for their data type."""


class LeadProblem(BaseModel):
    """One reason why a lead row is not used."""

    row: int
    field: str
    reason: str


class ColumnProblem(BaseModel):
    """A problem with a whole column (reported once, not per row)."""

    column: str
    reason: str


class ValidationReport(BaseModel):
    """What validation found, before anything is sent to telli."""

    source: str
    """Where the leads came from, e.g. `leads.csv (CSV, ';'-separated)` or `12 inline leads`."""
    rows_read: int
    """Non-blank rows (CSV) or list entries (JSON/inline)."""
    contacts_count: int
    """Valid, unique leads: the ones that would be called."""
    invalid_leads_count: int
    """Rows that will not be used (including duplicates)."""
    duplicates_count: int
    """Rows rejected as a duplicate of an earlier row (same E.164 number or same external id)."""
    invalid: list[LeadProblem]
    """Problems per row, in row order, at most 50."""
    invalid_truncated: int = 0
    """How many problems were left out of `invalid`."""
    unknown_columns: list[str] = Field(default_factory=list)
    """The first 10 columns (as written in the source) that match neither a contact field nor a contact property;
    the blocking reason counts them all."""
    unknown_columns_ignored: bool = False
    """True when the caller chose to launch without the unknown columns."""
    column_problems: list[ColumnProblem] = Field(default_factory=list)
    """Problems with whole columns (missing required column, two columns meaning the same field)."""
    property_columns: dict[str, str] = Field(default_factory=dict)
    """Source column → telli property key, for the columns that became contact properties."""
    launchable: bool
    """True when the campaign can start: at least one valid lead and no blocking problem."""
    blocking_reasons: list[str] = Field(default_factory=list)
    """Why `launchable` is False."""


class LeadStateCounts(BaseModel):
    """How many leads of a campaign are in each ledger state."""

    pending: int = 0
    contact_ready: int = 0
    scheduled: int = 0
    failed: int = 0
    unknown: int = 0
    removed: int = 0

    @property
    def total(self) -> int:
        return self.pending + self.contact_ready + self.scheduled + self.failed + self.unknown + self.removed
