"""The campaigns toolset: bulk call campaigns from a lead list, with a local ledger that makes them resumable."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from mcp.server.elicitation import ElicitationResult
from mcp.server.mcpserver import Context, Resolve
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError, ToolError
from mcp.server.mcpserver.prompts.base import Message, UserMessage
from pydantic import AfterValidator, Field

import telli_mcp.campaigns
from telli_mcp.campaigns.errors import CampaignError, CampaignNotFoundError
from telli_mcp.campaigns.ids import default_campaign_id
from telli_mcp.client import TelliError
from telli_mcp.client.timezones import CalleeTimezone
from telli_mcp.server.callees import Callee
from telli_mcp.server.confirm import Arguments, Ask, Confirmable, Confirmation, approval_from
from telli_mcp.server.deps import deps_of
from telli_mcp.server.errors import translating
from telli_mcp.server.params import (
    AgentIdArg,
    CampaignIdArg,
    ConfirmationTokenArg,
    CursorArg,
    OptionalCampaignIdArg,
    OptionalPhoneArg,
    check_agent_id,
)
from telli_mcp.server.results import ToolResult
from telli_mcp.server.risk import Risk, ToolSpec
from telli_mcp.server.surface import Instruction, PromptDef, ResourceDef, Surface, ToolDef
from telli_mcp.server.views import propose_do_not_call
from telli_mcp.text import InlineText, fence_inline, inline, inline_json, optional, plain_json, plain_line

if TYPE_CHECKING:
    from telli_mcp.campaign_events import StoredCampaignEvents
    from telli_mcp.campaign_timeline import CallsPerHour
    from telli_mcp.campaigns import (
        CampaignEngine,
        CampaignPlan,
        CampaignProgress,
        CampaignRequest,
        CampaignRunResult,
        CampaignStatusReport,
        NotableLead,
    )
    from telli_mcp.campaigns.lead_files import LeadFile

__all__ = ["SURFACE", "campaign_status_document", "campaign_status_view"]

CAMPAIGNS = "campaigns"
ISSUES_SHOWN = 20
NUMBERS_PROPOSED = 50
"""Opted-out numbers one status note proposes for the do-not-call list; it says how many more there are."""


class StartCampaignResult(Confirmable):
    status: str = Field(
        description="dry_run, not_launchable, confirmation_required, or the run's state: "
        "completed, incomplete (see not_scheduled), interrupted, stopped"
    )
    campaign_id: str
    valid_leads: int
    invalid_leads: int
    invalid: list[InlineText] = Field(description="'row N: reason', first 20")
    blocking_reasons: list[InlineText]
    timezones: dict[str, int] = Field(
        default_factory=dict, description="Leads per time-zone source: column, inferred, account_default"
    )
    warnings: list[InlineText] = Field(default_factory=list)
    scheduled_now: int = 0
    scheduled_total: int = 0
    failed: int = 0
    unknown: int = 0
    not_scheduled: int = Field(default=0, description="Valid leads not in the auto-dialer after this run")
    not_scheduled_reasons: list[InlineText] = Field(
        default_factory=list, description="'N leads: reason', most common first"
    )
    message: InlineText


class NotableItem(ToolResult):
    kind: str
    name: InlineText | None = None
    phone_number: InlineText
    contact_id: InlineText | None = None
    detail: str | None = None
    """Fenced: a call's summary or note, or why the lead failed."""


class CampaignStatusResult(ToolResult):
    campaign_id: str
    name: InlineText
    status: str
    progress_percent: float
    contacts: dict[str, int]
    outcomes: dict[str, int]
    notable: list[NotableItem]
    next_cursor: str | None
    note: InlineText | None = None


class CampaignListItem(ToolResult):
    campaign_id: str
    name: InlineText
    status: str
    leads: int
    created_at: str


class CampaignList(ToolResult):
    campaigns: list[CampaignListItem]
    next_cursor: str | None


class StopCampaignResult(ToolResult):
    campaign_id: str
    status: str
    removed_now: int
    already_stopped: int
    failed: int
    message: InlineText


def _request(args: dict[str, Any], lead_file: LeadFile | None) -> CampaignRequest:
    """The engine request; without a campaign_id the id is derived from agent and leads, so a re-run resumes."""
    leads = args["leads"]
    file_bytes = lead_file.data if lead_file is not None else None
    campaign_id = args["campaign_id"] or default_campaign_id(args["agent_id"], leads, file_bytes)
    fields = {k: v for k, v in args.items() if k not in ("leads_file", "campaign_id") and v is not None}
    try:
        path = lead_file.path if lead_file is not None else None
        return telli_mcp.campaigns.CampaignRequest(**fields, campaign_id=campaign_id, leads_file=path)
    except ValueError as err:
        raise ToolError(f"Invalid campaign input: {err}") from None


