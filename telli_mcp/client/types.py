"""What a telli id, phone number, property key and time zone is: each rule once, for every layer above.

The MCP layer's argument types (`server/params.py`) and the campaign engine's lead checks are built on these
functions and types; they add only their own advice to an error, never a second version of a rule. The time zone
rule is `telli_mcp.zones`.

The simulator and the contract (`telli_mcp/simulator`, `telli_mcp/contract/formats.py`) keep their own copies of
these rules on purpose: they are the independent oracle the tests check this code against, and an oracle that
shared the code under test could not catch its mistakes. Do not merge them into this module.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

from pydantic import AfterValidator, Field

from telli_mcp.zones import check_iana_zone

if TYPE_CHECKING:
    import phonenumbers

# `phonenumbers` (its metadata is large) is imported inside the functions that parse a number: starting the
# server must not load it, and after the first number it costs one dictionary lookup.

__all__ = [
    "PROPERTY_KEY_PATTERN",
    "AgentId",
    "CallId",
    "ContactId",
    "E164Phone",
    "IanaTimezone",
    "PhoneNumberError",
    "PropertyDataType",
    "PropertyKey",
    "canonical_uuid",
    "normalize_e164",
    "strict_e164",
]

PROPERTY_KEY_PATTERN = r"^[a-zA-Z0-9][a-zA-Z0-9_-]*$"


class PropertyDataType(StrEnum):
    """Type of a contact property's value."""

    STRING = "string"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATE = "date"
    DATETIME = "datetime"
    SELECT = "select"
    MULTI_SELECT = "multi_select"
    PHONE_NUMBER = "phone_number"
    EMAIL = "email"

    @property
    def has_options(self) -> bool:
        """A select or multi_select property: its values come from a list of options."""
        return self in (PropertyDataType.SELECT, PropertyDataType.MULTI_SELECT)


_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.ASCII | re.IGNORECASE)


def canonical_uuid(value: str) -> str:
    """A telli id (a UUID such as `3c90c3cc-0d44-4b50-8888-8dd25736052a`) in lowercase, or ValueError.

    Accepted spellings: any case, surrounding whitespace, one pair of braces (`{...}`, as Windows tools write
    GUIDs). Nothing looser: `uuid.UUID` would also take hex without hyphens, a `urn:uuid:` prefix and `_` between
    digits, turning a mistyped id into a different, valid-looking one.
    """
    text = value.strip()
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1]
    if _UUID.fullmatch(text) is None:
        raise ValueError(f"{value!r} is not a UUID")
    return text.lower()


class PhoneNumberError(ValueError):
    """A number that cannot be written in E.164.

    `text` is the number as given (trimmed), `reason` the words to follow it ("is too short for a DE number"),
    and `needs_country_code` is true when only the country code is missing (a national number, no region).
    """

    def __init__(self, text: str, reason: str, *, needs_country_code: bool = False) -> None:
        self.text = text
        self.reason = reason
        self.needs_country_code = needs_country_code
        advice = ": it must be in E.164 format, starting with + and the country code" if needs_country_code else ""
        super().__init__(f"phone number {text!r} {reason}{advice}")


def _unparsable(error_type: int) -> str:
    from phonenumbers import NumberParseException as Failure

    reasons = {
        Failure.INVALID_COUNTRY_CODE: "has an unknown country code",
        Failure.NOT_A_NUMBER: "is not a phone number",
        Failure.TOO_SHORT_AFTER_IDD: "is too short",
        Failure.TOO_SHORT_NSN: "is too short",
        Failure.TOO_LONG: "is too long",
    }
    return reasons.get(error_type, "is not a phone number")


def _region(number: phonenumbers.PhoneNumber) -> str:
    """ "DE" for a German number; "+800" for a country code that is no country (non-geographic numbers)."""
    import phonenumbers

    region = str(phonenumbers.region_code_for_country_code(number.country_code or 0))
    return region if region.isalpha() and region != "ZZ" else f"+{number.country_code}"


def _impossible(result: int, region: str) -> str:
    from phonenumbers import ValidationResult

    if result in (ValidationResult.TOO_SHORT, ValidationResult.IS_POSSIBLE_LOCAL_ONLY):
        # Local-only: dialable inside its area without the area code, never from telli's side.
        return f"is too short for a {region} number"
    if result == ValidationResult.TOO_LONG:
        return f"is too long for a {region} number"
    if result == ValidationResult.INVALID_COUNTRY_CODE:
        return "has an unknown country code"
    return f"has an impossible length for a {region} number"


def normalize_e164(raw: str, default_region: str | None = None, *, require_valid: bool = False) -> str:
    """`raw` as an E.164 number (`+4930...`), or PhoneNumberError (a ValueError) saying what is wrong.

    Spaces, dashes and brackets are allowed. Without `default_region` the number must start with `+`; with it
    (an ISO 3166 code such as "DE"), national formats like `030 1234567` are accepted too. The length must be
    possible for the country; `require_valid` also requires a range the country's numbering plan assigns
    (what the campaign engine asks of lead lists, where a wrong number costs dial attempts).
    """
    import phonenumbers

    text = raw.strip()
    if not text:
        raise PhoneNumberError(text, "is empty")
    international = text.startswith("+")
    if not international and default_region is None:
        raise PhoneNumberError(text, "has no country code", needs_country_code=True)
    try:
        parsed = phonenumbers.parse(text, None if international else default_region)
    except phonenumbers.NumberParseException as exc:
        raise PhoneNumberError(text, _unparsable(exc.error_type)) from None
    possible = phonenumbers.is_possible_number_with_reason(parsed)
    if possible != phonenumbers.ValidationResult.IS_POSSIBLE:
        raise PhoneNumberError(text, _impossible(possible, _region(parsed)))
    if require_valid and not phonenumbers.is_valid_number(parsed):
        raise PhoneNumberError(text, f"is not a valid phone number for {_region(parsed)}")
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))


def strict_e164(value: str) -> str:
    """`value` unchanged when it is already written in E.164 (`+4930123456`, no spaces), else ValueError."""
    formatted = normalize_e164(value)
    if formatted != value:
        raise ValueError(f"phone number {value!r} must be in E.164 format without spaces, e.g. {formatted}")
    return value


E164Phone = Annotated[str, AfterValidator(strict_e164)]
"""A phone number in strict E.164 form, e.g. `+4930123456`."""

ContactId = Annotated[str, AfterValidator(canonical_uuid)]
"""A telli contact id: a UUID, returned in canonical lowercase form."""

CallId = Annotated[str, AfterValidator(canonical_uuid)]
"""A telli call id: a UUID, returned in canonical lowercase form."""

AgentId = Annotated[str, AfterValidator(canonical_uuid)]
"""A telli agent id: a UUID, returned in canonical lowercase form."""

PropertyKey = Annotated[str, Field(min_length=1, max_length=64, pattern=PROPERTY_KEY_PATTERN)]
"""A contact property key: 1–64 letters, digits, `_` or `-`, starting with a letter or digit."""

IanaTimezone = Annotated[str, AfterValidator(check_iana_zone)]
"""An IANA time zone name such as `Europe/Berlin`, spelled as the database lists it (see `telli_mcp.zones`)."""
