"""Start or resume a campaign: check, take the lease, then validate, record, create and schedule in chunks.

The order of a run: what blocks a launch whatever the rows hold (columns, agent, caller id) is checked
first; the first chunk is validated (a list without one valid lead records and sends nothing); the campaign
is recorded and its lease taken; requests an earlier run left in flight are settled; then `stream.py` takes
the leads through record, create and schedule chunk by chunk, and the rounds of `upsert.py` and
`scheduling.py` retry what is left (reading a lead's data from the source again only for those leads).

A campaign id is the unit of resumption. Starting an id the ledger knows resumes it: the same leads (same
source checksum and options, else `CampaignConflictError`), only leads not yet scheduled are sent, and
leads whose earlier request may have been applied are settled and verified first (see `settle.py`). Leads
that telli definitely rejected are retried by a re-run. A stopped campaign cannot be started again.

While it works the run holds the campaign's lease (see `lease.py`) and renews it in the background; losing
it to another run aborts this one with `LeaseLostError`, and every ledger write it makes is fenced by it. A run
ends by giving the lease back, except when the database failed under it: then it leaves the campaign as a run
whose process died does, for any replica to resume (see `_release`).
"""

from __future__ import annotations

import gc
import secrets
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager, suppress
from datetime import datetime, timedelta

import anyio

from telli_mcp.campaigns.concurrency import single_errors
from telli_mcp.campaigns.dial_block import DialBlock
from telli_mcp.campaigns.errors import (
    CampaignBusyError,
    CampaignConflictError,
    CampaignNotLaunchableError,
    CampaignStoppedError,
    LeaseLostError,
)
from telli_mcp.campaigns.lease import Lease
from telli_mcp.campaigns.ledger import CampaignRecord, LeadUpdate, Ledger, NewCampaign
from telli_mcp.campaigns.models import CampaignRequest, CampaignState, LeadState, LeadStateCounts
from telli_mcp.campaigns.planning import Opened, Scan, ZonedLead, open_campaign
from telli_mcp.campaigns.results import (
    MAX_FAILURES_SHOWN,
    CampaignPlan,
    CampaignRunResult,
    LeadFailure,
    ProgressCallback,
    ReasonCount,
)
from telli_mcp.campaigns.run import RunContext, RunOptions, StopRequested
from telli_mcp.campaigns.scheduling import DO_NOT_CALL, schedule_all
from telli_mcp.campaigns.settle import settle_unknown
from telli_mcp.campaigns.stop import stop_campaign
from telli_mcp.campaigns.stream import CHUNK, stream_leads
from telli_mcp.campaigns.upsert import ensure_contacts
from telli_mcp.client import TelliClient
from telli_mcp.database.errors import DatabaseUnavailable
from telli_mcp.zones import DEFAULT_ACCOUNT_TIMEZONE

__all__ = ["start_campaign"]

MAX_REASONS_SHOWN = 5
_OPEN_STATES = (LeadState.FAILED, LeadState.UNKNOWN, LeadState.CONTACT_READY, LeadState.PENDING)


async def start_campaign(
    client: TelliClient,
    ledger: Ledger,
    source: CampaignPlan | CampaignRequest,
    *,
    on_progress: ProgressCallback | None = None,
    options: RunOptions | None = None,
    account_timezone: str = DEFAULT_ACCOUNT_TIMEZONE,
    dial_block: DialBlock | None = None,
) -> CampaignRunResult:
    """Run (or resume) a campaign until every lead is scheduled, failed, or unverifiable for now.

    `source` is the plan the human confirmed, or a request. The leads are validated as they are sent (see
    `stream.py`); what blocks a launch whatever the rows hold (columns, agent, caller id) is checked before
    anything is recorded or sent, and a list without one valid lead sends nothing. An exception raised by
    `on_progress` aborts the run; starting the same campaign id again resumes it. A lead whose number is on
    `dial_block` (the do-not-call list) when its schedule request is due is not sent: it fails with
    `DO_NOT_CALL`.

    Raises:
        CampaignNotLaunchableError: validation, agent or caller id block the launch.
        CampaignConflictError: the id exists with other leads/options, or the leads changed since the plan.
        CampaignStoppedError: the campaign was stopped.
        CampaignBusyError: another run of this campaign holds its lease.
        LeaseLostError: another run took the campaign over while this one ran.
        LeadSourceError: the leads could not be read.
        TelliError: a step failed as a whole (e.g. the property schema could not be read).
    """
    with _collector_skips_older_objects():
        return await _start(client, ledger, source, on_progress, options or RunOptions(), account_timezone, dial_block)


