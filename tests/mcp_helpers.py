"""MCP-client helpers shared by every test directory: scripted elicitation answers and in-process connections."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from mcp import Client
from mcp.server.mcpserver import MCPServer
from mcp.types import ElicitRequestFormParams, ElicitResult

__all__ = ["LEGACY_VERSION", "MCP_HEADERS", "Answers", "connect", "initialize_request"]

LEGACY_VERSION = "2025-11-25"
"""The protocol version of the session-based era, as a raw client names it in `initialize`."""
MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
"""What a raw streamable-HTTP request carries so the server answers it."""


def initialize_request(client: str, *, request_id: int = 1, version: str = LEGACY_VERSION) -> dict[str, Any]:
    """A raw JSON-RPC `initialize` request from a client called `client` (for tests that speak the wire)."""
    params = {"protocolVersion": version, "capabilities": {}, "clientInfo": {"name": client, "version": "0"}}
    return {"jsonrpc": "2.0", "id": request_id, "method": "initialize", "params": params}


class Answers:
    """An elicitation callback that answers with a fixed action and records the questions it saw."""

    def __init__(self, action: str, confirm: bool = True) -> None:
        self.action = action
        self.confirm = confirm
        self.questions: list[str] = []

    async def __call__(self, _context: Any, params: Any) -> ElicitResult:
        assert isinstance(params, ElicitRequestFormParams)
        self.questions.append(params.message)
        if self.action == "accept":
            return ElicitResult(action="accept", content={"confirm": self.confirm})
        return ElicitResult(action=self.action)  # type: ignore[arg-type]


@asynccontextmanager
async def connect(server: MCPServer[Any], mode: str, answers: Answers | None = None) -> AsyncIterator[Client]:
    kwargs: dict[str, Any] = {"mode": mode, "cache": None}
    if answers is not None:
        kwargs["elicitation_callback"] = answers
    async with Client(server, **kwargs) as client:
        yield client
