"""The contact index is a copy: when keeping it fails (its database is down), the tool that changed telli still
reports what telli did. An error there would be read as "not done", and the caller would create the contact again."""

from __future__ import annotations

import threading

import pytest
from postgres_helpers import postgres_url  # noqa: F401  # the fixture, for the tests here
from relay_helpers import relayed
from server_helpers import ServerFactory, connect, ok

from telli_mcp.backend import Backend
from telli_mcp.config import Settings
from telli_mcp.server import build_server
from telli_mcp.simulator import TEST_API_KEY, TelliSimulator

pytestmark = pytest.mark.anyio

IDA = {"first_name": "Ida", "last_name": "Roth", "phone_number": "+4930555066"}
MAX = {"first_name": "Max", "last_name": "Brandt", "phone_number": "+4930555067"}


async def test_a_contact_created_while_the_index_database_is_down_is_reported_created_and_made_once(
    make_server: ServerFactory,
    sim: TelliSimulator,
    mode: str,
    postgres_url: str,  # noqa: F811  # the fixture above
) -> None:
    with relayed(postgres_url) as (url, relay):
        server = make_server(database_url=url, toolsets=("default", "search"))
        async with connect(server, mode) as client:
            await ok(client, "find_contacts", {"query": "Ida"})  # the index lives in the database
            await ok(client, "create_contact", IDA)
            relay.close()  # the database goes away
            created = await ok(client, "create_contact", MAX)

    made = [
        contact for contact in sim.account(TEST_API_KEY).live_contacts() if contact.phone_number == MAX["phone_number"]
    ]
    assert [contact.id for contact in made] == [created["contact_id"]], "created once, and reported created"


async def test_closing_the_backend_closes_the_contact_index_s_database_connection(
    sim: TelliSimulator,
    mode: str,
    postgres_url: str,  # noqa: F811
) -> None:
    before = _watchdogs()
    backend = Backend.simulated(Settings(api_key=TEST_API_KEY, database_url=postgres_url, toolsets=("search",)), sim)
    async with connect(build_server(backend), mode) as client:
        await ok(client, "find_contacts", {"query": "Jane"})  # the index lives in the database
    assert _watchdogs() > before, "the index's session watches its connection"

    await backend.aclose()

    assert _watchdogs() == before, "its connection, and the thread watching it, are gone"


def _watchdogs() -> set[threading.Thread]:
    return {thread for thread in threading.enumerate() if thread.name.startswith("telli-mcp database watchdog")}
