"""The simulator's stored records: plain dataclasses, rendered to JSON only by `views`."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Literal, TypeAlias

JsonValue: TypeAlias = "str | int | float | bool | list[JsonValue] | dict[str, JsonValue] | None"


class ContactStatus(StrEnum):
    """The v1 dialer status of a contact (§3.1)."""

    NEW = "new"
    PENDING = "pending"
    REACHED = "reached"
    CLOSED = "closed"


class DataType(StrEnum):
    """The dataType of a contact property (§3.3)."""

    STRING = "string"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATE = "date"
    DATETIME = "datetime"
    SELECT = "select"
    MULTI_SELECT = "multi_select"
    PHONE_NUMBER = "phone_number"
    EMAIL = "email"


class PropertySource(StrEnum):
    SYSTEM = "system"
    USER = "user"
    INTEGRATION = "integration"


class CallStatus(StrEnum):
    """The `call_status` enum of a Call (§4)."""

    COMPLETED = "COMPLETED"
    ANSWERED = "ANSWERED"
    NOT_REACHED = "NOT_REACHED"
    VOICEMAIL = "VOICEMAIL"
    ERROR = "ERROR"


class LoopState(StrEnum):
    ACTIVE = "active"
    REACHED = "reached"
    CLOSED = "closed"
    REMOVED = "removed"


ScriptedOutcome = Literal[
    "COMPLETED", "ANSWERED", "NOT_REACHED", "VOICEMAIL", "ERROR", "CALLBACK", "APPOINTMENT", "OPT_OUT"
]
"""What one call attempt produces. CALLBACK, APPOINTMENT and OPT_OUT are COMPLETED calls with that result (OPT_OUT:
the person asked not to be called again; never a default outcome, only scripted)."""


@dataclass
class Contact:
    """One contact; v1 and v2 views are two renderings of this record."""

    id: str
    first_name: str
    last_name: str
    phone_number: str
    timezone: str
    created_at: datetime
    updated_at: datetime
    external_id: str | None = None
    external_url: str | None = None
    salutation: str | None = None
    email: str | None = None
    custom: dict[str, JsonValue] = field(default_factory=dict)
    """Custom property values: v1 `contact_details` and the user entries of v2 `properties`."""
    status: ContactStatus = ContactStatus.NEW
    call_attempts: int = 0
    next_call_at: datetime | None = None
    reached_at: datetime | None = None
    in_call_since: datetime | None = None
    deleted: bool = False
    seq: int = 0
    """Creation order within the account: the listing order and the cursor position."""


@dataclass(frozen=True)
class PropertyOption:
    value: str
    label: str
    description: str | None = None


@dataclass
class PropertyDefinition:
    key: str
    data_type: DataType
    source: PropertySource
    label: str
    created_at: datetime
    updated_at: datetime
    description: str | None = None
    options: list[PropertyOption] = field(default_factory=list)

    def option_values(self) -> list[str]:
        return [option.value for option in self.options]


@dataclass(frozen=True)
class Agent:
    id: str
    title: str
    language: str
    created_at: datetime
    seq: int = 0


@dataclass
class PhoneNumber:
    """An account phone number. The SIP password is kept but never rendered or logged."""

    id: str
    phone_number: str
    in_outbound_pool: bool
    phone_number_type: Literal["local", "mobile"] | None
    created_at: datetime
    termination_uri: str | None = None
    auth_username: str | None = None
    auth_password: str | None = field(default=None, repr=False)
    active: bool = True


@dataclass(frozen=True)
class TranscriptLine:
    role: Literal["agent", "user"]
    content: str


@dataclass(frozen=True)
class AnalysisField:
    """One `call_analysis` entry: `{"value": bool, "details": ...}`."""

    value: bool
    details: str | None


@dataclass(frozen=True)
class CollectedValue:
    status: str
    value: str


@dataclass(frozen=True)
class Call:
    """A finished call attempt (§3.5). Calls exist only once ended and analysed."""

    call_id: str
    attempt: int
    from_number: str
    to_number: str
    contact_id: str
    external_contact_id: str | None
    agent_id: str
    loop_id: str | None
    triggered_at: datetime
    started_at: datetime
    ended_at: datetime
    call_status: CallStatus
    transcript: tuple[TranscriptLine, ...]
    call_analysis: dict[str, AnalysisField]
    call_outcome: dict[str, bool | None]
    collected_data: dict[str, CollectedValue]
    ended_reason: str
    booked_slot_for: datetime | None = None
    recording_url: str | None = None
    direction: Literal["outbound", "inbound"] = "outbound"

    @property
    def call_length_min(self) -> int:
        """Talk time rounded up to whole minutes, like the official webhook example (70 s → 2)."""
        if self.call_status in (CallStatus.NOT_REACHED, CallStatus.ERROR):
            return 0
        return math.ceil((self.ended_at - self.started_at).total_seconds() / 60)


@dataclass(frozen=True)
class ActiveAttempt:
    """A call attempt in progress: the contact has `in_call_since`, the Call record does not exist yet."""

    call_id: str
    attempt: int
    outcome: ScriptedOutcome
    from_number: str
    triggered_at: datetime
    ends_at: datetime


@dataclass
class DialerLoop:
    """One schedule-call loop: attempts for one contact until reached, exhausted or removed."""

    loop_id: str
    contact_id: str
    agent_id: str
    max_retry_days: int
    override_from_number: str | None
    created_at: datetime
    state: LoopState = LoopState.ACTIVE
    first_day: date | None = None
    """The local calendar day of the first attempt; Smart Calling counts days from it."""
    call_ids: list[str] = field(default_factory=list)
    attempt_days: list[date] = field(default_factory=list)
    next_attempt_at: datetime | None = None
    active: ActiveAttempt | None = None
    generation: int = 0
    """Bumped on every change so stale entries in the dialer's event heap are skipped."""

    @property
    def attempts(self) -> int:
        return len(self.attempt_days)
