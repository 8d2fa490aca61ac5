"""telli's events keep the index current between syncs: a call's end and a status change update the contact's
dialer state and last call, without a telli request; an older event never undoes a newer state."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx2
import pytest
from index_helpers import TENANT, AddContact
from pydantic import SecretStr
from starlette.applications import Starlette

from telli_mcp.client import InitiateCall, TelliClient
from telli_mcp.contact_index import ContactIndex, DialerState, TenantIndex, sync_contacts
from telli_mcp.server.contact_search import apply_event
from telli_mcp.simulator import TEST_API_KEY, TelliSimulator
from telli_mcp.webhooks import EventHub, EventStore, WebhookEndpoint, webhook_routes

pytestmark = pytest.mark.anyio

SECRET = SecretStr("whsec_" + base64.b64encode(b"contact-index-signing-key-0123").decode())


@pytest.fixture
async def store(sim: TelliSimulator, indexes: ContactIndex) -> AsyncIterator[EventStore]:
    """The real receiver, storing the simulator's signed events for TENANT and telling the index of each."""
    store, hub = EventStore(":memory:"), EventHub()
    hub.listen(lambda stored: apply_event(indexes, stored))
    routes = webhook_routes([WebhookEndpoint(name=None, secret=SECRET, account=TENANT)], store, hub)
    async with httpx2.AsyncClient(
        transport=httpx2.ASGITransport(Starlette(routes=routes)), base_url="http://127.0.0.1"
    ) as http:

        async def deliver(body: bytes, headers: dict[str, str]) -> int:
            return (await http.post("/webhooks/telli", content=body, headers=headers)).status_code

        sim.send_webhooks(TEST_API_KEY, deliver, SECRET)
        yield store


async def test_a_call_that_ends_updates_the_state_and_last_call_without_asking_telli(
    sim: TelliSimulator, add: AddContact, client: TelliClient, index: TenantIndex, store: EventStore
) -> None:
    account = sim.account(TEST_API_KEY)
    agent = account.add_agent("Agent").id
    contact_id = add("Jane", "Doe", "+4930555010")
    await sync_contacts(index, client, budget=10)
    account.script_outcomes(contact_id, ["COMPLETED"])
    await client.calls.initiate(InitiateCall(contact_id=contact_id, agent_id=agent))
    requests = len(sim.request_log)

    await sim.advance(timedelta(minutes=10))

    found = index.get(contact_id)
    call = account.calls_for(contact_id)[0]
    assert found is not None
    assert (found.dialer_state, found.reached_at, found.last_called_at) == (
        DialerState.REACHED,
        call.ended_at,
        call.ended_at,
    )
    assert found.call_attempts == 1
    assert len(sim.request_log) == requests  # nothing was read from telli
    assert {event.kind for event in store.events_after(TENANT, 0)} == {"call_ended", "contact_status_changed"}


async def test_an_event_older_than_the_state_held_changes_nothing(
    sim: TelliSimulator,
    add: AddContact,
    client: TelliClient,
    indexes: ContactIndex,
    index: TenantIndex,
    store: EventStore,
) -> None:
    account = sim.account(TEST_API_KEY)
    agent = account.add_agent("Agent").id
    contact_id = add("Jane", "Doe", "+4930555010")
    await sync_contacts(index, client, budget=10)
    account.script_outcomes(contact_id, ["COMPLETED"])
    await client.calls.initiate(InitiateCall(contact_id=contact_id, agent_id=agent))
    await sim.advance(timedelta(minutes=10))
    [first, *_later] = store.events_after(TENANT, 0)
    assert first.kind == "contact_status_changed" and "pending" in first.body  # sent when the call was placed

    apply_event(indexes, first)  # delivered again, late

    found = index.get(contact_id)
    assert found is not None and found.dialer_state is DialerState.REACHED


async def test_events_of_contacts_the_index_does_not_hold_are_left_for_the_next_sync(
    sim: TelliSimulator, add: AddContact, client: TelliClient, index: TenantIndex, store: EventStore
) -> None:
    account = sim.account(TEST_API_KEY)
    agent = account.add_agent("Agent").id
    contact_id = add("Jane", "Doe", "+4930555010")
    await client.calls.initiate(InitiateCall(contact_id=contact_id, agent_id=agent))
    await sim.advance(timedelta(minutes=10))

    assert store.events_after(TENANT, 0)
    assert index.get(contact_id) is None
    assert index.status().contacts == 0
