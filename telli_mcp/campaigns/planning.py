"""Build a `CampaignPlan`: read and validate the leads, check agent and caller id, check a resume is sound,
and say which clock telli will call each lead on.

This is the dry run: it sends only reads (the property schema, the agent, and the account's phone numbers
when a caller id was given) and writes nothing, neither to telli nor to the ledger. It also asks the
do-not-call list about the leads' numbers, so the plan (and the confirmation built from it) says who a start
will not call.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass, field

import anyio
import anyio.to_thread

from telli_mcp.campaigns.dial_block import DialBlock
from telli_mcp.campaigns.errors import CampaignConflictError, CampaignStoppedError
from telli_mcp.campaigns.lead_files import read_lead_file
from telli_mcp.campaigns.lead_zones import ZoneTally, source_of, timezone_warning, zone_of
from telli_mcp.campaigns.leads import LeadSource, RawLead, open_file, open_inline
from telli_mcp.campaigns.ledger import CampaignRecord, Ledger
from telli_mcp.campaigns.models import CampaignRequest, CampaignState, Lead, LeadState
from telli_mcp.campaigns.results import CampaignPlan, LeadPreview
from telli_mcp.campaigns.schema import fetch_property_specs
from telli_mcp.campaigns.validation import LeadValidator
from telli_mcp.campaigns.values import PropertySpec, normalise_phone
from telli_mcp.client import InputError, NotFoundError, TelliClient
from telli_mcp.client.timezones import CalleeTimezone
from telli_mcp.together import both
from telli_mcp.zones import DEFAULT_ACCOUNT_TIMEZONE

__all__ = [
    "SAMPLE_SIZE",
    "SLICE_SECONDS",
    "BlockedLeads",
    "Opened",
    "Scan",
    "ZonedLead",
    "new_campaign_id",
    "open_campaign",
    "prepare",
]

SAMPLE_SIZE = 5
BLOCKED_NUMBERS_SHOWN = 10
"""Numbers the do-not-call warning names; the rest are counted."""
SLICE_SECONDS = 0.001
"""Validation holds the event loop at most about this long before a checkpoint, so telli's answers to the requests in
flight are read while the next chunk is validated. A slice of 100 rows (about 8 ms) made the answers wait behind it:
at 50,000 leads that cost a tenth more wall time than 1 ms slices (`benchmarks/README.md`)."""
_clock = time.perf_counter
TURNS_AFTER_A_SLICE = 3
"""Turns of the event loop that validation lets go by after each slice. One checkpoint queues its next slice ahead
of what arrives meanwhile (telli's answer, read in the next turn, and then the task that answer wakes), so the
slice would still run first; a few turns let the answer and its follow-up go first. Nothing in a run waits for
validation but the next chunk, which is far ahead of the requests in flight."""


@dataclass(frozen=True, slots=True)
class ZonedLead:
    """A valid lead and the zone telli will dial it in."""

    lead: Lead
    zone: CalleeTimezone


@dataclass(frozen=True)
class Opened:
    """Everything known about a campaign before its rows are read: the source, the schema, the checks of
    agent and caller id, and what the ledger holds for the campaign id."""

    request: CampaignRequest
    """The request with `campaign_id` filled in."""
    source: LeadSource
    specs: list[PropertySpec]
    account_timezone: str
    name: str
    from_number: str | None
    agent_name: str | None
    checks: list[str]
    """Why agent or caller id block the launch, in the order they were found."""
    existing: CampaignRecord | None
    already_scheduled: int
    ledger: Ledger
    """Where a resume's leads stand (the plan asks it which blocked leads an earlier run scheduled)."""
    dial_block: DialBlock | None = None
    """The do-not-call list the plan and every schedule request check (None: no list)."""

    @property
    def campaign_id(self) -> str:
        return self.request.campaign_id or ""

    def validator(self) -> LeadValidator:
        return LeadValidator(
            self.source.columns,
            self.specs,
            default_region=self.request.default_region,
            ignore_unknown_columns=self.request.ignore_unknown_columns,
        )

    def blocking_before_rows(self) -> list[str]:
        """What blocks the launch whatever the rows hold (columns, agent, caller id)."""
        return self.validator().column_blocking(self.source.column_problems) + self.checks


@dataclass
class BlockedLeads:
    """Valid leads whose number is on the do-not-call list, as a plan reports them."""

    leads: int = 0
    """Not scheduled yet: a start does not send them."""
    numbers: dict[str, None] = field(default_factory=dict)
    """Their distinct numbers, in the order met (a dict as an ordered set)."""
    scheduled: int = 0
    """Scheduled by an earlier run before the number was put on the list: telli may still dial them."""

    def add(self, leads: Sequence[Lead], scheduled_rows: set[int]) -> None:
        for lead in leads:
            if lead.row in scheduled_rows:
                self.scheduled += 1
            else:
                self.leads += 1
                self.numbers[lead.phone_number] = None

    def warning(self) -> str | None:
        """One line for the plan's warnings, or None when no lead is on the list."""
        parts: list[str] = []
        if self.leads:
            shown = list(self.numbers)[:BLOCKED_NUMBERS_SHOWN]
            more = len(self.numbers) - len(shown)
            listed = ", ".join(shown) + (f" and {more} more" if more else "")
            are = "lead is" if self.leads == 1 else "leads are"
            parts.append(f"{self.leads} {are} on the do-not-call list and will not be called: {listed}")
        if self.scheduled:
            were = "lead on the do-not-call list was" if self.scheduled == 1 else "leads on the do-not-call list were"
            parts.append(
                f"{self.scheduled} {were} scheduled by an earlier run and may still be dialled; stopping the "
                "campaign takes its contacts off the auto-dialer"
            )
        return "; ".join(parts) or None


@dataclass
class Scan:
    """One pass over a campaign's rows: validates them and keeps the plan's counts and sample, never the leads."""

    opened: Opened
    validator: LeadValidator = field(init=False)
    zones: ZoneTally = field(init=False)
    sample: list[LeadPreview] = field(default_factory=list)
    blocked: BlockedLeads = field(default_factory=BlockedLeads)

    def __post_init__(self) -> None:
        self.validator = self.opened.validator()
        self.zones = ZoneTally(self.opened.account_timezone)

    def check(self, row: RawLead) -> ZonedLead | None:
        lead = self.validator.check(row)
        if lead is None:
            return None
        zone = zone_of(lead, self.opened.account_timezone)
        self.zones.add(lead, zone)
        if len(self.sample) < SAMPLE_SIZE:
            self.sample.append(_preview(lead, zone))
        return ZonedLead(lead, zone)

    async def chunks(self, size: int) -> AsyncGenerator[list[ZonedLead], None]:
        """The valid leads in chunks of `size`, validated in slices of about `SLICE_SECONDS` with a checkpoint
        after each."""
        chunk: list[ZonedLead] = []
        slice_ends = _clock() + SLICE_SECONDS
        for row in self.opened.source.rows():
            if (zoned := self.check(row)) is not None:
                chunk.append(zoned)
            if _clock() >= slice_ends:
                await _let_the_others_go_first()
                slice_ends = _clock() + SLICE_SECONDS
            if len(chunk) == size:
                self._note_blocked(chunk)
                yield chunk
                chunk = []
        if chunk:
            self._note_blocked(chunk)
            yield chunk

    def _note_blocked(self, chunk: Sequence[ZonedLead]) -> None:
        """Count the chunk's leads on the do-not-call list (one look-up per chunk, not per lead)."""
        block = self.opened.dial_block
        if block is None:
            return
        numbers = block.blocked({zoned.lead.phone_number for zoned in chunk})
        hits = [zoned.lead for zoned in chunk if zoned.lead.phone_number in numbers]
        if not hits:
            return
        opened = self.opened
        scheduled = (
            opened.ledger.rows_in_state(opened.campaign_id, [lead.row for lead in hits], LeadState.SCHEDULED)
            if opened.existing is not None
            else set()
        )
        self.blocked.add(hits, scheduled)

    async def run(self) -> CampaignPlan:
        """Validate every row (keeping no lead) and return the plan."""
        async for _ in self.chunks(1000):
            pass
        return self.plan()

    def plan(self) -> CampaignPlan:
        """The plan over the rows validated so far."""
        opened = self.opened
        report = self.validator.report(opened.source.source, opened.source.column_problems)
        blocking = list(report.blocking_reasons) + opened.checks
        timezones = self.zones.plan()
        warnings = [text for text in (timezone_warning(timezones), self.blocked.warning()) if text]
        return CampaignPlan(
            campaign_id=opened.campaign_id,
            name=opened.name,
            agent_id=opened.request.agent_id,
            agent_name=opened.agent_name,
            from_number=opened.from_number,
            max_retry_days=opened.request.max_retry_days,
            source=_source(opened.request, opened.source),
            source_sha256=opened.source.sha256,
            validation=report,
            sample=list(self.sample),
            timezones=timezones,
            warnings=warnings,
            resumes_existing=opened.existing is not None,
            already_scheduled=opened.already_scheduled,
            do_not_call=self.blocked.leads,
            to_schedule=max(0, report.contacts_count - opened.already_scheduled - self.blocked.leads),
            launchable=not blocking,
            blocking_reasons=blocking,
            request=opened.request,
        )


def new_campaign_id(name: str, ledger: Ledger) -> str:
    """A short readable slug, e.g. `spring-list-3f9a1c`, not yet used in the ledger."""
    stem = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40].strip("-") or "campaign"
    while True:
        candidate = f"{stem}-{secrets.token_hex(3)}"
        if ledger.get_campaign(candidate) is None:
            return candidate


