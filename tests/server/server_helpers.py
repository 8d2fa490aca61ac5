"""Small helpers for driving tools through the MCP client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from mcp import Client
from mcp.server.mcpserver import MCPServer
from mcp.types import CallToolResult, ElicitRequestFormParams, ElicitResult, TextContent

from telli_mcp.simulator import TelliSimulator

ServerFactory = Callable[..., MCPServer[Any]]


def text_of(result: CallToolResult) -> str:
    return "\n".join(block.text for block in result.content if isinstance(block, TextContent))


async def ok(client: Client, tool: str, args: dict[str, Any] | None = None) -> dict[str, Any]:
    """Call a tool that must succeed; return its structured content."""
    result = await client.call_tool(tool, args or {})
    assert not result.is_error, f"{tool} failed: {text_of(result)}"
    assert result.structured_content is not None
    return result.structured_content


async def fails(client: Client, tool: str, args: dict[str, Any] | None = None) -> str:
    """Call a tool that must fail with an isError result; return the error text."""
    result = await client.call_tool(tool, args or {})
    assert result.is_error, f"{tool} unexpectedly succeeded: {result.structured_content}"
    return text_of(result)


async def contact_id_of(client: Client, external_id: str) -> str:
    return str((await ok(client, "get_contact", {"external_id": external_id}))["contact_id"])


async def completed_call_id(client: Client) -> str:
    """A finished demo call in which someone spoke (so it has a transcript)."""
    calls = (await ok(client, "list_calls", {"limit": 100}))["calls"]
    return str(next(call["call_id"] for call in calls if call["status"] == "COMPLETED"))


async def first_agent_id(client: Client) -> str:
    return str((await ok(client, "list_agents"))["agents"][0]["agent_id"])


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


def writes(sim: TelliSimulator) -> list[str]:
    """Every state-changing request telli received (reads through POST excluded)."""
    return [
        f"{r.method} {r.path}"
        for r in sim.request_log
        if r.method in ("POST", "PUT", "PATCH", "DELETE") and r.path != "/v1/get-contacts-batch"
    ]
