"""Contacts: the v2 contact (camelCase) and the deprecated v1 contact (snake_case)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import Field

from telli_mcp.client.models.common import (
    NullAsDefault,
    RequestModel,
    ResponseModel,
    Timestamp,
    V2RequestModel,
    V2ResponseModel,
)
from telli_mcp.client.models.properties import PropertyDataType, PropertyOption
from telli_mcp.client.models.wire import Clears, SendsNull
from telli_mcp.client.types import ContactId, E164Phone, IanaTimezone, PropertyKey

__all__ = [
    "ClearableContactField",
    "Contact",
    "ContactCreate",
    "ContactPropertyValue",
    "ContactStatus",
    "ContactUpdate",
    "ContactV1",
    "ContactV1Create",
    "ContactV1Update",
    "PropertyValueInput",
]


class ContactStatus(StrEnum):
    """Dialer status of a contact (v1 `status`)."""

    NEW = "new"
    """Not called yet."""
    PENDING = "pending"
    """In the auto-dialer, being tried."""
    CLOSED = "closed"
    """The dialer gave up (attempts or days exhausted)."""
    REACHED = "reached"
    """A conversation happened; no more calls."""


class ContactPropertyValue(V2ResponseModel):
    """The value of one property on a v2 contact, with its definition's label and options."""

    key: str
    """Property key."""
    value: Any = None
    """The value; its JSON type follows `data_type` (a list for multi_select)."""
    data_type: Annotated[PropertyDataType | str | None, Field(union_mode="left_to_right")] = None
    """Value type (absent in older API versions)."""
    label: str | None = None
    """Display label of the property."""
    options: Annotated[list[PropertyOption], NullAsDefault] = Field(default_factory=list)
    """Allowed values for select properties; empty when telli sends none or null."""


class Contact(V2ResponseModel):
    """A contact as returned by the v2 API."""

    id: str
    """telli contact id (UUID)."""
    first_name: str | None = None
    """First name."""
    last_name: str | None = None
    """Last name."""
    phone_number: str
    """Phone number, E.164 (required by telli's contract: a contact without one is reported as unreadable,
    never shown or dialled as if it had an empty number)."""
    external_id: str | None = None
    """Your own unique id for the contact (e.g. the CRM id)."""
    external_url: str | None = None
    """Link to the contact in your CRM."""
    salutation: str | None = None
    """Form of address, e.g. "Frau"."""
    timezone_iana: str | None = None
    """IANA time zone used for dialing windows."""
    email: str | None = None
    """E-mail address."""
    created_at: Timestamp | None = None
    """When the contact was created."""
    updated_at: Timestamp | None = None
    """When the contact was last changed."""
    properties: Annotated[list[ContactPropertyValue], NullAsDefault] = Field(default_factory=list)
    """Typed custom properties; empty when telli sends none or null."""
    auto_dialer_status: str | None = None
    """`in_dialer` or `not_in_dialer` where telli sends it."""


class PropertyValueInput(V2RequestModel):
    """A property value to set on a v2 contact; `value=None` is sent as `"value": null`, which clears the
    property on PATCH."""

    key: PropertyKey
    """Key of an existing property definition."""
    value: Annotated[Any, SendsNull]
    """The value, matching the property's data type; None clears it."""


ClearableContactField = Literal["external_id", "external_url", "salutation", "timezone_iana", "email"]
"""The v2 contact fields telli documents as nullable, which `ContactUpdate.clear` can empty."""


class ContactCreate(V2RequestModel):
    """Body of `POST /v2/contacts` and `PUT /v2/contacts/{id}` (a full replacement).

    Fields left None are not sent (on PUT that leaves them empty, as the replacement does not carry them).
    """

    first_name: str = Field(min_length=1, max_length=50)
    """First name."""
    last_name: str = Field(min_length=1, max_length=50)
    """Last name."""
    phone_number: E164Phone
    """Phone number in E.164 form."""
    external_id: str | None = Field(default=None, min_length=1)
    """Your own unique id for the contact."""
    external_url: str | None = None
    """Link to the contact in your CRM."""
    salutation: str | None = None
    """Form of address."""
    timezone_iana: IanaTimezone | None = None
    """IANA time zone; telli uses the account's when unset."""
    email: str | None = None
    """E-mail address."""
    properties: list[PropertyValueInput] | None = None
    """Custom property values."""


