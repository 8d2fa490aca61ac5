"""Agents (v2) against the simulator."""

from __future__ import annotations

import pytest

from telli_mcp.client import NotFoundError, TelliClient
from telli_mcp.simulator import TEST_API_KEY, TelliSimulator

pytestmark = pytest.mark.anyio


async def test_agents_are_listed_across_pages_and_readable_by_id(telli: TelliClient, sim: TelliSimulator) -> None:
    account = sim.account(TEST_API_KEY)
    ids = [account.add_agent(f"Agent {index}", "de").id for index in range(3)]
    first = await telli.agents.list(limit=2)
    assert (len(first.items), first.next_cursor is not None) == (2, True)
    assert sorted([agent.id async for agent in telli.agents.iterate(page_size=2)]) == sorted(ids)
    agent = await telli.agents.get(ids[0])
    assert (agent.id, agent.title, agent.language) == (ids[0], "Agent 0", "de")
    assert agent.created_at is not None


async def test_an_unknown_agent_is_not_found(telli: TelliClient) -> None:
    with pytest.raises(NotFoundError):
        await telli.agents.get("00000000-0000-4000-8000-000000000000")