@contextmanager
def _collector_skips_older_objects() -> Iterator[None]:
    """While a run works, the cyclic garbage collector leaves alone what existed before it (the lead list,
    the server's modules and state). A run allocates per lead, which triggers full collections that walked
    all of that again and again (10-14% of a 50,000-lead run). Nothing is kept alive by this: only cycles
    that were garbage already wait until the run ends; concurrent runs at worst end the benefit early."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


async def _start(
    client: TelliClient,
    ledger: Ledger,
    source: CampaignPlan | CampaignRequest,
    on_progress: ProgressCallback | None,
    options: RunOptions,
    account_timezone: str,
    dial_block: DialBlock | None,
) -> CampaignRunResult:
    request = source.request if isinstance(source, CampaignPlan) else source
    opened = await open_campaign(client, ledger, request, account_timezone=account_timezone, dial_block=dial_block)
    if isinstance(source, CampaignPlan) and source.source_sha256 != opened.source.sha256:
        raise CampaignConflictError("The leads changed since the plan was confirmed; plan the campaign again.")
    if opened.blocking_before_rows():
        plan = await Scan(opened).run()
        raise CampaignNotLaunchableError(plan.validation, plan.blocking_reasons)
    scan = Scan(opened)
    chunks = scan.chunks(CHUNK)
    try:
        first = await anext(chunks, None)
        if first is None:
            plan = scan.plan()
            raise CampaignNotLaunchableError(plan.validation, plan.blocking_reasons)
        record, resumed = _open(ledger, opened)
        # Read before the claim: between the claim and `_execute` nothing may fail, or the run would hold the
        # campaign without the rule `_release` applies to how it ended.
        before = ledger.state_counts(record.id)
        reused = ledger.count_with_contact(record.id)
        run = _context(client, ledger, record, opened, _claim(ledger, record.id, options), options, on_progress)
        final = await _execute(run, scan, first, chunks)
    finally:
        await chunks.aclose()
    if final is CampaignState.STOPPED:
        await stop_campaign(client, ledger, record.id)
    return _result(run, scan.plan(), record, before, reused, resumed)


def _open(ledger: Ledger, opened: Opened) -> tuple[CampaignRecord, bool]:
    """The campaign's ledger record, created on first start; True when it already existed. Its leads are
    recorded chunk by chunk as the run validates them (`Ledger.record_leads`)."""
    if opened.existing is not None:
        return opened.existing, True
    return ledger.create_campaign(_new_record(opened)), False


def _new_record(opened: Opened) -> NewCampaign:
    request = opened.request
    return NewCampaign(
        id=opened.campaign_id,
        name=opened.name,
        agent_id=request.agent_id,
        from_number=opened.from_number,
        max_retry_days=request.max_retry_days,
        default_region=request.default_region,
        source=str(request.leads_file) if request.leads_file is not None else opened.source.source,
        source_sha256=opened.source.sha256,
        leads_count=0,
    )


def _context(
    client: TelliClient,
    ledger: Ledger,
    record: CampaignRecord,
    opened: Opened,
    lease: Lease,
    options: RunOptions,
    on_progress: ProgressCallback | None,
) -> RunContext:
    return RunContext(
        client=client,
        ledger=ledger,
        lease=lease,
        agent_id=record.agent_id,
        from_number=record.from_number,
        max_retry_days=record.max_retry_days,
        opened=opened,
        options=options,
        on_progress=on_progress,
    )


def _claim(ledger: Ledger, campaign_id: str, options: RunOptions) -> Lease:
    lease = ledger.claim_run(campaign_id, secrets.token_hex(8), ttl=options.lease_ttl)
    if lease is not None:
        return lease
    current = ledger.get_campaign(campaign_id)
    if current is not None and current.status is CampaignState.STOPPED:
        raise CampaignStoppedError(campaign_id)
    raise CampaignBusyError(_busy_message(campaign_id, current, ledger.clock()))


def _busy_message(campaign_id: str, current: CampaignRecord | None, now: datetime) -> str:
    view = current.lease() if current is not None else None
    who = view.holder.describe() if view is not None and view.holder is not None else "another run"
    silent = f"{(now - view.heartbeat).total_seconds():.0f} s ago" if view and view.heartbeat else "unknown"
    wait = view.wait_before_take_over(now).total_seconds() if view is not None else 0.0
    return (
        f"Campaign {campaign_id!r} is being run right now by {who} (last heartbeat {silent}). Wait for it to "
        f"finish. If that run is stuck or its machine is gone, the campaign can be taken over in {wait:.0f} s "
        "(when its lease lapses); a crashed run on this machine is taken over at once. A take-over never "
        "re-sends leads whose requests may still be in flight before telli has settled them."
    )


async def _execute(
    run: RunContext, scan: Scan, first: list[ZonedLead], rest: AsyncIterator[list[ZonedLead]]
) -> CampaignState:
    """Do the work while a background task keeps the lease; release it when the run ends (see `_release`)."""
    final = CampaignState.INTERRUPTED
    try:
        with single_errors():
            async with anyio.create_task_group() as group:
                group.start_soon(_keep_lease, run)
                final = await _work(run, scan, first, rest)
                group.cancel_scope.cancel()
    except BaseException as ended_by:
        _release(run, final, ended_by)
        raise
    _release(run, final, None)
    return final


def _release(run: RunContext, final: CampaignState, ended_by: BaseException | None) -> None:
    """Give the lease back and record how the run ended (`ended_by`: what ended it early, if anything), unless the
    database failed under the run.

    A run the database cut off (a restart or failover killed the connection) ends as if its process had died: the
    campaign stays `running` with its source kept, so any replica resumes it once the database answers
    (`Ledger.orphans`), and its lease lapses now if the database answers this once (else in its own time): the
    user's "call again in a moment" then resumes at once instead of being told the campaign is busy. Releasing
    would record it as ended and forget its source: nobody would resume it until the user noticed. Every other
    ending (done, stopped, telli refusing, a cancellation, a bug) releases: resuming is for someone to ask."""
    if ended_by is not None and _database_failed(ended_by):
        with suppress(DatabaseUnavailable, LeaseLostError):  # fenced, like every write of the run
            run.ledger.renew(run.lease, ttl=timedelta(0))
        return
    # Fenced: a run that lost its lease leaves the campaign to its new holder.
    run.ledger.release_run(run.lease, final)


def _database_failed(error: BaseException) -> bool:
    """`error` is, or (from parallel steps failing together) groups, the database's failure."""
    if isinstance(error, BaseExceptionGroup):
        return any(_database_failed(inner) for inner in error.exceptions)
    return isinstance(error, DatabaseUnavailable)


