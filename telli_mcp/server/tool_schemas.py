"""Every tool's input and output schema, derived at build time, so a starting server builds none of its models.

The SDK derives a tool's schemas when the tool is registered: pydantic builds a model of the handler's arguments
and one of its result, and generates their JSON schemas, most of a cold start beyond the SDK's own, for a
catalogue that changes only with the code. `tool_schemas.json` beside this module holds, per tool, the schemas
exactly as a server registering its tools the SDK's way would advertise them (`registry.derive_schemas`: compact,
see `schema_compact`); `register_tools` publishes them from there, and the models are built on the tool's first
call. `python -m telli_mcp.docs --write` rewrites the file, `--check` fails when it is stale, and so does
`tests/server/test_tool_schemas.py`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

if TYPE_CHECKING:
    from telli_mcp.server.surface import ToolDef

__all__ = ["SCHEMAS_FILE", "ToolSchemas", "catalogue_text", "derive", "render", "shipped"]

SCHEMAS_FILE = Path(__file__).with_name("tool_schemas.json")


class ToolSchemas(TypedDict):
    """What `tools/list` says a tool takes and returns (the advertised, compact schemas)."""

    input: dict[str, Any]
    output: dict[str, Any]


@cache
def shipped() -> dict[str, ToolSchemas]:
    """The schemas in the installed package, by tool name (empty if the file is missing: tools then derive
    their own at registration, slower but the same)."""
    try:
        schemas: dict[str, ToolSchemas] = json.loads(SCHEMAS_FILE.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    return schemas


def derive(tools: Iterable[ToolDef]) -> dict[str, ToolSchemas]:
    """Each tool's schemas as a server registering it the SDK's way advertises them."""
    from telli_mcp.server.registry import derive_schemas

    return {tool.name: derive_schemas(tool) for tool in tools}


def render(schemas: dict[str, ToolSchemas]) -> str:
    """The file's text: one line per tool, sorted, so a change shows as a readable diff.

    An input schema keeps its order (the arguments as declared, the order a model reads them in); an output
    schema's keys are sorted."""
    lines = [
        f'  {json.dumps(name)}: {{"input": {json.dumps(schemas[name]["input"])}, '
        f'"output": {json.dumps(schemas[name]["output"], sort_keys=True)}}}'
        for name in sorted(schemas)
    ]
    return "{\n" + ",\n".join(lines) + "\n}\n"


def catalogue_text() -> str:
    """What the file should hold for the code as it is: every tool of every toolset."""
    from telli_mcp.server.tools import SURFACES

    return render(derive(tool.load() for surface in SURFACES for tool in surface.tools))
