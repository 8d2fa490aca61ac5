"""The simulator's outbox delivers telli's events signed, retries on telli's schedule, and can misbehave on demand.

Deliveries go into the real receiver (routes, signature check, store), so these also show the receiver coping
with what the internet does: drops, delays, duplicates, re-ordering.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import anyio
import httpx2
import pytest
from starlette.applications import Starlette
from webhook_helpers import ACCOUNT_A, SECRET, call_ended

from telli_mcp.simulator.webhooks import RETRY_SCHEDULE, Outbox, WebhookFault, WebhookFaultKind, WebhookTarget
from telli_mcp.webhooks import EventHub, EventStore, WebhookEndpoint, webhook_routes

pytestmark = pytest.mark.anyio

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)


class Receiver:
    """The real receiver behind an ASGI transport, able to be 'down' (answering 503)."""

    def __init__(self, http: httpx2.AsyncClient, store: EventStore) -> None:
        self.http, self.store, self.down = http, store, False

    async def __call__(self, body: bytes, headers: dict[str, str]) -> int:
        if self.down:
            return 503
        return (await self.http.post("/webhooks/telli", content=body, headers=headers)).status_code

    def calls(self) -> list[str | None]:
        return [event.call_id for event in self.store.events_after(ACCOUNT_A, 0)]


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    store = EventStore(":memory:")
    app = Starlette(
        routes=webhook_routes([WebhookEndpoint(name=None, secret=SECRET, account=ACCOUNT_A)], store, EventHub())
    )
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app), base_url="http://127.0.0.1") as http:
        yield Receiver(http, store)


def outbox_to(receiver: Receiver) -> Outbox:
    outbox = Outbox()
    outbox.targets[ACCOUNT_A] = WebhookTarget(receiver, SECRET)
    return outbox


async def test_events_are_delivered_signed_when_the_clock_reaches_them(receiver: Receiver) -> None:
    outbox = outbox_to(receiver)
    outbox.emit(ACCOUNT_A, call_ended(call_id="c1"), T0)
    await outbox.pump(T0 - timedelta(seconds=1))
    assert receiver.calls() == []
    await outbox.pump(T0)
    assert receiver.calls() == ["c1"]
    assert [a.status for a in outbox.attempts] == [200]


async def test_an_account_without_a_target_sends_nothing(receiver: Receiver) -> None:
    outbox = outbox_to(receiver)
    outbox.emit("another-account", call_ended(), T0)
    await outbox.pump(T0)
    assert outbox.attempts == [] and outbox.pending() == 0


async def test_a_receiver_that_is_down_gets_the_same_message_on_telli_s_schedule(receiver: Receiver) -> None:
    outbox = outbox_to(receiver)
    receiver.down = True
    outbox.emit(ACCOUNT_A, call_ended(call_id="c1"), T0)
    at = T0
    for wait in RETRY_SCHEDULE[:4]:
        at += wait
        await outbox.pump(at - timedelta(milliseconds=1))  # not yet
        await outbox.pump(at)
    assert [a.status for a in outbox.attempts] == [503] * 4
    receiver.down = False
    await outbox.pump(at + RETRY_SCHEDULE[4])
    assert receiver.calls() == ["c1"] and len({a.delivery_id for a in outbox.attempts}) == 1


async def test_after_the_last_retry_the_message_is_given_up(receiver: Receiver) -> None:
    outbox = outbox_to(receiver)
    receiver.down = True
    outbox.emit(ACCOUNT_A, call_ended(), T0)
    at = T0
    for wait in RETRY_SCHEDULE:
        at += wait
        await outbox.pump(at)
    await outbox.pump(at + timedelta(days=7))
    assert len(outbox.attempts) == len(RETRY_SCHEDULE) and outbox.pending() == 0


async def test_a_dropped_attempt_is_retried_and_stored_once(receiver: Receiver) -> None:
    outbox = outbox_to(receiver)
    outbox.inject(WebhookFault(WebhookFaultKind.DROP))
    outbox.emit(ACCOUNT_A, call_ended(call_id="c1"), T0)
    await outbox.pump(T0)
    assert receiver.calls() == []
    await outbox.pump(T0 + RETRY_SCHEDULE[1])
    assert receiver.calls() == ["c1"]


async def test_a_duplicated_message_is_stored_once(receiver: Receiver) -> None:
    outbox = outbox_to(receiver)
    outbox.inject(WebhookFault(WebhookFaultKind.DUPLICATE))
    outbox.emit(ACCOUNT_A, call_ended(call_id="c1"), T0)
    await outbox.pump(T0)
    assert len(outbox.attempts) == 2 and receiver.calls() == ["c1"]


async def test_delayed_and_reordered_messages_arrive_late_or_swapped(receiver: Receiver) -> None:
    outbox = outbox_to(receiver)
    outbox.inject(WebhookFault(WebhookFaultKind.REORDER))
    outbox.emit(ACCOUNT_A, call_ended(call_id="first"), T0)
    outbox.emit(ACCOUNT_A, call_ended(call_id="second"), T0)
    outbox.inject(WebhookFault(WebhookFaultKind.DELAY, delay=timedelta(minutes=2)))
    outbox.emit(ACCOUNT_A, call_ended(call_id="late"), T0)
    await outbox.pump(T0)
    assert receiver.calls() == ["second", "first"]
    await outbox.pump(T0 + timedelta(minutes=2))
    assert receiver.calls() == ["second", "first", "late"]


async def test_two_clocks_pumping_at_once_deliver_each_attempt_once(receiver: Receiver) -> None:
    """The served simulator's clock and a `/_sim/advance` can both pump while a delivery is on the wire."""
    slow = anyio.Event()

    async def deliver(body: bytes, headers: dict[str, str]) -> int:
        await slow.wait()  # the first delivery hangs until the second pump has started
        return await receiver(body, headers)

    outbox = Outbox()
    outbox.targets[ACCOUNT_A] = WebhookTarget(deliver, SECRET)
    for n in range(3):
        outbox.emit(ACCOUNT_A, call_ended(call_id=f"c{n}"), T0)
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(outbox.pump, T0)
        tasks.start_soon(outbox.pump, T0)
        await anyio.wait_all_tasks_blocked()
        slow.set()

    assert receiver.calls() == ["c0", "c1", "c2"]
    assert len(outbox.attempts) == 3 and outbox.pending() == 0
