"""Start or resume a campaign: validate, record in the ledger, create contacts, schedule calls.

A campaign id is the unit of resumption. Starting an id the ledger knows resumes it: the same leads (same
source checksum and options, else `CampaignConflictError`), only leads not yet scheduled are sent, and
leads whose earlier request may have been applied are verified first (see `scheduling.py`). Leads that
telli definitely rejected are retried by a re-run. A stopped campaign cannot be started again.
"""

from __future__ import annotations

import secrets

from telli_mcp.campaigns.errors import (
    CampaignBusyError,
    CampaignConflictError,
    CampaignNotLaunchableError,
    CampaignStoppedError,
)
from telli_mcp.campaigns.ledger import CampaignRecord, LeadUpdate, Ledger, NewCampaign
from telli_mcp.campaigns.models import CampaignRequest, CampaignState, Lead, LeadState, LeadStateCounts
from telli_mcp.campaigns.planning import prepare
from telli_mcp.campaigns.results import (
    MAX_FAILURES_SHOWN,
    CampaignPlan,
    CampaignRunResult,
    LeadFailure,
    ProgressCallback,
)
from telli_mcp.campaigns.run import RunContext, RunOptions, StopRequested
from telli_mcp.campaigns.scheduling import schedule_all
from telli_mcp.campaigns.stop import stop_campaign
from telli_mcp.campaigns.upsert import ensure_contacts
from telli_mcp.client import TelliClient

__all__ = ["start_campaign"]


async def start_campaign(
    client: TelliClient,
    ledger: Ledger,
    source: CampaignPlan | CampaignRequest,
    *,
    on_progress: ProgressCallback | None = None,
    options: RunOptions | None = None,
) -> CampaignRunResult:
    """Run (or resume) a campaign until every lead is scheduled, failed, or unverifiable for now.

    `source` is the plan the human confirmed, or a request (which is planned first). An exception raised
    by `on_progress` aborts the run; starting the same campaign id again resumes it.

    Raises:
        CampaignNotLaunchableError: validation, agent or caller id block the launch.
        CampaignConflictError: the id exists with other leads/options, or the leads changed since the plan.
        CampaignStoppedError: the campaign was stopped.
        CampaignBusyError: another run of this campaign is in progress.
        LeadSourceError: the leads could not be read.
        TelliError: a step failed as a whole (e.g. the property schema could not be read).
    """
    request = source.request if isinstance(source, CampaignPlan) else source
    prepared = await prepare(client, ledger, request)
    plan = prepared.plan
    if isinstance(source, CampaignPlan) and source.source_sha256 != plan.source_sha256:
        raise CampaignConflictError("The leads changed since the plan was confirmed; plan the campaign again.")
    if not plan.launchable:
        raise CampaignNotLaunchableError(plan.validation, plan.blocking_reasons)
    record, resumed = _open(ledger, plan, prepared.leads)
    run = RunContext(
        client=client,
        ledger=ledger,
        campaign_id=record.id,
        agent_id=record.agent_id,
        from_number=record.from_number,
        max_retry_days=record.max_retry_days,
        leads={lead.row: lead for lead in prepared.leads},
        token=secrets.token_hex(8),
        options=options or RunOptions(),
        on_progress=on_progress,
    )
    _claim(ledger, run)
    before = ledger.state_counts(record.id)
    reused = sum(1 for lead in ledger.leads(record.id) if lead.contact_id)
    final = await _execute(run)
    if final is CampaignState.STOPPED:
        await stop_campaign(client, ledger, record.id)
    return _result(run, plan, record, before, reused, resumed)


def _open(ledger: Ledger, plan: CampaignPlan, leads: list[Lead]) -> tuple[CampaignRecord, bool]:
    """The campaign's ledger record, created on first start; True when it already existed."""
    existing = ledger.get_campaign(plan.campaign_id)
    if existing is None:
        return ledger.create_campaign(_new_record(plan, len(leads)), leads), False
    recorded = {(lead.row, lead.external_id) for lead in ledger.leads(existing.id)}
    if recorded != {(lead.row, lead.external_id) for lead in leads}:
        raise CampaignConflictError(
            f"Campaign {existing.id!r} recorded other valid leads than the list validates to now (did the "
            "property schema or ignore_unknown_columns change?). Use a new campaign id."
        )
    return existing, True


