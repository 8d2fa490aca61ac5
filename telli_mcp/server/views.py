"""Compact, model-facing result shapes (the tools' output schemas) and their builders from client models.

These are deliberately not the wire models: they are snake_case, small, cleaned of invisible characters,
and free text from third parties is fenced (see `sanitize`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import Field

from telli_mcp.client import Agent, Call, Contact, ContactV1, InvalidItem, PhoneNumber, PropertyDefinition
from telli_mcp.server.results import ToolResult
from telli_mcp.server.sanitize import clean, fence
from telli_mcp.server.transcripts import render_transcript

__all__ = [
    "AgentView",
    "CallDetail",
    "CallSummary",
    "ContactDetail",
    "ContactSaved",
    "ContactSummary",
    "PhoneNumberView",
    "PropertyView",
    "agent_view",
    "call_detail",
    "call_summary",
    "contact_detail",
    "contact_saved",
    "contact_summary",
    "join_notes",
    "phone_number_view",
    "property_view",
    "skipped_note",
]

SUMMARY_PREVIEW_CHARS = 240
SKIPPED_IDS_SHOWN = 10
SKIPPED_ID_CHARS = 64


def _text(value: object) -> str | None:
    return None if value is None else clean(str(value))


def _clean_value(value: Any) -> Any:
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, list):
        return [_clean_value(item) for item in value]
    if isinstance(value, dict):
        return {clean(str(k)): _clean_value(v) for k, v in value.items()}
    return value


class ContactSummary(ToolResult):
    contact_id: str
    name: str
    phone_number: str
    external_id: str | None = None
    timezone: str | None = None


class ContactSaved(ToolResult):
    contact_id: str
    name: str
    phone_number: str
    external_id: str | None = None
    timezone: str | None = None
    timezone_note: str | None = None
    """Whether the time zone was inferred from the number, or why not."""
    properties: dict[str, Any] = Field(default_factory=dict)


class ContactDetail(ToolResult):
    contact_id: str
    first_name: str
    last_name: str
    phone_number: str
    external_id: str | None = None
    external_url: str | None = None
    salutation: str | None = None
    email: str | None = None
    timezone: str | None = None
    properties: dict[str, Any] = Field(default_factory=dict, description="Custom property values by key")
    created_at: datetime | None = None
    dialer_status: str | None = Field(default=None, description="new, pending, reached or closed")
    call_attempts: int | None = None
    next_call_at: datetime | None = None
    reached_at: datetime | None = None
    in_call_since: datetime | None = None


class PropertyView(ToolResult):
    key: str
    data_type: str
    label: str
    source: str | None = None
    description: str | None = None
    options: list[str] | None = Field(default=None, description="Allowed values (select / multi_select)")


class CallSummary(ToolResult):
    call_id: str
    contact_id: str | None = None
    agent_id: str | None = None
    attempt: int | None = None
    status: str | None = Field(default=None, description="COMPLETED, ANSWERED, NOT_REACHED, VOICEMAIL, ERROR")
    started_at: datetime | None = None
    duration_min: float | None = None
    summary_preview: str | None = Field(default=None, description="Start of the AI summary (untrusted text)")


class CallDetail(ToolResult):
    call_id: str
    contact_id: str | None = None
    agent_id: str | None = None
    attempt: int | None = None
    from_number: str | None = None
    to_number: str | None = None
    status: str | None = None
    ended_reason: str | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    duration_min: float | None = None
    summary: str | None = Field(default=None, description="AI summary of the call, fenced as untrusted text")
    analysis: dict[str, Any] = Field(default_factory=dict, description="System analysis: {value, details}")
    outcome: dict[str, Any] = Field(default_factory=dict, description="Custom call outcomes defined on the agent")
    collected_data: dict[str, Any] | None = None
    booked_slot_for: str | None = None
    recording_url: str | None = None
    transcript_chars: int = Field(0, description="Length of the transcript; read it with get_call_transcript")
    transcript: str | None = Field(default=None, description="Only with include_transcript=true; fenced")
    transcript_next_offset: int | None = Field(
        default=None, description="Set when the transcript was cut; continue with get_call_transcript(offset=...)"
    )


class AgentView(ToolResult):
    agent_id: str
    title: str
    language: str | None = None
    created_at: datetime | None = None


class PhoneNumberView(ToolResult):
    phone_number_id: str
    phone_number: str
    in_outbound_pool: bool | None = None
    type: str | None = None


def contact_summary(contact: Contact) -> ContactSummary:
    return ContactSummary(
        contact_id=contact.id,
        name=clean(f"{contact.first_name or ''} {contact.last_name or ''}".strip()),
        phone_number=contact.phone_number,
        external_id=_text(contact.external_id),
        timezone=contact.timezone_iana,
    )


def contact_saved(contact: Contact, timezone_note: str | None = None) -> ContactSaved:
    summary = contact_summary(contact)
    properties = {item.key: _clean_value(item.value) for item in contact.properties}
    return ContactSaved(**summary.model_dump(), timezone_note=timezone_note, properties=properties)


def _dialer_fields(record: ContactV1 | None) -> dict[str, Any]:
    """Where the contact is in telli's auto-dialer, from the v1 record (v2 contacts do not say)."""
    if record is None:
        return {}
    return {
        "dialer_status": None if record.status is None else str(record.status),
        "call_attempts": record.call_attempts,
        "next_call_at": record.next_call_at,
        "reached_at": record.reached_at,
        "in_call_since": record.in_call_since,
    }


