"""Independent telli reads of one answer are in flight at the same time (one round trip, not one per read).

Proved without a clock: telli here answers the two reads of a contact only once both have arrived. Reads sent
one after the other would never both arrive, and the hang guard fails the test.
"""

from __future__ import annotations

from collections.abc import Callable

import anyio
import httpx2
import pytest
from server_helpers import connect, contact_id_of, ok

from telli_mcp.backend import Backend
from telli_mcp.config import Settings
from telli_mcp.server import build_server
from telli_mcp.simulator import TEST_API_KEY, TelliSimulator

pytestmark = pytest.mark.anyio

HANG_GUARD = 10


class Rendezvous(httpx2.AsyncBaseTransport):
    """The simulator, except that requests matching `together` are answered only once all of them are waiting."""

    def __init__(self, sim: TelliSimulator, together: Callable[[httpx2.Request], bool], count: int) -> None:
        self._inner = sim.transport()
        self._together = together
        self._count = count
        self._arrived = 0
        self._all_here = anyio.Event()

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        if self._together(request):
            self._arrived += 1
            if self._arrived >= self._count:
                self._all_here.set()
            await self._all_here.wait()
        return await self._inner.handle_async_request(request)


def _contact_reads(request: httpx2.Request) -> bool:
    path = request.url.path
    return request.method == "GET" and (path.startswith("/v2/contacts/") or path.startswith("/v1/get-contact/"))


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_get_contact_and_the_contact_resource_read_both_apis_at_once(mode: str) -> None:
    sim = TelliSimulator(api_keys=(TEST_API_KEY,), seed_demo=True)
    async with connect(build_server(Backend.simulated(Settings(api_key=TEST_API_KEY), sim)), mode) as setup:
        contact_id = await contact_id_of(setup, "crm-123")
    for read in ("tool", "resource"):
        transport = Rendezvous(sim, _contact_reads, count=2)
        server = build_server(Backend.simulated(Settings(api_key=TEST_API_KEY), sim, transport=transport))
        with anyio.fail_after(HANG_GUARD):
            async with connect(server, mode) as client:
                if read == "tool":
                    detail = await ok(client, "get_contact", {"contact_id": contact_id})
                    assert detail["contact_id"] == contact_id and "dialer_status" in detail
                else:
                    resource = await client.read_resource(f"telli://contacts/{contact_id}")
                    assert contact_id in str(resource.contents[0])


def _plan_reads(request: httpx2.Request) -> bool:
    path = request.url.path
    return request.method == "GET" and (
        path == "/v2/properties/contacts" or path.startswith("/v2/agents/") or path == "/v1/phone-numbers"
    )


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_a_campaign_plan_reads_schema_agent_and_numbers_at_once(mode: str) -> None:
    """The dry run before every campaign start: its three reads need nothing from each other or the leads."""
    sim = TelliSimulator(api_keys=(TEST_API_KEY,), seed_demo=True)
    account = sim.account(TEST_API_KEY)
    agent_id = account.agents_in_order()[0].id
    caller_id = account.active_phone_numbers()[0].phone_number
    transport = Rendezvous(sim, _plan_reads, count=3)
    server = build_server(Backend.simulated(Settings(api_key=TEST_API_KEY), sim, transport=transport))
    leads = [{"phone_number": "+4930555000", "first_name": "Ada", "last_name": "Lovelace"}]
    with anyio.fail_after(HANG_GUARD):
        async with connect(server, mode) as client:
            plan = await ok(
                client,
                "start_campaign",
                {"agent_id": agent_id, "leads": leads, "from_number": caller_id, "dry_run": True},
            )
    assert plan["status"] == "dry_run" and plan["valid_leads"] == 1 and plan["blocking_reasons"] == []
