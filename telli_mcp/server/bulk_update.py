"""One change for many contacts: what update_contacts sends through telli's v1 update-contacts-batch.

v1 keeps the custom properties as one object, `contact_details`, and an update replaces that object whole. So
setting or clearing properties means reading each contact's current object and sending it back changed: the
keys set get their new value, the keys cleared are left out, every other key keeps its value. The read happens
right before the write (not when the question is asked), so the time in which a concurrent change could be lost
is one batch read long. `timezone` and `salutation` are sent only when given: v1 documents them as optional, not
nullable, so they can be set but never emptied (an absent field is left unchanged; a null would be refused).

Contacts in a call when the batch is sent are skipped when properties are written: the call may still change
the contact (telli and its integrations record results when it ends), and a whole-object write could undo that.
A timezone or salutation change touches no such object and is applied to them too (it affects later calls only).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from telli_mcp.server.properties_check import check_property_values
from telli_mcp.server.results import ToolResult
from telli_mcp.text import InlineText, inline

if TYPE_CHECKING:
    from telli_mcp.client import BatchReport, ChunkCallback, ContactV1, ContactV1Update, TelliClient
    from telli_mcp.server.bulk_selection import Selection

__all__ = ["ContactChange", "UpdatePlan", "UpdateRow", "apply_update", "check_change", "plan_update"]

IN_CALL = (
    "in a call right now: properties are written as one whole object, which could undo what the call records "
    "when it ends; run update_contacts again for them after the call"
)
GONE = "telli no longer has this contact (deleted since the selection was made)"
NOT_SENT = "not sent because an earlier batch failed as a whole; safe to send again with update_contacts"

UpdateStatus = Literal["updated", "would_update", "failed", "unknown", "not_sent", "not_found", "skipped"]


class UpdateRow(ToolResult):
    """What happened (or, in a dry run, would happen) to one selected contact."""

    contact_id: str
    status: UpdateStatus
    detail: InlineText | None = Field(default=None, description="telli's reason, or why skipped")
    check: str | None = Field(default=None, description="For unknown: how to find out")


@dataclass(frozen=True)
class ContactChange:
    """The one change update_contacts applies to every selected contact."""

    set_properties: Mapping[str, Any] = field(default_factory=dict)
    clear_properties: tuple[str, ...] = ()
    timezone: str | None = None
    salutation: str | None = None

    def __post_init__(self) -> None:
        if not (self.set_properties or self.clear_properties or self.timezone or self.salutation):
            raise ToolError(
                "Nothing to change: pass set_properties, clear_properties, timezone or salutation. Nothing was done."
            )
        for key, value in self.set_properties.items():
            if value is None:
                raise ToolError(f"set_properties: {key!r} is null; to empty a property, name it in clear_properties.")
        both = sorted(set(self.set_properties) & set(self.clear_properties))
        if both:
            raise ToolError(f"clear_properties: {both[0]!r} is also in set_properties; set it or clear it, not both.")

    @property
    def writes_details(self) -> bool:
        """Whether the change rewrites the contacts' custom properties (one whole object in v1)."""
        return bool(self.set_properties or self.clear_properties)

    def details_for(self, current: Mapping[str, Any]) -> dict[str, Any]:
        """The contact's custom properties after the change: cleared keys left out, set keys replaced."""
        kept = {key: value for key, value in current.items() if key not in self.clear_properties}
        return {**kept, **self.set_properties}

    def item(self, contact: ContactV1) -> ContactV1Update:
        """One update-contacts-batch item: the contact id and only what changes (None fields are not sent)."""
        from telli_mcp.client import ContactV1Update

        details = self.details_for(contact.contact_details) if self.writes_details else None
        return ContactV1Update(
            contact_id=contact.contact_id, contact_details=details, timezone=self.timezone, salutation=self.salutation
        )

    def describe(self) -> str:
        """The change in words, for the question (values as the user gave them, cleaned to one line)."""
        parts = [f"set {key} to {inline(repr(value))}" for key, value in sorted(self.set_properties.items())]
        if self.clear_properties:
            parts.append(f"clear {', '.join(sorted(self.clear_properties))}")
        if self.timezone:
            parts.append(f"set the time zone to {self.timezone}")
        if self.salutation:
            parts.append(f"set the salutation to {inline(repr(self.salutation))}")
        return "; ".join(parts)


