"""`telli-mcp campaign start|status|stop|list`: run call campaigns from a terminal or cron.

It shares the campaign engine and the ledger with the MCP tools, so a campaign started here can be checked
from Claude and vice versa. Starting asks for a typed "yes" on a terminal; without one (cron, CI) it needs
`--yes`, because every lead is a real phone call. Numbers on the account's do-not-call list (`telli-mcp dnc`)
are never sent: the plan names them, and the run reports them as failed with that reason.

Exit codes of `start`: 0 when every valid lead is in telli's auto-dialer (or, with --dry-run, when the plan
can launch); 1 when the campaign could not start or any valid lead was not scheduled (failed, not confirmed,
or not sent: stderr says how many and why; running the same command again resumes); 2 without an API key;
130 when interrupted (leads in flight stay "unknown" and are settled by the next run before anything is
re-sent).

Output is for people by default (aligned `key  value` lines and small tables, third-party text cleaned) and
for scripts with `--json` (the result models as JSON, unchanged between releases).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO, TypeVar

import anyio
from pydantic import BaseModel

from telli_mcp.bounded import clip
from telli_mcp.cli_flags import add_sandbox_flag
from telli_mcp.text import inline

if TYPE_CHECKING:
    from telli_mcp.backend import Backend
    from telli_mcp.campaign_events import StoredCampaignEvents
    from telli_mcp.campaigns import (
        CampaignEngine,
        CampaignPage,
        CampaignPlan,
        CampaignProgress,
        CampaignRunResult,
        CampaignStatusReport,
        StopResult,
    )
    from telli_mcp.client import TelliClient
    from telli_mcp.config import Settings

__all__ = ["add_campaign_parser", "run_campaign_command"]

Result = TypeVar("Result", bound=BaseModel)
Show = Callable[[Result, TextIO], None]

MAX_AGENTS = 500
"""Agents `campaign agents` lists; accounts have a handful, so the bound only guards against a runaway answer."""
DETAIL_CHARS = 80
"""Characters of a free-text cell (a call summary, a failure reason) in a table."""
OPT_OUT_REASON = "asked not to be called again"
"""The reason the proposed `telli-mcp dnc add` command gives (a campaign's call said so)."""


def add_campaign_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    campaign = commands.add_parser("campaign", help="start, check, stop or list call campaigns")
    add_sandbox_flag(campaign, "use the built-in simulator (in-memory ledger); so does TELLI_MCP_SANDBOX=1")
    campaign.add_argument("--json", action="store_true", help="print machine-readable JSON")
    # Also accepted after the action (`campaign list --json`); SUPPRESS keeps a flag given before it.
    json_flag = argparse.ArgumentParser(add_help=False)
    json_flag.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print JSON")
    actions = campaign.add_subparsers(dest="action", required=True)
    start = actions.add_parser("start", parents=[json_flag], help="validate a lead file and schedule its calls")
    start.add_argument("leads_file", type=Path, help="CSV (comma or semicolon) or JSON file of leads")
    start.add_argument("--agent-id", required=True, help="agent to call with (see: telli-mcp campaign agents)")
    start.add_argument("--name")
    start.add_argument("--campaign-id", help="default: derived from agent and file, so a re-run resumes")
    start.add_argument("--max-retry-days", type=int)
    start.add_argument("--from-number", help="caller id: one of the account's numbers, E.164")
    start.add_argument("--default-region", help="country for national numbers, e.g. DE or US")
    start.add_argument("--ignore-unknown-columns", action="store_true")
    start.add_argument("--dry-run", action="store_true", help="only validate; send nothing")
    start.add_argument("--yes", action="store_true", help="do not ask (required without a terminal)")
    status = actions.add_parser("status", parents=[json_flag], help="live progress of a campaign")
    status.add_argument("campaign_id")
    status.add_argument("--limit", type=int, default=20, help="notable leads to show (default 20)")
    stop = actions.add_parser(
        "stop", parents=[json_flag], help="take a campaign's pending contacts out of the auto-dialer"
    )
    stop.add_argument("campaign_id")
    actions.add_parser("list", parents=[json_flag], help="campaigns in the local ledger")
    actions.add_parser("agents", parents=[json_flag], help="the account's agents, with the ids --agent-id takes")


def _settings(args: argparse.Namespace) -> Settings:
    from telli_mcp.config import Settings

    return Settings().model_copy(update={"sandbox": True} if getattr(args, "sandbox", False) else {})


class AgentLine(BaseModel):
    """One agent as `campaign agents` lists it."""

    agent_id: str
    title: str | None = None
    language: str | None = None


class AgentListing(BaseModel):
    """The account's agents (`campaign agents --json`)."""

    agents: list[AgentLine]
    truncated: bool = False
    """True when the account has more than `MAX_AGENTS` agents and only the first ones are listed."""


# ---- output ---------------------------------------------------------------------------------------------------


def _emit(result: Result, as_json: bool, show: Show[Result], out: TextIO | None = None) -> None:
    """`result` as JSON for scripts, or through `show` for people."""
    out = out or sys.stdout
    if as_json:
        print(result.model_dump_json(indent=2), file=out)
    else:
        show(result, out)


def _cell(value: object) -> str:
    # Every value printed may come from telli or a lead file (names, titles, reasons, call summaries): cleaned
    # here, in the one place all human output passes, so no escape sequence or line break reaches the terminal.
    return "-" if value is None or value == "" else inline(str(value))


def _pairs(rows: Iterable[tuple[str, object]], out: TextIO) -> None:
    """Aligned `key  value` lines."""
    rows = list(rows)
    width = max(len(key) for key, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {_cell(value)}", file=out)


def _table(title: str | None, headers: Sequence[str], rows: Sequence[Sequence[object]], out: TextIO) -> None:
    """A table with aligned columns, under `title` and indented when there is one; nothing without rows."""
    if not rows:
        return
    cells = [[_cell(value) for value in row] for row in rows]
    widths = [max(len(header), *(len(row[i]) for row in cells)) for i, header in enumerate(headers)]
    indent = ""
    if title is not None:
        print(f"\n{title}", file=out)
        indent = "  "
    for row in [list(headers), *cells]:
        line = "  ".join(value.ljust(width) for value, width in zip(row, widths, strict=True))
        print(indent + line.rstrip(), file=out)


def _counted(parts: Iterable[tuple[int, str]]) -> str:
    """`8 pending, 4 reached`: the non-zero counts, or `none`."""
    return ", ".join(f"{count} {what}" for count, what in parts if count) or "none"


def _when(moment: datetime | None) -> str | None:
    return None if moment is None else moment.strftime("%Y-%m-%d %H:%M %Z").strip()


def _name_and_id(name: str | None, identifier: str) -> str:
    return f"{name} ({identifier})" if name and name != identifier else identifier


_STATES = {
    "running": ("scheduling", "a start is in progress"),
    "interrupted": ("interrupted", "run start again to resume"),
    "completed": ("scheduled", "every valid lead is in telli's auto-dialer"),
    "incomplete": ("incomplete", "some leads are not scheduled; run start again to retry"),
    "stopped": ("stopped", "taken off the auto-dialer"),
}
"""A ledger state as a person reads it: a word and what it means. `completed` is about scheduling, never
about the calls: telli may be dialling for days after, which only the live status (`campaign status`) sees."""


def _state(state: str, *, explained: bool = True) -> str:
    word, meaning = _STATES.get(str(state), (str(state), ""))
    return f"{word} ({meaning})" if explained and meaning else word


_ZONE_SOURCES = {"column": "from the lead file", "inferred": "from the number", "account_default": "account default"}


def _zones(plan: CampaignPlan | CampaignRunResult) -> list[tuple[str, object]]:
    zones = plan.timezones
    if zones is None:
        return []
    by_source = _counted((count, _ZONE_SOURCES.get(source, source)) for source, count in zones.by_source.items())
    by_zone = ", ".join(f"{zone} {count}" for zone, count in zones.by_zone.items())
    more = f", {zones.other_zones} in other zones" if zones.other_zones else ""
    return [("Time zones", by_source), ("By zone", f"{by_zone}{more}" or "none")]


def _show_plan(plan: CampaignPlan, out: TextIO) -> None:
    report = plan.validation
    _pairs(
        [
            ("Campaign", _name_and_id(plan.name, plan.campaign_id)),
            ("Agent", _name_and_id(plan.agent_name, plan.agent_id)),
            ("From number", plan.from_number or "the account's number pool"),
            (
                "Leads",
                f"{report.source}: {report.rows_read} rows, {report.contacts_count} valid, "
                f"{report.invalid_leads_count} invalid ({report.duplicates_count} duplicates)",
            ),
            (
                "To schedule",
                f"{plan.to_schedule} ({plan.already_scheduled} already scheduled)"
                if plan.resumes_existing
                else plan.to_schedule,
            ),
            *(
                [("Do not call", f"{plan.do_not_call} leads on the do-not-call list (not called)")]
                if plan.do_not_call
                else []
            ),
            *_zones(plan),
            ("Can start", "yes" if plan.launchable else "no"),
        ],
        out,
    )
    _table("Why it cannot start", ["Reason"], [[reason] for reason in plan.blocking_reasons], out)
    _table("Column problems", ["Column", "Problem"], [[p.column, p.reason] for p in report.column_problems], out)
    _table("Unknown columns", ["Column"], [[column] for column in report.unknown_columns], out)
    _table(
        f"Invalid leads ({report.invalid_leads_count})",
        ["Row", "Field", "Problem"],
        [[p.row, p.field, clip(p.reason, DETAIL_CHARS)] for p in report.invalid],
        out,
    )
    _table(
        "First leads",
        ["Row", "Name", "Phone", "External id", "Time zone"],
        [
            [
                lead.row,
                f"{lead.first_name} {lead.last_name}",
                lead.phone_number,
                lead.external_id,
                f"{lead.timezone} ({_ZONE_SOURCES.get(lead.timezone_source, lead.timezone_source)})",
            ]
            for lead in plan.sample
        ],
        out,
    )


def _show_run(run: CampaignRunResult, out: TextIO) -> None:
    _pairs(
        [
            ("Campaign", _name_and_id(run.name, run.campaign_id)),
            ("Status", _state(run.status)),
            ("Leads", f"{run.leads_total} valid, {run.validation.invalid_leads_count} invalid"),
            (
                "Scheduled",
                f"{run.scheduled_total} of {run.leads_total} ({run.scheduled_now} now, {run.scheduled_before} before)",
            ),
            (
                "Not scheduled",
                _counted([(run.failed, "failed"), (run.unknown, "not confirmed yet"), (run.pending, "not sent")]),
            ),
            (
                "Contacts",
                _counted(
                    [
                        (run.contacts_created, "created"),
                        (run.contacts_existing, "already in telli"),
                        (run.contacts_reused, "known from an earlier run"),
                    ]
                ),
            ),
            *_zones(run),
            ("Agent", run.agent_id),
        ],
        out,
    )
    _table(
        "Failed leads" + (f" (and {run.failures_truncated} more)" if run.failures_truncated else ""),
        ["Row", "External id", "Phone", "Reason"],
        [[f.row, f.external_id, f.phone_number, clip(f.reason, DETAIL_CHARS)] for f in run.failures],
        out,
    )
    for warning in run.warnings:
        print(f"\nWarning: {_cell(warning)}", file=out)
    print(f"\n{_cell(run.message)}\n{run.dialer_note}", file=out)


def _live_state(report: CampaignStatusReport) -> str:
    """What the campaign is doing now: the ledger says whether every lead is scheduled, telli whether the
    dialer is still working through them (`completed` with contacts pending is still dialling)."""
    state = str(report.campaign.status)
    dialer = report.contacts.dialer_sentence(state)
    if dialer is None:
        return _state(state)
    if report.contacts.pending:
        return f"{'dialling' if state == 'completed' else _state(state, explained=False)}: {dialer}"
    return f"finished: {dialer}"


def _show_status(report: CampaignStatusReport, out: TextIO) -> None:
    campaign, contacts, outcomes = report.campaign, report.contacts, report.outcomes
    _pairs(
        [
            ("Campaign", _name_and_id(campaign.name, campaign.campaign_id)),
            ("Status", _live_state(report)),
            ("Scheduled", f"{campaign.counts.scheduled} of {campaign.leads_count} valid leads"),
            (
                "Contacts",
                _counted(
                    [
                        (contacts.pending, "pending"),
                        (contacts.reached, "reached"),
                        (contacts.closed, "not reached (dialer gave up)"),
                        (contacts.new, "not dialled"),
                        (contacts.missing, "deleted in telli"),
                    ]
                ),
            ),
            ("Dialling done", f"{report.progress_percent:g}%"),
            (
                "Outcomes",
                _counted(
                    [
                        (outcomes.reached, "reached"),
                        (outcomes.appointment, "booked an appointment"),
                        (outcomes.callback_requested, "asked for a callback"),
                        (outcomes.opted_out, "asked not to be called again"),
                        (outcomes.failed, "failed or not reached"),
                    ]
                ),
            ),
            ("Agent", campaign.agent_id),
            ("Source", campaign.source),
            ("Updated", _when(campaign.updated_at)),
        ],
        out,
    )
    _table(
        f"Notable leads ({len(report.notable)} of {report.notable_total})",
        ["Kind", "Name", "Phone", "Contact id", "When", "Detail"],
        [
            [
                lead.kind.replace("_", " "),
                lead.name,
                lead.phone_number,
                lead.contact_id,
                _when(lead.at),
                clip(lead.detail, DETAIL_CHARS) if lead.detail else None,
            ]
            for lead in report.notable
        ],
        out,
    )
    _show_opt_outs(report, out)
    if report.note:
        print(f"\n{report.note}", file=out)
    print(f"\n{report.freshness}", file=out)


def _show_opt_outs(report: CampaignStatusReport, out: TextIO) -> None:
    """The command that puts the opted-out numbers on the do-not-call list, for the user to run (never run here);
    numbers already on the list are not proposed again."""
    count = report.outcomes.opted_out
    if not count:
        return
    leads = "1 lead" if count == 1 else f"{count} leads"
    print(f"\nOpted out: {leads} asked not to be called again (kind opted out above).", file=out)
    if report.opt_outs_listed:
        listed = report.opt_outs_listed
        print(f"{listed} of their numbers {'is' if listed == 1 else 'are'} on the do-not-call list already.", file=out)
    if report.opt_outs_not_listed:
        numbers = " ".join(report.opt_outs_not_listed)
        whom = "the others" if report.opt_outs_listed else "them"
        print(f"To never call {whom} again:\n  telli-mcp dnc add {numbers} --reason {OPT_OUT_REASON!r}", file=out)


def _events(backend: Backend, tenant: str) -> StoredCampaignEvents | None:
    """The account's webhook events when `telli-mcp webhooks serve` (or a server) stores them beside the ledger."""
    store = backend.events.readable(receiving=False)
    if store is None:
        return None
    from telli_mcp.campaign_events import StoredCampaignEvents

    return StoredCampaignEvents(store, tenant)


def _show_stop(result: StopResult, out: TextIO) -> None:
    _pairs(
        [
            ("Campaign", result.campaign_id),
            ("Status", _state(result.status)),
            ("Removed", f"{result.removed_now} taken off the auto-dialer now"),
            ("Untouched", f"{result.already_stopped} with nothing to remove"),
            ("Not removed", _counted([(result.failed, "failed"), (result.unknown, "not confirmed (stop again)")])),
        ],
        out,
    )
    _table(
        "Not removed",
        ["Row", "External id", "Phone", "Reason"],
        [[f.row, f.external_id, f.phone_number, clip(f.reason, DETAIL_CHARS)] for f in result.failures],
        out,
    )
    print(f"\n{_cell(result.message)}", file=out)


def _show_list(page: CampaignPage, out: TextIO) -> None:
    if not page.items:
        print("No campaigns yet. Start one with: telli-mcp campaign start LEADS_FILE --agent-id ID", file=out)
        return
    rows = [
        [
            item.campaign_id,
            item.name,
            _state(item.status, explained=False),
            f"{item.counts.scheduled} of {item.leads_count}",
            _when(item.updated_at),
        ]
        for item in page.items
    ]
    _table(None, ["Campaign", "Name", "Status", "Scheduled", "Updated"], rows, out)
    if page.next_cursor:
        print("(older campaigns not shown)", file=out)
    print("Live progress of one: telli-mcp campaign status CAMPAIGN", file=out)


def _show_agents(listing: AgentListing, out: TextIO) -> None:
    if not listing.agents:
        print("No agents in this telli account yet: create one in the telli app.", file=out)
        return
    _table(None, ["Title", "Id", "Language"], [[a.title, a.agent_id, a.language] for a in listing.agents], out)
    if listing.truncated:
        print(f"(only the first {MAX_AGENTS} are listed)", file=out)
    print("Use an id as --agent-id of: telli-mcp campaign start", file=out)


async def _agents(client: TelliClient) -> AgentListing:
    lines: list[AgentLine] = []
    async for agent in client.agents.iterate():
        if len(lines) == MAX_AGENTS:
            return AgentListing(agents=lines, truncated=True)
        lines.append(AgentLine(agent_id=agent.id, title=agent.title, language=agent.language))
    return AgentListing(agents=lines)


def _confirmed(plan: CampaignPlan, args: argparse.Namespace) -> bool:
    print(
        f"Campaign {_name_and_id(_cell(plan.name), plan.campaign_id)}: {plan.to_schedule} contacts to call with "
        f"agent {_cell(plan.agent_name or plan.agent_id)}; {plan.validation.invalid_leads_count} invalid leads "
        "skipped.",
        file=sys.stderr,
    )
    _pairs(_zones(plan), sys.stderr)
    _warn(plan.warnings)
    print(plan.dialer_note, file=sys.stderr)
    if args.yes:
        return True
    if not sys.stdin.isatty():
        print("Not a terminal: pass --yes to start (every lead is a real phone call).", file=sys.stderr)
        return False
    return input("Type yes to start calling: ").strip().lower() == "yes"


def _warn(warnings: Iterable[str]) -> None:
    for warning in warnings:
        print(f"WARNING: {_cell(warning)}", file=sys.stderr)


def _progress_bar(event: CampaignProgress) -> None:
    if event.phase == "settle":
        # Said even without a terminal: a silent wait of a minute in a cron log looks like a hang.
        print(event.message, file=sys.stderr)
        return
    if not sys.stderr.isatty() or event.total <= 0:
        return
    filled = int(30 * event.done / event.total)
    sys.stderr.write(f"\r{event.phase:>9} [{'#' * filled}{'.' * (30 - filled)}] {event.done}/{event.total}")
    if event.done >= event.total:
        sys.stderr.write("\n")
    sys.stderr.flush()


async def _start(engine: CampaignEngine, args: argparse.Namespace, settings: Settings) -> int:
    from telli_mcp.campaigns import CampaignRequest
    from telli_mcp.campaigns.ids import default_campaign_id
    from telli_mcp.campaigns.lead_files import allowed_roots, read_lead_file

    # The same rules as over MCP: a cron line or a script can be handed a hostile path just as a model can.
    lead_file = await read_lead_file(args.leads_file, allowed_roots(settings.leads_dir))
    request = CampaignRequest(
        agent_id=args.agent_id,
        leads_file=lead_file.path,
        name=args.name,
        from_number=args.from_number,
        campaign_id=args.campaign_id or default_campaign_id(args.agent_id, None, lead_file.data),
        max_retry_days=args.max_retry_days,
        default_region=args.default_region,
        ignore_unknown_columns=args.ignore_unknown_columns,
    )
    plan = await engine.plan(request)
    if args.dry_run or not plan.launchable:
        _emit(plan, args.json, _show_plan)
        _warn(plan.warnings)
        return 0 if plan.launchable else 1
    if not _confirmed(plan, args):
        print("Not started; nothing was sent.", file=sys.stderr)
        return 1

    async def progress(event: CampaignProgress) -> None:
        _progress_bar(event)

    result = await engine.start(plan, on_progress=progress)
    _emit(result, args.json, _show_run)
    return _outcome(result)


def _outcome(result: CampaignRunResult) -> int:
    """0 only when every valid lead is in the auto-dialer; otherwise say how many are not, and why."""
    from telli_mcp.campaigns import CampaignState

    if result.not_scheduled == 0 and result.status is CampaignState.COMPLETED:
        return 0
    print(
        f"NOT COMPLETE ({result.status}): {result.not_scheduled} of {result.leads_total} valid leads are not "
        f"scheduled ({result.failed} failed, {result.unknown} not confirmed yet, {result.pending} not sent).",
        file=sys.stderr,
    )
    for reason in result.not_scheduled_reasons:
        print(f"  {reason.leads} leads: {_cell(reason.reason)}", file=sys.stderr)
    if result.do_not_call:
        print(
            f"{result.do_not_call} of them are on the do-not-call list and are never called while they are on it "
            "(telli-mcp dnc list).",
            file=sys.stderr,
        )
    if result.not_scheduled > result.do_not_call:
        print("Run the same command again to retry them; nobody already scheduled is called twice.", file=sys.stderr)
    return 1


async def _run(args: argparse.Namespace) -> int:
    from telli_mcp.backend import SANDBOX_NOTICE, open_backend
    from telli_mcp.campaigns import CampaignError
    from telli_mcp.client import TelliError, key_fingerprint

    backend = open_backend(_settings(args), sandbox_speed=0)
    if backend.api_key is None:
        print("TELLI_API_KEY is not set (or use --sandbox).", file=sys.stderr)
        return 2
    key = backend.api_key.get_secret_value()
    client = backend.client(key)
    if backend.sandbox is not None:
        print(SANDBOX_NOTICE, file=sys.stderr)
    if args.action == "agents":  # no ledger needed
        try:
            async with client:
                _emit(await _agents(client), args.json, _show_agents)
        except TelliError as err:
            return _failed(err)
        return 0
    store = backend.campaign_store
    tenant = key_fingerprint(key)
    try:
        async with client:
            engine: CampaignEngine = store.engine(
                client,
                tenant,
                account_timezone=backend.settings.account_timezone,
                # The dry run and the run alike: a plan says who will not be called, a run never sends them; the
                # status proposes only the opted-out numbers not on the list yet.
                dial_block=backend.do_not_call.for_tenant(tenant) if args.action in ("start", "status") else None,
                opt_out_key=backend.settings.opt_out_key,
            )
            if args.action == "start":
                return await _start(engine, args, backend.settings)
            if args.action == "status":
                events = _events(backend, tenant)
                report = await engine.status(args.campaign_id, limit=args.limit, events=events)
                _emit(report, args.json, _show_status)
            elif args.action == "stop":
                _emit(await engine.stop(args.campaign_id), args.json, _show_stop)
            else:
                _emit(engine.list(limit=100), args.json, _show_list)
            return 0
    except (CampaignError, TelliError) as err:
        return _failed(err)
    finally:
        store.close()
        if "do_not_call" in backend.__dict__:  # opened by this command (a cached property): close it too
            backend.do_not_call.close()


def _failed(err: Exception) -> int:
    # One line instead of a traceback: a wrong key or telli being down is a message for the user, not a bug.
    print(f"telli-mcp campaign: {_cell(err)}", file=sys.stderr)
    return 1


def run_campaign_command(args: argparse.Namespace) -> int:
    try:
        return anyio.run(_run, args)
    except KeyboardInterrupt:
        print(
            "\nInterrupted. Leads whose schedule request was in flight are recorded as not confirmed; run the "
            "same command again: it waits until telli has settled them, checks them, and sends only the rest.",
            file=sys.stderr,
        )
        return 130
