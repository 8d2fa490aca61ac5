"""Check custom property values against the account's property schema before anything is written.

telli would answer 422 for an unknown key or a wrong value; checking first lets us name the key, the
expected type and the allowed values, and send nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from mcp.server.mcpserver.exceptions import ToolError

from telli_mcp.client.types import PropertyDataType, strict_e164
from telli_mcp.server.params import check_email

if TYPE_CHECKING:
    from telli_mcp.client import PropertyDefinition, TelliClient

__all__ = ["check_property_values", "property_value_problem"]


def _is_iso_date(value: Any) -> bool:
    try:
        date.fromisoformat(value)
    except (TypeError, ValueError):
        return False
    return isinstance(value, str) and len(value) == 10


def _is_iso_datetime(value: Any) -> bool:
    try:
        return isinstance(value, str) and datetime.fromisoformat(value).tzinfo is not None
    except ValueError:
        return False


def _passes(check: Callable[[str], str], value: Any) -> bool:
    try:
        return isinstance(value, str) and bool(check(value))
    except ValueError:
        return False


def property_value_problem(definition: PropertyDefinition, value: Any) -> str | None:
    """Why `value` is not valid for this property, or None when it is (a type telli added later is not checked)."""
    options = [option.value for option in definition.options or []]
    kind = str(definition.data_type)
    # One entry per member of the client's PropertyDataType (a test holds them equal).
    checks: dict[str, tuple[bool, str]] = {
        PropertyDataType.STRING: (isinstance(value, str), "a text value"),
        PropertyDataType.NUMBER: (isinstance(value, int | float) and not isinstance(value, bool), "a number"),
        PropertyDataType.BOOLEAN: (isinstance(value, bool), "true or false"),
        PropertyDataType.DATE: (_is_iso_date(value), "a date like 2026-03-31"),
        PropertyDataType.DATETIME: (_is_iso_datetime(value), "a date-time with offset like 2026-03-31T14:00:00+02:00"),
        PropertyDataType.SELECT: (value in options, f"one of {options}"),
        PropertyDataType.MULTI_SELECT: (
            isinstance(value, list) and all(v in options for v in value),
            f"a list from {options}",
        ),
        # Property values are sent as given, so a phone number must already be written in E.164.
        PropertyDataType.PHONE_NUMBER: (_passes(strict_e164, value), "an E.164 phone number like +4915112345678"),
        PropertyDataType.EMAIL: (_passes(check_email, value), "an email address"),
    }
    ok, expected = checks.get(kind, (True, ""))
    return None if ok else f"property {definition.key!r} ({kind}) must be {expected}, got {value!r}"


async def check_property_values(
    client: TelliClient, properties: Mapping[str, Any] | None, *, clearing_allowed: bool
) -> None:
    """Raise `ToolError` naming the first bad key or value; send nothing when all is well but the read."""
    if not properties:
        return
    page = await client.properties.list()
    schema = {definition.key: definition for definition in page.items}
    unreadable = {item.id: item.problem for item in page.invalid_items if item.id}
    custom = sorted(key for key, d in schema.items() if str(d.source) != "system")
    for key, value in properties.items():
        definition = schema.get(key)
        if definition is None and key in unreadable:
            # It exists, but its type and options are unknown: refuse rather than send an unchecked value.
            raise ToolError(
                f"telli's definition of property {key!r} could not be read ({unreadable[key]}), "
                "so its value cannot be checked. Nothing was sent."
            )
        if definition is None:
            raise ToolError(
                f"Unknown property key {key!r}. Valid custom keys: {', '.join(custom) or 'none'}. "
                "Create new ones with create_contact_property."
            )
        if str(definition.source) == "system":
            raise ToolError(f"{key!r} is a built-in field; pass it as its own argument, not in properties.")
        if value is None:
            if clearing_allowed:
                continue
            raise ToolError(f"property {key!r}: null is only meaningful in update_contact (it clears a value).")
        problem = property_value_problem(definition, value)
        if problem:
            raise ToolError(f"Invalid {problem}. Nothing was sent.")