def _new_record(plan: CampaignPlan, leads_count: int) -> NewCampaign:
    return NewCampaign(
        id=plan.campaign_id,
        name=plan.name,
        agent_id=plan.agent_id,
        from_number=plan.from_number,
        max_retry_days=plan.max_retry_days,
        default_region=plan.request.default_region,
        source=plan.source,
        source_sha256=plan.source_sha256,
        leads_count=leads_count,
        invalid_count=plan.validation.invalid_leads_count,
    )


def _claim(ledger: Ledger, run: RunContext) -> None:
    if ledger.claim_run(run.campaign_id, run.token, stale_after=run.options.stale_after):
        return
    current = ledger.get_campaign(run.campaign_id)
    if current is not None and current.status is CampaignState.STOPPED:
        raise CampaignStoppedError(run.campaign_id)
    raise CampaignBusyError(
        f"Campaign {run.campaign_id!r} is being run right now (last activity "
        f"{current.run_heartbeat if current else 'unknown'}). Wait for it to finish; if that process died, "
        f"it can be resumed once it has been silent for {run.options.stale_after}."
    )


async def _execute(run: RunContext) -> CampaignState:
    final = CampaignState.INTERRUPTED
    try:
        _retry_failed(run)
        await ensure_contacts(run)
        await schedule_all(run)
        counts = run.ledger.state_counts(run.campaign_id)
        final = CampaignState.COMPLETED if counts.scheduled == counts.total else CampaignState.INCOMPLETE
    except StopRequested:
        final = CampaignState.STOPPED
    finally:
        run.ledger.release_run(run.campaign_id, run.token, final)
    return final


def _retry_failed(run: RunContext) -> None:
    """Definite rejections of an earlier run were never applied, so a re-run may send them again."""
    failed = run.ledger.leads(run.campaign_id, [LeadState.FAILED])
    run.record(
        [
            LeadUpdate(row=record.row, state=LeadState.CONTACT_READY if record.contact_id else LeadState.PENDING)
            for record in failed
        ]
    )


def _result(
    run: RunContext,
    plan: CampaignPlan,
    record: CampaignRecord,
    before: LeadStateCounts,
    reused: int,
    resumed: bool,
) -> CampaignRunResult:
    counts = run.ledger.state_counts(record.id)
    campaign = run.ledger.get_campaign(record.id)
    status = campaign.status if campaign is not None else CampaignState.INTERRUPTED
    failed = run.ledger.leads(record.id, [LeadState.FAILED])
    failures = [
        LeadFailure(row=lead.row, external_id=lead.external_id, phone_number=lead.e164, reason=lead.last_error or "")
        for lead in failed[:MAX_FAILURES_SHOWN]
    ]
    return CampaignRunResult(
        campaign_id=record.id,
        name=record.name,
        agent_id=record.agent_id,
        from_number=record.from_number,
        status=status,
        resumed=resumed,
        validation=plan.validation,
        leads_total=counts.total,
        contacts_created=run.stats.created,
        contacts_existing=run.stats.existing,
        contacts_reused=reused,
        scheduled_now=max(0, counts.scheduled - before.scheduled),
        scheduled_before=before.scheduled,
        scheduled_total=counts.scheduled,
        failed=counts.failed,
        unknown=counts.unknown,
        pending=counts.pending + counts.contact_ready,
        failures=failures,
        failures_truncated=max(0, len(failed) - MAX_FAILURES_SHOWN),
        requests=run.stats.requests,
        message=_message(status, counts, record),
    )


def _message(status: CampaignState, counts: LeadStateCounts, record: CampaignRecord) -> str:
    total = counts.total
    if status is CampaignState.STOPPED:
        return f"Campaign {record.id} was stopped while it ran; its contacts were taken off the auto-dialer."
    text = f"Campaign {record.id}: {counts.scheduled} of {total} leads are in telli's auto-dialer"
    open_items = []
    if counts.failed:
        open_items.append(f"{counts.failed} failed (see failures)")
    if counts.unknown:
        open_items.append(f"{counts.unknown} could not be confirmed yet")
    if counts.pending + counts.contact_ready:
        open_items.append(f"{counts.pending + counts.contact_ready} were not sent")
    if open_items:
        text += "; " + ", ".join(open_items) + f". Start campaign {record.id} again to retry them"
    return text + ". telli calls each contact inside the dialer window in the contact's timezone."
