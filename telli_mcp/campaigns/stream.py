"""The streamed pass of a run: validate, record, create and schedule the leads chunk by chunk, all at once.

Three stages joined by unbuffered streams, so each hands work on only when the next one takes it:

1. The producer validates the next chunk of `CHUNK` leads (a slice at a time, with checkpoints, so the
   event loop keeps answering telli meanwhile), records it in the ledger as `pending` (one fenced
   transaction; rows a previous run recorded keep their state) and hands it on.
2. `contact_concurrency` contact workers create the chunk's pending leads with one add-contacts-batch
   request, look up the ones whose external id exists, and hand the ready leads on in schedule chunks.
3. `schedule_concurrency` schedule workers send them exactly as a round of `scheduling.py` does (write-ahead
   first; see there for "never twice").

So while one chunk's schedule requests are in flight, the next chunk is being created and the one after is
being validated. What the run holds is bounded by the chunk size, not the campaign: the chunk being
validated, the one waiting to be taken, and the chunks the contact workers are handing on (at most
`contact_concurrency`), whatever the campaign's size. Leads already scheduled, in flight (`unknown`, settled
by the rounds that follow) or failed for good are only recorded, never sent again.

A schedule chunk that comes back unknown means telli is struggling: like a round, the pass starts no new
schedule request after it (the leads stay `contact_ready`), keeps creating contacts, and leaves the rest to
the rounds that follow, which settle, verify and continue.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import TypeVar

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from telli_mcp.campaigns.concurrency import single_errors
from telli_mcp.campaigns.ledger import LeadRecord
from telli_mcp.campaigns.models import LeadState
from telli_mcp.campaigns.planning import Scan, ZonedLead
from telli_mcp.campaigns.run import RunContext
from telli_mcp.campaigns.scheduling import SCHEDULE_CHUNK, Sending, send_chunk
from telli_mcp.campaigns.upsert import create_or_find

__all__ = ["CHUNK", "stream_leads"]

CHUNK = 1000
"""Leads validated, recorded and created together: one add-contacts-batch request (its documented limit)."""

T = TypeVar("T")
_Recorded = tuple[list[ZonedLead], list[LeadRecord]]


@dataclass
class _Pass:
    run: RunContext
    scan: Scan
    sending: Sending
    created: int = 0


async def stream_leads(
    run: RunContext, scan: Scan, first: list[ZonedLead], rest: AsyncIterator[list[ZonedLead]]
) -> None:
    """Take every chunk of `scan` (`first`, then `rest`) through record, create and schedule.

    Raises:
        StopRequested: the campaign was stopped meanwhile.
        LeaseLostError: another run took the campaign over.
        CampaignConflictError: the ledger recorded other leads for this campaign id.
    """
    state = _Pass(run=run, scan=scan, sending=Sending())
    # One validated chunk may wait for a contact worker: validation runs ahead of creation by one chunk.
    to_contacts, contacts_in = anyio.create_memory_object_stream[_Recorded](1)
    # A schedule chunk ready for every schedule worker: none of them waits for the next hand-over.
    to_schedule, schedule_in = anyio.create_memory_object_stream[Sequence[LeadRecord]](run.options.schedule_concurrency)
    with single_errors():
        async with anyio.create_task_group() as group:
            group.start_soon(_produce, state, first, rest, to_contacts)
            for _ in range(run.options.contact_concurrency):
                group.start_soon(_contacts, state, contacts_in.clone(), to_schedule.clone())
            for _ in range(run.options.schedule_concurrency):
                group.start_soon(_schedule, state, schedule_in.clone())
            # The workers hold clones: a stream ends when the last of its senders is closed.
            contacts_in.close()
            to_schedule.close()
            schedule_in.close()
    # A stop drains the pass instead of cancelling it: requests in flight finish and their answers are
    # recorded (a cancelled one would leave its leads `unknown`); nothing new is sent after the stop.
    run.check_stop()


async def _produce(
    state: _Pass,
    first: list[ZonedLead],
    rest: AsyncIterator[list[ZonedLead]],
    out: MemoryObjectSendStream[_Recorded],
) -> None:
    run = state.run
    async with out:
        chunk: list[ZonedLead] | None = first
        while chunk is not None and not run.stopped():
            records = run.ledger.record_leads(run.campaign_id, [zoned.lead for zoned in chunk], lease=run.lease)
            await _hand_on(out, (chunk, records))
            chunk = await anext(rest, None)


async def _contacts(
    state: _Pass, chunks: MemoryObjectReceiveStream[_Recorded], out: MemoryObjectSendStream[Sequence[LeadRecord]]
) -> None:
    run = state.run
    async with chunks, out:
        async for leads, records in chunks:
            if run.stopped():
                continue
            by_row = {zoned.lead.row: zoned for zoned in leads}
            pending = [(record, by_row[record.row]) for record in records if record.state is LeadState.PENDING]
            ready = [record for record in records if record.state is LeadState.CONTACT_READY]

            async def progress(count: int) -> None:
                state.created += count
                known = state.scan.validator.valid
                await run.progress("contacts", state.created, known, f"Contacts: {state.created}/{known} sent")

            ready += await create_or_find(run, pending, progress)
            ready.sort(key=lambda record: record.row)
            state.sending.total += len(ready)
            for start in range(0, len(ready), SCHEDULE_CHUNK):
                await _hand_on(out, ready[start : start + SCHEDULE_CHUNK])


async def _hand_on(out: MemoryObjectSendStream[T], item: T) -> None:
    try:
        # Without a checkpoint while there is room: the next stage's workers all start at once.
        out.send_nowait(item)
    except anyio.WouldBlock:
        await _send_or_quit(out, item)
    except anyio.BrokenResourceError:
        await _quit()


async def _send_or_quit(out: MemoryObjectSendStream[T], item: T) -> None:
    try:
        await out.send(item)
    except anyio.BrokenResourceError:
        await _quit()


async def _quit() -> None:
    # Every worker of the next stage is gone, which happens only when one failed: the task group raises
    # that failure; this stage stops quietly instead of adding an error of its own.
    await anyio.lowlevel.checkpoint()


async def _schedule(state: _Pass, chunks: MemoryObjectReceiveStream[Sequence[LeadRecord]]) -> None:
    async with chunks:
        async for chunk in chunks:
            if state.sending.troubled or state.run.stopped():
                state.sending.handled += len(chunk)  # left `contact_ready` for the rounds that follow
                continue
            await send_chunk(state.run, chunk, state.sending)
