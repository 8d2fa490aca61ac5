"""Tool argument types: each validates before any request and says where a valid value comes from.

Every check here calls the rule of the layer below (`client/types.py` for ids and phone numbers, `zones.py` for
time zones, the client's `PropertyDataType` for property types, the campaigns' id pattern) and adds only what
the model needs to fix the value: the argument's meaning, where a valid one comes from, an example. So the
server accepts exactly what the client accepts, in the same canonical form.

Validation errors reach the model as `isError` results naming the argument (the SDK validates arguments
before the tool body runs), so no HTTP request is ever sent for a malformed id, number, date or timezone.
A rejected value is quoted clipped (`_quoted`): the message says what is wrong without growing with the input.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field, WithJsonSchema

from telli_mcp.bounded import clip
from telli_mcp.campaigns.ids import CAMPAIGN_ID_PATTERN
from telli_mcp.client.types import PhoneNumberError, PropertyDataType, PropertyKey, canonical_uuid, normalize_e164
from telli_mcp.text import optional, plain_line
from telli_mcp.zones import zone_problem

__all__ = [
    "AgentIdArg",
    "CallIdArg",
    "CampaignIdArg",
    "ConfirmationTokenArg",
    "ContactIdArg",
    "CursorArg",
    "MomentArg",
    "OptionalAgentIdArg",
    "OptionalCampaignIdArg",
    "OptionalContactIdArg",
    "OptionalEmailArg",
    "OptionalMomentArg",
    "OptionalPhoneArg",
    "OptionalTimezoneArg",
    "PhoneArg",
    "PhoneNumberIdArg",
    "PropertyDataTypeArg",
    "PropertyKeyArg",
    "TimezoneArg",
    "check_agent_id",
    "check_call_id",
    "check_contact_id",
    "check_e164",
    "check_email",
    "check_moment",
    "check_phone_number_id",
    "check_timezone",
    "unique_contact_ids",
]


def unique_contact_ids(ids: list[str]) -> list[str]:
    """Refuse a repeated id, naming where (batch results are matched back to contacts by id)."""
    seen: set[str] = set()
    for index, contact_id in enumerate(ids):
        if contact_id in seen:
            raise ValueError(f"contact_ids[{index}] repeats {contact_id}; list each contact once")
        seen.add(contact_id)
    return ids


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_E164_EXAMPLE = "+4915112345678"
_MOMENT_EXAMPLE = "2026-03-02T00:00:00+01:00 or 2026-03-01T23:00:00Z"

_VALUE_SHOWN = 60
"""Characters of a rejected value quoted in its error; the advice after it must stay visible."""


def _quoted(value: str) -> str:
    return clip(repr(value), _VALUE_SHOWN)


def _check_uuid(value: str, what: str, source: str) -> str:
    try:
        return canonical_uuid(value)
    except ValueError:
        raise ValueError(
            f"{_quoted(value)} is not a {what} (a UUID like 3c90c3cc-0d44-4b50-8888-8dd25736052a); "
            f"get one from {source}"
        ) from None


def check_contact_id(value: str) -> str:
    return _check_uuid(value, "telli contact id", "list_contacts, get_contact or create_contact")


def check_call_id(value: str) -> str:
    return _check_uuid(value, "telli call id", "list_calls")


def check_agent_id(value: str) -> str:
    return _check_uuid(value, "telli agent id", "list_agents")


def check_phone_number_id(value: str) -> str:
    return _check_uuid(value, "telli phone number id", "list_phone_numbers")


def check_e164(value: str) -> str:
    """The number in E.164 (spaces and dashes removed), as the client's `normalize_e164` writes it."""
    try:
        return normalize_e164(value)
    except PhoneNumberError as err:
        raise ValueError(
            f"{_quoted(value)} {err.reason}; write it in E.164 with the country code, e.g. {_E164_EXAMPLE}"
        ) from None


def check_timezone(value: str) -> str:
    """`value` when `telli_mcp.zones` knows it, spelled as the IANA database spells it."""
    problem = zone_problem(value)
    if problem is not None:
        raise ValueError(f"{_quoted(value)} {problem}")
    return value


def check_email(value: str) -> str:
    if len(value) > 254 or not _EMAIL.match(value):
        raise ValueError(f"{_quoted(value)} is not an email address")
    return value


