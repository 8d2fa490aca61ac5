"""Contact index fixtures: an empty simulated telli account, a client for it, and an index on the simulator's clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from index_helpers import TENANT, AddContact

from telli_mcp.client import TelliClient
from telli_mcp.contact_index import ContactIndex, TenantIndex
from telli_mcp.simulator import TEST_API_KEY, TelliSimulator
from telli_mcp.simulator.contacts import ContactChanges, create_contact


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def sim() -> TelliSimulator:
    return TelliSimulator(api_keys=(TEST_API_KEY,))


@pytest.fixture
def add(sim: TelliSimulator) -> AddContact:
    """Create a contact in the simulated account (as telli would hold it); returns its id."""

    def make(first: str, last: str, phone: str, *, key: str = TEST_API_KEY, **fields: Any) -> str:
        changes = ContactChanges(first_name=first, last_name=last, phone_number=phone, **fields)
        return create_contact(sim.account(key), changes).id

    return make


@pytest.fixture
async def client(sim: TelliSimulator) -> AsyncIterator[TelliClient]:
    async with TelliClient(TEST_API_KEY, transport=sim.transport()) as opened:
        yield opened


@pytest.fixture
def indexes(sim: TelliSimulator) -> ContactIndex:
    return ContactIndex(":memory:", now=sim.clock.now)


@pytest.fixture
def index(indexes: ContactIndex) -> TenantIndex:
    return indexes.for_tenant(TENANT)
