"""Live status of a campaign: ledger counts, telli's dialer status, call outcomes and notable leads.

A campaign of 50,000 leads is not read from telli at once. Its status comes in windows of `WINDOW` leads
(row order): a page reads the window's rows from the ledger (keyset on the row, so any window costs the
same), telli's view of the window's live contacts with get-contacts-batch (chunks of 1000, concurrently),
and the calls of its reached contacts, then closed ones (at most `max_inspected`, 8 at a time; when more
exist the result says so with `calls_inspection_capped`: callback, appointment and opt-out counts are then a
lower bound). What telli said is kept for a few seconds (`contact_cache.py`), so the next page of the same window
sends no request. A campaign of up to `WINDOW` leads is one window: its counts cover every lead. For a larger
one, counts and notable leads cover the window and the note says which leads those are; the cursor moves
on to the next window after the window's last notable lead. The ledger's own counts (scheduled, failed,
...) in `campaign.counts` always cover the whole campaign (one SQL query).

When telli's webhook events cover the campaign (`event_states.py`), a page sends no request for the leads they
settle: a lead in the dialer is pending until an event says otherwise, and outcomes come from the `call_ended`
events. telli is still read for leads whose scheduling is uncertain or that were taken off the dialer, with no
event since. `freshness` says which it was and how new the newest event is.

Within a window notable leads are ordered opted out, appointment, callback, reached, failed, not reached (then by
row) and paged with an offset; the order is stable as long as the outcomes do not change between pages.

Opted out (`outcomes.py`: the person asked not to be called again) comes first because it is the one outcome a
team must act on: the report counts them and names the numbers not yet on the do-not-call list (`dial_block`), for
the surfaces to propose adding. Nothing is added here: that stays the user's decision.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import BaseModel

from telli_mcp.campaigns.concurrency import map_limited
from telli_mcp.campaigns.contact_cache import STATE_TTL, ContactCache
from telli_mcp.campaigns.contact_state import dialer_status
from telli_mcp.campaigns.dial_block import DialBlock
from telli_mcp.campaigns.errors import CampaignError, CampaignNotFoundError
from telli_mcp.campaigns.event_states import CampaignEvents, ContactEvents, EventCoverage
from telli_mcp.campaigns.ledger import LeadRecord, Ledger
from telli_mcp.campaigns.listing import summarize
from telli_mcp.campaigns.models import LeadState
from telli_mcp.campaigns.outcomes import CallFindings, analyse_calls, of_loop
from telli_mcp.campaigns.results import (
    CampaignStatusReport,
    ContactStatusCounts,
    NotableKind,
    NotableLead,
    OutcomeCounts,
)
from telli_mcp.campaigns.run import canonical_id
from telli_mcp.client import ContactStatus, ContactV1, TelliClient

__all__ = ["DEFAULT_MAX_INSPECTED", "WINDOW", "campaign_status"]

DEFAULT_MAX_INSPECTED = 200
MAX_PAGE_SIZE = 100
CALLS_PER_CONTACT = 100
WINDOW = 1000
"""Leads one status window covers: one get-contacts-batch request (its documented limit)."""
READ_CHUNK = 1000
_LIVE_STATES = (LeadState.SCHEDULED, LeadState.UNKNOWN, LeadState.REMOVED)
_ORDER: dict[NotableKind, int] = {
    "opted_out": 0,
    "appointment": 1,
    "callback": 2,
    "reached": 3,
    "failed": 4,
    "not_reached": 5,
}


@dataclass(slots=True)
class _Lead:
    """One lead joined with telli's view of it."""

    record: LeadRecord
    contact: ContactV1 | None = None
    status: ContactStatus | None = None
    findings: CallFindings | None = None


class _Cursor(BaseModel):
    after_row: int = 0
    """The window starts after this row (0: the first window)."""
    offset: int = 0
    """Notable leads of the window already shown."""

    def text(self) -> str:
        # The first window keeps the plain offset a caller may already hold.
        return str(self.offset) if self.after_row == 0 else f"{self.after_row}:{self.offset}"


