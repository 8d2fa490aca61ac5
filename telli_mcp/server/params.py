"""Tool argument types: each validates before any request and says where a valid value comes from.

Validation errors reach the model as `isError` results naming the argument (the SDK validates arguments
before the tool body runs), so no HTTP request is ever sent for a malformed id, number, date or timezone.
A rejected value is quoted clipped (`_quoted`): the message says what is wrong without growing with the input.
"""

from __future__ import annotations

import functools
import re
import uuid
from collections.abc import Callable
from typing import Annotated
from zoneinfo import available_timezones

import phonenumbers
from pydantic import AfterValidator, Field

from telli_mcp.bounded import clip

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

__all__ = [
    "AgentIdArg",
    "CallIdArg",
    "ConfirmationTokenArg",
    "ContactIdArg",
    "CursorArg",
    "OptionalAgentIdArg",
    "OptionalContactIdArg",
    "OptionalEmailArg",
    "OptionalPhoneArg",
    "OptionalTimezoneArg",
    "PhoneArg",
    "TimezoneArg",
    "check_agent_id",
    "check_call_id",
    "check_contact_id",
    "check_e164",
    "check_timezone",
]


_VALUE_SHOWN = 60
"""Characters of a rejected value quoted in its error; the advice after it must stay visible."""


def _quoted(value: str) -> str:
    return clip(repr(value), _VALUE_SHOWN)


def _check_uuid(value: str, what: str, source: str) -> str:
    try:
        return str(uuid.UUID(value.strip()))
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


def check_e164(value: str) -> str:
    """A phone number in E.164 (+ country code and number, no spaces), checked with `phonenumbers`."""
    raw = value.strip()
    if not raw.startswith("+"):
        raise ValueError(f"{_quoted(value)} must be in E.164 format with country code, e.g. +4915112345678")
    try:
        parsed = phonenumbers.parse(raw, None)
    except phonenumbers.NumberParseException:
        raise ValueError(f"{_quoted(value)} is not a phone number in E.164 format, e.g. +4915112345678") from None
    if not phonenumbers.is_possible_number(parsed):
        raise ValueError(f"{_quoted(value)} is not a possible phone number for its country code")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


@functools.cache
def _iana_zones() -> frozenset[str]:
    # available_timezones() excludes tzdata housekeeping files such as "localtime", "posixrules" and "Factory".
    return frozenset(available_timezones())


def check_timezone(value: str) -> str:
    if value not in _iana_zones():
        raise ValueError(f"{_quoted(value)} is not an IANA timezone name such as Europe/Berlin or America/New_York")
    return value


def _optional(check: Callable[[str], str]) -> Callable[[str | None], str | None]:
    def check_optional(value: str | None) -> str | None:
        return None if value is None else check(value)

    return check_optional


def check_email(value: str) -> str:
    if len(value) > 254 or not _EMAIL.match(value):
        raise ValueError(f"{_quoted(value)} is not an email address")
    return value


def _check_cursor(value: str) -> str:
    if len(value) > 2048:
        raise ValueError("cursor is too long; pass next_cursor exactly as returned")
    return value


ContactIdArg = Annotated[
    str,
    AfterValidator(check_contact_id),
    Field(description="Contact id (from list_contacts/get_contact)"),
]
CallIdArg = Annotated[str, AfterValidator(check_call_id), Field(description="Call id (from list_calls)")]
AgentIdArg = Annotated[str, AfterValidator(check_agent_id), Field(description="Agent id (from list_agents)")]
PhoneArg = Annotated[
    str, AfterValidator(check_e164), Field(description="E.164, e.g. +4915112345678")
]
TimezoneArg = Annotated[
    str, AfterValidator(check_timezone), Field(description="IANA timezone, e.g. Europe/Berlin")
]
CursorArg = Annotated[
    str | None, AfterValidator(_optional(_check_cursor)), Field(description="next_cursor of the last page")
]
ConfirmationTokenArg = Annotated[
    str | None,
    Field(
        description="From confirmation_required, only after the user agreed",
        max_length=256,
    ),
]

OptionalContactIdArg = Annotated[
    str | None,
    AfterValidator(_optional(check_contact_id)),
    Field(description="Contact id (from list_contacts/get_contact)"),
]
OptionalAgentIdArg = Annotated[
    str | None, AfterValidator(_optional(check_agent_id)), Field(description="Agent id (from list_agents)")
]
OptionalPhoneArg = Annotated[
    str | None,
    AfterValidator(_optional(check_e164)),
    Field(description="E.164, e.g. +4915112345678"),
]
OptionalTimezoneArg = Annotated[
    str | None, AfterValidator(_optional(check_timezone)), Field(description="IANA timezone, e.g. Europe/Berlin")
]
OptionalEmailArg = Annotated[str | None, AfterValidator(_optional(check_email)), Field()]