async def _keep_lease(run: RunContext) -> None:
    # The wall clock on purpose: the lease says whether this process is alive, whatever clock tests inject.
    while True:
        await anyio.sleep(run.options.heartbeat_interval.total_seconds())
        run.renew()


async def _work(
    run: RunContext, scan: Scan, first: list[ZonedLead], rest: AsyncIterator[list[ZonedLead]]
) -> CampaignState:
    try:
        _keep_source(run)
        _retry_failed(run)
        # Requests an earlier run left in flight land (or not) before anything is sent again.
        await settle_unknown(run)
        await stream_leads(run, scan, first, rest)
        report = scan.validator
        run.ledger.finish_recording(
            run.campaign_id, leads_count=report.valid, invalid_count=report.invalid_rows, lease=run.lease
        )
        await ensure_contacts(run, run.options.max_rounds - 1)
        await schedule_all(run, run.options.max_rounds - 1)
    except StopRequested:
        return CampaignState.STOPPED
    counts = run.ledger.state_counts(run.campaign_id)
    return CampaignState.COMPLETED if counts.scheduled == counts.total else CampaignState.INCOMPLETE


def _keep_source(run: RunContext) -> None:
    """While this run works, a shared ledger keeps what it was started with: if this process dies, another replica
    that hears from the account resumes it from there (see `Ledger.orphans`). A ledger on this machine alone keeps
    no copy of the leads: nothing would ever resume from it."""
    if not run.ledger.shared:
        return
    request = run.opened.request.model_copy(update={"campaign_id": run.campaign_id})
    run.ledger.keep_source(run.campaign_id, request.model_dump_json())


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
    failed = run.ledger.leads(record.id, [LeadState.FAILED], limit=MAX_FAILURES_SHOWN)
    groups = run.ledger.reason_counts(record.id, _OPEN_STATES)
    reasons = _reasons(groups)
    refused = sum(leads for state, detail, leads in groups if state is LeadState.FAILED and detail == DO_NOT_CALL)
    failures = [
        LeadFailure(row=lead.row, external_id=lead.external_id, phone_number=lead.e164, reason=lead.last_error or "")
        for lead in failed
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
        do_not_call=refused,
        unknown=counts.unknown,
        pending=counts.pending + counts.contact_ready,
        not_scheduled=_not_scheduled(counts),
        not_scheduled_reasons=reasons,
        failures=failures,
        failures_truncated=max(0, counts.failed - MAX_FAILURES_SHOWN),
        requests=run.stats.requests,
        timezones=plan.timezones,
        warnings=plan.warnings,
        message=_message(status, counts, record, reasons, refused),
    )


