"""Live status of a campaign: ledger counts, telli's dialer status, call outcomes and notable leads.

Costs: one get-contacts-batch request per 1000 contacts, plus one list-calls request per inspected contact
(reached contacts first, then closed ones), at most `max_inspected` of them, 8 at a time. When more exist the
result says so (`calls_inspection_capped`): callback and appointment counts are then a lower bound.

Notable leads are ordered appointment, callback, reached, failed, not reached (then by row) and paged with
an offset cursor; the order is stable as long as the campaign's outcomes do not change between pages.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel

from telli_mcp.campaigns.concurrency import map_limited
from telli_mcp.campaigns.contact_state import dialer_status
from telli_mcp.campaigns.errors import CampaignError, CampaignNotFoundError
from telli_mcp.campaigns.ledger import LeadRecord, Ledger
from telli_mcp.campaigns.listing import summarize
from telli_mcp.campaigns.models import LeadState
from telli_mcp.campaigns.outcomes import CallFindings, analyse_calls
from telli_mcp.campaigns.results import (
    CampaignStatusReport,
    ContactStatusCounts,
    NotableKind,
    NotableLead,
    OutcomeCounts,
)
from telli_mcp.campaigns.run import canonical_id
from telli_mcp.client import ContactStatus, ContactV1, TelliClient

__all__ = ["DEFAULT_MAX_INSPECTED", "campaign_status"]

DEFAULT_MAX_INSPECTED = 200
MAX_PAGE_SIZE = 100
CALLS_PER_CONTACT = 100
_LIVE_STATES = (LeadState.SCHEDULED, LeadState.UNKNOWN, LeadState.REMOVED)
_ORDER: dict[NotableKind, int] = {"appointment": 0, "callback": 1, "reached": 2, "failed": 3, "not_reached": 4}


class _Lead(BaseModel):
    """One lead joined with telli's view of it."""

    record: LeadRecord
    contact: ContactV1 | None = None
    status: ContactStatus | None = None
    findings: CallFindings | None = None


async def campaign_status(
    client: TelliClient,
    ledger: Ledger,
    campaign_id: str,
    *,
    limit: int = 20,
    cursor: str | None = None,
    max_inspected: int = DEFAULT_MAX_INSPECTED,
    concurrency: int = 8,
) -> CampaignStatusReport:
    """The campaign's live status with one page of notable leads.

    Raises:
        CampaignNotFoundError: no such campaign in the ledger.
        CampaignError: the cursor is not one this function returned.
        TelliError: telli could not be read.
    """
    record = ledger.get_campaign(campaign_id)
    if record is None:
        raise CampaignNotFoundError(campaign_id)
    offset = _offset(cursor)
    leads = [_Lead(record=lead) for lead in ledger.leads(campaign_id)]
    await _load_contacts(client, leads)
    inspected = [lead for lead in leads if lead.status in (ContactStatus.REACHED, ContactStatus.CLOSED)]
    inspected.sort(key=lambda lead: (lead.status is not ContactStatus.REACHED, lead.record.row))
    await _load_findings(client, inspected[:max_inspected], concurrency)
    notable = sorted(
        (item for lead in leads if (item := _notable(lead)) is not None),
        key=lambda item: (_ORDER[item.kind], item.row),
    )
    page_size = min(max(limit, 1), MAX_PAGE_SIZE)
    end = offset + page_size
    contacts = _contact_counts(leads)
    capped = len(inspected) > max_inspected
    return CampaignStatusReport(
        campaign=summarize(ledger, record),
        contacts=contacts,
        progress_percent=_progress(contacts),
        outcomes=_outcomes(leads, contacts),
        calls_inspected_contacts=min(len(inspected), max_inspected),
        calls_inspection_capped=capped,
        notable=notable[offset:end],
        notable_total=len(notable),
        next_cursor=str(end) if end < len(notable) else None,
        note=_note(len(inspected), max_inspected) if capped else None,
    )


def _offset(cursor: str | None) -> int:
    if cursor is None:
        return 0
    if not cursor.isdigit():
        raise CampaignError(f"Invalid cursor {cursor!r}: pass the next_cursor of the previous page.")
    return int(cursor)


async def _load_contacts(client: TelliClient, leads: Sequence[_Lead]) -> None:
    live = [lead for lead in leads if lead.record.contact_id and lead.record.state in _LIVE_STATES]
    if not live:
        return
    result = await client.contacts_v1.get_batch([lead.record.contact_id or "" for lead in live])
    found = {canonical_id(contact.contact_id): contact for contact in result.found}
    for lead in live:
        lead.contact = found.get(canonical_id(lead.record.contact_id or ""))
        lead.status = dialer_status(lead.contact) if lead.contact is not None else None


async def _load_findings(client: TelliClient, leads: Sequence[_Lead], concurrency: int) -> None:
    async def read(lead: _Lead) -> None:
        page = await client.calls.list(contact_id=lead.record.contact_id, limit=CALLS_PER_CONTACT)
        lead.findings = analyse_calls(page.items)

    await map_limited(leads, read, concurrency)


def _notable(lead: _Lead) -> NotableLead | None:
    kind: NotableKind | None = None
    detail = lead.record.last_error if lead.record.state is LeadState.FAILED else None
    findings = lead.findings or CallFindings()
    if lead.record.state is LeadState.FAILED:
        kind = "failed"
    elif findings.appointment:
        kind, detail = "appointment", findings.appointment_detail
    elif findings.callback:
        kind, detail = "callback", findings.callback_detail
    elif lead.status is ContactStatus.REACHED:
        kind, detail = "reached", findings.summary
    elif lead.status is ContactStatus.CLOSED:
        kind = "not_reached"
    if kind is None:
        return None
    contact = lead.contact
    name = " ".join(part for part in (contact.first_name, contact.last_name) if part) if contact else None
    return NotableLead(
        row=lead.record.row,
        external_id=lead.record.external_id,
        contact_id=lead.record.contact_id,
        name=name or None,
        phone_number=lead.record.e164,
        kind=kind,
        detail=detail,
        at=findings.at,
    )


def _contact_counts(leads: Sequence[_Lead]) -> ContactStatusCounts:
    counts = ContactStatusCounts()
    for lead in leads:
        if lead.status is not None:
            setattr(counts, lead.status.value, getattr(counts, lead.status.value) + 1)
        elif lead.record.contact_id and lead.record.state in _LIVE_STATES:
            counts.missing += 1
    return counts


def _progress(contacts: ContactStatusCounts) -> float:
    # Contacts that ever entered the dialer: pending, reached or closed ("new" ones were never dialled).
    dialled = contacts.pending + contacts.reached + contacts.closed
    return round(100 * (contacts.reached + contacts.closed) / dialled, 1) if dialled else 0.0


def _outcomes(leads: Sequence[_Lead], contacts: ContactStatusCounts) -> OutcomeCounts:
    findings = [lead.findings for lead in leads if lead.findings is not None]
    failed = sum(1 for lead in leads if lead.record.state is LeadState.FAILED)
    return OutcomeCounts(
        reached=contacts.reached,
        callback_requested=sum(1 for item in findings if item.callback),
        appointment=sum(1 for item in findings if item.appointment),
        failed=failed + contacts.closed,
    )


def _note(total: int, cap: int) -> str:
    return (
        f"Call outcomes were read for {cap} of {total} reached or closed contacts; callback and appointment "
        "counts are a lower bound. Ask with a higher max_inspected for more."
    )
