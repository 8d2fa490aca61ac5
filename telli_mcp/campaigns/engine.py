"""`CampaignEngine`: the one object the MCP layer and the CLI hold to run campaigns.

```python
engine = CampaignEngine(client, Ledger(path, tenant=key_fingerprint), account_timezone="Europe/Berlin")
plan = await engine.plan(CampaignRequest(agent_id=agent, leads_file=Path("leads.csv"), default_region="DE"))
# ... show plan (counts, sample, plan.validation) to the human, ask for confirmation ...
result = await engine.start(plan, on_progress=report_progress)
status = await engine.status(result.campaign_id)
await engine.stop(result.campaign_id)
```
"""

from __future__ import annotations

from typing import Literal, overload

from telli_mcp.campaigns.contact_cache import ContactCache
from telli_mcp.campaigns.dial_block import DialBlock
from telli_mcp.campaigns.event_states import CampaignEvents
from telli_mcp.campaigns.ledger import Ledger
from telli_mcp.campaigns.listing import list_campaigns
from telli_mcp.campaigns.models import CampaignRequest
from telli_mcp.campaigns.planning import prepare
from telli_mcp.campaigns.results import (
    CampaignPage,
    CampaignPlan,
    CampaignRunResult,
    CampaignStatusReport,
    ProgressCallback,
    StopResult,
)
from telli_mcp.campaigns.run import RunOptions
from telli_mcp.campaigns.runner import start_campaign
from telli_mcp.campaigns.status import DEFAULT_MAX_INSPECTED, campaign_status
from telli_mcp.campaigns.stop import stop_campaign
from telli_mcp.client import TelliClient
from telli_mcp.zones import DEFAULT_ACCOUNT_TIMEZONE

__all__ = ["CampaignEngine"]


class CampaignEngine:
    """Plan, start/resume, inspect, stop and list campaigns of one telli account."""

    def __init__(
        self,
        client: TelliClient,
        ledger: Ledger,
        *,
        options: RunOptions | None = None,
        account_timezone: str = DEFAULT_ACCOUNT_TIMEZONE,
        contact_cache: ContactCache | None = None,
        dial_block: DialBlock | None = None,
        opt_out_key: str | None = None,
    ) -> None:
        """`account_timezone`: the clock telli dials contacts without a zone on (`Settings.account_timezone`).
        Waits for telli (letting lost requests settle) use the client's `sleep` and `timeout`.
        `contact_cache`: telli's view of contacts shared between status pages (the store passes one that
        outlives this engine; by default each engine has its own).
        `dial_block`: the account's do-not-call list. Plans count its numbers out (and warn), and every
        schedule request asks it right before it is sent; None: no list, nothing is blocked. Status pages leave
        its numbers out of what they propose to add.
        `opt_out_key`: the account's own opt-out outcome (`Settings.opt_out_key`), read by status pages besides
        the built-in names (`outcomes.py`)."""
        self.client = client
        self.ledger = ledger
        self.options = options or RunOptions()
        self.account_timezone = account_timezone
        self.contact_cache = contact_cache or ContactCache()
        self.dial_block = dial_block
        self.opt_out_key = opt_out_key

    async def plan(self, request: CampaignRequest, *, check_agent: bool = True) -> CampaignPlan:
        """The dry run: validate and describe; reads the property schema (and agent/phone numbers) only."""
        return await prepare(
            self.client,
            self.ledger,
            request,
            check_agent=check_agent,
            account_timezone=self.account_timezone,
            dial_block=self.dial_block,
        )

    @overload
    async def start(
        self,
        source: CampaignPlan | CampaignRequest,
        *,
        dry_run: Literal[False] = False,
        on_progress: ProgressCallback | None = None,
    ) -> CampaignRunResult: ...

    @overload
    async def start(
        self,
        source: CampaignPlan | CampaignRequest,
        *,
        dry_run: Literal[True],
        on_progress: ProgressCallback | None = None,
    ) -> CampaignPlan: ...

    async def start(
        self,
        source: CampaignPlan | CampaignRequest,
        *,
        dry_run: bool = False,
        on_progress: ProgressCallback | None = None,
    ) -> CampaignRunResult | CampaignPlan:
        """Start or resume; with `dry_run=True` only the plan (validation report included) is returned."""
        if dry_run:
            request = source.request if isinstance(source, CampaignPlan) else source
            return await self.plan(request)
        try:
            return await start_campaign(
                self.client,
                self.ledger,
                source,
                on_progress=on_progress,
                options=self.options,
                account_timezone=self.account_timezone,
                dial_block=self.dial_block,
            )
        finally:
            self.contact_cache.forget(self.ledger.tenant)  # even a run cut short may have scheduled some

    async def status(
        self,
        campaign_id: str,
        *,
        limit: int = 20,
        cursor: str | None = None,
        max_inspected: int = DEFAULT_MAX_INSPECTED,
        events: CampaignEvents | None = None,
    ) -> CampaignStatusReport:
        """Live status from telli (or from its webhook `events` where they cover the campaign) plus one page of
        notable leads (a window of the campaign; see `status.py`)."""
        return await campaign_status(
            self.client,
            self.ledger,
            campaign_id,
            limit=limit,
            cursor=cursor,
            max_inspected=max_inspected,
            cache=self.contact_cache,
            events=events,
            opt_out_key=self.opt_out_key,
            dial_block=self.dial_block,
        )

    async def stop(self, campaign_id: str, *, on_progress: ProgressCallback | None = None) -> StopResult:
        """Take the campaign's pending contacts off the auto-dialer (idempotent)."""
        try:
            return await stop_campaign(self.client, self.ledger, campaign_id, on_progress=on_progress)
        finally:
            self.contact_cache.forget(self.ledger.tenant)

    def list(self, *, limit: int = 20, cursor: str | None = None) -> CampaignPage:
        """Campaigns in the ledger, newest first (no request to telli)."""
        return list_campaigns(self.ledger, limit=limit, cursor=cursor)
