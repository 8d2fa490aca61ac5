"""Waiting for a call to end: from events when they flow, by polling telli within its budget otherwise.

telli is the in-process simulator; time is its clock, moved by the test (no wall-clock sleeping).
"""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import anyio
import pytest
from event_store_handles import OpenEvents
from webhook_helpers import call_ended

from telli_mcp.client import InitiateCall, TelliClient
from telli_mcp.simulator import TEST_API_KEY, TelliSimulator
from telli_mcp.webhooks import EventHub, EventStore, VerifiedDelivery, parse_event
from telli_mcp.webhooks.waiting import CallWait, Waited

pytestmark = pytest.mark.anyio

ACCOUNT = "test-account"
HANG_GUARD = 30.0
LIST_CALLS = "/v1/list-calls"


class SimTime:
    """The simulator's clock as a wait clock, moved by the test."""

    def __init__(self, sim: TelliSimulator) -> None:
        self.sim = sim

    def now(self) -> datetime:
        return self.sim.clock.now()

    async def sleep_until(self, moment: datetime) -> None:
        await self.sim.sleep_until(moment)

    async def advance(self, seconds: float) -> None:
        await self.sim.advance(seconds)
        await anyio.wait_all_tasks_blocked()


@pytest.fixture
async def sim() -> TelliSimulator:
    return TelliSimulator(seed_demo=True)


@pytest.fixture
async def client(sim: TelliSimulator) -> AsyncIterator[TelliClient]:
    async with TelliClient(TEST_API_KEY, base_url="https://api.telli.example", transport=sim.transport()) as client:
        yield client


def first_contact(sim: TelliSimulator) -> str:
    return next(iter(sim.account(TEST_API_KEY).contacts))


async def run_wait(wait: CallWait, time: SimTime, seconds: float, *, step: float) -> tuple[Waited, list[float]]:
    """Run `wait` while moving time `step` seconds at a time; returns its result and the progress it reported."""
    result: list[Waited] = []
    progress: list[float] = []

    async def report(done: float, _total: float) -> None:
        progress.append(done)

    with anyio.fail_after(HANG_GUARD):
        async with anyio.create_task_group() as tasks:

            async def waiting() -> None:
                result.append(await wait.wait(seconds, report))

            tasks.start_soon(waiting)
            await anyio.wait_all_tasks_blocked()
            while not result:
                await time.advance(step)
    return result[0], progress


def waiter(
    client: TelliClient, time: SimTime, contact_id: str, store: EventStore | None = None, hub: EventHub | None = None
) -> CallWait:
    return CallWait(client=client, clock=time, account=ACCOUNT, store=store, hub=hub, contact_id=contact_id)


async def test_without_events_the_ended_call_is_found_by_polling(sim: TelliSimulator, client: TelliClient) -> None:
    time = SimTime(sim)
    contact_id = first_contact(sim)
    started = await client.calls.initiate(InitiateCall(contact_id=contact_id))

    done, _ = await run_wait(waiter(client, time, contact_id), time, 600, step=1)

    assert done.source == "telli" and done.call is not None
    assert done.call.call_id == started.call_id and done.call.call_status is not None
    call_ended_at = sim.account(TEST_API_KEY).calls[started.call_id].ended_at
    assert time.now() - call_ended_at <= timedelta(seconds=30)  # the poll interval, at most


async def test_a_wait_that_times_out_stays_within_the_documented_budget(
    sim: TelliSimulator, client: TelliClient
) -> None:
    time = SimTime(sim)
    before = len(sim.requests_to("GET", LIST_CALLS))

    done, progress = await run_wait(waiter(client, time, first_contact(sim)), time, 300, step=1)

    reads = len(sim.requests_to("GET", LIST_CALLS)) - before
    # README: 4 reads in the first minute (at once, then 5, 10 and 20 s apart), then 2 a minute.
    assert reads == done.telli_reads <= 4 + 2 * math.ceil((300 - 60) / 60)
    assert done.call is None and done.source is None and done.waited_seconds >= 300
    assert len(progress) >= 300 / 5 - 2 and progress == sorted(progress)


async def test_with_events_flowing_the_event_ends_the_wait_and_telli_is_read_once_a_minute(
    sim: TelliSimulator, client: TelliClient, open_events: OpenEvents
) -> None:
    time = SimTime(sim)
    contact_id = first_contact(sim)
    store, hub = open_events(now=time.now), EventHub()
    deliver(store, hub, call_ended(call_id="11111111-1111-4111-8111-111111111111", contact_id="someone-else"), "m0")
    wait = waiter(client, time, contact_id, store, hub)
    assert wait.events_flowing()

    async def event_after(seconds: float) -> None:
        await time.sleep_until(time.now() + timedelta(seconds=seconds))
        payload = call_ended(call_id="22222222-2222-4222-8222-222222222222", contact_id=contact_id)
        payload["call"]["ended_at"] = int(time.now().timestamp() * 1000)
        deliver(store, hub, payload, "m1")

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(event_after, 152)
        done, _ = await run_wait(wait, time, 300, step=1)
        tasks.cancel_scope.cancel()  # if the wait ended early, the event is not coming

    assert done.source == "webhook" and done.call is not None
    assert done.call.call_id == "22222222-2222-4222-8222-222222222222"
    assert 152 <= done.waited_seconds <= 153  # woken by the event, not by its next timer (155 s)
    assert done.telli_reads == 3  # at once, after 60 s and after 120 s: the safety net only


async def test_an_event_of_an_older_call_does_not_end_the_wait(
    sim: TelliSimulator, client: TelliClient, open_events: OpenEvents
) -> None:
    time = SimTime(sim)
    contact_id = first_contact(sim)
    store, hub = open_events(now=time.now), EventHub()
    old = call_ended(call_id="33333333-3333-4333-8333-333333333333", contact_id=contact_id)
    old["call"]["ended_at"] = int((time.now() - timedelta(hours=1)).timestamp() * 1000)
    deliver(store, hub, old, "m-old")

    done, _ = await run_wait(waiter(client, time, contact_id, store, hub), time, 30, step=1)
    assert done.call is None


def deliver(store: EventStore, hub: EventHub, payload: dict[str, object], delivery_id: str) -> None:
    stored = store.record(
        ACCOUNT,
        VerifiedDelivery(delivery_id=delivery_id, sent_at=datetime.now(UTC)),
        parse_event(payload),
        json.dumps(payload),
    )
    assert stored is not None
    hub.published(stored)
