"""MCP-client helpers shared by every test directory: scripted elicitation answers and in-process connections."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from mcp import Client
from mcp.server.mcpserver import MCPServer
from mcp.types import ElicitRequestFormParams, ElicitResult

__all__ = ["Answers", "connect"]


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
