"""The guard against list endpoints whose cursor does not advance (a wire oddity the simulator never has)."""

from __future__ import annotations

import httpx2
import pytest

from telli_mcp.client import PaginationError, TelliClient


def _stuck_cursor_handler(request: httpx2.Request) -> httpx2.Response:
    # Every page, including page-2 itself, points to page-2 as the next one.
    cursor = request.url.params.get("cursor")
    agent = {"id": f"agent-{cursor or 'first'}", "title": "Support"}
    return httpx2.Response(200, json={"data": [agent], "pageInfo": {"hasNextPage": True, "nextCursor": "page-2"}})


async def _collect_ids(telli: TelliClient, seen: list[str]) -> None:
    async for agent in telli.agents.iterate():
        seen.append(agent.id)


@pytest.mark.anyio
async def test_iterating_stops_with_a_pagination_error_when_a_cursor_repeats() -> None:
    seen: list[str] = []
    async with TelliClient("test-key-0123456789", transport=httpx2.MockTransport(_stuck_cursor_handler)) as telli:
        with pytest.raises(PaginationError, match="page-2"):
            await _collect_ids(telli, seen)
    assert seen == ["agent-first", "agent-page-2"]
