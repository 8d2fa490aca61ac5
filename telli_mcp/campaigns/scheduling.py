"""Step 2 of a run: put every ready lead into the auto-dialer exactly once.

How "never twice" holds even when responses are lost:

1. Write-ahead: before a batch is sent, its leads are recorded as `unknown` ("a request may have been
   applied"). A crash or kill at any point therefore leaves no lead that might have been scheduled looking
   like it was not.
2. After each chunk the per-item results replace that: `scheduled` (with the loop id), `failed` (telli
   rejected it: safe to send again later), `unknown` (5xx or timeout after sending), or back to
   `contact_ready` for chunks never sent.
3. Before anything is (re)sent, `unknown` leads are verified with get-contacts-batch (1000 per request):
   a contact that is or was in the dialer (reached, pending, closed, or a next call planned) counts as
   scheduled and is never sent again; a contact still `new` was not scheduled and is sent again.

Within one run this repeats for up to `max_rounds` rounds; a batch stops at the first chunk that fails as a
whole (telli is struggling), the next round verifies and continues.
"""

from __future__ import annotations

from collections.abc import Sequence

from telli_mcp.campaigns.concurrency import single_errors
from telli_mcp.campaigns.contact_state import was_scheduled
from telli_mcp.campaigns.ledger import LeadRecord, LeadUpdate
from telli_mcp.campaigns.models import LeadState
from telli_mcp.campaigns.run import RunContext, StopRequested, canonical_id
from telli_mcp.client import BatchItemResult, BatchReport, ContactV1, ScheduleCall, TelliError

__all__ = ["IN_FLIGHT", "schedule_all", "verify_unknown"]

IN_FLIGHT = "a schedule request was sent; telli's answer has not been recorded"
VERIFY_CHUNK = 1000


async def schedule_all(run: RunContext) -> None:
    """Verify unknown leads and schedule ready ones, for up to `max_rounds` rounds.

    Raises:
        StopRequested: the campaign was stopped meanwhile (leads in flight stay `unknown`).
    """
    for round_number in range(run.options.max_rounds + 1):
        await verify_unknown(run)
        ready = run.ledger.leads(run.campaign_id, [LeadState.CONTACT_READY])
        if not ready or round_number == run.options.max_rounds:
            return
        if run.stop_requested():
            raise StopRequested
        report = await _schedule(run, ready)
        if not report.unknown and not report.not_sent:
            return


async def verify_unknown(run: RunContext) -> None:
    """Resolve `unknown` leads from telli's view of their contacts."""
    unknown = [record for record in run.ledger.leads(run.campaign_id, [LeadState.UNKNOWN]) if record.contact_id]
    for start in range(0, len(unknown), VERIFY_CHUNK):
        chunk = unknown[start : start + VERIFY_CHUNK]
        try:
            result = await run.client.contacts_v1.get_batch([record.contact_id or "" for record in chunk])
        except TelliError:
            return  # telli is unavailable: the leads stay unknown and are verified by a later round or run
        run.stats.requests.verify_batches += result.requests_sent
        found = {canonical_id(contact.contact_id): contact for contact in result.found}
        updates = [_verified(record, found) for record in chunk]
        run.record(updates)
        done = start + len(chunk)
        await run.progress("verify", done, len(unknown), f"Verified {done}/{len(unknown)} unconfirmed leads")


def _verified(record: LeadRecord, found: dict[str, ContactV1]) -> LeadUpdate:
    contact = found.get(canonical_id(record.contact_id or ""))
    if contact is None:
        return LeadUpdate(row=record.row, state=LeadState.FAILED, last_error="the contact no longer exists in telli")
    if was_scheduled(contact):
        return LeadUpdate(row=record.row, state=LeadState.SCHEDULED)
    return LeadUpdate(row=record.row, state=LeadState.CONTACT_READY)


async def _schedule(run: RunContext, ready: Sequence[LeadRecord]) -> BatchReport:
    by_contact = {canonical_id(record.contact_id or ""): record for record in ready}
    run.record([LeadUpdate(row=record.row, state=LeadState.UNKNOWN, last_error=IN_FLIGHT) for record in ready])
    handled = 0

    async def on_chunk(done: int, chunks: int, report: BatchReport) -> None:
        nonlocal handled
        run.record(_results(report.items, by_contact))
        handled += len(report.items)
        await run.progress("schedule", handled, len(ready), f"Scheduling: chunk {done}/{chunks} sent")
        if run.stop_requested():
            raise StopRequested

    items = [
        ScheduleCall(
            contact_id=record.contact_id or "",
            agent_id=run.agent_id,
            max_retry_days=run.max_retry_days,
            override_from_number=run.from_number,
        )
        for record in ready
    ]
    with single_errors():
        report = await run.client.calls.schedule_batch(
            items, concurrency=run.options.schedule_concurrency, on_chunk=on_chunk, stop_on_error=True
        )
    run.stats.requests.schedule_batches += report.requests_sent
    run.record(_results(report.items, by_contact))
    return report


def _results(items: Sequence[BatchItemResult], by_contact: dict[str, LeadRecord]) -> list[LeadUpdate]:
    updates = []
    for item in items:
        record = by_contact.get(canonical_id(item.ref))
        if record is not None:
            updates.append(_result(record, item))
    return updates


def _result(record: LeadRecord, item: BatchItemResult) -> LeadUpdate:
    match item.status:
        case "success":
            return LeadUpdate(row=record.row, state=LeadState.SCHEDULED, loop_id=item.loop_id)
        case "error":
            code = f" (code {item.error_code})" if item.error_code is not None else ""
            reason = f"telli did not schedule the call: {item.error or 'no reason given'}{code}"
            return LeadUpdate(row=record.row, state=LeadState.FAILED, last_error=reason)
        case "unknown":
            return LeadUpdate(row=record.row, state=LeadState.UNKNOWN, last_error=item.error or IN_FLIGHT)
        case _:
            return LeadUpdate(row=record.row, state=LeadState.CONTACT_READY)
