"""The events telli pushes, as parsed from a verified delivery (telli-api.md §8.1).

`call_ended` is documented: one per call attempt, with the whole Call and the contact in the v1 get-contact
format. `contact_status_changed` is not documented; the most plausible shape, and the one the simulator sends,
is `{"event": "contact_status_changed", "contact": {…Contact v1…}}`. This module is the one place that guess
lives. Any other event name is kept as `OtherEvent` (stored, never acted on), so a new telli event type never
makes the receiver refuse deliveries that Svix would then retry for a day.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from telli_mcp.client.models.calls import Call
from telli_mcp.client.models.contacts import ContactV1

__all__ = ["CALL_ENDED", "CONTACT_STATUS_CHANGED", "CallEnded", "ContactStatusChanged", "OtherEvent", "parse_event"]

CALL_ENDED: Literal["call_ended"] = "call_ended"
CONTACT_STATUS_CHANGED: Literal["contact_status_changed"] = "contact_status_changed"


class CallEnded(BaseModel):
    """A call attempt ended and was analysed."""

    model_config = ConfigDict(extra="allow")

    event: Literal["call_ended"]
    call: Call
    contact: ContactV1 | None = None

    @property
    def contact_id(self) -> str | None:
        return self.call.contact_id or (self.contact.contact_id if self.contact else None)

    @property
    def call_id(self) -> str | None:
        return self.call.call_id


class ContactStatusChanged(BaseModel):
    """A contact's dialer status changed (new, pending, closed, reached)."""

    model_config = ConfigDict(extra="allow")

    event: Literal["contact_status_changed"]
    contact: ContactV1

    @property
    def contact_id(self) -> str | None:
        return self.contact.contact_id

    @property
    def call_id(self) -> str | None:
        return None


class OtherEvent(BaseModel):
    """An event this server does not know; stored for diagnosis only."""

    model_config = ConfigDict(extra="allow")

    event: str

    @property
    def contact_id(self) -> str | None:
        return None

    @property
    def call_id(self) -> str | None:
        return None


TelliEvent = Annotated[CallEnded | ContactStatusChanged, Field(discriminator="event")]
_KNOWN: TypeAdapter[CallEnded | ContactStatusChanged] = TypeAdapter(TelliEvent)


def parse_event(body: Any) -> CallEnded | ContactStatusChanged | OtherEvent:
    """The event in a verified JSON body. Raises `pydantic.ValidationError` when a known event is malformed or
    the body has no `event` name."""
    if isinstance(body, dict) and body.get("event") in (CALL_ENDED, CONTACT_STATUS_CHANGED):
        return _KNOWN.validate_python(body)
    return OtherEvent.model_validate(body)
