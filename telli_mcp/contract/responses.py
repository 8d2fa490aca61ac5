"""Checking one answer against the contract: status, required fields, types, formats, nullability, enums,
unknown fields and the pagination shape. `telli-mcp doctor --deep` runs it on a real account's answers.

A finding names the field with list items collapsed (`data[*].firstName`), so one drifted field is one finding
however many items carry it, and says what the contract expects and what came instead, as a JSON type and a
length only: the answers come from a real account and the report is meant for a bug report, so no value
(names, phone numbers, transcripts) may travel into it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any, Literal

from jsonschema import ValidationError

from .document import JsonSchema, Operation, compile_schema
from .messages import json_type, undeclared

__all__ = ["Finding", "FindingKind", "Severity", "Unparsed", "check_response", "describe_schema", "status_finding"]

FindingKind = Literal[
    "status",
    "not_json",
    "undocumented",
    "missing",
    "type",
    "null",
    "format",
    "enum",
    "constraint",
    "unknown",
    "pagination",
]
Severity = Literal["drift", "info"]
"""drift: the answer breaks the contract. info: worth knowing (a field the contract does not know, the shape of
a body telli does not document), but nothing that reads the documented fields breaks."""

_ITEM = "[*]"
_ENTRY = ".*"
"""Path parts for a list item and for a value of an object whose keys are data (e.g. `call_analysis`)."""
_NAME = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$-]{0,63}$")
"""What a field name looks like; any other key is described instead of shown, in case it is data."""


class Unparsed(Enum):
    """A 2xx body that is not a JSON value."""

    EMPTY = "no body"
    NOT_JSON = "a body that is not JSON"


@dataclass(frozen=True)
class Finding:
    """One way an answer differs from the contract. `expected` and `seen` never hold a value from the answer."""

    kind: FindingKind
    field: str
    """`status`, `body`, or the field, e.g. `data[*].firstName` (`[*]`: every list item it occurred in)."""
    expected: str
    seen: str
    severity: Severity
    count: int = 1
    """In how many places (list items) it occurred."""

    def __str__(self) -> str:
        where = f" ({self.count} places)" if self.count > 1 else ""
        return f"{self.kind} {self.field}: expected {self.expected}, seen {self.seen}{where}"


@dataclass(frozen=True)
class _Shape:
    """What a value looked like: its JSON type and, for strings, arrays and objects, its size."""

    type: str
    size: int | None = None


@dataclass(frozen=True)
class _Raw:
    """A finding at one concrete place, before list items are merged."""

    kind: FindingKind
    path: tuple[str | int, ...]
    expected: str
    shape: _Shape
    severity: Severity


def check_response(operation: Operation, status: int, body: Any) -> list[Finding]:
    """Every difference between one answer and the contract. `body` is the parsed JSON, or an `Unparsed`."""
    raw: list[_Raw] = []
    schema = _schema_for(operation, status)
    if status in operation.undocumented_bodies:
        raw.append(_Raw("undocumented", (), "a body telli does not document", _shape(body), "info"))
    elif schema is None:
        if body is not Unparsed.EMPTY:
            raw.append(_Raw("undocumented", (), "no body", _shape(body), "info"))
    elif isinstance(body, Unparsed):
        raw.append(_Raw("not_json", (), describe_schema(schema), _shape(body), "drift"))
    else:
        raw += _schema_findings(schema, body)
        raw += _unknown_fields(schema, body, ())
        raw += _pagination(schema, body)
    unexpected = [] if status in operation.responses else [status_finding(operation, f"HTTP {status}")]
    return unexpected + _merged(raw)


def status_finding(operation: Operation, seen: str) -> Finding:
    """The answer came with `seen` (e.g. `HTTP 403`) where the contract documents only its successes."""
    return Finding(kind="status", field="status", expected=_documented_statuses(operation), seen=seen, severity="drift")


def describe_schema(schema: JsonSchema) -> str:
    """What a schema allows, in a few words: `string (date-time) or null`, `one of: new, pending`."""
    if "enum" in schema:
        return "one of: " + ", ".join(_literal(item) for item in schema["enum"])
    if "const" in schema:
        return f"the constant {_literal(schema['const'])}"
    types = schema.get("type")
    if types is None:
        return "any value"
    names = [types] if isinstance(types, str) else list(types)
    if "format" in schema:
        names = [f"{name} ({schema['format']})" if name == "string" else name for name in names]
    return " or ".join(names)


def _documented_statuses(operation: Operation) -> str:
    successes = sorted(status for status in operation.responses if 200 <= status < 300)
    return " or ".join(f"HTTP {status}" for status in successes) or "a documented status"


def _schema_for(operation: Operation, status: int) -> JsonSchema | None:
    """The body schema of `status`; for an undocumented 2xx, the one documented success's (to still compare)."""
    if status in operation.responses:
        return operation.responses[status]
    successes = [schema for code, schema in operation.responses.items() if 200 <= code < 300]
    return successes[0] if 200 <= status < 300 and len(successes) == 1 else None


def _schema_findings(schema: JsonSchema, body: Any) -> list[_Raw]:
    found: list[_Raw] = []
    for error in compile_schema(schema).iter_errors(body):
        found += _from_error(error)
    return found


