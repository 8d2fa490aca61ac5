"""Step 2 of a run: put every ready lead into the auto-dialer exactly once.

How "never twice" holds even when answers are late, lost or never awaited:

1. Write-ahead, per request: right before a chunk (≤50 leads) is sent, the run renews its lease (so a run
   that lost the campaign to another one sends nothing) and records the chunk's leads as `unknown` with
   `sent_at` and `settle_at`, in one fenced transaction that takes only leads still `contact_ready` (a
   stop may have removed some meanwhile; those are not sent). A cancel, Ctrl-C, kill or crash at any later
   point therefore leaves every lead that might have been scheduled marked "unknown", never "not sent".
   Chunks not yet started stay `contact_ready`.
2. The answer replaces that: `scheduled` (with the loop id), `failed` (telli rejected it: safe to send again
   later), or still `unknown` (a timeout, a dropped connection, a 5xx, an unreadable answer). A 500 or 503
   answer means telli is done with the request, so those settle at once; the others keep `settle_at`.
3. Before anything is (re)sent, unknown leads are settled and verified (see `settle.py`).

And never anyone on the do-not-call list: every request (the streamed pass, the rounds, a resume's) asks the
run's `DialBlock` about its chunk's numbers right before the write-ahead, so a number added while the run
works, or between a stop and a resume, is not sent. Such a lead becomes `failed` with `DO_NOT_CALL` in the
write-ahead's transaction, without being written ahead; a later run asks the list again.

Within one run this repeats for up to `max_rounds` rounds; a round starts no new chunk after one came back
unknown (telli is struggling), and the next round settles, verifies and continues.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final

import anyio

from telli_mcp.campaigns.concurrency import single_errors
from telli_mcp.campaigns.ledger import LeadRecord, LeadUpdate
from telli_mcp.campaigns.models import LeadState
from telli_mcp.campaigns.run import RunContext, canonical_id
from telli_mcp.campaigns.settle import settle_unknown
from telli_mcp.client import BatchItemResult, ScheduleCall

__all__ = ["DO_NOT_CALL", "IN_FLIGHT", "SCHEDULE_CHUNK", "Sending", "schedule_all", "send_chunk"]

IN_FLIGHT = "a schedule request was sent; telli's answer has not been recorded"
DO_NOT_CALL: Final = "on the do-not-call list; not dialled"
"""Why a lead was not sent: its number is on the do-not-call list. The same text as
`telli_mcp.do_not_call.DO_NOT_CALL_REASON` (every dial path reports a refused number alike; a test keeps the
two equal, as this package cannot import that one)."""
SCHEDULE_CHUNK = 50
LATE_WRITE_AHEAD: Final = timedelta(seconds=5)
"""A write-ahead that took longer than this (a database that barely answers) is not followed by its request: the
settle time it recorded counts from before it, and a request sent much later could still land after another run,
trusting that time, verified the leads as unscheduled and sent them again. The leads stay `unknown` and are
verified, then sent, once they have settled."""
ANSWERED_SERVER_ERRORS = frozenset({500, 501, 503, 505})
"""5xx answers that come from telli itself once it is done with the request. 502 and 504 are a proxy that
gave up waiting for telli, which may still apply the request, so they keep the settle wait."""


async def schedule_all(run: RunContext, rounds: int) -> None:
    """Settle and verify unknown leads, schedule ready ones, for up to `rounds` rounds (after the streamed
    pass, which was the first).

    Raises:
        StopRequested: the campaign was stopped meanwhile (leads in flight stay `unknown`).
        LeaseLostError: another run took the campaign over.
    """
    for round_number in range(rounds + 1):
        await settle_unknown(run)
        ready = run.ledger.leads(run.campaign_id, [LeadState.CONTACT_READY])
        if not ready or round_number == rounds:
            return
        run.check_stop()
        sending = await _send_all(run, ready)
        if not sending.troubled:
            return


@dataclass
class Sending:
    """Schedule chunks and how far the workers got (one round, or the streamed pass)."""

    chunks: list[Sequence[LeadRecord]] = field(default_factory=list)
    total: int = 0
    """Leads handed to scheduling (grows during the streamed pass)."""
    next_index: int = 0
    handled: int = 0
    troubled: bool = False
    """A chunk came back unknown: start no new chunk this round."""

    def take(self) -> Sequence[LeadRecord] | None:
        if self.troubled or self.next_index >= len(self.chunks):
            return None
        self.next_index += 1
        return self.chunks[self.next_index - 1]


async def _send_all(run: RunContext, ready: Sequence[LeadRecord]) -> Sending:
    chunks = [ready[start : start + SCHEDULE_CHUNK] for start in range(0, len(ready), SCHEDULE_CHUNK)]
    sending = Sending(chunks=chunks, total=len(ready))

    async def worker() -> None:
        while (chunk := sending.take()) is not None:
            await send_chunk(run, chunk, sending)

    with single_errors():
        async with anyio.create_task_group() as group:
            for _ in range(min(run.options.schedule_concurrency, len(chunks))):
                group.start_soon(worker)
    return sending


async def send_chunk(run: RunContext, chunk: Sequence[LeadRecord], sending: Sending) -> None:
    """Refuse the leads on the do-not-call list, write the others ahead, send one schedule request (≤50
    leads), record its answer, report progress."""
    run.check_stop()
    refused = _refused(run, chunk)
    sent_at = run.now()
    marked = run.ledger.mark_in_flight(
        run.campaign_id,
        [record.row for record in chunk if record.row not in refused],
        sent_at=sent_at,
        settle_at=sent_at + run.settle_after,
        note=IN_FLIGHT,
        lease=run.lease,
        renew_ttl=run.options.lease_ttl,  # the renewal and the write-ahead in one transaction
        refused=refused,
        refused_note=DO_NOT_CALL,
    )
    to_send = [record for record in chunk if record.row in marked]
    if to_send and run.now() - sent_at > LATE_WRITE_AHEAD:
        sending.troubled = True  # the leads wait for their settle time, like those of a request that failed
    elif to_send:
        await _send(run, to_send, sending)
    sending.handled += len(chunk)
    await run.progress(
        "schedule", sending.handled, sending.total, f"Scheduling: {sending.handled}/{sending.total} sent"
    )


def _refused(run: RunContext, chunk: Sequence[LeadRecord]) -> set[int]:
    """The rows of `chunk` whose number is on the do-not-call list now."""
    if run.dial_block is None:
        return set()
    blocked = run.dial_block.blocked({record.e164 for record in chunk})
    return {record.row for record in chunk if record.e164 in blocked}


async def _send(run: RunContext, chunk: Sequence[LeadRecord], sending: Sending) -> None:
    """One schedule request; its answer replaces the write-ahead."""
    by_contact = {canonical_id(record.contact_id or ""): record for record in chunk}
    report = await run.client.calls.schedule_batch([_item(run, record) for record in chunk])
    run.stats.requests.schedule_batches += report.requests_sent
    answered_at = run.now()
    answered = ((by_contact.get(canonical_id(item.ref)), item) for item in report.items)
    run.record([_result(record, item, answered_at) for record, item in answered if record is not None])
    if report.unknown:
        sending.troubled = True


def _item(run: RunContext, record: LeadRecord) -> ScheduleCall:
    # Built without validation: the agent and caller id were checked with the plan, the contact id is the
    # one telli gave the contact; checking them again for each of 50,000 leads costs more than the request.
    return ScheduleCall.model_construct(
        contact_id=record.contact_id or "",
        agent_id=run.agent_id,
        max_retry_days=run.max_retry_days,
        override_from_number=run.from_number,
    )


def _result(record: LeadRecord, item: BatchItemResult, answered_at: datetime) -> LeadUpdate:
    match item.status:
        case "success":
            return LeadUpdate(row=record.row, state=LeadState.SCHEDULED, loop_id=item.loop_id)
        case "error":
            code = f" (code {item.error_code})" if item.error_code is not None else ""
            reason = f"telli did not schedule the call: {item.error or 'no reason given'}{code}"
            return LeadUpdate(row=record.row, state=LeadState.FAILED, last_error=reason)
        case "unknown":
            answered = item.error_code in ANSWERED_SERVER_ERRORS
            return LeadUpdate(
                row=record.row,
                state=LeadState.UNKNOWN,
                last_error=item.error or IN_FLIGHT,
                settle_at=answered_at if answered else None,  # None keeps sent_at + timeout + margin
            )
        case _:
            return LeadUpdate(row=record.row, state=LeadState.CONTACT_READY)
