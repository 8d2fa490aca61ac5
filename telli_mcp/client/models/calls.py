"""Calls and the auto-dialer (v1, snake_case; note `transcriptObject` is camelCase on the wire)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, model_validator

from telli_mcp.client.models.common import EpochMillis, NullAsDefault, RequestModel, ResponseModel
from telli_mcp.client.models.contacts import ContactV1
from telli_mcp.client.types import AgentId, ContactId, E164Phone

__all__ = [
    "AnalysisItem",
    "Call",
    "CallDetails",
    "CallStatus",
    "InitiateCall",
    "InitiateResult",
    "ScheduleCall",
    "ScheduleResult",
    "TranscriptTurn",
]


class CallStatus(StrEnum):
    """Outcome of one call attempt."""

    COMPLETED = "COMPLETED"
    """A conversation took place."""
    ANSWERED = "ANSWERED"
    """A call occurred but the dialer will try again."""
    NOT_REACHED = "NOT_REACHED"
    """Nobody picked up."""
    VOICEMAIL = "VOICEMAIL"
    """Voicemail answered."""
    ERROR = "ERROR"
    """The call failed."""


class TranscriptTurn(ResponseModel):
    """One turn of the transcript."""

    role: str
    """`agent` or `user`."""
    content: str | None = None
    """What was said (absent on tool-activity entries, which keep their fields in `model_extra`)."""


class AnalysisItem(ResponseModel):
    """One entry of a call's analysis, e.g. `summary` or `appointment`."""

    value: Any = None
    """Whether the item applies (usually a boolean)."""
    details: Any = None
    """The finding, e.g. the summary text or an ISO time."""


def _wrap_analysis(value: Any) -> Any:
    # An analysis entry telli sends as a bare value still becomes an AnalysisItem instead of failing the call.
    if isinstance(value, dict):
        return {key: item if isinstance(item, dict) else {"value": item} for key, item in value.items()}
    return value


class Call(ResponseModel):
    """One call attempt, as listed by list-calls, returned by get-call and sent by the call_ended webhook."""

    call_id: str
    """telli call id (UUID)."""
    attempt: int | None = None
    """Attempt number within the dialer loop, from 1."""
    from_number: str | None = None
    """Caller id used."""
    to_number: str | None = None
    """Number dialled."""
    direction: str | None = None
    """`outbound` or `inbound`."""
    contact_id: str | None = None
    """telli contact id."""
    external_contact_id: str | None = None
    """Your id of the contact."""
    agent_id: str | None = None
    """Agent that made the call."""
    loop_id: str | None = None
    """Dialer loop (from schedule-call) this attempt belongs to."""
    triggered_at: EpochMillis | None = None
    """When the attempt was triggered (telli sends epoch milliseconds)."""
    triggered_at_iso: str | None = None
    """`triggered_at` as telli's ISO string."""
    started_at: EpochMillis | None = None
    """When the call connected."""
    started_at_iso: str | None = None
    """`started_at` as telli's ISO string."""
    ended_at: EpochMillis | None = None
    """When the call ended."""
    ended_at_iso: str | None = None
    """`ended_at` as telli's ISO string."""
    call_length_min: float | None = None
    """Duration in minutes."""
    call_status: Annotated[CallStatus | str | None, Field(union_mode="left_to_right")] = None
    """COMPLETED, ANSWERED, NOT_REACHED, VOICEMAIL or ERROR."""
    transcript: str | None = None
    """Plain-text transcript."""
    transcript_object: Annotated[list[TranscriptTurn], NullAsDefault] = Field(
        default_factory=list, alias="transcriptObject"
    )
    """Transcript as turns (wire key `transcriptObject`); empty when telli sends none or null."""
    call_analysis: Annotated[dict[str, AnalysisItem], BeforeValidator(_wrap_analysis), NullAsDefault] = Field(
        default_factory=dict
    )
    """System analysis, e.g. `summary`, `appointment`, `interest`; empty when telli sends none or null."""
    call_outcome: Annotated[dict[str, Any], NullAsDefault] = Field(default_factory=dict)
    """Custom call outcomes defined on the agent; empty when telli sends none or null."""
    collected_data: Annotated[dict[str, Any], NullAsDefault] = Field(default_factory=dict)
    """Data collected by the agent during the call; empty when telli sends none or null."""
    booked_slot_for: str | None = None
    """Booked appointment time (ISO), if any."""
    recording_url: str | None = None
    """Recording, when both parties consented."""
    ended_reason: str | None = None
    """Why the call ended, e.g. `agent-ended-call`."""


class CallDetails(ResponseModel):
    """Response of get-call: the call and, when telli sends it, the contact (v1 shape)."""

    call: Call
    """The call."""
    contact: ContactV1 | None = None
    """The called contact."""

    @model_validator(mode="before")
    @classmethod
    def _accept_bare_call(cls, data: Any) -> Any:
        if isinstance(data, dict) and "call" not in data and "call_id" in data:
            return {"call": data}
        return data


class ScheduleCall(RequestModel):
    """Body of `POST /v1/schedule-call` and one item of `POST /v1/schedule-calls-batch`."""

    contact_id: ContactId
    """Contact to call."""
    agent_id: AgentId
    """Agent that makes the call."""
    max_retry_days: int | None = Field(default=None, ge=0)
    """Days the dialer keeps retrying; left out of the request (the account default applies) when None."""
    override_from_number: E164Phone | None = None
    """Caller id to use; must be a number of the account."""


class ScheduleResult(ResponseModel):
    """Response of schedule-call."""

    status: str
    """`success`."""
    contact_id: str
    """The scheduled contact."""
    loop_id: str | None = None
    """Id of the dialer loop started."""


class InitiateCall(RequestModel):
    """Body of `POST /v1/initiate-call` (dials immediately; prefer `ScheduleCall`)."""

    contact_id: ContactId
    """Contact to call."""
    agent_id: AgentId | None = None
    """Agent that makes the call; the account default when unset."""
    max_retry_days: int | None = Field(default=None, ge=0)
    """Days the dialer keeps retrying; left out of the request when None."""
    override_from_number: E164Phone | None = None
    """Caller id to use; must be a number of the account."""


class InitiateResult(ResponseModel):
    """Response of initiate-call. Its shape is undocumented: every field is optional and extras are kept.

    An empty or plain-text answer reads as success; `contact_id` is then the id that was sent.
    """

    status: str | None = None
    """Usually `success`; None when telli's answer had no body."""
    contact_id: str | None = None
    """The contact called (the id that was sent, when telli does not echo it)."""
    call_id: str | None = None
    """The call started, when telli returns it."""
