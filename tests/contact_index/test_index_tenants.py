"""One index (a SQLite file, or the shared PostgreSQL) holds every tenant's contacts, and no tenant ever reads or
changes another's."""

from __future__ import annotations

from pathlib import Path

import pytest
from postgres_helpers import postgres_url  # noqa: F401  # the fixture, for the PostgreSQL run
from pydantic import SecretStr

from telli_mcp.client import ContactV1, TelliClient
from telli_mcp.contact_index import ContactIndex, ContactQuery, sync_contacts
from telli_mcp.simulator import TelliSimulator
from telli_mcp.simulator.contacts import ContactChanges, create_contact

pytestmark = pytest.mark.anyio

KEY_A, KEY_B = "sim-key-a", "sim-key-b"


@pytest.fixture(params=["sqlite", "postgresql"])
def location(request: pytest.FixtureRequest, tmp_path: Path) -> str | SecretStr:
    """Where the index is kept, surviving a reopen: a SQLite file, or the test PostgreSQL."""
    if request.param == "sqlite":
        return str(tmp_path / "contacts.sqlite3")
    return SecretStr(request.getfixturevalue("postgres_url"))


async def test_two_tenants_in_one_index_never_see_or_touch_each_others_contacts(location: str | SecretStr) -> None:
    sim = TelliSimulator(api_keys=(KEY_A, KEY_B))
    jane = {
        key: create_contact(
            sim.account(key),
            ContactChanges(first_name="Jane", last_name="Doe", phone_number="+4930555010", custom_merge={"plan": key}),
        ).id
        for key in (KEY_A, KEY_B)
    }
    indexes = ContactIndex(location, now=sim.clock.now)
    for key in (KEY_A, KEY_B):
        async with TelliClient(key, transport=sim.transport()) as client:
            assert (await sync_contacts(indexes.for_tenant(key), client, budget=10)).complete
    a, b = indexes.for_tenant(KEY_A), indexes.for_tenant(KEY_B)
    record_of_a = await _record(sim, KEY_A, jane[KEY_A])

    for query in (ContactQuery(name="jane"), ContactQuery(phone="+4930555010"), ContactQuery()):
        assert a.select(query, limit=10) == ([jane[KEY_A]], 1)
        assert b.select(query, limit=10) == ([jane[KEY_B]], 1)
    assert b.select(ContactQuery(property_equals={"plan": KEY_A}), limit=10) == ([], 0)
    # B's index is not told about A's contacts, whatever B does.
    assert not b.remove(jane[KEY_A])
    assert not b.apply_dialer(record_of_a, sim.clock.now())
    assert b.get(jane[KEY_A]) is None
    indexes.close()

    reopened = ContactIndex(location, now=sim.clock.now)
    assert reopened.for_tenant(KEY_A).select(ContactQuery(), limit=10) == ([jane[KEY_A]], 1)
    assert reopened.for_tenant("a-third-tenant").select(ContactQuery(), limit=10) == ([], 0)
    assert reopened.for_tenant("a-third-tenant").status().as_of is None
    reopened.close()


async def _record(sim: TelliSimulator, key: str, contact_id: str) -> ContactV1:
    async with TelliClient(key, transport=sim.transport()) as client:
        return await client.contacts_v1.get(contact_id)
