"""Every tool's output schema, derived at build time, so a starting server needs none of its result models.

The SDK derives a tool's output schema from its return type when the tool is registered: pydantic builds every
result model and generates its JSON schema, a good part of a cold start, for a catalogue that changes only with
the code. `output_schemas.json` beside this module holds the schemas exactly as a server registering its tools the
SDK's way would advertise them (`derive`: compact, see `schema_compact`); `register_tools` publishes them from
there, and the result models are built on first use. `python -m telli_mcp.docs --write` rewrites the file,
`--check` fails when it is stale, and so does `tests/server/test_output_schemas.py`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

from mcp.server.mcpserver import MCPServer

from telli_mcp.server.surface import ToolDef

__all__ = ["SCHEMAS_FILE", "catalogue_text", "derive", "render", "shipped"]

SCHEMAS_FILE = Path(__file__).with_name("output_schemas.json")


@cache
def shipped() -> dict[str, dict[str, Any]]:
    """The schemas in the installed package, by tool name (empty if the file is missing: tools then derive
    their own at registration, slower but the same)."""
    try:
        schemas: dict[str, dict[str, Any]] = json.loads(SCHEMAS_FILE.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    return schemas


def derive(tools: Iterable[ToolDef]) -> dict[str, dict[str, Any]]:
    """Each tool's output schema as a server registering it the SDK's way advertises it."""
    from telli_mcp.server.registry import register_tools

    scratch: MCPServer[Any] = MCPServer("output-schemas")
    tools = list(tools)
    register_tools(scratch, tools, catalogue={})
    return {tool.name: _advertised(scratch, tool.name) for tool in tools}


def _advertised(server: MCPServer[Any], name: str) -> dict[str, Any]:
    tool = server._tool_manager.get_tool(name)  # the registry reaches the tool manager the same way
    assert tool is not None, name
    assert tool.output_schema is not None, f"{name} has no output schema"
    return tool.output_schema


def render(schemas: dict[str, dict[str, Any]]) -> str:
    """The file's text: one line per tool, sorted, so a change shows as a readable diff."""
    lines = [f"  {json.dumps(name)}: {json.dumps(schemas[name], sort_keys=True)}" for name in sorted(schemas)]
    return "{\n" + ",\n".join(lines) + "\n}\n"


def catalogue_text() -> str:
    """What the file should hold for the code as it is: every tool of every toolset."""
    from telli_mcp.server.tools import SURFACES

    return render(derive(tool for surface in SURFACES for tool in surface.tools))