async def prepare(
    client: TelliClient,
    ledger: Ledger,
    request: CampaignRequest,
    *,
    check_agent: bool = True,
    account_timezone: str = DEFAULT_ACCOUNT_TIMEZONE,
    dial_block: DialBlock | None = None,
) -> CampaignPlan:
    """Validate `request` and describe what a start would do. `account_timezone` is the clock telli uses
    for contacts without a zone of their own; leads on `dial_block` (the do-not-call list) are counted out.

    Raises:
        LeadSourceError: the leads could not be read.
        CampaignConflictError: the campaign id exists with other leads or options.
        CampaignStoppedError: the campaign id belongs to a stopped campaign.
        TelliError: the property schema (or agent, or phone numbers) could not be read.
    """
    opened = await open_campaign(
        client, ledger, request, check_agent=check_agent, account_timezone=account_timezone, dial_block=dial_block
    )
    return await Scan(opened).run()


async def _let_the_others_go_first() -> None:
    for _ in range(TURNS_AFTER_A_SLICE):
        await anyio.lowlevel.checkpoint()


async def open_campaign(
    client: TelliClient,
    ledger: Ledger,
    request: CampaignRequest,
    *,
    check_agent: bool = True,
    account_timezone: str = DEFAULT_ACCOUNT_TIMEZONE,
    dial_block: DialBlock | None = None,
) -> Opened:
    """Open the source and run every check that needs no row: schema, agent, caller id, resume.

    The source is opened off the event loop while telli's reads, which are independent of it and of each other,
    are in flight together: one round trip, not one per read after the source.

    Raises: as `prepare`.
    """
    checks: list[str] = []
    from_number = _caller_id(request, checks)
    source, account = await both(
        lambda: _open_source(request), lambda: _read_account(client, request.agent_id, from_number, check_agent)
    )
    checks += account.checks
    name = request.name or _default_name(request, source)
    campaign_id = request.campaign_id or new_campaign_id(name, ledger)
    existing = ledger.get_campaign(campaign_id)
    if existing is not None:
        _check_resume(existing, request, source.sha256, from_number)
    return Opened(
        request=request.model_copy(update={"campaign_id": campaign_id}),
        source=source,
        specs=account.specs,
        account_timezone=account_timezone,
        name=existing.name if existing else name,
        from_number=from_number,
        agent_name=account.agent_name,
        checks=checks,
        existing=existing,
        already_scheduled=ledger.state_counts(campaign_id).scheduled if existing else 0,
        ledger=ledger,
        dial_block=dial_block,
    )


