"""Campaigns as recorded in the ledger (no request to telli)."""

from __future__ import annotations

from telli_mcp.campaigns.ledger import CampaignRecord, Ledger
from telli_mcp.campaigns.results import CampaignPage, CampaignSummary

__all__ = ["MAX_PAGE_SIZE", "list_campaigns", "summarize"]

MAX_PAGE_SIZE = 100


def summarize(ledger: Ledger, record: CampaignRecord) -> CampaignSummary:
    """The ledger's view of one campaign, with a crashed run (lapsed lease, or exited process on this
    machine) shown as `interrupted`."""
    return CampaignSummary(
        campaign_id=record.id,
        name=record.name,
        agent_id=record.agent_id,
        from_number=record.from_number,
        max_retry_days=record.max_retry_days,
        status=record.effective_status(ledger.clock()),
        source=record.source,
        leads_count=record.leads_count,
        invalid_count=record.invalid_count,
        created_at=record.created_at,
        updated_at=record.updated_at,
        counts=ledger.state_counts(record.id),
    )


def list_campaigns(ledger: Ledger, *, limit: int = 20, cursor: str | None = None) -> CampaignPage:
    """Newest first; `limit` is clamped to 1-100.

    Raises:
        CampaignError: the cursor is not one this function returned.
    """
    records, next_cursor = ledger.list_campaigns(limit=min(max(limit, 1), MAX_PAGE_SIZE), cursor=cursor)
    return CampaignPage(items=[summarize(ledger, record) for record in records], next_cursor=next_cursor)