class ContactUpdate(V2RequestModel):
    """Body of `PATCH /v2/contacts/{id}`: only fields with a value are sent; None leaves a field unchanged.

    To empty a nullable field, name it in `clear` (it is then sent as null). Setting a field and clearing it
    at once is a validation error naming the field.
    """

    first_name: str | None = Field(default=None, min_length=1, max_length=50)
    """First name."""
    last_name: str | None = Field(default=None, min_length=1, max_length=50)
    """Last name."""
    phone_number: E164Phone | None = None
    """Phone number in E.164 form."""
    external_id: str | None = Field(default=None, min_length=1)
    """Your own unique id for the contact."""
    external_url: str | None = None
    """Link to the contact in your CRM."""
    salutation: str | None = None
    """Form of address."""
    timezone_iana: IanaTimezone | None = None
    """IANA time zone."""
    email: str | None = None
    """E-mail address."""
    properties: list[PropertyValueInput] | None = None
    """Property values to merge into the contact's; a None value clears that property."""
    clear: Annotated[frozenset[ClearableContactField], Clears()] = frozenset()
    """Fields to empty, by attribute name (e.g. `{"email"}`); each is sent as null, this set itself is not."""


class ContactV1(ResponseModel):
    """A contact as returned by the deprecated v1 API (also embedded in calls and webhooks).

    `get_by_external_id` returns a subset: fields it does not carry are None.
    """

    contact_id: str
    """telli contact id (UUID)."""
    external_contact_id: str | None = None
    """Your own unique id for the contact."""
    external_url: str | None = None
    """Link to the contact in your CRM."""
    first_name: str | None = None
    """First name."""
    last_name: str | None = None
    """Last name."""
    phone_number: str | None = None
    """Phone number, E.164."""
    email: str | None = None
    """E-mail address."""
    salutation: str | None = None
    """Form of address."""
    timezone: str | None = None
    """IANA time zone."""
    contact_details: Annotated[dict[str, Any], NullAsDefault] = Field(default_factory=dict)
    """Custom variables passed to the AI agent; empty when telli sends none or null."""
    created_at: Timestamp | None = None
    """When the contact was created."""
    status: Annotated[ContactStatus | str | None, Field(union_mode="left_to_right")] = None
    """Dialer status: new, pending, closed or reached."""
    call_attempts: int | None = None
    """Number of call attempts made."""
    next_call_at: Timestamp | None = None
    """When the dialer calls next; None if nothing is scheduled."""
    reached_at: Timestamp | None = None
    """When the contact was last reached."""
    in_call_since: Timestamp | None = None
    """Start of the current call; None when not in a call."""

    def dialer_status(self) -> ContactStatus:
        """new, pending, reached or closed, even when telli leaves `status` out.

        get-contacts-batch documents no `status` field (only the single get-contact does), so the status is
        derived from the fields it does carry: `next_call_at` or `in_call_since` => pending (in the dialer);
        `reached_at` => reached; calls made but nothing planned => closed; otherwise new. Pending is checked first
        because a contact scheduled again after it was reached keeps its old `reached_at` while it is back in the
        dialer. A `status` telli does send wins.
        """
        if self.status is not None:
            try:
                return ContactStatus(self.status)
            except ValueError:
                pass  # a status telli adds later: fall back to the fields below
        if self.next_call_at is not None or self.in_call_since is not None:
            return ContactStatus.PENDING
        if self.reached_at is not None:
            return ContactStatus.REACHED
        if (self.call_attempts or 0) > 0:
            return ContactStatus.CLOSED
        return ContactStatus.NEW


class ContactV1Create(RequestModel):
    """Body of `POST /v1/add-contact` and one item of `POST /v1/add-contacts-batch`; None fields are not sent."""

    external_contact_id: str = Field(min_length=1)
    """Your own unique id for the contact (required, must be unique)."""
    first_name: str = Field(min_length=1)
    """First name."""
    last_name: str = Field(min_length=1)
    """Last name."""
    phone_number: E164Phone
    """Phone number in E.164 form."""
    external_url: str | None = None
    """Link to the contact in your CRM."""
    salutation: str | None = None
    """Form of address; telli guesses it for German calls when empty."""
    email: str | None = None
    """E-mail address."""
    contact_details: dict[str, Any] | None = None
    """Custom variables for the AI agent (lowercase snake_case keys)."""
    timezone: IanaTimezone | None = None
    """IANA time zone; the account's when unset."""


class ContactV1Update(RequestModel):
    """Body of `PATCH /v1/update-contact` and one item of `PATCH /v1/update-contacts-batch`.

    None fields are not sent (left unchanged); v1 has no way to empty a field.
    """

    contact_id: ContactId
    """telli contact id of the contact to change."""
    first_name: str | None = Field(default=None, min_length=1)
    """First name."""
    last_name: str | None = Field(default=None, min_length=1)
    """Last name."""
    phone_number: E164Phone | None = None
    """Phone number in E.164 form."""
    contact_details: dict[str, Any] | None = None
    """Custom variables; replaces the whole object."""
    salutation: str | None = None
    """Form of address."""
    email: str | None = None
    """E-mail address."""
    timezone: IanaTimezone | None = None
    """IANA time zone."""
    external_contact_id: str | None = Field(default=None, min_length=1)
    """Your own unique id for the contact."""
    external_url: str | None = None
    """Link to the contact in your CRM."""
