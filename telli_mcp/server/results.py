"""Base class of every tool result: optional fields that are empty are left out, not sent as null.

A model pays for every `"field": null` it reads; leaving unset optional fields out keeps results small. The
output schemas allow it (see `schema_compact.compact_output_schema`): only a field that is always present may be
null there (such as `next_cursor`, present and null on the last page); an optional field is either absent or set.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, SerializerFunctionWrapHandler, model_serializer

__all__ = ["ToolResult"]


class ToolResult(BaseModel):
    # Built on first use: `tools/list` publishes the generated output schemas (`tool_schemas`), not these.
    model_config = ConfigDict(defer_build=True)

    @model_serializer(mode="wrap")
    def _omit_empty_optionals(self, handler: SerializerFunctionWrapHandler) -> Any:
        data = handler(self)
        if isinstance(data, dict):
            for name, field in type(self).model_fields.items():
                if name in data and data[name] is None and not field.is_required():
                    del data[name]
        return data