async def campaign_status(
    client: TelliClient,
    ledger: Ledger,
    campaign_id: str,
    *,
    limit: int = 20,
    cursor: str | None = None,
    max_inspected: int = DEFAULT_MAX_INSPECTED,
    concurrency: int = 8,
    cache: ContactCache | None = None,
    events: CampaignEvents | None = None,
    opt_out_key: str | None,
    dial_block: DialBlock | None = None,
) -> CampaignStatusReport:
    """The campaign's live status with one page of notable leads (see the module docstring). With `events` that
    cover the campaign, contact states and outcomes come from telli's webhook events instead of requests.
    `opt_out_key`: the account's own opt-out outcome (`outcomes.analyse_calls`); `dial_block`: the do-not-call
    list, whose numbers are not proposed again (None: every opted-out number is proposed).

    Raises:
        CampaignNotFoundError: no such campaign in the ledger.
        CampaignError: the cursor is not one this function returned.
        TelliError: telli could not be read.
    """
    record = ledger.get_campaign(campaign_id)
    if record is None:
        raise CampaignNotFoundError(campaign_id)
    position = _parse(cursor)
    rows = ledger.leads(campaign_id, after_row=position.after_row, limit=WINDOW + 1)
    more = len(rows) > WINDOW
    leads = [_Lead(record=lead) for lead in rows[:WINDOW]]
    cache = cache if cache is not None else ContactCache()
    coverage = events.coverage(record.created_at) if events is not None else None
    unread: Sequence[_Lead] = leads
    if events is not None and coverage is not None and coverage.why_not is None:
        unread = _from_events(events, leads, opt_out_key)
    await _load_contacts(client, ledger.tenant, unread, cache, concurrency)
    inspected = [lead for lead in leads if lead.status in (ContactStatus.REACHED, ContactStatus.CLOSED)]
    to_inspect = sorted(
        (lead for lead in inspected if lead.findings is None),
        key=lambda lead: (lead.status is not ContactStatus.REACHED, lead.record.row),
    )
    await _load_findings(client, ledger.tenant, to_inspect[:max_inspected], cache, concurrency, opt_out_key)
    notable = sorted(
        (item for lead in leads if (item := _notable(lead)) is not None),
        key=lambda item: (_ORDER[item.kind], item.row),
    )
    end = position.offset + min(max(limit, 1), MAX_PAGE_SIZE)
    contacts = _contact_counts(leads)
    not_inspected = max(0, len(to_inspect) - max_inspected)
    summary = summarize(ledger, record)
    opted_out = _opted_out_numbers(leads)
    listed = dial_block.blocked(opted_out) if dial_block is not None and opted_out else set()
    return CampaignStatusReport(
        campaign=summary,
        contacts=contacts,
        progress_percent=_progress(contacts),
        outcomes=_outcomes(leads, contacts),
        calls_inspected_contacts=len(inspected) - not_inspected,
        calls_inspection_capped=not_inspected > 0,
        notable=notable[position.offset : end],
        notable_total=len(notable),
        next_cursor=_next(position, end, len(notable), leads, more),
        note=_notes(leads, more or position.after_row > 0, summary.counts.total, len(to_inspect), max_inspected),
        freshness=_freshness(coverage, len(unread)),
        opt_outs_not_listed=[number for number in opted_out if number not in listed],
        opt_outs_listed=len(listed),
    )


def _from_events(events: CampaignEvents, leads: Sequence[_Lead], opt_out_key: str | None) -> list[_Lead]:
    """Fill in what events say about the live leads; returns the leads they cannot settle (telli is read for those):
    leads whose scheduling is uncertain or that were taken off the dialer, with no event since."""
    live = [lead for lead in leads if lead.record.contact_id and lead.record.state in _LIVE_STATES]
    since = {canonical_id(lead.record.contact_id or ""): lead.record.sent_at or lead.record.updated_at for lead in live}
    known = events.of_contacts(since)
    unread = []
    for lead in live:
        found = known.get(canonical_id(lead.record.contact_id or ""), ContactEvents())
        if found.deleted:
            continue  # no status: counted as missing, as when telli no longer returns it
        if found.contact is not None:
            lead.contact, lead.status = found.contact, dialer_status(found.contact)
            if lead.status in (ContactStatus.REACHED, ContactStatus.CLOSED):
                lead.findings = analyse_calls(of_loop(found.calls, lead.record.loop_id), opt_out_key=opt_out_key)
        elif lead.record.state is LeadState.SCHEDULED and not found.calls:
            lead.status = ContactStatus.PENDING  # sent to the dialer, and nothing happened since
        else:
            unread.append(lead)
    return unread


