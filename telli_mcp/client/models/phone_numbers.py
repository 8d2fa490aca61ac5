"""Phone numbers of the account (v1 endpoints with camelCase bodies)."""

from __future__ import annotations

from pydantic import SecretStr

from telli_mcp.client.models.common import Timestamp, V2RequestModel, V2ResponseModel
from telli_mcp.client.types import E164Phone

__all__ = ["PhoneNumber", "PhoneNumberChange", "PhoneNumberImport"]


class PhoneNumber(V2ResponseModel):
    """A phone number the account can call from."""

    id: str
    """Phone number id (UUID)."""
    phone_number: str
    """The number, E.164."""
    in_outbound_pool: bool | None = None
    """Whether outbound calls may use it."""
    phone_number_type: str | None = None
    """`local`, `mobile` or None."""
    created_at: Timestamp | None = None
    """When it was added to the account."""


class PhoneNumberChange(V2ResponseModel):
    """Response of replacing a phone number. Its shape is undocumented: all fields optional, extras kept.

    An empty or plain-text answer reads as success with only `replaced_id` known.
    """

    replaced_id: str | None = None
    """Id of the number that was replaced (the id passed to `replace`), filled in by the client."""
    id: str | None = None
    """Id of the resulting phone number, when telli returns one."""
    phone_number: str | None = None
    """The new number, when telli returns it."""
    message: str | None = None
    """telli's message, when it sends one."""


class PhoneNumberImport(V2RequestModel):
    """Body of `POST /v1/phone-numbers/import`: a number reached through your SIP trunk."""

    phone_number: E164Phone
    """The number to import, E.164."""
    termination_uri: str
    """SIP termination URI for routing calls."""
    auth_username: str
    """SIP auth user name."""
    auth_password: SecretStr
    """SIP auth password; never shown in reprs or logs, revealed only in the request body."""