def _from_error(error: ValidationError) -> list[_Raw]:
    path = tuple(error.absolute_path)
    keyword, value = str(error.validator), error.instance
    schema: JsonSchema = dict(error.schema) if isinstance(error.schema, Mapping) else {}
    if keyword == "additionalProperties":
        return []  # `_unknown_fields` reports these, as info: answers may carry fields the contract lacks
    if keyword == "required":
        return _missing(schema, path, value)
    expected = describe_schema(schema)
    if value is None and keyword in ("type", "enum", "const"):
        return [_Raw("null", path, expected, _shape(value), "drift")]
    if keyword == "type":
        return [_Raw("type", path, expected, _shape(value), "drift")]
    if keyword == "format":
        return [_Raw("format", path, expected, _shape(value), "drift")]
    if keyword in ("enum", "const"):
        return [_Raw("enum", path, expected, _shape(value), "drift")]
    limit = f"{expected} with {keyword} {_literal(error.validator_value)}"
    return [_Raw("constraint", path, limit, _shape(value), "drift")]


def _missing(schema: JsonSchema, path: tuple[str | int, ...], value: Any) -> list[_Raw]:
    """Every required field `value` lacks (jsonschema reports each one separately; `_merged` drops repeats)."""
    if not isinstance(value, dict):
        return []
    properties = schema.get("properties", {})
    return [
        _Raw("missing", (*path, name), describe_schema(properties.get(name, {})), _Shape("absent"), "drift")
        for name in schema.get("required", [])
        if name not in value
    ]


def _unknown_fields(schema: JsonSchema, value: Any, path: tuple[str | int, ...]) -> Iterator[_Raw]:
    """Fields of objects whose schema lists `properties` that the contract does not know."""
    items = schema.get("items")
    if isinstance(value, list) and isinstance(items, dict):
        for index, item in enumerate(value):
            yield from _unknown_fields(items, item, (*path, index))
        return
    if not isinstance(value, dict):
        return
    properties = schema.get("properties")
    extra = schema.get("additionalProperties")
    for key, item in value.items():
        if isinstance(properties, dict) and key in properties:
            yield from _unknown_fields(properties[key], item, (*path, key))
        elif isinstance(extra, dict) and extra:
            yield from _unknown_fields(extra, item, (*path, _ENTRY))
        elif isinstance(properties, dict) and undeclared(schema, key):
            yield _Raw("unknown", (*path, _safe_key(key)), "no such field", _shape(item), "info")


def _pagination(schema: JsonSchema, body: Any) -> list[_Raw]:
    """A v2 page that says there is more must say where: the schema cannot express this condition itself.

    Either cursor name counts, as in the contract's PageInfo (telli's docs used both over time).
    """
    if "pageInfo" not in schema.get("properties", {}) or not isinstance(body, dict):
        return []
    info = body.get("pageInfo")
    if not isinstance(info, dict) or info.get("hasNextPage") is not True:
        return []
    if any(isinstance(info.get(name), str) and info[name] for name in ("nextCursor", "endCursor")):
        return []
    expected = "nextCursor or endCursor (a string) when hasNextPage is true"
    return [_Raw("pagination", ("pageInfo",), expected, _Shape("no cursor"), "drift")]


def _merged(raw: list[_Raw]) -> list[Finding]:
    """One finding per (kind, field), list indexes collapsed, counting the places and the range of sizes."""
    groups: dict[tuple[str, str], list[_Raw]] = {}
    for item in dict.fromkeys(raw):  # the same place can fail twice (e.g. a required list and its items)
        groups.setdefault((item.kind, _render(item.path)), []).append(item)
    findings = [
        Finding(
            kind=items[0].kind,
            field=field,
            expected=items[0].expected,
            seen=_seen([i.shape for i in items]),
            severity=items[0].severity,
            count=len(items),
        )
        for (_, field), items in groups.items()
    ]
    return sorted(findings, key=lambda finding: (finding.severity != "drift", finding.field, finding.kind))


def _render(path: tuple[str | int, ...]) -> str:
    text = ""
    for part in path:
        if isinstance(part, int):
            text += _ITEM
        elif part == _ENTRY:
            text += _ENTRY
        else:
            text += f".{part}" if text else part
    return text or "body"


def _shape(value: Any) -> _Shape:
    if isinstance(value, Unparsed):
        return _Shape(value.value)
    kind = json_type(value)
    return _Shape(kind, len(value) if isinstance(value, str | list | dict) else None)


def _seen(shapes: list[_Shape]) -> str:
    """`string (3-12 chars)`; several types are listed in the order they came."""
    by_type: dict[str, list[int]] = {}
    for shape in shapes:
        by_type.setdefault(shape.type, [])
        if shape.size is not None:
            by_type[shape.type].append(shape.size)
    return " or ".join(_sized(kind, sizes) for kind, sizes in by_type.items())


def _sized(kind: str, sizes: list[int]) -> str:
    if not sizes:
        return kind
    unit = {"string": "char", "array": "item", "object": "field"}[kind]
    low, high = min(sizes), max(sizes)
    unit += "" if high == 1 else "s"
    return f"{kind} ({low} {unit})" if low == high else f"{kind} ({low}-{high} {unit})"


def _safe_key(key: str) -> str:
    return key if _NAME.fullmatch(key) else f"<a key of {len(key)} chars>"


def _literal(value: Any) -> str:
    """A value from the contract (never from an answer), as JSON writes it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
