"""Compact, model-facing result shapes (the tools' output schemas) and their builders from client models.

These are deliberately not the wire models: they are snake_case and small. Every field that can hold text
from telli or a third party is typed `InlineText` / `InlineObject`, so it is cleaned (control, escape, bidi and
invisible characters removed, one line, fence spellings neutralised) however the view is built; free text
(summaries, previews, transcripts) is fenced as untrusted data (see `telli_mcp.text`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeAlias

from pydantic import Field

from telli_mcp.server.results import ToolResult
from telli_mcp.server.transcripts import render_transcript
from telli_mcp.text import InlineObject, InlineText, fence, fence_inline, inline

if TYPE_CHECKING:
    from telli_mcp.client import Agent, Call, Contact, ContactV1, InvalidItem, PhoneNumber, PropertyDefinition

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
    "opt_out_note",
    "phone_number_view",
    "property_view",
    "propose_do_not_call",
    "skipped_note",
]

SUMMARY_PREVIEW_CHARS = 240
SKIPPED_IDS_SHOWN = 10
SKIPPED_ID_CHARS = 64

ListedNumbers: TypeAlias = Callable[[Collection[str]], set[str]]
"""Which of these E.164 numbers are on the caller's do-not-call list (`TenantList.blocked`)."""


def _text(value: object) -> str | None:
    return None if value is None else str(value)


class ContactSummary(ToolResult):
    contact_id: InlineText
    name: InlineText
    phone_number: InlineText
    external_id: InlineText | None = None
    timezone: InlineText | None = None


class ContactSaved(ToolResult):
    contact_id: InlineText
    name: InlineText
    phone_number: InlineText
    external_id: InlineText | None = None
    timezone: InlineText | None = None
    timezone_note: InlineText | None = None
    """Whether the time zone was inferred from the number, or why not."""
    properties: InlineObject = Field(default_factory=dict)


class ContactDetail(ToolResult):
    contact_id: InlineText
    first_name: InlineText
    last_name: InlineText
    phone_number: InlineText
    external_id: InlineText | None = None
    external_url: InlineText | None = None
    salutation: InlineText | None = None
    email: InlineText | None = None
    timezone: InlineText | None = None
    properties: InlineObject = Field(default_factory=dict, description="Custom property values by key")
    created_at: datetime | None = None
    dialer_status: InlineText | None = Field(default=None, description="new, pending, reached or closed")
    call_attempts: int | None = None
    next_call_at: datetime | None = None
    reached_at: datetime | None = None
    in_call_since: datetime | None = None


class PropertyView(ToolResult):
    key: InlineText
    data_type: InlineText
    label: InlineText
    source: InlineText | None = None
    description: InlineText | None = None
    options: list[InlineText] | None = Field(default=None, description="Allowed values (select / multi_select)")


class CallSummary(ToolResult):
    call_id: InlineText
    contact_id: InlineText | None = None
    agent_id: InlineText | None = None
    attempt: int | None = None
    status: InlineText | None = Field(default=None, description="COMPLETED, ANSWERED, NOT_REACHED, VOICEMAIL, ERROR")
    started_at: datetime | None = None
    duration_min: float | None = None
    summary_preview: str | None = Field(default=None, description="Start of the AI summary (untrusted text)")


class CallDetail(ToolResult):
    call_id: InlineText
    contact_id: InlineText | None = None
    agent_id: InlineText | None = None
    attempt: int | None = None
    from_number: InlineText | None = None
    to_number: InlineText | None = None
    status: InlineText | None = None
    ended_reason: InlineText | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    duration_min: float | None = None
    summary: str | None = Field(default=None, description="AI summary of the call, fenced as untrusted text")
    analysis: InlineObject = Field(default_factory=dict, description="System analysis: {value, details}")
    outcome: InlineObject = Field(default_factory=dict, description="Custom call outcomes defined on the agent")
    collected_data: InlineObject | None = None
    booked_slot_for: InlineText | None = None
    recording_url: InlineText | None = None
    transcript_chars: int = Field(0, description="Length of the transcript; read it with get_call_transcript")
    transcript: str | None = Field(default=None, description="Only with include_transcript=true; fenced")
    transcript_next_offset: int | None = Field(
        default=None, description="Set when the transcript was cut; continue with get_call_transcript(offset=...)"
    )
    opt_out: str | None = None
    """Set when the call says the person asked not to be called again: why, and what to propose (`opt_out_note`)."""


class AgentView(ToolResult):
    agent_id: InlineText
    title: InlineText
    language: InlineText | None = None
    created_at: datetime | None = None


class PhoneNumberView(ToolResult):
    phone_number_id: InlineText
    phone_number: InlineText
    in_outbound_pool: bool | None = None
    type: InlineText | None = None