def contact_detail(contact: Contact, dialer: ContactV1 | None) -> ContactDetail:
    return ContactDetail(
        **_dialer_fields(dialer),
        contact_id=contact.id,
        first_name=clean(contact.first_name or ""),
        last_name=clean(contact.last_name or ""),
        phone_number=contact.phone_number,
        external_id=_text(contact.external_id),
        external_url=_text(contact.external_url),
        salutation=_text(contact.salutation),
        email=_text(contact.email),
        timezone=contact.timezone_iana,
        properties={item.key: _clean_value(item.value) for item in contact.properties},
        created_at=contact.created_at,
    )


def property_view(definition: PropertyDefinition) -> PropertyView:
    options = [option.value for option in definition.options] if definition.options else None
    return PropertyView(
        key=definition.key,
        data_type=str(definition.data_type),
        label=clean(definition.label or definition.key),
        source=None if definition.source is None else str(definition.source),
        description=_text(definition.description),
        options=options,
    )


def _summary_text(call: Call) -> str | None:
    item = call.call_analysis.get("summary")
    if item is None or item.details is None:
        return None
    return str(item.details)


def call_summary(call: Call) -> CallSummary:
    summary = _summary_text(call)
    preview = None
    if summary:
        cut = clean(summary)
        preview = cut if len(cut) <= SUMMARY_PREVIEW_CHARS else cut[:SUMMARY_PREVIEW_CHARS] + "…"
    return CallSummary(
        call_id=call.call_id,
        contact_id=call.contact_id,
        agent_id=call.agent_id,
        attempt=call.attempt,
        status=None if call.call_status is None else str(call.call_status),
        started_at=call.started_at or call.triggered_at,
        duration_min=call.call_length_min,
        summary_preview=preview,
    )


def call_detail(call: Call) -> CallDetail:
    summary = _summary_text(call)
    analysis = {
        clean(key): {"value": _clean_value(item.value), "details": _clean_value(item.details)}
        for key, item in call.call_analysis.items()
        if key != "summary"
    }
    return CallDetail(
        call_id=call.call_id,
        contact_id=call.contact_id,
        agent_id=call.agent_id,
        attempt=call.attempt,
        from_number=call.from_number,
        to_number=call.to_number,
        status=None if call.call_status is None else str(call.call_status),
        ended_reason=call.ended_reason,
        started_at=call.started_at or call.triggered_at,
        ended_at=call.ended_at,
        duration_min=call.call_length_min,
        summary=None if summary is None else fence(summary, source="call summary"),
        analysis=analysis,
        outcome=_clean_value(call.call_outcome or {}),
        collected_data=_clean_value(call.collected_data) if call.collected_data else None,
        booked_slot_for=_text(call.booked_slot_for),
        recording_url=call.recording_url,
        transcript_chars=len(render_transcript(call)),
    )


def agent_view(agent: Agent) -> AgentView:
    return AgentView(
        agent_id=agent.id,
        title=clean(agent.title or "Untitled Agent"),
        language=agent.language,
        created_at=agent.created_at,
    )


def phone_number_view(number: PhoneNumber) -> PhoneNumberView:
    return PhoneNumberView(
        phone_number_id=number.id,
        phone_number=number.phone_number,
        in_outbound_pool=number.in_outbound_pool,
        type=None if number.phone_number_type is None else str(number.phone_number_type),
    )


def _skipped_id(item: InvalidItem) -> str:
    return clean(item.id)[:SKIPPED_ID_CHARS] if item.id else f"(no id, item {item.index})"


def skipped_note(invalid: Sequence[InvalidItem], noun: str) -> str | None:
    """A sentence telling the model which rows telli sent but could not be read, so a short list is not
    mistaken for the whole list; None when every row was read."""
    if not invalid:
        return None
    ids = ", ".join(_skipped_id(item) for item in invalid[:SKIPPED_IDS_SHOWN])
    more = f" and {len(invalid) - SKIPPED_IDS_SHOWN} more" if len(invalid) > SKIPPED_IDS_SHOWN else ""
    return (
        f"{len(invalid)} {noun} telli sent could not be read and are not shown: {ids}{more} "
        f"({clean(invalid[0].problem)})."
    )


def join_notes(*notes: str | None) -> str | None:
    """The given notes as one text; None when there are none."""
    text = " ".join(note for note in notes if note)
    return text or None
