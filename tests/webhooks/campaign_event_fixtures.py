"""Fixtures for tests of campaigns read from webhook events: a simulator whose events reach the real receiver,
signed, and land in an event store (a SQLite file, or PostgreSQL: `open_events`); a campaign engine on an in-memory
ledger. A test module imports them by
their `_fixture` names; pytest offers them as `store`, `sim`, `account` and `engine`."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx2
import pytest
from event_store_handles import OpenEvents
from starlette.applications import Starlette
from webhook_helpers import SECRET

from telli_mcp.campaigns import CampaignEngine, Ledger
from telli_mcp.client import TelliClient
from telli_mcp.simulator import TEST_API_KEY, Account, TelliSimulator
from telli_mcp.webhooks import EventHub, EventStore, WebhookEndpoint, webhook_routes

__all__ = ["ACCOUNT", "account_fixture", "engine_fixture", "sim_fixture", "store_fixture"]

ACCOUNT = "acct-a"
"""The tenant the receiver files the simulator's events under, and the ledger's."""


async def _no_sleep(seconds: float) -> None:
    """The client's retry back-off, without waiting on the wall clock."""


@pytest.fixture(name="store")
def store_fixture(open_events: OpenEvents) -> EventStore:
    return open_events()


@pytest.fixture(name="sim")
async def sim_fixture(store: EventStore) -> AsyncIterator[TelliSimulator]:
    """The simulator with its demo data (seeded calls of other contacts, which must never count)."""
    sim = TelliSimulator(seed_demo=True)
    routes = webhook_routes([WebhookEndpoint(name=None, secret=SECRET, account=ACCOUNT)], store, EventHub())
    transport = httpx2.ASGITransport(Starlette(routes=routes))
    async with httpx2.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:

        async def deliver(body: bytes, headers: dict[str, str]) -> int:
            return (await http.post("/webhooks/telli", content=body, headers=headers)).status_code

        sim.send_webhooks(TEST_API_KEY, deliver, SECRET)
        yield sim


@pytest.fixture(name="account")
def account_fixture(sim: TelliSimulator) -> Account:
    return sim.account(TEST_API_KEY)


@pytest.fixture(name="engine")
async def engine_fixture(sim: TelliSimulator) -> AsyncIterator[CampaignEngine]:
    async with TelliClient(TEST_API_KEY, transport=sim.transport(), sleep=_no_sleep) as client:
        yield CampaignEngine(client, Ledger(":memory:", tenant=ACCOUNT))
