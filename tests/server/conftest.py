"""Server fixtures: a seeded simulator, the MCP server over it, and MCP clients in both protocol eras."""

from __future__ import annotations

from typing import Any

import pytest
from mcp.server.mcpserver import MCPServer
from server_helpers import ServerFactory

from telli_mcp.backend import Backend
from telli_mcp.config import Settings
from telli_mcp.server import build_server
from telli_mcp.simulator import TEST_API_KEY, TelliSimulator

MODES = ["auto", "legacy"]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def sim() -> TelliSimulator:
    return TelliSimulator(api_keys=(TEST_API_KEY,), seed_demo=True)


async def _no_sleep(_seconds: float) -> None:
    return None


@pytest.fixture
def make_server(sim: TelliSimulator) -> ServerFactory:
    def make(**overrides: Any) -> MCPServer[Any]:
        return build_server(Backend.simulated(Settings(api_key=TEST_API_KEY, **overrides), sim, sleep=_no_sleep))

    return make


@pytest.fixture(params=MODES)
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def analytics(make_server: ServerFactory) -> ServerFactory:
    """A server with the analytics toolset (call_stats, search_transcripts) beside the default ones."""

    def make(**overrides: Any) -> MCPServer[Any]:
        return make_server(toolsets=("default", "analytics"), **overrides)

    return make