def _issues(plan_or_run: CampaignPlan | CampaignRunResult) -> list[str]:
    report = plan_or_run.validation
    return [
        f"row {p.row}: {p.field}: {p.reason}" if p.field else f"row {p.row}: {p.reason}"
        for p in report.invalid[:ISSUES_SHOWN]
    ]


def _plan_result(plan: CampaignPlan, status: str, message: str) -> StartCampaignResult:
    report = plan.validation
    return StartCampaignResult(
        status=status,
        campaign_id=plan.campaign_id,
        valid_leads=report.contacts_count,
        invalid_leads=report.invalid_leads_count,
        invalid=_issues(plan),
        blocking_reasons=plan.blocking_reasons,
        timezones=dict(plan.timezones.by_source),
        warnings=plan.warnings,
        message=message,
    )


def _zones_sentence(plan: CampaignPlan) -> str:
    zones = plan.timezones
    column, inferred, fallback = (zones.by_source.get(key, 0) for key in ("column", "inferred", "account_default"))
    text = f" Time zones: {column} from the list, {inferred} inferred from the number and sent to telli"
    if fallback:
        text += f"; {fallback} unknown, so telli calls them on the account's clock ({zones.account_timezone})"
    return text + "."


def _question(plan: CampaignPlan) -> str:
    report = plan.validation
    agent = f'agent "{inline(plan.agent_name or plan.agent_id)}" ({plan.agent_id})'
    caller = f"from {plan.from_number}" if plan.from_number else "from the account's outbound number pool"
    skipped = f" ({report.invalid_leads_count} invalid leads will be skipped)" if report.invalid_leads_count else ""
    if plan.do_not_call:
        skipped += f" ({plan.do_not_call} on the do-not-call list will not be called)"
    resume = (
        f" It resumes an existing campaign; {plan.already_scheduled} are already scheduled."
        if plan.resumes_existing
        else ""
    )
    retry = f"up to {plan.max_retry_days} days" if plan.max_retry_days else "the account's default number of days"
    return (
        f'Start the call campaign "{inline(plan.name)}" ({plan.campaign_id}): schedule real phone calls to '
        f"{plan.to_schedule} contacts{skipped} with {agent}, {caller}, retrying unreached people for {retry}."
        f"{resume} telli's auto-dialer calls each at the earliest opportunity inside the account's dialer window "
        f"in their own timezone.{_zones_sentence(plan)}{_other_zones(plan)} Every call rings a real person and costs "
        "money."
    )


def _other_zones(plan: CampaignPlan) -> str:
    count = plan.timezones.other_zones
    return f" {count} leads are in less common zones not shown below." if count else ""


def _callees(plan: CampaignPlan) -> list[Callee]:
    """One callee per lead of the most common zones (the plan counts leads per zone), for the local times."""
    callees: list[Callee] = []
    for zone, count in plan.timezones.by_zone.items():
        where = CalleeTimezone(zone, "given", zone)
        callees += [Callee("a lead", where)] * count
    return callees


def _run_result(run: CampaignRunResult) -> StartCampaignResult:
    report = run.validation
    return StartCampaignResult(
        status=str(run.status),
        campaign_id=run.campaign_id,
        valid_leads=report.contacts_count,
        invalid_leads=report.invalid_leads_count,
        invalid=_issues(run),
        blocking_reasons=[],
        timezones=dict(run.timezones.by_source) if run.timezones else {},
        warnings=run.warnings,
        scheduled_now=run.scheduled_now,
        scheduled_total=run.scheduled_total,
        failed=run.failed,
        unknown=run.unknown,
        not_scheduled=run.not_scheduled,
        not_scheduled_reasons=[f"{r.leads} leads: {r.reason}" for r in run.not_scheduled_reasons],
        message=f"{run.message} {run.dialer_note}",
    )


def _detail(lead: NotableLead) -> str | None:
    # A call's summary or note (free text from the call), or a failure reason that may quote telli: fenced.
    return fence_inline(lead.detail) if lead.detail else None


