"""Client-side campaigns for telli: validate a lead list, create the contacts, schedule them, follow up.

telli has batch contact and scheduling endpoints and a per-contact auto-dialer, but no campaign object.
This package adds one on the client side, backed by a local SQLite ledger, so that "call these 300 leads",
"how is the spring campaign doing?" and "stop calling the spring list" work, resumably and without ever
scheduling anyone twice. It never imports `mcp` or the HTTP library; it talks to telli through
`telli_mcp.client.TelliClient`.

Names load on first use (`telli_mcp.lazy`), so importing the package costs almost nothing.
"""

from typing import TYPE_CHECKING

from telli_mcp.lazy import lazy_exports

if TYPE_CHECKING:
    from telli_mcp.campaigns.engine import CampaignEngine
    from telli_mcp.campaigns.errors import (
        CampaignBusyError,
        CampaignConflictError,
        CampaignError,
        CampaignNotFoundError,
        CampaignNotLaunchableError,
        CampaignStoppedError,
        LeadSourceError,
        LeaseLostError,
    )
    from telli_mcp.campaigns.ledger import Ledger
    from telli_mcp.campaigns.listing import list_campaigns
    from telli_mcp.campaigns.models import (
        DIALER_NOTE,
        CampaignRequest,
        CampaignState,
        ColumnProblem,
        Lead,
        LeadProblem,
        LeadState,
        LeadStateCounts,
        ValidationReport,
    )
    from telli_mcp.campaigns.results import (
        CampaignPage,
        CampaignPlan,
        CampaignProgress,
        CampaignRunResult,
        CampaignStatusReport,
        CampaignSummary,
        ContactStatusCounts,
        LeadFailure,
        LeadPreview,
        NotableLead,
        OutcomeCounts,
        ProgressCallback,
        RequestCounts,
        StopResult,
    )
    from telli_mcp.campaigns.run import RunOptions
    from telli_mcp.campaigns.runner import start_campaign
    from telli_mcp.campaigns.status import campaign_status
    from telli_mcp.campaigns.stop import stop_campaign
    from telli_mcp.campaigns.store import CampaignStore
    from telli_mcp.campaigns.validation import derive_external_id

__all__ = [
    "DIALER_NOTE",
    "CampaignBusyError",
    "CampaignConflictError",
    "CampaignEngine",
    "CampaignError",
    "CampaignNotFoundError",
    "CampaignNotLaunchableError",
    "CampaignPage",
    "CampaignPlan",
    "CampaignProgress",
    "CampaignRequest",
    "CampaignRunResult",
    "CampaignState",
    "CampaignStatusReport",
    "CampaignStoppedError",
    "CampaignStore",
    "CampaignSummary",
    "ColumnProblem",
    "ContactStatusCounts",
    "Lead",
    "LeadFailure",
    "LeadPreview",
    "LeadProblem",
    "LeadSourceError",
    "LeadState",
    "LeadStateCounts",
    "LeaseLostError",
    "Ledger",
    "NotableLead",
    "OutcomeCounts",
    "ProgressCallback",
    "RequestCounts",
    "RunOptions",
    "StopResult",
    "ValidationReport",
    "campaign_status",
    "derive_external_id",
    "list_campaigns",
    "start_campaign",
    "stop_campaign",
]

__getattr__ = lazy_exports(__name__, __file__)
