"""Stop a campaign: take its contacts off the auto-dialer and make sure no later run schedules them.

The campaign is marked `stopped` first, so a run in progress (in this or another process) aborts at its
next chunk and a later start is refused. Leads never scheduled become `removed` without a request. For the
others, telli's view is read first (get-contacts-batch, 1000 per request) and only contacts still in the
dialer are sent to remove-from-auto-dialer-batch (50 per request); reached or closed contacts need nothing.
"Not in a dialer queue" counts as already stopped. A second stop finds nothing left and sends nothing.

A lead whose schedule request is still unsettled (sent, no answer, and telli may still apply it: see
`settle.py`) and that is not in the dialer yet stays `unknown` instead of becoming `removed`, and the result
says until when telli may still apply it, so that a stop run after that time takes it off if it landed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from pydantic import BaseModel, Field

from telli_mcp.campaigns.concurrency import single_errors
from telli_mcp.campaigns.contact_state import in_dialer
from telli_mcp.campaigns.errors import CampaignNotFoundError
from telli_mcp.campaigns.ledger import LeadRecord, LeadUpdate, Ledger
from telli_mcp.campaigns.models import CampaignState, LeadState
from telli_mcp.campaigns.results import (
    MAX_FAILURES_SHOWN,
    CampaignProgress,
    LeadFailure,
    ProgressCallback,
    StopResult,
)
from telli_mcp.campaigns.run import canonical_id
from telli_mcp.campaigns.settle import settled_at
from telli_mcp.client import BatchItemResult, BatchReport, TelliClient

__all__ = ["stop_campaign"]

CHECK_CHUNK = 1000
_NOTHING_TO_REMOVE = re.compile(r"not (in|on) (a |the )?(auto[- ]?)?dialer|not found", re.IGNORECASE)
_NEVER_SCHEDULED = "stopped before it was scheduled"
_NOT_IN_DIALER = "not in the auto-dialer when the campaign was stopped"


class _Tally(BaseModel):
    removed_now: int = 0
    already_stopped: int = 0
    unknown: int = 0
    unsettled: int = 0
    """Leads not in the dialer now whose schedule request telli may still apply."""
    settles_at: datetime | None = None
    failed: int = 0
    requests_sent: int = 0
    failures: list[LeadFailure] = Field(default_factory=list)


async def stop_campaign(
    client: TelliClient,
    ledger: Ledger,
    campaign_id: str,
    *,
    on_progress: ProgressCallback | None = None,
    concurrency: int = 4,
) -> StopResult:
    """Take every still-pending contact of the campaign off the auto-dialer (idempotent).

    Raises:
        CampaignNotFoundError: no such campaign in the ledger.
        TelliError: telli could not be read; the campaign stays stopped, stop again to finish.
    """
    campaign = ledger.get_campaign(campaign_id)
    if campaign is None:
        raise CampaignNotFoundError(campaign_id)
    ledger.set_status(campaign_id, CampaignState.STOPPED)
    tally = _Tally(already_stopped=ledger.state_counts(campaign_id).removed)
    tally.already_stopped += _drop_unscheduled(ledger, campaign_id)
    candidates = [
        record for record in ledger.leads(campaign_id, [LeadState.SCHEDULED, LeadState.UNKNOWN]) if record.contact_id
    ]
    to_remove = await _still_in_dialer(client, ledger, campaign_id, candidates, tally)
    if to_remove:
        await _remove(client, ledger, campaign_id, to_remove, tally, on_progress, concurrency)
    return _result(campaign_id, tally)


def _drop_unscheduled(ledger: Ledger, campaign_id: str) -> int:
    states = [LeadState.PENDING, LeadState.CONTACT_READY, LeadState.FAILED]
    records = ledger.leads(campaign_id, states)
    ledger.update_leads(
        campaign_id,
        [LeadUpdate(row=record.row, state=LeadState.REMOVED, last_error=_NEVER_SCHEDULED) for record in records],
    )
    return len(records)


async def _still_in_dialer(
    client: TelliClient, ledger: Ledger, campaign_id: str, candidates: Sequence[LeadRecord], tally: _Tally
) -> list[LeadRecord]:
    to_remove: list[LeadRecord] = []
    for start in range(0, len(candidates), CHECK_CHUNK):
        chunk = candidates[start : start + CHECK_CHUNK]
        result = await client.contacts_v1.get_batch([record.contact_id or "" for record in chunk])
        tally.requests_sent += result.requests_sent
        active = {canonical_id(contact.contact_id) for contact in result.found if in_dialer(contact)}
        to_remove.extend(record for record in chunk if canonical_id(record.contact_id or "") in active)
        idle = [record for record in chunk if canonical_id(record.contact_id or "") not in active]
        settled = [record for record in idle if not _unsettled(record, ledger.clock(), tally)]
        ledger.update_leads(
            campaign_id,
            [LeadUpdate(row=record.row, state=LeadState.REMOVED, last_error=_NOT_IN_DIALER) for record in settled],
        )
        tally.already_stopped += len(settled)
    return to_remove


async def _remove(
    client: TelliClient,
    ledger: Ledger,
    campaign_id: str,
    records: Sequence[LeadRecord],
    tally: _Tally,
    on_progress: ProgressCallback | None,
    concurrency: int,
) -> None:
    by_contact = {canonical_id(record.contact_id or ""): record for record in records}
    handled = 0

    async def on_chunk(done: int, chunks: int, report: BatchReport) -> None:
        nonlocal handled
        updates = [_removal(by_contact[canonical_id(item.ref)], item, tally) for item in report.items]
        ledger.update_leads(campaign_id, [update for update in updates if update is not None])
        handled += len(report.items)
        if on_progress is not None:
            message = f"Removing from the auto-dialer: chunk {done}/{chunks} sent"
            await on_progress(
                CampaignProgress(
                    campaign_id=campaign_id, phase="remove", done=handled, total=len(records), message=message
                )
            )

    with single_errors():
        report = await client.calls.remove_from_dialer_batch(
            list(by_contact), concurrency=concurrency, on_chunk=on_chunk, stop_on_error=False
        )
    tally.requests_sent += report.requests_sent


def _unsettled(record: LeadRecord, now: datetime, tally: _Tally) -> bool:
    """True (and counted) when the lead's schedule request may still land in telli's dialer after now."""
    if record.state is not LeadState.UNKNOWN:
        return False
    due = settled_at([record])
    if due <= now:
        return False
    tally.unsettled += 1
    tally.settles_at = max(due, tally.settles_at or due)
    return True


def _removal(record: LeadRecord, item: BatchItemResult, tally: _Tally) -> LeadUpdate | None:
    """The ledger change for one removal; None keeps the lead as it is so the next stop tries again."""
    if item.status == "success":
        tally.removed_now += 1
        return LeadUpdate(row=record.row, state=LeadState.REMOVED)
    # Only telli's own per-contact answer counts; a whole request failing with 404 (error_code set) proves nothing.
    if item.status == "error" and item.error_code is None and _NOTHING_TO_REMOVE.search(item.error or ""):
        tally.already_stopped += 1
        return LeadUpdate(row=record.row, state=LeadState.REMOVED, last_error=_NOT_IN_DIALER)
    if item.status == "error":
        reason = f"telli did not remove the contact: {item.error or 'no reason given'}"
        tally.failed += 1
        if len(tally.failures) < MAX_FAILURES_SHOWN:
            tally.failures.append(
                LeadFailure(row=record.row, external_id=record.external_id, phone_number=record.e164, reason=reason)
            )
        return None
    tally.unknown += 1
    return None


def _result(campaign_id: str, tally: _Tally) -> StopResult:
    failed = tally.failed
    if tally.removed_now == 0 and failed == 0 and tally.unknown == 0:
        message = f"Campaign {campaign_id} is stopped; no contact was left in the auto-dialer."
    else:
        message = f"Campaign {campaign_id} is stopped: {tally.removed_now} contact(s) taken off the auto-dialer."
    if failed or tally.unknown:
        message += f" {failed + tally.unknown} removal(s) are not confirmed; run stop again to retry them."
    if tally.settles_at is not None:
        message += (
            f" {tally.unsettled} lead(s) had a schedule request without an answer that telli may still apply until "
            f"{tally.settles_at.isoformat(timespec='seconds')}; run stop again after that to take them off if it did."
        )
    return StopResult(
        campaign_id=campaign_id,
        status=CampaignState.STOPPED,
        removed_now=tally.removed_now,
        already_stopped=tally.already_stopped,
        failed=failed,
        unknown=tally.unknown + tally.unsettled,
        failures=tally.failures,
        requests_sent=tally.requests_sent,
        message=message,
    )
