"""The output schemas a server publishes come from the build-time catalogue, and are what the SDK would derive.

A starting server publishes `telli_mcp/server/output_schemas.json` instead of building every result model to
derive the schemas (`telli_mcp.server.output_schemas`); these tests hold the file to the code.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
from mcp.server.mcpserver import MCPServer
from process_helpers import clean_env

from telli_mcp.docs import WRITE_COMMAND
from telli_mcp.server import SURFACES
from telli_mcp.server.output_schemas import derive, shipped
from telli_mcp.server.registry import register_tools

TOOLS = [tool for surface in SURFACES for tool in surface.tools]


def test_the_shipped_schemas_are_what_the_sdk_derives_from_the_code_now() -> None:
    assert shipped() == derive(TOOLS), f"output_schemas.json is stale: run `{WRITE_COMMAND}` and commit it"


def test_publishing_the_shipped_schemas_lists_every_tool_exactly_as_deriving_them_would() -> None:
    def listed(catalogue: dict[str, dict[str, Any]] | None) -> list[dict[str, Any]]:
        server: MCPServer[Any] = MCPServer("compare")
        register_tools(server, TOOLS, catalogue=catalogue)
        return [tool.model_dump(mode="json", by_alias=True) for tool in anyio.run(server.list_tools)]

    assert listed(None) == listed({})


BUILT_AT_STARTUP = """
import anyio
from telli_mcp.backend import open_backend
from telli_mcp.config import Settings
from telli_mcp.server import build_server
from telli_mcp.server.results import ToolResult

def subclasses(cls):
    return [sub for direct in cls.__subclasses__() for sub in (direct, *subclasses(direct))]

server = build_server(open_backend(Settings(sandbox=True), sandbox_speed=0))
tools = anyio.run(server.list_tools)
assert len(tools) > 10 and len(subclasses(ToolResult)) > 10
print(sorted(model.__name__ for model in subclasses(ToolResult) if model.__pydantic_complete__))
"""


def test_listing_the_tools_builds_no_result_model(tmp_path: Path) -> None:
    """In a fresh process: in this one, other tests have long built them."""
    env = clean_env(TELLI_MCP_DATA_DIR=str(tmp_path))
    result = subprocess.run(
        [sys.executable, "-c", BUILT_AT_STARTUP], capture_output=True, text=True, timeout=120, env=env, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == "[]", f"result models built at startup: {result.stdout.strip()}"
