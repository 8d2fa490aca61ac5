"""Make tool JSON schemas smaller without changing what they accept.

pydantic gives every property a generated `title` ("Contact Id"), spells optional fields as
`anyOf: [{type: X}, {type: null}]` and repeats `default: null`. Over ~20 tools that is a third of the
catalogue, and the catalogue is paid for in the model's context on every conversation. The rewrite is
semantics-preserving: the same instances validate before and after.
"""

from __future__ import annotations

from typing import Any

__all__ = ["compact_input_schema", "compact_schema"]

_SCHEMA_MAPS = ("properties", "$defs", "patternProperties")
_SCHEMA_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")
_SCHEMA_VALUES = ("items", "additionalProperties", "not")


def _merge_nullable(options: list[Any]) -> dict[str, Any] | None:
    """`anyOf: [{type: X, ...}, {type: null}]` -> `{type: [X, null], ...}` when X is a plain typed schema."""
    if len(options) != 2 or {"type": "null"} not in options:
        return None
    other = options[0] if options[1] == {"type": "null"} else options[1]
    if not isinstance(other, dict) or not isinstance(other.get("type"), str) or "enum" in other:
        return None
    return {**other, "type": [other["type"], "null"]}


def compact_schema(node: Any, *, keep_descriptions: bool = True) -> Any:
    """A smaller equivalent schema.

    `keep_descriptions=False` also drops descriptions and `format` annotations (neither constrains an instance
    by default); that is for output schemas, whose meaning the tool description already carries.
    """
    if isinstance(node, list):
        return [compact_schema(item, keep_descriptions=keep_descriptions) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "title" and isinstance(value, str):
            continue
        if (key == "default" and value is None) or (key == "additionalProperties" and value is True):
            continue
        if key in ("description", "format") and isinstance(value, str) and not keep_descriptions:
            continue
        if key in _SCHEMA_MAPS and isinstance(value, dict):
            out[key] = {name: compact_schema(sub, keep_descriptions=keep_descriptions) for name, sub in value.items()}
        elif key in _SCHEMA_LISTS or key in _SCHEMA_VALUES:
            out[key] = compact_schema(value, keep_descriptions=keep_descriptions)
        else:
            out[key] = value
    options = out.get("anyOf")
    if isinstance(options, list):
        merged = _merge_nullable(options)
        if merged is not None:
            del out["anyOf"]
            out = {**merged, **out}
    return out


def compact_input_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """Like `compact_schema`, and an optional argument is advertised without its `null` arm.

    Omitting an optional argument and passing null mean the same to every tool here, and models fill
    arguments more reliably from a single type.
    """
    compact: dict[str, Any] = compact_schema(schema)
    required = set(compact.get("required", ()))
    for name, prop in compact.get("properties", {}).items():
        kind = prop.get("type")
        if name not in required and isinstance(kind, list) and len(kind) == 2 and "null" in kind:
            prop["type"] = next(k for k in kind if k != "null")
    return compact
