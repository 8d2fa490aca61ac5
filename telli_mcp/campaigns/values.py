"""Normalise single values: phone numbers, e-mail, time zones, URLs and contact-property values by data type.

Every function returns the normalised value or raises `ValueError` whose message is a short reason meant for
the validation report (the row and field are added by the caller). Phone numbers and time zones follow the
rules every layer shares (`client.types.normalize_e164`, `telli_mcp.zones`), data types the client's
`PropertyDataType`; what is added here is only a lead list's leniency (national numbers with a default region,
any case for a zone name) and its wording.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from pydantic import BaseModel, JsonValue

from telli_mcp.campaigns.models import PropertyValue
from telli_mcp.client import PropertyDataType
from telli_mcp.client.types import PhoneNumberError, normalize_e164
from telli_mcp.text import inline, is_http_url, plain_line, plain_text
from telli_mcp.zones import canonical_zone

__all__ = [
    "PropertyOption",
    "PropertySpec",
    "clip_cell",
    "coerce_property",
    "is_empty",
    "normalise_email",
    "normalise_phone",
    "normalise_timezone",
    "normalise_url",
    "quote_cell",
]

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_TRUE = frozenset({"true", "yes", "1", "ja", "y", "wahr"})
_FALSE = frozenset({"false", "no", "0", "nein", "n", "falsch"})
_MAX_OPTIONS_SHOWN = 10
CELL_SHOWN = 40
"""Characters of a cell quoted in a message: enough to find it, too few to echo a whole line of a file that is
not a lead list (a line of `.env` or a key file)."""


def clip_cell(value: object) -> str:
    """A cell or column name as reports show it: cleaned to one line like any third-party value, truncated."""
    text = inline(str(value))
    return text if len(text) <= CELL_SHOWN else text[: CELL_SHOWN - 1] + "…"


def quote_cell(value: object) -> str:
    """`clip_cell`, quoted: how messages quote a value from the lead source (JSON non-strings as written)."""
    return repr(clip_cell(value)) if isinstance(value, str) else clip_cell(repr(value))


class PropertyOption(BaseModel):
    """One option of a select or multi-select property."""

    model_config = {"frozen": True}

    value: str
    label: str | None = None


class PropertySpec(BaseModel):
    """The part of a telli contact-property definition that validation needs."""

    model_config = {"frozen": True}

    key: str
    data_type: str
    options: tuple[PropertyOption, ...] = ()


def is_empty(value: JsonValue) -> bool:
    """Empty cells, blank strings, null and empty lists mean "not set"."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    return isinstance(value, list) and not value


def normalise_phone(raw: str, default_region: str | None) -> str:
    """E.164 form of `raw`; national formats need `default_region`. A lead's number must also be in a range
    its country assigns: dialling an unassigned one only costs attempts."""
    try:
        return normalize_e164(raw, default_region, require_valid=True)
    except PhoneNumberError as exc:
        advice = ": write +<country code>... or set a default region" if exc.needs_country_code else ""
        raise ValueError(f"{quote_cell(exc.text)} {exc.reason}{advice}") from None


def normalise_email(raw: str) -> str:
    text = raw.strip()
    if not _EMAIL.fullmatch(text):
        raise ValueError(f"{quote_cell(text)} is not an e-mail address")
    return text


def normalise_timezone(raw: str) -> str:
    """The IANA name in its canonical spelling (`europe/berlin` → `Europe/Berlin`)."""
    name = canonical_zone(raw)
    if name is None:
        raise ValueError(f"{quote_cell(raw.strip())} is not an IANA timezone such as Europe/Berlin")
    return name


def normalise_url(raw: str) -> str:
    text = plain_line(raw)
    if not is_http_url(text):
        raise ValueError(f"{quote_cell(text)} is not an http(s) URL")
    return text


def coerce_property(spec: PropertySpec, value: JsonValue, default_region: str | None) -> PropertyValue:
    """`value` converted to what telli expects for `spec.data_type` (the caller rules out empty values)."""
    match spec.data_type:
        case PropertyDataType.NUMBER:
            return _number(value)
        case PropertyDataType.BOOLEAN:
            return _boolean(value)
        case PropertyDataType.DATE:
            return _date(_text(value))
        case PropertyDataType.DATETIME:
            return _datetime(_text(value))
        case PropertyDataType.SELECT:
            return _option(spec, _text(value))
        case PropertyDataType.MULTI_SELECT:
            return _options(spec, value)
        case PropertyDataType.PHONE_NUMBER:
            return normalise_phone(_text(value), default_region)
        case PropertyDataType.EMAIL:
            return normalise_email(_text(value))
        case _:  # string, and any type telli adds later: sent as text
            return _text(value)


def _text(value: JsonValue) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError("expects a single text value")
    return plain_text(str(value))  # sent to telli: no control, escape, bidi or invisible characters


def _number(value: JsonValue) -> int | float:
    if isinstance(value, bool):
        raise ValueError(f"{quote_cell(value)} is not a number")
    if isinstance(value, int | float):
        return value
    text = _text(value)
    if re.fullmatch(r"[+-]?\d+", text):
        return int(text)
    if re.fullmatch(r"[+-]?\d+\.\d+", text):
        return float(text)
    if re.fullmatch(r"[+-]?\d{1,3},\d{3}", text):
        raise ValueError(
            f"{quote_cell(text)} is ambiguous (thousands separator or decimal comma?); write it without one"
        )
    if re.fullmatch(r"[+-]?\d+,\d+", text):
        return float(text.replace(",", "."))
    raise ValueError(f"{quote_cell(text)} is not a number")


def _boolean(value: JsonValue) -> bool:
    if isinstance(value, bool):
        return value
    text = _text(value).casefold()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"{quote_cell(text)} is not a yes/no value (true/false, yes/no, 1/0, ja/nein)")


def _date(text: str) -> str:
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            raise ValueError
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise ValueError(f"{quote_cell(text)} is not a date in the form YYYY-MM-DD") from None


def _datetime(text: str) -> str:
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{quote_cell(text)} is not an ISO date-time such as 2025-03-01T10:00:00+01:00") from None
    if parsed.tzinfo is None:
        raise ValueError(f"{quote_cell(text)} has no UTC offset; write e.g. 2025-03-01T10:00:00+01:00")
    return parsed.isoformat()


def _option(spec: PropertySpec, text: str) -> str:
    # Exact value first, then case-insensitive value, then the label a human sees in the telli app.
    folded = text.casefold()
    for option in spec.options:
        if option.value == text:
            return option.value
    for option in spec.options:
        if option.value.casefold() == folded or (option.label or "").casefold() == folded:
            return option.value
    shown = ", ".join(option.value for option in spec.options[:_MAX_OPTIONS_SHOWN])
    more = ", ..." if len(spec.options) > _MAX_OPTIONS_SHOWN else ""
    raise ValueError(f"{quote_cell(text)} is not an option of {spec.key} ({shown}{more})")


def _options(spec: PropertySpec, value: JsonValue) -> list[str]:
    items = value if isinstance(value, list) else re.split(r"[,|]", _text(value))
    chosen: list[str] = []
    for item in items:
        if is_empty(item):
            continue
        option = _option(spec, _text(item))
        if option not in chosen:
            chosen.append(option)
    return chosen
