"""Request validation: E.164, field lengths, property keys and property values by dataType."""

from __future__ import annotations

import re
from typing import Any

from telli_mcp.contract.formats import FORMAT_CHECKER

from .errors import ApiError, bad_request
from .records import DataType, JsonValue, PropertyDefinition

__all__ = [
    "BodyReader",
    "check_e164",
    "check_timezone",
    "is_e164",
    "is_email",
    "is_property_key",
    "validate_property_value",
]

_PROPERTY_KEY = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_-]*$")


def _conforms(value: object, format_name: str) -> bool:
    """The contract's format rules, the one definition of what an E.164 number or a date is."""
    return isinstance(value, str) and FORMAT_CHECKER.conforms(value, format_name)


def is_e164(value: object) -> bool:
    return _conforms(value, "e164")


def is_email(value: object) -> bool:
    return _conforms(value, "email")


def is_property_key(value: object) -> bool:
    return isinstance(value, str) and 1 <= len(value) <= 64 and _PROPERTY_KEY.fullmatch(value) is not None


def check_e164(value: str, field_name: str) -> str:
    if not is_e164(value):
        raise bad_request(f"{field_name} must be a valid E.164 phone number (e.g. +4930901820)", field_name=field_name)
    return value


def check_timezone(value: str, field_name: str) -> str:
    if not _conforms(value, "iana-timezone"):
        raise bad_request(f"{field_name} must be an IANA timezone such as Europe/Berlin", field_name=field_name)
    return value


class BodyReader:
    """Typed access to a JSON request body; every problem becomes a 400 naming the field."""

    def __init__(self, body: Any) -> None:
        if not isinstance(body, dict):
            raise bad_request("Request body must be a JSON object")
        self.data: dict[str, Any] = body

    def has(self, name: str) -> bool:
        return name in self.data

    def required_str(self, name: str, *, max_len: int | None = None) -> str:
        value = self.data.get(name)
        if value is None or value == "":
            raise bad_request(f"{name} is required", field_name=name)
        return self._check_str(name, value, max_len)

    def optional_str(self, name: str, *, max_len: int | None = None, min_len: int = 0) -> str | None:
        value = self.data.get(name)
        if value is None:
            return None
        text = self._check_str(name, value, max_len)
        if len(text) < min_len:
            raise bad_request(f"{name} must be at least {min_len} characters", field_name=name)
        return text

    def optional_number(self, name: str) -> float | None:
        value = self.data.get(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise bad_request(f"{name} must be a number", field_name=name)
        return float(value)

    def required_list(self, name: str) -> list[Any]:
        value = self.data.get(name)
        if value is None:
            raise bad_request(f"{name} is required", field_name=name)
        if not isinstance(value, list):
            raise bad_request(f"{name} must be an array", field_name=name)
        return value

    def optional_object(self, name: str) -> dict[str, Any] | None:
        value = self.data.get(name)
        if value is None:
            return None
        if not isinstance(value, dict):
            raise bad_request(f"{name} must be an object", field_name=name)
        return value

    @staticmethod
    def _check_str(name: str, value: object, max_len: int | None) -> str:
        if not isinstance(value, str):
            raise bad_request(f"{name} must be a string", field_name=name)
        if max_len is not None and len(value) > max_len:
            raise bad_request(f"{name} must be at most {max_len} characters", field_name=name)
        return value


def validate_property_value(definition: PropertyDefinition, value: JsonValue) -> JsonValue:
    """Check a (non-null) value against the property's dataType; 422 INVALID_PROPERTY_VALUE otherwise."""
    if _value_fits(definition, value):
        return value
    allowed = definition.option_values()
    expected = f"one of {', '.join(allowed)}" if allowed else _EXPECTED[definition.data_type]
    if definition.data_type is DataType.MULTI_SELECT:
        expected = f"a list of values from {', '.join(allowed)}"
    data: dict[str, Any] = {"key": definition.key, "dataType": definition.data_type.value}
    if allowed:
        data["allowedValues"] = allowed
    raise ApiError(
        422,
        f"Invalid value for property '{definition.key}': expected {expected}",
        "INVALID_PROPERTY_VALUE",
        data,
    )


_EXPECTED = {
    DataType.STRING: "a string",
    DataType.NUMBER: "a number",
    DataType.BOOLEAN: "a boolean",
    DataType.DATE: "a date (YYYY-MM-DD)",
    DataType.DATETIME: "an ISO-8601 date-time with a UTC offset",
    DataType.SELECT: "one option value",
    DataType.MULTI_SELECT: "a list of option values",
    DataType.PHONE_NUMBER: "an E.164 phone number",
    DataType.EMAIL: "an email address",
}


def _value_fits(definition: PropertyDefinition, value: JsonValue) -> bool:
    match definition.data_type:
        case DataType.STRING:
            return isinstance(value, str)
        case DataType.NUMBER:
            return isinstance(value, int | float) and not isinstance(value, bool)
        case DataType.BOOLEAN:
            return isinstance(value, bool)
        case DataType.DATE:
            return _conforms(value, "date")
        case DataType.DATETIME:
            return _conforms(value, "date-time")
        case DataType.SELECT:
            return isinstance(value, str) and value in definition.option_values()
        case DataType.MULTI_SELECT:
            allowed = definition.option_values()
            return isinstance(value, list) and all(isinstance(v, str) and v in allowed for v in value)
        case DataType.PHONE_NUMBER:
            return is_e164(value)
        case DataType.EMAIL:
            return is_email(value)
    return False