async def _open_source(request: CampaignRequest) -> LeadSource:
    # Parsing and hashing 50,000 leads takes ~0.15 s: in a thread, so telli's reads go out and answers are read.
    if request.leads_file is not None:
        # The allow-list is the entry point's (MCP tool, CLI); here the file is still bounded and read off-loop.
        lead_file = await read_lead_file(request.leads_file)
        return await anyio.to_thread.run_sync(open_file, request.leads_file, lead_file.data)
    return await anyio.to_thread.run_sync(open_inline, request.leads or [])


@dataclass(frozen=True)
class _Account:
    """What the plan reads from telli: the property schema, the agent's name, and why agent or caller id block."""

    specs: list[PropertySpec]
    agent_name: str | None
    checks: list[str]


async def _read_account(client: TelliClient, agent_id: str, from_number: str | None, check_agent: bool) -> _Account:
    agent_checks: list[str] = []
    caller_checks: list[str] = []

    async def agent_name() -> str | None:
        return await _agent_name(client, agent_id, agent_checks) if check_agent else None

    async def caller_id() -> None:
        if from_number is not None:
            await _check_caller_id(client, from_number, caller_checks)

    specs, (name, _) = await both(lambda: fetch_property_specs(client), lambda: both(agent_name, caller_id))
    return _Account(specs, name, agent_checks + caller_checks)  # in a fixed order, whichever answered first