def campaign_status_view(report: CampaignStatusReport) -> CampaignStatusResult:
    """What get_campaign shows: names cleaned, each notable detail fenced."""
    notable = [
        NotableItem(
            kind=str(n.kind),
            name=n.name or None,
            phone_number=n.phone_number,
            contact_id=n.contact_id,
            detail=_detail(n),
        )
        for n in report.notable
    ]
    return CampaignStatusResult(
        campaign_id=report.campaign.campaign_id,
        name=report.campaign.name,
        status=str(report.campaign.status),
        progress_percent=report.progress_percent,
        contacts=report.contacts.model_dump(),
        outcomes=report.outcomes.model_dump(),
        notable=notable,
        next_cursor=report.next_cursor,
        note=_status_note(report),
    )


def _status_note(report: CampaignStatusReport) -> str | None:
    """The report's note, led by what telli's dialer is still doing: `completed` says only that every lead was
    scheduled, and a model would read it as "the calls are done"; then the opt-outs to act on; it ends with how
    fresh the states are."""
    dialer = report.contacts.dialer_sentence(str(report.campaign.status))
    lead = f"Dialer: {dialer}." if dialer is not None else None
    parts = (lead, _opt_out_proposal(report), report.note, report.freshness)
    return " ".join(part for part in parts if part) or None


def _opt_out_proposal(report: CampaignStatusReport) -> str | None:
    """Only a proposal: adding numbers to the do-not-call list is the user's decision, in its own tool call. Numbers
    on the list already are not proposed again."""
    count = report.outcomes.opted_out
    if not count:
        return None
    leads = "1 lead" if count == 1 else f"{count} leads"
    said = f"Opted out: {leads} asked not to be called again (notable kind opted_out)."
    numbers = report.opt_outs_not_listed
    if not numbers:
        return f"{said} Their numbers are on the do-not-call list already."
    shown = numbers[:NUMBERS_PROPOSED]
    rest = f" ({len(shown)} of {len(numbers)}; the rest are later opted_out leads)" if len(numbers) > len(shown) else ""
    listed = report.opt_outs_listed
    already = f" {listed} more {'is' if listed == 1 else 'are'} on the list already." if listed else ""
    return f"{said} Propose {propose_do_not_call(shown)}{rest} to the user.{already}"


def campaign_status_document(report: CampaignStatusReport, calls_per_hour: CallsPerHour | None = None) -> str:
    """The full status report as JSON (the campaign resource), cleaned like `campaign_status_view`, with the
    campaign's calls per hour when given (the dashboard's timeline; not in get_campaign's result)."""
    data = inline_json(report.model_dump(mode="json", exclude_none=True))
    for item, lead in zip(data["notable"], report.notable, strict=True):
        if lead.detail:
            item["detail"] = _detail(lead)
    if calls_per_hour is not None:
        data["calls_per_hour"] = calls_per_hour.model_dump(mode="json")
    return json.dumps(data, indent=2, ensure_ascii=False)


def _engine(ctx: Context) -> CampaignEngine:
    """The campaign engine of this request's telli account (see `Backend.campaign_engine`)."""
    deps = deps_of(ctx)
    return deps.campaign_engines(deps.client(), deps.tenant())


def _events(ctx: Context) -> StoredCampaignEvents | None:
    """This account's webhook events, where this server can read them (campaign pages then read telli less)."""
    deps = deps_of(ctx)
    store = deps.event_store()
    if store is None:
        return None
    from telli_mcp.campaign_events import StoredCampaignEvents

    return StoredCampaignEvents(store, deps.tenant())


async def plan_campaign(
    agent_id: str,
    leads: list[dict[str, Any]] | None,
    leads_file: str | None,
    name: str | None,
    campaign_id: str | None,
    max_retry_days: int | None,
    from_number: str | None,
    default_region: str | None,
    ignore_unknown_columns: bool,
    ctx: Context,
) -> telli_mcp.campaigns.CampaignPlan:
    """The dry run, shared by the confirmation question and the tool body (run once per call)."""
    deps = deps_of(ctx)
    if leads_file is not None and deps.remote:
        raise ToolError("leads_file is not available over HTTP; send the leads inline as a list.")
    if (leads is None) == (leads_file is None):
        raise ToolError("Pass exactly one of leads (a list of objects) or leads_file (a CSV or JSON path).")
    args = {
        "agent_id": agent_id,
        "leads": leads,
        "leads_file": leads_file,
        "name": name,
        "campaign_id": campaign_id,
        "max_retry_days": max_retry_days,
        "from_number": from_number,
        "default_region": default_region,
        "ignore_unknown_columns": ignore_unknown_columns,
    }
    from telli_mcp.campaigns.lead_files import allowed_roots, read_lead_file

    roots = allowed_roots(deps.settings.leads_dir)
    lead_file = None if leads_file is None else await read_lead_file(Path(leads_file), roots)
    return await _engine(ctx).plan(_request(args, lead_file))


