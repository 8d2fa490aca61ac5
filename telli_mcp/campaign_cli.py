"""`telli-mcp campaign start|status|stop|list`: run call campaigns from a terminal or cron.

It shares the campaign engine and the ledger with the MCP tools, so a campaign started here can be checked
from Claude and vice versa. Starting asks for a typed "yes" on a terminal; without one (cron, CI) it needs
`--yes`, because every lead is a real phone call.

Exit codes of `start`: 0 when every valid lead is in telli's auto-dialer (or, with --dry-run, when the plan
can launch); 1 when the campaign could not start or any valid lead was not scheduled (failed, not confirmed,
or not sent: stderr says how many and why; running the same command again resumes); 2 without an API key;
130 when interrupted (leads in flight stay "unknown" and are settled by the next run before anything is
re-sent).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import anyio

if TYPE_CHECKING:
    from pydantic import BaseModel

    from telli_mcp.campaigns import CampaignEngine, CampaignPlan, CampaignProgress, CampaignRunResult
    from telli_mcp.config import Settings

__all__ = ["add_campaign_parser", "run_campaign_command"]


def add_campaign_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    campaign = commands.add_parser("campaign", help="start, check, stop or list call campaigns")
    # SUPPRESS: `telli-mcp --sandbox campaign ...` keeps the top-level flag (a subparser default would reset it).
    campaign.add_argument(
        "--sandbox",
        action="store_true",
        default=argparse.SUPPRESS,
        help="use the built-in simulator (in-memory ledger); so does TELLI_MCP_SANDBOX=1",
    )
    campaign.add_argument("--json", action="store_true", help="print machine-readable JSON")
    actions = campaign.add_subparsers(dest="action", required=True)
    start = actions.add_parser("start", help="validate a lead file and schedule its calls")
    start.add_argument("leads_file", type=Path, help="CSV (comma or semicolon) or JSON file of leads")
    start.add_argument("--agent-id", required=True, help="agent to call with (see list_agents)")
    start.add_argument("--name")
    start.add_argument("--campaign-id", help="default: derived from agent and file, so a re-run resumes")
    start.add_argument("--max-retry-days", type=int)
    start.add_argument("--from-number", help="caller id: one of the account's numbers, E.164")
    start.add_argument("--default-region", help="country for national numbers, e.g. DE or US")
    start.add_argument("--ignore-unknown-columns", action="store_true")
    start.add_argument("--dry-run", action="store_true", help="only validate; send nothing")
    start.add_argument("--yes", action="store_true", help="do not ask (required without a terminal)")
    status = actions.add_parser("status", help="live progress of a campaign")
    status.add_argument("campaign_id")
    status.add_argument("--limit", type=int, default=20)
    stop = actions.add_parser("stop", help="take a campaign's pending contacts out of the auto-dialer")
    stop.add_argument("campaign_id")
    actions.add_parser("list", help="campaigns in the local ledger")


def _settings(args: argparse.Namespace) -> Settings:
    from telli_mcp.config import Settings

    return Settings().model_copy(update={"sandbox": True} if getattr(args, "sandbox", False) else {})


def _print(model: BaseModel, as_json: bool, out: TextIO) -> None:
    if as_json:
        print(model.model_dump_json(indent=2), file=out)
        return
    for key, value in model.model_dump(mode="json", exclude_none=True).items():
        if value not in ([], {}, ""):
            print(f"{key}: {json.dumps(value) if isinstance(value, dict | list) else value}", file=out)


def _zones_line(plan: CampaignPlan) -> str:
    zones = plan.timezones
    by_source = ", ".join(f"{source} {count}" for source, count in zones.by_source.items())
    by_zone = ", ".join(f"{zone} {count}" for zone, count in zones.by_zone.items())
    more = f", other zones {zones.other_zones}" if zones.other_zones else ""
    return f"Time zones by source: {by_source}. By zone: {by_zone}{more}."


def _confirmed(plan: CampaignPlan, args: argparse.Namespace) -> bool:
    print(
        f"Campaign {plan.name!r} ({plan.campaign_id}): {plan.to_schedule} contacts to call with agent "
        f"{plan.agent_name or plan.agent_id}; {plan.validation.invalid_leads_count} invalid leads skipped.",
        file=sys.stderr,
    )
    print(_zones_line(plan), file=sys.stderr)
    for warning in plan.warnings:
        print(f"WARNING: {warning}", file=sys.stderr)
    print(plan.dialer_note, file=sys.stderr)
    if args.yes:
        return True
    if not sys.stdin.isatty():
        print("Not a terminal: pass --yes to start (every lead is a real phone call).", file=sys.stderr)
        return False
    return input("Type yes to start calling: ").strip().lower() == "yes"


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
        _print(plan, args.json, sys.stdout)
        for warning in plan.warnings:
            print(f"WARNING: {warning}", file=sys.stderr)
        return 0 if plan.launchable else 1
    if not _confirmed(plan, args):
        print("Not started; nothing was sent.", file=sys.stderr)
        return 1

    async def progress(event: CampaignProgress) -> None:
        _progress_bar(event)

    result = await engine.start(plan, on_progress=progress)
    _print(result, args.json, sys.stdout)
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
        print(f"  {reason.leads} leads: {reason.reason}", file=sys.stderr)
    print("Run the same command again to retry them; nobody already scheduled is called twice.", file=sys.stderr)
    return 1


async def _run(args: argparse.Namespace) -> int:
    from telli_mcp.backend import SANDBOX_NOTICE, open_backend
    from telli_mcp.campaigns import CampaignError
    from telli_mcp.server.campaign_store import CampaignStore, ledger_path
    from telli_mcp.server.deps import key_fingerprint

    backend = open_backend(_settings(args), sandbox_speed=0)
    if backend.api_key is None:
        print("TELLI_API_KEY is not set (or use --sandbox).", file=sys.stderr)
        return 2
    key = backend.api_key.get_secret_value()
    client = backend.client(key)
    if backend.sandbox is not None:
        print(SANDBOX_NOTICE, file=sys.stderr)
    store = CampaignStore(ledger_path(backend.settings))
    try:
        async with client:
            engine: CampaignEngine = store.engine(
                client, key_fingerprint(key), account_timezone=backend.settings.account_timezone
            )
            if args.action == "start":
                return await _start(engine, args, backend.settings)
            if args.action == "status":
                _print(await engine.status(args.campaign_id, limit=args.limit), args.json, sys.stdout)
            elif args.action == "stop":
                _print(await engine.stop(args.campaign_id), args.json, sys.stdout)
            else:
                _print(engine.list(limit=100), args.json, sys.stdout)
            return 0
    except CampaignError as err:
        print(f"telli-mcp campaign: {err}", file=sys.stderr)
        return 1
    finally:
        store.close()


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
