"""Exceptions raised by the campaign engine.

```
CampaignError
├── LeadSourceError           the leads could not be read at all (missing file, not CSV/JSON, no header)
├── CampaignNotLaunchableError validation found a blocking problem; `.report` holds the full report
├── CampaignNotFoundError     no campaign with that id in the ledger
├── CampaignConflictError     a re-run does not match the recorded campaign (other leads, agent, ...)
├── CampaignStoppedError      the campaign was stopped; it can be inspected but not started again
├── CampaignBusyError         another run of the same campaign is in progress
└── LeaseLostError            this run's lease was taken over by another run; it stopped without writing
```

Errors from telli itself (`telli_mcp.client.errors.TelliError`) pass through unchanged when a whole step
fails (e.g. the property schema cannot be read); failures of single leads are recorded, not raised.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from telli_mcp.campaigns.models import ValidationReport

__all__ = [
    "CampaignBusyError",
    "CampaignConflictError",
    "CampaignError",
    "CampaignNotFoundError",
    "CampaignNotLaunchableError",
    "CampaignStoppedError",
    "LeadSourceError",
    "LeaseLostError",
]


class CampaignError(Exception):
    """Base class of every campaign-engine error; the message is meant for a human."""


class LeadSourceError(CampaignError):
    """The lead source could not be read: missing file, unsupported format, malformed JSON, no header row."""


class CampaignNotLaunchableError(CampaignError):
    """A problem blocks the launch: `reasons` lists them, `report` is the full validation report."""

    def __init__(self, report: ValidationReport, reasons: list[str] | None = None) -> None:
        self.reasons = reasons if reasons is not None else list(report.blocking_reasons)
        super().__init__(f"The campaign cannot start: {'; '.join(self.reasons) or 'no valid leads'}.")
        self.report = report


class CampaignNotFoundError(CampaignError):
    """No campaign with this id exists in the ledger."""

    def __init__(self, campaign_id: str) -> None:
        super().__init__(f"No campaign with id {campaign_id!r} is recorded on this machine.")
        self.campaign_id = campaign_id


class CampaignConflictError(CampaignError):
    """A start with an existing campaign id does not match what that campaign recorded."""


class CampaignStoppedError(CampaignError):
    """The campaign was stopped; starting it again would call people who were taken off the list."""

    def __init__(self, campaign_id: str) -> None:
        super().__init__(
            f"Campaign {campaign_id!r} was stopped and cannot be started again. "
            "Start a new campaign (a new id) to call these leads."
        )
        self.campaign_id = campaign_id


class CampaignBusyError(CampaignError):
    """Another process (or task) is running this campaign right now."""


class LeaseLostError(CampaignError):
    """Another run took this campaign over (this one was silent for longer than its lease); this run stops
    and writes nothing more. Leads whose requests were in flight stay `unknown` for the new holder to settle."""

    def __init__(self, campaign_id: str) -> None:
        super().__init__(
            f"This run of campaign {campaign_id!r} lost its lease to another run and stopped without writing "
            "anything more; the run that holds the campaign now finishes it."
        )
        self.campaign_id = campaign_id
