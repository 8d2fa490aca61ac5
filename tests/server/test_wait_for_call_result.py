"""wait_for_call_result through the real MCP client, in both eras, on the simulator's clock (no sleeping).

In the sandbox the simulator's signed webhooks reach the server's receiver in-process, so the wait ends with the
event; against a telli without webhooks it polls, and at the timeout it says "not yet" with the dialer state.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from mcp import Client
from server_helpers import (
    Answers,
    ServerFactory,
    connect,
    contact_id_of,
    fails,
    first_agent_id,
    ok,
    wait_while_time_moves,
)

from telli_mcp.backend import open_backend
from telli_mcp.config import Settings
from telli_mcp.server import build_server
from telli_mcp.simulator import DEMO_API_KEY, TelliSimulator

pytestmark = pytest.mark.anyio


async def test_in_the_sandbox_the_result_arrives_within_a_second_of_the_call_ending(mode: str) -> None:
    backend = open_backend(Settings(sandbox=True), sandbox_speed=0)
    assert backend.sandbox is not None
    async with connect(build_server(backend), mode, Answers("accept")) as client:
        contact_id = await contact_id_of(client, "crm-123")
        started = await ok(client, "call_now", {"contact_id": contact_id, "agent_id": await first_agent_id(client)})
        sim = backend.sandbox.simulator

        done, progress = await wait_while_time_moves(client, sim, {"contact_id": contact_id, "timeout_seconds": 300})
        status = await ok(client, "get_status")

    call = sim.account(DEMO_API_KEY).calls[started["call_id"]]
    assert done["ended"] is True and done["call"]["call_id"] == started["call_id"]
    assert done["call"]["status"] == call.call_status.value
    assert sim.clock.now() - call.ended_at <= timedelta(seconds=1)
    assert "webhook" in done["note"]
    assert len(progress) >= 1  # the call lasts longer than the 5 s between progress notifications
    assert "receiving at /webhooks/telli; last event call_ended" in status["webhooks"]


async def test_without_webhooks_it_polls_and_at_the_timeout_says_not_yet_with_the_dialer_state(
    make_server: ServerFactory, sim: TelliSimulator, mode: str
) -> None:
    async with connect(make_server(toolsets=("default", "live")), mode) as client:
        contact = await ok(client, "get_contact", {"external_id": "crm-123"})
        contact_id = contact["contact_id"]
        before = len(sim.requests_to("GET", "/v1/list-calls"))

        done, _ = await wait_while_time_moves(client, sim, {"contact_id": contact_id, "timeout_seconds": 30})

    assert done["ended"] is False and "call" not in done
    assert "Not ended within 30 s" in done["note"] and f"Dialer status: {contact['dialer_status']}" in done["note"]
    assert len(sim.requests_to("GET", "/v1/list-calls")) - before <= 4  # at 0, 5, 15 and 35 s: 3 within 30 s
    async with connect(make_server(), mode) as client:
        assert "not configured here; no event received yet" in (await ok(client, "get_status"))["webhooks"]


async def test_the_tool_is_offered_with_webhooks_or_in_the_sandbox_or_by_name_only(
    make_server: ServerFactory,
) -> None:
    secret = "whsec_" + "MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIz"

    async def offered(**settings: Any) -> bool:
        async with Client(make_server(**settings)) as client:
            return "wait_for_call_result" in {tool.name for tool in (await client.list_tools()).tools}

    assert not await offered()
    assert await offered(webhook_secret=secret)
    assert await offered(toolsets=("all",))
    async with Client(build_server(open_backend(Settings(sandbox=True), sandbox_speed=0))) as client:
        assert "wait_for_call_result" in {tool.name for tool in (await client.list_tools()).tools}


async def test_exactly_one_of_contact_id_or_call_id(make_server: ServerFactory) -> None:
    async with connect(make_server(toolsets=("live",)), "auto") as client:
        assert "exactly one" in await fails(client, "wait_for_call_result", {})


async def test_deleting_a_contact_erases_its_stored_call_events(mode: str) -> None:
    backend = open_backend(Settings(sandbox=True), sandbox_speed=0)
    assert backend.sandbox is not None
    async with connect(build_server(backend), mode, Answers("accept")) as client:
        contact_id = await contact_id_of(client, "crm-123")
        await ok(client, "call_now", {"contact_id": contact_id, "agent_id": await first_agent_id(client)})
        args = {"contact_id": contact_id, "timeout_seconds": 300}
        done, _ = await wait_while_time_moves(client, backend.sandbox.simulator, args)
        account = backend.webhook_endpoints[0].account
        assert done["ended"] and backend.events.store.events_after(account, 0, contact_id=contact_id)

        await ok(client, "delete_contact", {"contact_id": contact_id})

        assert backend.events.store.events_after(account, 0, contact_id=contact_id) == []
        assert backend.events.store.is_forgotten(account, contact_id)


async def test_an_event_makes_the_next_campaign_page_read_telli_again(mode: str) -> None:
    backend = open_backend(Settings(sandbox=True), sandbox_speed=0)
    assert backend.sandbox is not None
    lead = {"phone_number": "+493055501234", "first_name": "Eve", "last_name": "Vent"}
    async with connect(build_server(backend), mode, Answers("accept")) as client:
        agent_id = await first_agent_id(client)
        started = await ok(client, "start_campaign", {"agent_id": agent_id, "leads": [lead]})
        sim = backend.sandbox.simulator
        before = await ok(client, "get_campaign", {"campaign_id": started["campaign_id"]})
        [contact] = [c for c in sim.account(DEMO_API_KEY).contacts.values() if c.phone_number == lead["phone_number"]]
        sim.account(DEMO_API_KEY).script_outcomes(contact.id, ["COMPLETED"])
        while contact.call_attempts == 0:  # the call ends and its events arrive, within the cache's few seconds
            await sim.advance(30)
        after = await ok(client, "get_campaign", {"campaign_id": started["campaign_id"]})
    assert before["contacts"]["pending"] == 1
    assert after["contacts"]["reached"] == 1 and after["contacts"]["pending"] == 0
