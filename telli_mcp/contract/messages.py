"""Plain-language messages for schema errors, each naming the field as a caller writes it.

Values are never echoed: a rejected phone number or e-mail address must not travel on into logs and
tool output.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Mapping
from typing import Any, cast

from jsonschema import ValidationError

from .formats import FORMAT_NAMES

__all__ = ["describe_error", "error_field", "field_path", "json_type", "spelling_hint", "undeclared"]

_TYPE_NAMES = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "object": "an object",
    "array": "an array",
    "null": "null",
}


def field_path(parts: Iterable[Any]) -> str:
    """`["contacts", 3, "email"]` as `contacts[3].email`."""
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def json_type(value: Any) -> str:
    """The JSON type name of a Python value parsed from JSON."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def error_field(error: ValidationError) -> str:
    """The field an error is about; for unknown and missing fields, that field itself."""
    base = list(error.absolute_path)
    if error.validator == "additionalProperties":
        return field_path([*base, _unexpected(error)[0]])
    if error.validator == "required":
        return field_path([*base, _missing(error)])
    if "propertyNames" in error.relative_schema_path and isinstance(error.instance, str):
        return field_path([*base, error.instance])
    return field_path(base) or "body"


def describe_error(error: ValidationError, name: str) -> str:
    """What is wrong, in a sentence that starts with the field's name."""
    # jsonschema types these loosely (with an `Unset` marker that never reaches a raised error).
    kind, expected, value = str(error.validator), cast(Any, error.validator_value), error.instance
    if kind == "additionalProperties":
        return _unknown_field(error, name)
    if kind == "required":
        return f"{name} is required"
    if "propertyNames" in error.relative_schema_path:
        return f"{name}: keys here must be lowercase snake_case (letters, digits and _)"
    if kind == "type":
        return _wrong_type(name, expected, value)
    if kind == "format":
        return f"{name} must be {FORMAT_NAMES.get(str(expected), f'in the format {expected}')}"
    if kind in ("enum", "const"):
        allowed: list[Any] = list(expected) if kind == "enum" else [expected]
        return f"{name} must be one of: {', '.join('null' if item is None else str(item) for item in allowed)}"
    return _limit(kind, name, expected)


def _limit(kind: str, name: str, expected: Any) -> str:
    if kind == "minLength":
        return f"{name} must not be empty" if expected == 1 else f"{name} must be at least {expected} characters"
    messages = {
        "maxLength": f"{name} must be at most {expected} characters",
        "minimum": f"{name} must be at least {expected}",
        "maximum": f"{name} must be at most {expected}",
        "minItems": f"{name} must have at least {expected} item(s)",
        "maxItems": f"{name} must have at most {expected} items per request",
        "pattern": f"{name} must match {expected}",
    }
    return messages.get(kind, f"{name} is invalid ({kind})")


def _wrong_type(name: str, expected: Any, value: Any) -> str:
    wanted = [expected] if isinstance(expected, str) else list(expected)
    described = " or ".join(_TYPE_NAMES.get(item, item) for item in wanted)
    if value is None:
        return f"{name} must not be null (leave the field out when it has no value); expected {described}"
    return f"{name} must be {described}, not {_TYPE_NAMES.get(json_type(value), json_type(value))}"


def _schema_of(error: ValidationError) -> dict[str, Any]:
    return dict(error.schema) if isinstance(error.schema, Mapping) else {}


def _unknown_field(error: ValidationError, name: str) -> str:
    known = sorted(_schema_of(error).get("properties", {}))
    field = _unexpected(error)[0]
    hint = spelling_hint(field, known)
    return f"{name} is not a field of this request{hint}; known fields: {', '.join(known)}"


def spelling_hint(field: str, known: list[str]) -> str:
    """` (did you mean external_url?)` when `field` is a known name in another case or with other underscores."""
    folded = field.replace("_", "").lower()
    for candidate in known:
        if candidate.replace("_", "").lower() == folded:
            return f" (did you mean {candidate}?)"
    return ""


def undeclared(schema: Mapping[str, Any], key: str) -> bool:
    """Whether `key` is neither a listed property of `schema` nor matched by one of its `patternProperties`."""
    if key in schema.get("properties", {}):
        return False
    return not any(re.search(pattern, key) for pattern in schema.get("patternProperties", {}))


def _unexpected(error: ValidationError) -> list[str]:
    instance: dict[str, Any] = cast(dict[str, Any], error.instance)
    schema = _schema_of(error)
    return sorted(key for key in instance if undeclared(schema, key)) or ["?"]


def _missing(error: ValidationError) -> str:
    try:
        return str(ast.literal_eval(error.message.split(" is a required property")[0]))
    except (ValueError, SyntaxError):
        return "?"