def _freshness(coverage: EventCoverage | None, read_from_telli: int) -> str:
    """How fresh the page is: from events (and how many leads telli was still read for), or from telli."""
    if coverage is None or coverage.why_not is not None:
        why = f" Webhook events were not used: {coverage.why_not}" if coverage is not None else ""
        return f"Contact states were read from telli now or in the last {STATE_TTL:g} s (reused between pages).{why}"
    newest = coverage.last_event_at.isoformat(timespec="seconds") if coverage.last_event_at else "none yet"
    telli = (
        f"telli was read for {read_from_telli} leads they could not settle" if read_from_telli else "telli was not read"
    )
    return f"Contact states and outcomes are from telli's webhook events (newest arrived {newest}); {telli}."


def _parse(cursor: str | None) -> _Cursor:
    if cursor is None:
        return _Cursor()
    window, _, offset = cursor.rpartition(":")
    if not offset.isdigit() or not (window == "" or window.isdigit()) or (window == "" and ":" in cursor):
        raise CampaignError(f"Invalid cursor {cursor!r}: pass the next_cursor of the previous page.")
    return _Cursor(after_row=int(window or 0), offset=int(offset))


def _next(position: _Cursor, end: int, notable: int, leads: Sequence[_Lead], more: bool) -> str | None:
    if end < notable:
        return _Cursor(after_row=position.after_row, offset=end).text()
    if more and leads:
        return _Cursor(after_row=leads[-1].record.row, offset=0).text()
    return None


def _notes(leads: Sequence[_Lead], partial: bool, total: int, inspected: int, cap: int) -> str | None:
    notes = []
    if partial and leads:
        notes.append(
            f"Contact counts, outcomes and notable leads cover the {len(leads)} leads in rows "
            f"{leads[0].record.row}-{leads[-1].record.row} of the campaign's {total}; next_cursor continues "
            "with the following leads."
        )
    if inspected > cap:
        notes.append(_note(inspected, cap))
    return " ".join(notes) or None


async def _load_contacts(
    client: TelliClient, tenant: str, leads: Sequence[_Lead], cache: ContactCache, concurrency: int
) -> None:
    live = [lead for lead in leads if lead.record.contact_id and lead.record.state in _LIVE_STATES]
    ids = [canonical_id(lead.record.contact_id or "") for lead in live]
    known = cache.fresh(tenant, ids)
    to_read = [contact_id for contact_id in dict.fromkeys(ids) if contact_id not in known]
    chunks = [to_read[start : start + READ_CHUNK] for start in range(0, len(to_read), READ_CHUNK)]

    async def read(chunk: list[str]) -> None:
        result = await client.contacts_v1.get_batch(chunk)
        found = {canonical_id(contact.contact_id): contact for contact in result.found}
        for contact_id in chunk:
            known[contact_id] = cache.put(tenant, contact_id, found.get(contact_id))

    await map_limited(chunks, read, concurrency)
    for lead, contact_id in zip(live, ids, strict=True):
        lead.contact = known[contact_id].contact
        lead.status = dialer_status(lead.contact) if lead.contact is not None else None


async def _load_findings(
    client: TelliClient,
    tenant: str,
    leads: Sequence[_Lead],
    cache: ContactCache,
    concurrency: int,
    opt_out_key: str | None,
) -> None:
    entries = cache.fresh(tenant, [canonical_id(lead.record.contact_id or "") for lead in leads])

    async def read(lead: _Lead) -> None:
        entry = entries.get(canonical_id(lead.record.contact_id or ""))
        calls = entry.calls if entry is not None else None
        if calls is None:
            calls = (await client.calls.list(contact_id=lead.record.contact_id, limit=CALLS_PER_CONTACT)).items
            if entry is not None:
                entry.calls = calls
        lead.findings = analyse_calls(of_loop(calls, lead.record.loop_id), opt_out_key=opt_out_key)

    await map_limited(leads, read, concurrency)


def _notable(lead: _Lead) -> NotableLead | None:
    kind: NotableKind | None = None
    detail = lead.record.last_error if lead.record.state is LeadState.FAILED else None
    findings = lead.findings or CallFindings()
    if findings.opt_out:
        kind, detail = "opted_out", findings.opt_out_detail or findings.summary
    elif lead.record.state is LeadState.FAILED:
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
        opted_out=sum(1 for item in findings if item.opt_out),
    )


def _opted_out_numbers(leads: Sequence[_Lead]) -> list[str]:
    """The numbers of the leads that opted out, each once, in row order."""
    return list(dict.fromkeys(lead.record.e164 for lead in leads if lead.findings and lead.findings.opt_out))


def _note(total: int, cap: int) -> str:
    return (
        f"Call outcomes were read for {cap} of {total} reached or closed contacts; callback, appointment and "
        "opt-out counts are a lower bound. Ask with a higher max_inspected for more."
    )