async def check_change(client: TelliClient, change: ContactChange) -> None:
    """Refuse, naming the argument, a property that does not exist or a value that does not fit its type."""
    for argument, values, clearing in (
        ("set_properties", dict(change.set_properties), False),
        ("clear_properties", dict.fromkeys(change.clear_properties), True),
    ):
        try:
            await check_property_values(client, values, clearing_allowed=clearing)
        except ToolError as err:
            raise ToolError(f"{argument}: {err} Nothing was done.") from None


@dataclass(frozen=True)
class UpdatePlan:
    """The selection as telli has it now: the contacts found (with their current properties) and the ids it lacks."""

    selection: Selection
    change: ContactChange
    found: list[ContactV1]
    missing: list[str]

    def binding(self) -> dict[str, Any]:
        """What a yes covers beyond the arguments: exactly these contacts, and which of them telli lacked."""
        return {"selection": self.selection.digest, "missing": sorted(self.missing)}

    def preview(self) -> list[UpdateRow]:
        """What the update would do now (a dry run), in selection order: who is updated, skipped or not found."""
        rows = {contact.contact_id: _planned_row(contact, self.change) for contact in self.found}
        rows.update((contact_id, _not_found(contact_id)) for contact_id in self.missing)
        return [rows[contact_id] for contact_id in self.selection.ids]


async def plan_update(client: TelliClient, selection: Selection, change: ContactChange) -> UpdatePlan:
    """Read the selected contacts from telli (batch reads of 1000); nothing is written."""
    batch = await client.contacts_v1.get_batch(list(selection.ids))
    return UpdatePlan(selection, change, found=batch.found, missing=[item.ref for item in batch.missing])


def _planned_row(contact: ContactV1, change: ContactChange) -> UpdateRow:
    return (
        _skipped(contact) if _held(contact, change) else UpdateRow(contact_id=contact.contact_id, status="would_update")
    )


def _not_found(contact_id: str) -> UpdateRow:
    return UpdateRow(contact_id=contact_id, status="not_found", detail=GONE)


def _held(contact: ContactV1, change: ContactChange) -> bool:
    return change.writes_details and contact.in_call_since is not None


def _skipped(contact: ContactV1) -> UpdateRow:
    return UpdateRow(contact_id=contact.contact_id, status="skipped", detail=IN_CALL)


def _unknown_check(contact_id: str) -> str:
    return (
        f"get_contact(contact_id={contact_id}): if it shows the change, it was applied; if not, run update_contacts "
        "for it again (the same change is safe to repeat)"
    )


async def apply_update(
    client: TelliClient, plan: UpdatePlan, *, on_chunk: ChunkCallback | None = None
) -> list[UpdateRow]:
    """Read the contacts again (their current properties and whether they are in a call), then send the change in
    batches of 1000; one row per selected contact, in selection order. Nothing is sent twice."""
    change = plan.change
    fresh = await client.contacts_v1.get_batch([contact.contact_id for contact in plan.found])
    gone = {item.ref for item in fresh.missing} | set(plan.missing)
    held = [contact for contact in fresh.found if _held(contact, change)]
    sending = [contact for contact in fresh.found if not _held(contact, change)]
    report = await client.contacts_v1.update_batch([change.item(c) for c in sending], on_chunk=on_chunk)
    rows = {row.contact_id: row for row in _sent_rows(report)}
    rows.update((contact.contact_id, _skipped(contact)) for contact in held)
    rows.update((contact_id, _not_found(contact_id)) for contact_id in gone)
    return [rows[contact_id] for contact_id in plan.selection.ids]


def _sent_rows(report: BatchReport) -> Sequence[UpdateRow]:
    rows = []
    for item in report.items:
        if item.status == "success":
            rows.append(UpdateRow(contact_id=item.ref, status="updated"))
        elif item.status == "error":
            rows.append(UpdateRow(contact_id=item.ref, status="failed", detail=item.error))
        elif item.status == "unknown":
            check = _unknown_check(item.ref)
            rows.append(UpdateRow(contact_id=item.ref, status="unknown", detail=item.error, check=check))
        else:
            rows.append(UpdateRow(contact_id=item.ref, status="not_sent", detail=NOT_SENT))
    return rows
