"""The schemas a server publishes come from the build-time catalogue, and are what the SDK would derive.

A starting server publishes `telli_mcp/server/tool_schemas.json` instead of building every tool's argument and
result models to derive the schemas (`telli_mcp.server.tool_schemas`); these tests hold the file to the code, and
check that the models are built only when a tool is first called.
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
from telli_mcp.server.registry import register_tools
from telli_mcp.server.tool_schemas import derive, shipped

TOOLS = [tool for surface in SURFACES for tool in surface.tools]


def test_the_shipped_schemas_are_what_the_sdk_derives_from_the_code_now() -> None:
    assert shipped() == derive(TOOLS), f"tool_schemas.json is stale: run `{WRITE_COMMAND}` and commit it"


def test_publishing_the_shipped_schemas_lists_every_tool_exactly_as_deriving_them_would() -> None:
    def listed(catalogue: dict[str, Any] | None) -> list[dict[str, Any]]:
        server: MCPServer[Any] = MCPServer("compare")
        register_tools(server, TOOLS, catalogue=catalogue)
        return [tool.model_dump(mode="json", by_alias=True) for tool in anyio.run(server.list_tools)]

    assert listed(None) == listed({})


BUILT_AT_STARTUP = """
import anyio
from mcp import Client
from mcp.server.mcpserver.utilities.func_metadata import ArgModelBase
from telli_mcp.backend import open_backend
from telli_mcp.config import Settings
from telli_mcp.server import build_server
from telli_mcp.server.results import ToolResult
from telli_mcp.server.tools import SURFACES

def subclasses(cls):
    return [sub for direct in cls.__subclasses__() for sub in (direct, *subclasses(direct))]

# The SDK names a tool's argument model after its function.
ARGUMENT_MODELS = {f"{tool.handler.__name__}Arguments" for surface in SURFACES for tool in surface.tools}

def built():
    results = sorted(model.__name__ for model in subclasses(ToolResult) if model.__pydantic_complete__)
    arguments = sorted(model.__name__ for model in subclasses(ArgModelBase) if model.__name__ in ARGUMENT_MODELS)
    return results, arguments

async def main():
    async with Client(build_server(open_backend(Settings(sandbox=True), sandbox_speed=0))) as client:
        assert len((await client.list_tools()).tools) > 10 and len(subclasses(ToolResult)) > 10
        print(built())
        await client.call_tool("get_status", {})
        print(built())

anyio.run(main)
"""


def test_listing_the_tools_builds_no_model_and_the_first_call_builds_the_tools_own(tmp_path: Path) -> None:
    """In a fresh process: in this one, other tests have long built them."""
    env = clean_env(TELLI_MCP_DATA_DIR=str(tmp_path))
    result = subprocess.run(
        [sys.executable, "-c", BUILT_AT_STARTUP], capture_output=True, text=True, timeout=120, env=env, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
    listed, called = result.stdout.strip().splitlines()
    assert listed == "([], [])", f"models built before any call (result models, argument models): {listed}"
    assert "get_statusArguments" in called, f"the first call built no argument model: {called}"
