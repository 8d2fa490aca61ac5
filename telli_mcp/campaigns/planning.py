"""Build a `CampaignPlan`: read and validate the leads, check agent and caller id, check a resume is sound,
and say which clock telli will call each lead on.

This is the dry run: it sends only reads (the property schema, the agent, and the account's phone numbers
when a caller id was given) and writes nothing, neither to telli nor to the ledger.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from telli_mcp.campaigns.errors import CampaignConflictError, CampaignStoppedError
from telli_mcp.campaigns.lead_files import read_lead_file
from telli_mcp.campaigns.lead_zones import (
    DEFAULT_ACCOUNT_TIMEZONE,
    LeadZones,
    plan_timezones,
    resolve_zones,
    source_of,
    timezone_warning,
)
from telli_mcp.campaigns.leads import RawLeads, load_inline, parse_file
from telli_mcp.campaigns.ledger import CampaignRecord, Ledger
from telli_mcp.campaigns.models import CampaignRequest, CampaignState, Lead
from telli_mcp.campaigns.results import CampaignPlan, LeadPreview
from telli_mcp.campaigns.schema import fetch_property_specs
from telli_mcp.campaigns.validation import validate_leads
from telli_mcp.campaigns.values import normalise_phone
from telli_mcp.client import InputError, NotFoundError, TelliClient
from telli_mcp.client.timezones import CalleeTimezone

__all__ = ["SAMPLE_SIZE", "Prepared", "new_campaign_id", "prepare"]

SAMPLE_SIZE = 5


@dataclass(frozen=True)
class Prepared:
    """A plan plus what a start needs that is too large for the plan: the validated leads and their zones."""

    plan: CampaignPlan
    leads: list[Lead]
    zones: LeadZones


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
) -> Prepared:
    """Validate `request` and describe what a start would do. `account_timezone` is the clock telli uses
    for contacts without a zone of their own.

    Raises:
        LeadSourceError: the leads could not be read.
        CampaignConflictError: the campaign id exists with other leads or options.
        CampaignStoppedError: the campaign id belongs to a stopped campaign.
        TelliError: the property schema (or agent, or phone numbers) could not be read.
    """
    raw = await _load(request)
    specs = await fetch_property_specs(client)
    validated = validate_leads(
        raw,
        specs,
        default_region=request.default_region,
        ignore_unknown_columns=request.ignore_unknown_columns,
    )
    blocking = list(validated.report.blocking_reasons)
    from_number = _caller_id(request, blocking)
    agent_name = await _agent_name(client, request.agent_id, blocking) if check_agent else None
    if from_number is not None:
        await _check_caller_id(client, from_number, blocking)
    name = request.name or _default_name(request, raw)
    campaign_id = request.campaign_id or new_campaign_id(name, ledger)
    existing = ledger.get_campaign(campaign_id)
    if existing is not None:
        _check_resume(existing, request, raw.sha256, from_number)
    already = ledger.state_counts(campaign_id).scheduled if existing else 0
    zones = resolve_zones(validated.leads, account_timezone)
    timezones = plan_timezones(validated.leads, zones, account_timezone)
    warning = timezone_warning(timezones)
    plan = CampaignPlan(
        campaign_id=campaign_id,
        name=existing.name if existing else name,
        agent_id=request.agent_id,
        agent_name=agent_name,
        from_number=from_number,
        max_retry_days=request.max_retry_days,
        source=_source(request, raw),
        source_sha256=raw.sha256,
        validation=validated.report,
        sample=[_preview(lead, zones[lead.row]) for lead in validated.leads[:SAMPLE_SIZE]],
        timezones=timezones,
        warnings=[warning] if warning else [],
        resumes_existing=existing is not None,
        already_scheduled=already,
        to_schedule=max(0, validated.report.contacts_count - already),
        launchable=not blocking,
        blocking_reasons=blocking,
        request=request.model_copy(update={"campaign_id": campaign_id}),
    )
    return Prepared(plan=plan, leads=validated.leads, zones=zones)


async def _load(request: CampaignRequest) -> RawLeads:
    if request.leads_file is not None:
        # The allow-list is the entry point's (MCP tool, CLI); here the file is still bounded and read off-loop.
        lead_file = await read_lead_file(request.leads_file)
        return parse_file(request.leads_file, lead_file.data)
    return load_inline(request.leads or [])


def _source(request: CampaignRequest, raw: RawLeads) -> str:
    return str(request.leads_file) if request.leads_file is not None else raw.source


def _default_name(request: CampaignRequest, raw: RawLeads) -> str:
    return request.leads_file.name if request.leads_file is not None else raw.source


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
