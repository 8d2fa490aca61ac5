"""Small helpers for driving tools through the MCP client."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio
from mcp import Client
from mcp.server.mcpserver import MCPServer
from mcp.types import CallToolResult, TextContent
from mcp_helpers import Answers, connect

from telli_mcp.simulator import TelliSimulator

__all__ = [
    "Answers",
    "ServerFactory",
    "completed_call_id",
    "connect",
    "contact_id_of",
    "fails",
    "first_agent_id",
    "ok",
    "text_of",
    "writes",
]

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


def writes(sim: TelliSimulator) -> list[str]:
    """Every state-changing request telli received (reads through POST excluded)."""
    return [
        f"{r.method} {r.path}"
        for r in sim.request_log
        if r.method in ("POST", "PUT", "PATCH", "DELETE") and r.path != "/v1/get-contacts-batch"
    ]


def list_call_requests(sim: TelliSimulator) -> int:
    """How many list-calls requests telli has received so far."""
    return len(sim.requests_to("GET", "/v1/list-calls"))


WAIT_HANG_GUARD = 60.0
"""Seconds of real time a wait test may take before it counts as hung."""


async def wait_while_time_moves(
    client: Client, sim: TelliSimulator, args: dict[str, Any], *, step: float = 1.0
) -> tuple[dict[str, Any], list[float]]:
    """Call wait_for_call_result while the simulated clock moves `step` seconds at a time; its result and the
    progress it reported."""
    result: list[dict[str, Any]] = []
    progress: list[float] = []

    async def on_progress(done: float, _total: float | None, _message: str | None) -> None:
        progress.append(done)

    async def waiting() -> None:
        answer = await client.call_tool("wait_for_call_result", args, progress_callback=on_progress)
        assert not answer.is_error and answer.structured_content is not None
        result.append(answer.structured_content)

    with anyio.fail_after(WAIT_HANG_GUARD):
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(waiting)
            await anyio.wait_all_tasks_blocked()
            while not result:
                await sim.advance(step)
                await anyio.wait_all_tasks_blocked()
    return result[0], progress