planned = Resolve(translating(plan_campaign, writes=False))


async def ask_campaign(args: Arguments, ctx: Context, plan: CampaignPlan) -> Ask | None:
    if args["dry_run"] or not plan.launchable:
        return None  # nothing will be sent (a token passed anyway is still checked)
    # Beyond the arguments: the leads themselves (a file edited after the preview is refused) and what
    # the plan counted from the ledger.
    binding = {
        "campaign_id": plan.campaign_id,
        "leads_sha256": plan.source_sha256,
        "to_schedule": plan.to_schedule,
        "already_scheduled": plan.already_scheduled,
    }
    return Ask(_question(plan), binding=binding, callees=_callees(plan))


campaign_confirmation = Confirmation(ask_campaign, needs={"plan": planned})


async def start_campaign(
    agent_id: AgentIdArg,
    ctx: Context,
    # Quoted twice: declaring the tool leaves it unread (`surface.declared_hints`), so the campaign engine's types
    # load on the first campaign call, not at every start.
    plan: Annotated["telli_mcp.campaigns.CampaignPlan", planned],  # noqa: UP037
    answer: Annotated[ElicitationResult[Any], Resolve(campaign_confirmation.resolver)],
    leads: Annotated[
        list[dict[str, Any]] | None,
        Field(
            max_length=10000,
            description="Objects: phone_number, first_name, last_name; optional email, "
            "external_id, timezone, property keys",
        ),
        AfterValidator(plain_json),  # sent to telli: no control, escape, bidi or invisible characters
    ] = None,
    leads_file: Annotated[str | None, Field(description="Or a CSV/JSON file path")] = None,
    name: Annotated[str | None, Field(max_length=100), AfterValidator(optional(plain_line))] = None,
    campaign_id: OptionalCampaignIdArg = None,
    max_retry_days: Annotated[int | None, Field(ge=1, le=60)] = None,
    from_number: OptionalPhoneArg = None,
    default_region: Annotated[
        str | None, Field(pattern=r"^[A-Za-z]{2}$", description="For national numbers, e.g. DE")
    ] = None,
    ignore_unknown_columns: bool = False,
    dry_run: bool = False,
    confirmation_token: ConfirmationTokenArg = None,
) -> StartCampaignResult:
    """Call many leads: find or create their contacts and put them in the auto-dialer. Asks the user.

    First do a dry_run=true and show its report. Re-running the same leads resumes; nobody is called twice.
    """
    if dry_run:
        warned = " ".join(plan.warnings)
        return _plan_result(plan, "dry_run", f"Validation only; nothing was sent. {warned} {plan.dialer_note}")
    if not plan.launchable:
        return _plan_result(plan, "not_launchable", "Nothing was sent: " + "; ".join(plan.blocking_reasons))
    approval = approval_from(answer, what="the campaign was not started.")
    if not approval.granted:
        return _plan_result(plan, "confirmation_required", "Nothing was sent yet.").awaiting(approval.request)

    async def progress(event: CampaignProgress) -> None:
        await ctx.report_progress(event.done, event.total, f"{event.phase}: {event.message}")

    return _run_result(await _engine(ctx).start(plan, on_progress=progress))


async def get_campaign(
    campaign_id: CampaignIdArg,
    ctx: Context,
    # No description for limit: the tool's says it (the default tools/list has a byte budget).
    limit: Annotated[int, Field(ge=1, le=50)] = 10,
    cursor: CursorArg = None,
) -> CampaignStatusResult:
    """A campaign's live status and a page of notable leads: opt-outs, appointments, callbacks, failures."""
    report = await _engine(ctx).status(campaign_id, limit=limit, cursor=cursor, events=_events(ctx))
    return campaign_status_view(report)


