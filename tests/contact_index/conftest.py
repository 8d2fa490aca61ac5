"""Contact index fixtures: an empty simulated telli account, a client for it, and an index on the simulator's clock,
in SQLite (in memory) and in the test PostgreSQL: every test using `indexes` or `index` runs on both."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from index_helpers import TENANT, AddContact
from postgres_helpers import postgres_url  # noqa: F401  # the fixture, for the PostgreSQL runs
from pydantic import SecretStr

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


@pytest.fixture(params=["sqlite", "postgresql"])
def location(request: pytest.FixtureRequest) -> str | SecretStr:
    """Where the index is kept: SQLite in memory, or the test PostgreSQL's URL (as the settings hold it: a secret)."""
    if request.param == "sqlite":
        return ":memory:"
    return SecretStr(request.getfixturevalue("postgres_url"))


@pytest.fixture
def indexes(sim: TelliSimulator, location: str | SecretStr) -> Iterator[ContactIndex]:
    opened = ContactIndex(location, now=sim.clock.now)
    yield opened
    opened.close()


@pytest.fixture
def index(indexes: ContactIndex) -> TenantIndex:
    return indexes.for_tenant(TENANT)
