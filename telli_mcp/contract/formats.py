"""The string formats the contract uses, checked without extra dependencies.

JSON Schema treats `format` as an annotation unless a checker is given; this is that checker. `e164` and
`iana-timezone` are the contract's own formats; the others follow RFC 3339 (date, date-time), RFC 4122
(uuid) and RFC 3986 (uri: a scheme and a host).
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Callable
from datetime import date, datetime
from urllib.parse import urlsplit

from jsonschema import FormatChecker

__all__ = ["FORMAT_CHECKER", "FORMAT_NAMES", "FORMAT_RULES"]

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_E164 = re.compile(r"^\+[1-9]\d{1,14}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")

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


def _is_uuid(value: object) -> bool:
    return not isinstance(value, str) or _UUID.fullmatch(value) is not None


def _is_e164(value: object) -> bool:
    return not isinstance(value, str) or _E164.fullmatch(value) is not None


def _is_email(value: object) -> bool:
    return not isinstance(value, str) or _EMAIL.fullmatch(value) is not None


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


def _is_iana_timezone(value: object) -> bool:
    if not isinstance(value, str):
        return True
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


FORMAT_RULES: dict[str, Callable[[object], bool]] = {
    "uuid": _is_uuid,
    "e164": _is_e164,
    "email": _is_email,
    "uri": _is_uri,
    "date": _is_date,
    "date-time": _is_date_time,
    "iana-timezone": _is_iana_timezone,
}
"""Each format's one rule, for both validators the contract is checked with (see `request_schema`)."""

FORMAT_CHECKER = FormatChecker(formats=())
for _name, _rule in FORMAT_RULES.items():
    FORMAT_CHECKER.checks(_name)(_rule)
