"""Base class of every tool result: optional fields that are empty are left out, not sent as null.

A model pays for every `"field": null` it reads; leaving unset optional fields out keeps results small. The
output schemas match (see `schema_compact.compact_output_schema`): optional fields are not required, so an
absent field is valid, while required fields (such as `next_cursor`) are always present, null or not.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, SerializerFunctionWrapHandler, model_serializer

__all__ = ["ToolResult"]


class ToolResult(BaseModel):
    @model_serializer(mode="wrap")
    def _omit_empty_optionals(self, handler: SerializerFunctionWrapHandler) -> Any:
        data = handler(self)
        if isinstance(data, dict):
            for name, field in type(self).model_fields.items():
                if name in data and data[name] is None and not field.is_required():
                    del data[name]
        return data