def _source(request: CampaignRequest, source: LeadSource) -> str:
    return str(request.leads_file) if request.leads_file is not None else source.source


def _default_name(request: CampaignRequest, source: LeadSource) -> str:
    return request.leads_file.name if request.leads_file is not None else source.source


def _caller_id(request: CampaignRequest, blocking: list[str]) -> str | None:
    if request.from_number is None:
        return None
    try:
        return normalise_phone(request.from_number, request.default_region)
    except ValueError as exc:
        blocking.append(f"from_number {exc}")
        return None


async def _agent_name(client: TelliClient, agent_id: str, blocking: list[str]) -> str | None:
    try:
        agent = await client.agents.get(agent_id)
    except (NotFoundError, InputError):
        blocking.append(f"agent {agent_id!r} does not exist in this telli account")
        return None
    return agent.title


async def _check_caller_id(client: TelliClient, from_number: str, blocking: list[str]) -> None:
    numbers = (await client.phone_numbers.list()).items
    if all(number.phone_number != from_number for number in numbers):
        blocking.append(f"from_number {from_number} is not a phone number of this telli account")


def _check_resume(existing: CampaignRecord, request: CampaignRequest, sha256: str, from_number: str | None) -> None:
    if existing.status is CampaignState.STOPPED:
        raise CampaignStoppedError(existing.id)
    if existing.source_sha256 != sha256:
        raise CampaignConflictError(
            f"Campaign {existing.id!r} was started from different leads ({existing.source}); the checksum "
            "does not match. Resume it with the same lead list, or use a new campaign id for new leads."
        )
    recorded = {
        "agent_id": (existing.agent_id, request.agent_id),
        "from_number": (existing.from_number, from_number),
        "max_retry_days": (existing.max_retry_days, request.max_retry_days),
        "default_region": (existing.default_region, request.default_region),
    }
    changed = [f"{name} (was {old!r})" for name, (old, new) in recorded.items() if old != new]
    if changed:
        raise CampaignConflictError(
            f"Campaign {existing.id!r} was started with other options: {', '.join(changed)}. "
            "Resume it with the same options, or use a new campaign id."
        )


def _preview(lead: Lead, zone: CalleeTimezone) -> LeadPreview:
    return LeadPreview(
        row=lead.row,
        first_name=lead.first_name,
        last_name=lead.last_name,
        phone_number=lead.phone_number,
        external_id=lead.external_id,
        timezone=zone.zone,
        timezone_source=source_of(zone),
    )