def check_moment(value: object) -> datetime:
    """An ISO 8601 date and time with a UTC offset (or Z), in UTC.

    A time without an offset is refused rather than guessed: "midnight" on the account's clock and in UTC are
    hours apart, and a range that is off by hours counts the wrong calls without any sign of it.
    """
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(
                f"{_quoted(value)} is not an ISO 8601 date and time; write e.g. {_MOMENT_EXAMPLE}"
            ) from None
    else:
        raise ValueError(f"must be an ISO 8601 date and time as text, e.g. {_MOMENT_EXAMPLE}")
    if moment.utcoffset() is None:
        raise ValueError(
            f"{_quoted(str(value))} has no UTC offset; add one, e.g. {_MOMENT_EXAMPLE} (get_status says the "
            "account's clock)"
        )
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00+01:00 has no UTC equivalent
        raise ValueError(f"{_quoted(str(value))} is out of range") from None


def _check_optional_moment(value: object) -> datetime | None:
    return None if value is None else check_moment(value)


def _check_cursor(value: str) -> str:
    if len(value) > 2048:
        raise ValueError("cursor is too long; pass next_cursor exactly as returned")
    return value


# Ids carry no description: the name is the field the list and get tools return, and a wrong value is refused
# before any request with where a valid one comes from (`_check_uuid`). Every tool's schema pays for a description.
ContactIdArg = Annotated[str, AfterValidator(check_contact_id)]
CallIdArg = Annotated[str, AfterValidator(check_call_id)]
AgentIdArg = Annotated[str, AfterValidator(check_agent_id)]
PhoneNumberIdArg = Annotated[
    str,
    # The length and pattern only keep the published schema as it was; the UUID check decides.
    Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$"),
    AfterValidator(check_phone_number_id),
]
PhoneArg = Annotated[str, AfterValidator(check_e164), Field(description="E.164")]
TimezoneArg = Annotated[str, AfterValidator(check_timezone), Field(description="IANA, e.g. Europe/Berlin")]
# Every paged tool returns next_cursor; the name says where a cursor comes from, and a wrong one is refused saying so.
CursorArg = Annotated[str | None, AfterValidator(optional(_check_cursor))]
ConfirmationTokenArg = Annotated[
    str | None,
    Field(
        description="Only after the user agreed",
        max_length=256,
    ),
]
PropertyKeyArg = Annotated[PropertyKey, Field(description="e.g. lead_source")]
PropertyDataTypeArg = Annotated[
    PropertyDataType,
    # The enum's own schema would add its title and docstring to the catalogue; the values are what matter.
    WithJsonSchema({"enum": [data_type.value for data_type in PropertyDataType], "type": "string"}),
]

CampaignIdArg = Annotated[str, Field(pattern=CAMPAIGN_ID_PATTERN)]
# A moment in time: the schema says RFC 3339 (`date-time`, which requires the offset); the check says how to fix it.
_MOMENT_SCHEMA = {"format": "date-time", "type": "string"}
MomentArg = Annotated[datetime, BeforeValidator(check_moment), WithJsonSchema(_MOMENT_SCHEMA)]

OptionalContactIdArg = Annotated[str | None, AfterValidator(optional(check_contact_id))]
OptionalAgentIdArg = Annotated[str | None, AfterValidator(optional(check_agent_id))]
OptionalPhoneArg = Annotated[
    str | None,
    AfterValidator(optional(check_e164)),
    Field(description="E.164"),
]
OptionalTimezoneArg = Annotated[
    str | None, AfterValidator(optional(check_timezone)), Field(description="IANA, e.g. Europe/Berlin")
]
OptionalEmailArg = Annotated[
    str | None,
    AfterValidator(optional(check_email)),
    Field(),
    # Sent to telli: no control, escape, bidi or invisible characters.
    AfterValidator(optional(plain_line)),
]
OptionalMomentArg = Annotated[
    datetime | None,
    BeforeValidator(_check_optional_moment),
    WithJsonSchema(_MOMENT_SCHEMA),
]
OptionalCampaignIdArg = Annotated[
    str | None, Field(pattern=CAMPAIGN_ID_PATTERN, description="Set to resume a campaign")
]