def _not_scheduled(counts: LeadStateCounts) -> int:
    return counts.failed + counts.unknown + counts.pending + counts.contact_ready


def _reasons(groups: list[tuple[LeadState, str | None, int]]) -> list[ReasonCount]:
    tally: Counter[str] = Counter()
    for state, detail, leads in groups:
        tally[_reason(state, detail)] += leads
    return [ReasonCount(reason=reason, leads=count) for reason, count in tally.most_common(MAX_REASONS_SHOWN)]


def _reason(state: LeadState, detail: str | None) -> str:
    match state:
        case LeadState.FAILED:
            return detail or "telli rejected it"
        case LeadState.UNKNOWN:
            return f"not confirmed yet: {detail or 'telli could not be read to verify it'}"
        case LeadState.CONTACT_READY:
            return f"not sent: {detail or 'the run ended before sending it'}"
        case _:
            return f"no telli contact yet: {detail or 'the contact could not be created'}"


def _message(
    status: CampaignState, counts: LeadStateCounts, record: CampaignRecord, reasons: list[ReasonCount], refused: int
) -> str:
    total = counts.total
    if status is CampaignState.STOPPED:
        return f"Campaign {record.id} was stopped while it ran; its contacts were taken off the auto-dialer."
    text = f"Campaign {record.id}: {counts.scheduled} of {total} leads are in telli's auto-dialer"
    open_items = []
    if refused:
        open_items.append(f"{refused} not called because they are on the do-not-call list")
    if counts.failed - refused:
        open_items.append(f"{counts.failed - refused} failed (see failures)")
    if counts.unknown:
        open_items.append(f"{counts.unknown} could not be confirmed yet")
    if counts.pending + counts.contact_ready:
        open_items.append(f"{counts.pending + counts.contact_ready} were not sent")
    if open_items:
        text += "; NOT SCHEDULED: " + ", ".join(open_items)
        text += f". Most common reason: {reasons[0].reason} ({reasons[0].leads} leads)" if reasons else ""
        # Nothing to retry when the list is all that held leads back: a re-run would ask it and skip them again.
        text += f". Start campaign {record.id} again to retry them" if len(open_items) > bool(refused) else ""
    return text + ". telli calls each contact inside the dialer window in the contact's timezone."
