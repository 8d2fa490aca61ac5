"""Constrained string types shared by the client, the MCP layer and the campaign engine.

Each is an `Annotated[str, ...]` usable as a pydantic field type; `normalize_e164` is the plain-function
form of the phone-number check, for callers that start from national formats.
"""

from __future__ import annotations

import uuid
from typing import Annotated

import phonenumbers
from pydantic import AfterValidator, Field

from telli_mcp.zones import check_iana_zone

__all__ = [
    "AgentId",
    "CallId",
    "ContactId",
    "E164Phone",
    "IanaTimezone",
    "PropertyKey",
    "normalize_e164",
]

PROPERTY_KEY_PATTERN = r"^[a-zA-Z0-9][a-zA-Z0-9_-]*$"


_IMPOSSIBLE = {
    phonenumbers.ValidationResult.INVALID_COUNTRY_CODE: "has an unknown country code",
    phonenumbers.ValidationResult.TOO_SHORT: "is too short (impossible length for its country)",
    phonenumbers.ValidationResult.TOO_LONG: "is too long (impossible length for its country)",
    phonenumbers.ValidationResult.IS_POSSIBLE_LOCAL_ONLY: "lacks an area code (too short for its country)",
    phonenumbers.ValidationResult.INVALID_LENGTH: "has an impossible length for its country",
}


def normalize_e164(raw: str, default_region: str | None = None) -> str:
    """Return `raw` as an E.164 number (`+4930...`), or raise ValueError saying what is wrong.

    Without `default_region` the number must already start with `+`; with it (an ISO 3166 code such as "DE"),
    national formats like `030 1234567` are accepted too.
    """
    text = raw.strip()
    if not text:
        raise ValueError("phone number is empty")
    if default_region is None and not text.startswith("+"):
        raise ValueError(
            f"phone number {raw!r} must be in E.164 format, starting with + and the country code"
        )
    try:
        parsed = phonenumbers.parse(text, None if text.startswith("+") else default_region)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"phone number {raw!r} cannot be parsed: {exc}") from None
    reason = phonenumbers.is_possible_number_with_reason(parsed)
    if reason != phonenumbers.ValidationResult.IS_POSSIBLE:
        problem = _IMPOSSIBLE.get(reason, "is not a possible phone number")
        raise ValueError(f"phone number {raw!r} {problem}")
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))


def _strict_e164(value: str) -> str:
    formatted = normalize_e164(value)
    if formatted != value:
        raise ValueError(f"phone number {value!r} must be in E.164 format without spaces, e.g. {formatted}")
    return value


def _canonical_uuid(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise ValueError(f"{value!r} is not a UUID") from None


E164Phone = Annotated[str, AfterValidator(_strict_e164)]
"""A phone number in strict E.164 form, e.g. `+4930123456`."""

ContactId = Annotated[str, AfterValidator(_canonical_uuid)]
"""A telli contact id: a UUID, returned in canonical lowercase form."""

CallId = Annotated[str, AfterValidator(_canonical_uuid)]
"""A telli call id: a UUID, returned in canonical lowercase form."""

AgentId = Annotated[str, AfterValidator(_canonical_uuid)]
"""A telli agent id: a UUID, returned in canonical lowercase form."""

PropertyKey = Annotated[str, Field(min_length=1, max_length=64, pattern=PROPERTY_KEY_PATTERN)]
"""A contact property key: 1–64 letters, digits, `_` or `-`, starting with a letter or digit."""

IanaTimezone = Annotated[str, AfterValidator(check_iana_zone)]
"""An IANA time zone name such as `Europe/Berlin`."""
