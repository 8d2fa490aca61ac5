"""The string formats the contract uses, checked without extra dependencies.

JSON Schema treats `format` as an annotation unless a checker is given; this is that checker. `e164` and
`iana-timezone` are the contract's own formats; the others follow RFC 3339 (date, date-time), RFC 4122
(uuid) and RFC 3986 (uri: a scheme and a host).
"""

from __future__ import annotations

import re
import zoneinfo
from datetime import date, datetime
from urllib.parse import urlsplit

from jsonschema import FormatChecker

__all__ = ["FORMAT_CHECKER", "FORMAT_NAMES"]

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_E164 = re.compile(r"^\+[1-9]\d{1,14}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")

FORMAT_CHECKER = FormatChecker(formats=())

FORMAT_NAMES = {
    "uuid": "a UUID such as 3c90c3cc-0d44-4b50-8888-8dd25736052a",
    "e164": "an E.164 phone number such as +4930901820",
    "email": "an email address",
    "uri": "an absolute URL such as https://crm.example.com/contacts/42",
    "date": "a date (YYYY-MM-DD)",
    "date-time": "an ISO-8601 date-time with a UTC offset",
    "iana-timezone": "an IANA time zone such as Europe/Berlin",
}
"""What each format means, for error messages."""


@FORMAT_CHECKER.checks("uuid")
def _is_uuid(value: object) -> bool:
    return not isinstance(value, str) or _UUID.fullmatch(value) is not None


@FORMAT_CHECKER.checks("e164")
def _is_e164(value: object) -> bool:
    return not isinstance(value, str) or _E164.fullmatch(value) is not None


@FORMAT_CHECKER.checks("email")
def _is_email(value: object) -> bool:
    return not isinstance(value, str) or _EMAIL.fullmatch(value) is not None


@FORMAT_CHECKER.checks("uri")
def _is_uri(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if any(character.isspace() for character in value):
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return bool(parts.scheme) and bool(parts.netloc)


@FORMAT_CHECKER.checks("date")
def _is_date(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if _DATE.fullmatch(value) is None:
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


@FORMAT_CHECKER.checks("date-time")
def _is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if _DATE_TIME.fullmatch(value) is None:
        return False
    try:
        datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


@FORMAT_CHECKER.checks("iana-timezone")
def _is_iana_timezone(value: object) -> bool:
    if not isinstance(value, str):
        return True
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True
