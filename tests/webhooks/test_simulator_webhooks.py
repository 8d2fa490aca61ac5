"""The simulator sends telli's webhooks as telli does, into the real receiver, when its clock moves."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx2
import pytest
from starlette.applications import Starlette
from webhook_helpers import ACCOUNT_A, SECRET

from telli_mcp.client import InitiateCall, TelliClient
from telli_mcp.simulator import TEST_API_KEY, TelliSimulator
from telli_mcp.simulator.webhooks import RETRY_SCHEDULE, WebhookFault, WebhookFaultKind
from telli_mcp.webhooks import CallEnded, ContactStatusChanged, EventHub, EventStore, WebhookEndpoint, webhook_routes

pytestmark = pytest.mark.anyio


@pytest.fixture
def store() -> EventStore:
    return EventStore(":memory:")


@pytest.fixture
async def sim(store: EventStore) -> AsyncIterator[TelliSimulator]:
    sim = TelliSimulator(seed_demo=True, api_keys=(TEST_API_KEY, "sim-other-key"))
    app = Starlette(
        routes=webhook_routes([WebhookEndpoint(name=None, secret=SECRET, account=ACCOUNT_A)], store, EventHub())
    )
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app), base_url="http://127.0.0.1") as http:

        async def deliver(body: bytes, headers: dict[str, str]) -> int:
            return (await http.post("/webhooks/telli", content=body, headers=headers)).status_code

        sim.send_webhooks(TEST_API_KEY, deliver, SECRET)
        yield sim


@pytest.fixture
async def client(sim: TelliSimulator) -> AsyncIterator[TelliClient]:
    async with TelliClient(TEST_API_KEY, base_url="https://api.telli.example", transport=sim.transport()) as client:
        yield client


async def a_new_contact(sim: TelliSimulator) -> str:
    contacts = sim.account(TEST_API_KEY).contacts
    return next(c.id for c in contacts.values() if c.call_attempts == 0 and c.status.value == "new")


async def until_ended(sim: TelliSimulator, call_id: str) -> None:
    for _ in range(120):
        if call_id in sim.account(TEST_API_KEY).calls:
            return
        await sim.advance(timedelta(seconds=10))
    raise AssertionError("the call never ended")


async def test_a_call_that_ends_is_reported_signed_with_the_call_and_the_contact(
    sim: TelliSimulator, client: TelliClient, store: EventStore
) -> None:
    contact_id = await a_new_contact(sim)
    started = await client.calls.initiate(InitiateCall(contact_id=contact_id))
    await until_ended(sim, started.call_id)

    events = [stored.event() for stored in store.events_after(ACCOUNT_A, 0, contact_id=contact_id)]
    ended = [event for event in events if isinstance(event, CallEnded)]
    assert [event.call.call_id for event in ended] == [started.call_id]
    call = sim.account(TEST_API_KEY).calls[started.call_id]
    assert ended[0].call.call_status == call.call_status.value and ended[0].call.ended_at == call.ended_at
    assert ended[0].contact is not None and ended[0].contact.call_attempts == 1
    statuses = [event.contact.status for event in events if isinstance(event, ContactStatusChanged)]
    assert statuses[0] == "pending"  # into the dialer when the call started
    assert all(a.status == 200 for a in sim.webhooks.attempts)


async def test_another_account_without_a_target_sends_nothing(sim: TelliSimulator, store: EventStore) -> None:
    other = sim.account("sim-other-key")
    async with TelliClient("sim-other-key", base_url="https://api.telli.example", transport=sim.transport()) as c:
        contact_id = next(iter(other.contacts))
        started = await c.calls.initiate(InitiateCall(contact_id=contact_id))
    for _ in range(120):
        await sim.advance(timedelta(seconds=10))
        if started.call_id in other.calls:
            break
    assert started.call_id in other.calls
    assert store.events_after(ACCOUNT_A, 0) == [] and sim.webhooks.attempts == []


async def test_a_dropped_delivery_arrives_on_the_retry_and_is_stored_once(
    sim: TelliSimulator, client: TelliClient, store: EventStore
) -> None:
    contact_id = await a_new_contact(sim)
    sim.webhooks.inject(WebhookFault(WebhookFaultKind.DROP))
    await client.calls.initiate(InitiateCall(contact_id=contact_id))
    await sim.advance(0)  # the status change is delivered when the clock moves: this attempt is dropped
    assert store.events_after(ACCOUNT_A, 0) == []
    await sim.advance(RETRY_SCHEDULE[1])
    assert [e.kind for e in store.events_after(ACCOUNT_A, 0)] == ["contact_status_changed"]
    assert [a.status for a in sim.webhooks.attempts] == [None, 200]  # dropped, then delivered on the retry
    assert len({a.delivery_id for a in sim.webhooks.attempts}) == 1


async def test_a_contact_deleted_during_its_call_still_gets_its_call_ended(
    sim: TelliSimulator, client: TelliClient, store: EventStore
) -> None:
    contact_id = await a_new_contact(sim)
    started = await client.calls.initiate(InitiateCall(contact_id=contact_id))
    await client.contacts.delete(contact_id)
    await until_ended(sim, started.call_id)
    assert store.last_call_ended(ACCOUNT_A, call_id=started.call_id) is not None
