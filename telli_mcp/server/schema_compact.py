"""Make tool JSON schemas smaller without changing what they accept.

pydantic gives every property a generated `title` ("Contact Id"), spells optional fields as
`anyOf: [{type: X}, {type: null}]` and repeats `default: null`. Over ~20 tools that is a third of the
catalogue, and the catalogue is paid for in the model's context on every conversation. The rewrite is
semantics-preserving: the same instances validate before and after.

A value that may be null stays `anyOf: [{type: X}, {type: null}]`, never the shorter `type: [X, null]`: a
client that maps tool schemas onto a single-`type` dialect (Gemini's OpenAPI subset, for one) rejects type
arrays or drops the constraint, and the MCP Inspector flags them as not portable.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["compact_input_schema", "compact_output_schema", "compact_schema"]

_SCHEMA_MAPS = ("properties", "$defs", "patternProperties")
_SCHEMA_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")
_SCHEMA_VALUES = ("items", "additionalProperties", "not")


def _subschemas(key: str, value: Any, walk: Callable[[Any], Any]) -> Any:
    """`value` (of keyword `key`) with `walk` applied to each schema it holds; other values as they are."""
    if key in _SCHEMA_MAPS and isinstance(value, dict):
        return {name: walk(sub) for name, sub in value.items()}
    if key in _SCHEMA_LISTS or key in _SCHEMA_VALUES:
        return walk(value)
    return value


_ANNOTATIONS = ("description", "format", "default")
"""Keywords that never decide whether an instance validates (`format` only annotates by default)."""


def compact_schema(node: Any, *, for_output: bool = False) -> Any:
    """A smaller equivalent schema.

    `for_output=True` also drops the annotations (descriptions, `format`, defaults: none constrains an
    instance), since the tool description carries an output's meaning and the server has filled in its
    defaults; and a `type: string` beside an `enum` of strings, which the enum already implies. (Input schemas
    keep that `type`: some clients turn them into function declarations that require one.)
    """
    if isinstance(node, list):
        return [compact_schema(item, for_output=for_output) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "title" and isinstance(value, str):
            continue
        if (key == "default" and value is None) or (key == "additionalProperties" and value is True):
            continue
        if key in _ANNOTATIONS and for_output:
            continue
        out[key] = _subschemas(key, value, lambda sub: compact_schema(sub, for_output=for_output))
    items = out.get("items")
    if "description" in out and isinstance(items, dict):
        # The array's own description already says what its items are.
        items.pop("description", None)
    if for_output and _type_implied_by_enum(out):
        del out["type"]
    return out


def _type_implied_by_enum(node: dict[str, Any]) -> bool:
    """True when `enum` lists only strings and `type` says `string`: then the type admits nothing more."""
    values = node.get("enum")
    return node.get("type") == "string" and isinstance(values, list) and all(isinstance(v, str) for v in values)


def _drop_null_arm_of_optionals(node: dict[str, Any]) -> None:
    required = set(node.get("required", ()))
    properties = node.get("properties", {})
    for name, prop in list(properties.items()):
        if name in required:
            continue
        kind = prop.get("type")
        if isinstance(kind, list) and len(kind) == 2 and "null" in kind:
            prop["type"] = next(k for k in kind if k != "null")
        options = prop.get("anyOf")
        if isinstance(options, list) and len(options) == 2 and {"type": "null"} in options:
            other = options[0] if options[1] == {"type": "null"} else options[1]
            rest = {k: v for k, v in prop.items() if k != "anyOf"}
            properties[name] = {**other, **rest}


def compact_input_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """Like `compact_schema`, and an optional argument is advertised without its `null` arm.

    Omitting an optional argument and passing null mean the same to every tool here, and models fill
    arguments more reliably from a single type.
    """
    compact: dict[str, Any] = compact_schema(schema)
    _drop_null_arm_of_optionals(compact)
    return compact


def _refs(node: Any, counts: dict[str, int]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            counts[ref] = counts.get(ref, 0) + 1
        for value in node.values():
            _refs(value, counts)
    elif isinstance(node, list):
        for value in node:
            _refs(value, counts)


def _inline(node: Any, definitions: dict[str, Any]) -> Any:
    if isinstance(node, list):
        return [_inline(value, definitions) for value in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and ref in definitions:
        rest = {k: v for k, v in node.items() if k != "$ref"}
        return {**_inline(definitions[ref], definitions), **rest}
    return {key: _inline(value, definitions) for key, value in node.items()}


def inline_single_use_definitions(schema: dict[str, Any]) -> dict[str, Any]:
    """Replace `$ref`s to definitions used exactly once by the definition itself (same meaning, fewer bytes)."""
    definitions = schema.get("$defs")
    if not isinstance(definitions, dict):
        return schema
    counts: dict[str, int] = {}
    _refs(schema, counts)
    single = {f"#/$defs/{name}": body for name, body in definitions.items() if counts.get(f"#/$defs/{name}") == 1}
    body = {k: v for k, v in schema.items() if k != "$defs"}
    kept = {name: d for name, d in definitions.items() if f"#/$defs/{name}" not in single}
    result: dict[str, Any] = _inline(body, single)
    if kept:
        result["$defs"] = _inline(kept, single)
    return result


def _for_readers(node: Any, *, nested: bool = False) -> Any:
    """`node` without what only a validator reads: every `required` list, and `type: object` beside the
    `properties` of a nested object (its properties say what it is; the top level keeps its type, which MCP
    requires). A property that is named `required` stays."""
    if isinstance(node, list):
        return [_for_readers(item, nested=True) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "required" or (key == "type" and value == "object" and nested and "properties" in node):
            continue
        out[key] = _subschemas(key, value, lambda sub: _for_readers(sub, nested=True))
    return out


def compact_output_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """Like `compact_schema(for_output=True)`; optional fields lose their `null` arm because results leave
    empty optional fields out (`results.ToolResult`); single-use definitions are inlined.

    Then what only a validator reads goes (`_for_readers`): the `required` lists, once they have decided
    which fields keep a `null` arm (`next_cursor` is always present and may be null, so it keeps one), and
    `type: object` on the rows of a list. That is 1.6 KB of the default catalogue and tells a caller nothing
    it needs: a tool is called from its input schema and description, every result shows which fields it
    has, and every result still validates (the schema only got looser, never stricter).
    """
    compact: dict[str, Any] = compact_schema(schema, for_output=True)
    _drop_null_arm_of_optionals(compact)
    for definition in compact.get("$defs", {}).values():
        _drop_null_arm_of_optionals(definition)
    loose: dict[str, Any] = _for_readers(inline_single_use_definitions(compact))
    return loose