async def list_campaigns(
    ctx: Context,
    limit: Annotated[int, Field(ge=1, le=100)] = 20,
    cursor: CursorArg = None,
) -> CampaignList:
    """Campaigns started from this machine, newest first."""
    page = _engine(ctx).list(limit=limit, cursor=cursor)
    items = [
        CampaignListItem(
            campaign_id=c.campaign_id,
            name=c.name,
            status=str(c.status),
            leads=c.leads_count,
            created_at=c.created_at.isoformat(),
        )
        for c in page.items
    ]
    return CampaignList(campaigns=items, next_cursor=page.next_cursor)


async def stop_campaign(campaign_id: CampaignIdArg, ctx: Context) -> StopCampaignResult:
    """Stop a campaign: take its still-pending contacts out of the auto-dialer."""
    result = await _engine(ctx).stop(campaign_id)
    return StopCampaignResult(
        campaign_id=result.campaign_id,
        status=str(result.status),
        removed_now=result.removed_now,
        already_stopped=result.already_stopped,
        failed=result.failed + result.unknown,
        message=result.message,
    )


async def campaign_resource(campaign_id: str, ctx: Context) -> str:
    """A campaign's live status: contact statuses, outcomes, the first notable leads (third-party data) and the
    campaign's calls per hour."""
    engine = _engine(ctx)
    try:
        report = await engine.status(campaign_id, limit=20, events=_events(ctx))
        timeline = _calls_per_hour(ctx, engine, campaign_id)
    except CampaignNotFoundError:
        raise ResourceNotFoundError(f"No campaign {campaign_id} in this server's ledger") from None
    except (CampaignError, TelliError) as err:
        raise ResourceError(f"campaign status failed: {type(err).__name__}") from None
    return campaign_status_document(report, timeline)


def _calls_per_hour(ctx: Context, engine: CampaignEngine, campaign_id: str) -> CallsPerHour:
    """From this account's webhook events, on the account's clock; without events, a timeline saying so."""
    from telli_mcp.campaign_timeline import campaign_calls_per_hour, without_events

    deps = deps_of(ctx)
    store = deps.event_store()
    if store is None:
        return without_events(deps.default_timezone)
    return campaign_calls_per_hour(engine.ledger, campaign_id, store, deps.tenant(), deps.default_timezone)


def launch_campaign(
    source: Annotated[str, Field(description="Path to a CSV or JSON file of leads, as the server sees it")],
    # Pasted into the prompt: only a real agent id gets there.
    agent_id: Annotated[
        str | None, AfterValidator(optional(check_agent_id)), Field(description="Agent to call with (from list_agents)")
    ] = None,
) -> list[Message]:
    """Walk through a bulk call campaign: file, dry run, confirm, launch, check status."""
    source = inline(source)
    agent = f"agent {agent_id}" if agent_id else "an agent I pick from list_agents"
    return [
        UserMessage(
            f"Launch a telli call campaign from {source} with {agent}. Steps: 1) start_campaign with "
            "dry_run=true and show me the validation report (valid leads, invalid rows and why). 2) Ask me "
            "whether to fix the file or go ahead. 3) Run start_campaign for real (it asks me to confirm). "
            "4) Show the campaign id and how to check it; later use get_campaign for progress, callbacks "
            "and appointments, and stop_campaign if I say stop."
        )
    ]


SURFACE = Surface(
    CAMPAIGNS,
    tools=(
        ToolDef(
            ToolSpec("start_campaign", "Start call campaign", CAMPAIGNS, Risk.DESTRUCTIVE, idempotent=True, dials=True),
            start_campaign,
        ),
        ToolDef(ToolSpec("get_campaign", "Campaign status", CAMPAIGNS, Risk.READ, idempotent=True), get_campaign),
        ToolDef(
            ToolSpec("list_campaigns", "List campaigns", CAMPAIGNS, Risk.READ, idempotent=True, open_world=False),
            list_campaigns,
        ),
        ToolDef(ToolSpec("stop_campaign", "Stop campaign", CAMPAIGNS, Risk.WRITE, idempotent=True), stop_campaign),
    ),
    resources=(ResourceDef("telli://campaigns/{campaign_id}", "Campaign", "application/json", campaign_resource),),
    prompts=(
        PromptDef(
            "Launch a call campaign",
            launch_campaign,
            uses=("start_campaign", "list_agents", "get_campaign", "stop_campaign"),
        ),
    ),
    instructions=(
        Instruction(
            "- For many leads (a CSV/JSON file or a list), use start_campaign with dry_run=true first, show the\n"
            "  validation report, then run it for real; check progress with get_campaign and stop with stop_campaign.",
            uses=("start_campaign", "get_campaign", "stop_campaign"),
        ),
    ),
)
