"""Step 1 of a run: make sure every lead has a telli contact, without ever creating one twice.

Approach (fewest requests): contact ids the ledger already knows are reused with no request. All other
leads are created through `add-contacts-batch` (1000 per request). telli rejects a duplicate external id per
item ("External ID already exists"); only those leads are looked up one by one with
`GET /v2/external/contacts/{externalId}` (8 at a time), since telli has no batch lookup by external id. A
chunk whose response was lost is simply sent again in the next pass: leads it did create then come back as
"already exists" and are looked up, the others are created. External ids make every pass idempotent.

A new contact is created with the lead's time zone: its own column, else the only zone its number belongs
to (see `lead_zones.py`); with neither, no zone is sent and telli uses the account's.

An existing contact is used as it is in telli (its fields are not overwritten). Two guards: if the contact
behind the external id has a different phone number, the lead fails (we never dial a number the list did
not contain); if it is already in the auto-dialer, it counts as scheduled and is not scheduled again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace

from telli_mcp.campaigns.concurrency import map_limited, single_errors
from telli_mcp.campaigns.lead_zones import zone_to_send
from telli_mcp.campaigns.ledger import LeadRecord, LeadUpdate
from telli_mcp.campaigns.models import Lead, LeadState
from telli_mcp.campaigns.planning import Scan, ZonedLead
from telli_mcp.campaigns.run import RunContext
from telli_mcp.client import BatchItemResult, BatchReport, ContactV1Create, NotFoundError, TelliError

__all__ = ["Item", "create_or_find", "ensure_contacts", "to_contact"]

LOOKUP_GROUP = 100
_ALREADY_EXISTS = "already exists"

Item = tuple[LeadRecord, ZonedLead]
"""A pending lead: its ledger record and its data."""
Progress = Callable[[int], Awaitable[None]]
"""Told how many leads a create request just handled."""


async def ensure_contacts(run: RunContext, rounds: int) -> None:
    """Create or find the contact of every lead still `pending` after the streamed pass (up to `rounds`
    more passes). Their data is read from the source again: only these leads are kept."""
    for _ in range(rounds):
        todo = {record.row: record for record in run.ledger.leads(run.campaign_id, [LeadState.PENDING])}
        if not todo:
            return
        items: list[Item] = []
        async for chunk in Scan(run.opened).chunks(1000):
            items.extend((todo[zoned.lead.row], zoned) for zoned in chunk if zoned.lead.row in todo)
        await create_or_find(run, items, _counting(run, len(items)))


def _counting(run: RunContext, total: int) -> Progress:
    handled = 0

    async def progress(count: int) -> None:
        nonlocal handled
        handled += count
        await run.progress("contacts", handled, total, f"Contacts: {handled}/{total} sent again")

    return progress


async def create_or_find(run: RunContext, items: Sequence[Item], progress: Progress) -> list[LeadRecord]:
    """Create the contacts of `items` (pending leads), look up those whose external id exists already, and
    return the records that are now ready to schedule."""
    ready: list[LeadRecord] = []
    existing = await _create(run, items, ready, progress)
    await _look_up(run, existing, ready)
    return ready


def to_contact(lead: Lead, timezone: str | None) -> ContactV1Create:
    """The add-contacts-batch item for a lead; `timezone` is the zone to create it with (None: telli's
    account default)."""
    # Every value was validated and normalised with the lead (the same rules the model applies); checking
    # each again (the phone number parsed twice) costs more than the request per lead. None is not sent.
    return ContactV1Create.model_construct(
        external_contact_id=lead.external_id,
        first_name=lead.first_name,
        last_name=lead.last_name,
        phone_number=lead.phone_number,
        email=lead.email,
        timezone=timezone,
        salutation=lead.salutation,
        external_url=lead.external_url,
        contact_details=dict(lead.properties) or None,
    )


async def _create(
    run: RunContext, items: Sequence[Item], ready: list[LeadRecord], progress: Progress
) -> list[LeadRecord]:
    """Send the creates; return the leads whose external id already exists in telli."""
    by_external_id = {record.external_id: record for record, _ in items}
    existing: list[LeadRecord] = []

    async def on_chunk(done: int, chunks: int, report: BatchReport) -> None:
        updates = []
        for item in report.items:
            record = by_external_id[item.ref]
            if _already_exists(item):
                existing.append(record)
            elif (update := _created(run, record, item)) is not None:
                updates.append(update)
                if update.state is LeadState.CONTACT_READY:
                    ready.append(replace(record, state=update.state, contact_id=update.contact_id))
        run.record(updates)
        await progress(len(report.items))

    if not items:
        return existing
    contacts = [to_contact(zoned.lead, zone_to_send(zoned.zone)) for _, zoned in items]
    with single_errors():
        report = await run.client.contacts_v1.add_batch(
            contacts, concurrency=run.options.contact_concurrency, on_chunk=on_chunk, stop_on_error=False
        )
    run.stats.requests.contact_batches += report.requests_sent
    return existing


def _already_exists(item: BatchItemResult) -> bool:
    return item.status == "error" and _ALREADY_EXISTS in (item.error or "").lower()


def _created(run: RunContext, record: LeadRecord, item: BatchItemResult) -> LeadUpdate | None:
    """The ledger change for a create result; None leaves the lead pending for the next pass."""
    if item.status == "success" and item.contact_id:
        run.stats.created += 1
        return LeadUpdate(row=record.row, state=LeadState.CONTACT_READY, contact_id=item.contact_id)
    if item.status == "error":
        reason = f"telli did not create the contact: {item.error or 'no reason given'}"
        return LeadUpdate(row=record.row, state=LeadState.FAILED, last_error=reason)
    if item.status == "unknown":
        return LeadUpdate(row=record.row, state=LeadState.PENDING, last_error=item.error)
    return None


async def _look_up(run: RunContext, records: Sequence[LeadRecord], ready: list[LeadRecord]) -> None:
    for start in range(0, len(records), LOOKUP_GROUP):
        group = records[start : start + LOOKUP_GROUP]
        updates = await map_limited(group, lambda record: _find(run, record), run.options.lookup_concurrency)
        run.record(updates)
        ready.extend(
            replace(record, state=update.state, contact_id=update.contact_id)
            for record, update in zip(group, updates, strict=True)
            if update.state is LeadState.CONTACT_READY
        )
        done = start + len(group)
        await run.progress("lookup", done, len(records), f"Existing contacts: {done}/{len(records)} found")


async def _find(run: RunContext, record: LeadRecord) -> LeadUpdate:
    run.stats.requests.contact_lookups += 1
    try:
        contact = await run.client.contacts.get_by_external_id(record.external_id)
    except NotFoundError:
        reason = f"telli reports external id {record.external_id} as taken but cannot find its contact"
        return LeadUpdate(row=record.row, state=LeadState.FAILED, last_error=reason)
    except TelliError as exc:
        return LeadUpdate(row=record.row, state=LeadState.PENDING, last_error=f"lookup failed: {exc}")
    if contact.phone_number and contact.phone_number != record.e164:
        reason = (
            f"external id {record.external_id} belongs to an existing telli contact with a different phone "
            "number; not called"
        )
        return LeadUpdate(row=record.row, state=LeadState.FAILED, last_error=reason)
    run.stats.existing += 1
    if contact.auto_dialer_status == "in_dialer":
        note = "already in the auto-dialer before this campaign; not scheduled again"
        return LeadUpdate(row=record.row, state=LeadState.SCHEDULED, contact_id=contact.id, last_error=note)
    return LeadUpdate(row=record.row, state=LeadState.CONTACT_READY, contact_id=contact.id)
