"""Campaigns learn from telli's webhook events, through the real MCP client: in the sandbox a campaign page after
the dialer ran comes from events (no telli read of its contacts) and says so, with the counts telli has; and a
listening 2026-07-28 client hears `telli://campaigns/{id}` change when a call of one of its contacts ends.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.client.subscriptions import ResourceUpdated
from server_helpers import Answers, connect, first_agent_id, ok

from telli_mcp.backend import Backend, open_backend
from telli_mcp.config import Settings
from telli_mcp.server import build_server
from telli_mcp.simulator import DEMO_API_KEY, TelliSimulator

pytestmark = pytest.mark.anyio

STATE_READS = ("/v1/get-contacts-batch", "/v1/list-calls")
HANG_GUARD = 60.0
LEADS = [{"first_name": f"Lead{n}", "last_name": "Test", "phone": f"+49 30 555 0{170 + n}"} for n in range(4)]


@asynccontextmanager
async def sandbox(mode: str) -> AsyncIterator[tuple[Client, Backend, TelliSimulator]]:
    backend = open_backend(Settings(sandbox=True), sandbox_speed=0)
    assert backend.sandbox is not None
    async with connect(build_server(backend), mode, Answers("accept")) as client:
        yield client, backend, backend.sandbox.simulator


async def start(client: Client) -> str:
    run = await ok(client, "start_campaign", {"agent_id": await first_agent_id(client), "leads": LEADS})
    return str(run["campaign_id"])


def telli_counts(sim: TelliSimulator) -> Counter[str]:
    """What telli itself says of the campaign's contacts (the single get-contact `status`)."""
    phones = {lead["phone"].replace(" ", "") for lead in LEADS}
    contacts = sim.account(DEMO_API_KEY).contacts.values()
    return Counter(contact.status.value for contact in contacts if contact.phone_number in phones)


async def test_a_page_after_the_dialer_ran_comes_from_events_with_telli_s_counts(mode: str) -> None:
    async with sandbox(mode) as (client, _backend, sim):
        campaign_id = await start(client)
        await sim.advance(timedelta(days=3))
        before = len(sim.request_log)

        page = await ok(client, "get_campaign", {"campaign_id": campaign_id})

    reads = [entry.path for entry in sim.request_log[before:] if entry.path in STATE_READS]
    assert reads == []
    assert "from telli's webhook events" in page["note"] and "telli was not read" in page["note"]
    counts = telli_counts(sim)
    assert sum(counts.values()) == len(LEADS) and counts["pending"] == 0  # the dialer finished with everyone
    assert {status: page["contacts"][status] for status in counts} == dict(counts)


async def test_a_listening_client_hears_its_campaign_change_when_a_call_of_it_ends() -> None:
    async with sandbox("auto") as (client, _backend, sim):
        campaign_id = await start(client)
        uri = f"telli://campaigns/{campaign_id}"
        with anyio.fail_after(HANG_GUARD):
            async with client.listen(resource_subscriptions=[uri]) as subscription:
                heard: list[Any] = []

                async def hear() -> None:
                    async for event in subscription:
                        if isinstance(event, ResourceUpdated):
                            heard.append(event.uri)
                            return

                async with anyio.create_task_group() as tasks:
                    tasks.start_soon(hear)
                    while not heard:
                        await sim.advance(timedelta(minutes=1))
                        await anyio.wait_all_tasks_blocked()

    assert heard == [uri]
