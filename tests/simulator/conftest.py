"""Shared fixtures: a fresh simulator per test and raw httpx2 clients on its in-process transport."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx2
import pytest
from sim_helpers import BASE_URL

from telli_mcp.simulator import TEST_API_KEY, Account, Agent, TelliSimulator


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def sim() -> TelliSimulator:
    return TelliSimulator()


@pytest.fixture
def account(sim: TelliSimulator) -> Account:
    return sim.account(TEST_API_KEY)


@pytest.fixture
def agent(account: Account) -> Agent:
    """An agent plus an outbound number (+1 555 0150) in the test account: enough to dial."""
    account.add_phone_number("+15550150")
    return account.add_agent("Test Agent", "en")


@pytest.fixture
async def client(sim: TelliSimulator) -> AsyncIterator[httpx2.AsyncClient]:
    async with httpx2.AsyncClient(
        transport=sim.transport(), base_url=BASE_URL, headers={"Authorization": f"Bearer {TEST_API_KEY}"}
    ) as http:
        yield http