def contact_summary(contact: Contact) -> ContactSummary:
    return ContactSummary(
        contact_id=contact.id,
        name=f"{contact.first_name or ''} {contact.last_name or ''}",
        phone_number=contact.phone_number,
        external_id=_text(contact.external_id),
        timezone=contact.timezone_iana,
    )


def contact_saved(contact: Contact, timezone_note: str | None = None) -> ContactSaved:
    summary = contact_summary(contact)
    properties = {item.key: item.value for item in contact.properties}
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
        first_name=contact.first_name or "",
        last_name=contact.last_name or "",
        phone_number=contact.phone_number,
        external_id=_text(contact.external_id),
        external_url=_text(contact.external_url),
        salutation=_text(contact.salutation),
        email=_text(contact.email),
        timezone=contact.timezone_iana,
        properties={item.key: item.value for item in contact.properties},
        created_at=contact.created_at,
    )


def property_view(definition: PropertyDefinition) -> PropertyView:
    options = [option.value for option in definition.options] if definition.options else None
    return PropertyView(
        key=definition.key,
        data_type=str(definition.data_type),
        label=definition.label or definition.key,
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
        cut = inline(summary)
        cut = cut if len(cut) <= SUMMARY_PREVIEW_CHARS else cut[:SUMMARY_PREVIEW_CHARS] + "…"
        # Free text from the call, in a list of structured rows: fenced on its own, compactly.
        preview = fence_inline(cut)
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


def call_detail(call: Call, *, opt_out_key: str | None, listed: ListedNumbers) -> CallDetail:
    """The call as get_call shows it; `opt_out_key` is the account's own opt-out outcome (TELLI_MCP_OPT_OUT_KEY),
    `listed` the caller's do-not-call list (`TenantList.blocked`)."""
    summary = _summary_text(call)
    analysis = {
        key: {"value": item.value, "details": item.details}
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
        outcome=call.call_outcome or {},
        collected_data=call.collected_data or None,
        booked_slot_for=_text(call.booked_slot_for),
        recording_url=call.recording_url,
        transcript_chars=len(render_transcript(call)),
        opt_out=opt_out_note(call, opt_out_key=opt_out_key, listed=listed),
    )


def opt_out_note(call: Call, *, opt_out_key: str | None, listed: ListedNumbers) -> str | None:
    """If the call says the person asked not to be called again (`campaigns.outcomes`' one rule), a sentence saying
    why and proposing add_to_do_not_call for the number called, unless `listed` says it is on the list already.
    Only a proposal: adding is the user's decision, in its own tool call. What it quotes from telli (an outcome's
    name and reason) is fenced."""
    from telli_mcp.campaigns.outcomes import analyse_calls

    found = analyse_calls([call], opt_out_key=opt_out_key)
    if not found.opt_out:
        return None
    why = "the summary says so" if found.opt_out_detail is None else fence_inline(found.opt_out_detail)
    said = f"The person asked not to be called again ({why})."
    number = _person_number(call)
    if number is not None and listed([number]):
        return f"{said} Their number is on the do-not-call list already."
    propose = propose_do_not_call([number]) if number else "add_to_do_not_call with the contact's number (get_contact)"
    return f"{said} Propose {propose} to the user."


def propose_do_not_call(numbers: Sequence[str]) -> str:
    """The add_to_do_not_call call a proposal names, with these E.164 numbers as its arguments (ready to send)."""
    return f"add_to_do_not_call({json.dumps(list(numbers))})"


def _person_number(call: Call) -> str | None:
    """The other party's number in E.164 (the callee of an outbound call, the caller of an inbound one), or None
    when telli's number is not a valid one (the sentence then points to the contact instead)."""
    from telli_mcp.do_not_call import normalise_number

    raw = call.from_number if (call.direction or "").lower() == "inbound" else call.to_number
    try:
        return None if raw is None else normalise_number(raw)
    except ValueError:
        return None


def agent_view(agent: Agent) -> AgentView:
    return AgentView(
        agent_id=agent.id,
        title=agent.title or "Untitled Agent",
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
    return inline(item.id)[:SKIPPED_ID_CHARS] if item.id else f"(no id, item {item.index})"


def skipped_note(invalid: Sequence[InvalidItem], noun: str) -> str | None:
    """A sentence telling the model which rows telli sent but could not be read, so a short list is not
    mistaken for the whole list; None when every row was read."""
    if not invalid:
        return None
    ids = ", ".join(_skipped_id(item) for item in invalid[:SKIPPED_IDS_SHOWN])
    more = f" and {len(invalid) - SKIPPED_IDS_SHOWN} more" if len(invalid) > SKIPPED_IDS_SHOWN else ""
    return (
        f"{len(invalid)} {noun} telli sent could not be read and are not shown: {ids}{more} "
        f"({inline(invalid[0].problem)})."
    )


def join_notes(*notes: str | None) -> str | None:
    """The given notes as one text; None when there are none."""
    text = " ".join(note for note in notes if note)
    return text or None
