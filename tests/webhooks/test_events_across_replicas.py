"""An event telli delivers to one replica reaches every replica's listeners, each exactly once.

Two replicas in one test process: each has its own event store handle (its own connection) on one PostgreSQL
schema, its own hub, its own receiver and its own relay (`telli_mcp.webhooks.relay`). Events arrive signed, through
the real receiver. "Exactly once" is checked after a sentinel: each replica stores one last event and the test
waits until every replica heard every sentinel; the relay publishes in `seq` order, so a duplicate or a late
arrival of anything stored before would have come by then.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import anyio
import httpx2
import psycopg
import pytest
from mcp.server.subscriptions import ServerEvent
from pydantic import SecretStr
from starlette.applications import Starlette
from webhook_helpers import ACCOUNT_A, ACCOUNT_B, OTHER_SECRET, SECRET, call_ended, delivery

from telli_mcp.client import TelliClient
from telli_mcp.server.live import AccountBus, AccountResourceUpdated, announce
from telli_mcp.simulator import TEST_API_KEY, TelliSimulator
from telli_mcp.webhooks import StoredEvent, VerifiedDelivery, WebhookEndpoint, parse_event, webhook_routes
from telli_mcp.webhooks.clock import RealClock
from telli_mcp.webhooks.feed import EventFeed
from telli_mcp.webhooks.relay import EventRelay, relay_events
from telli_mcp.webhooks.store import EventStore
from telli_mcp.webhooks.waiting import CallWait

pytestmark = pytest.mark.anyio

DEADLINE = 20.0
"""Seconds any one wait may take before the test fails (a relay that never delivers must not hang the suite)."""
ENDPOINTS = [
    WebhookEndpoint(name=None, secret=SECRET, account=ACCOUNT_A),
    WebhookEndpoint(name="acme-b", secret=OTHER_SECRET, account=ACCOUNT_B),
]


class Heard:
    """Everything one hub published, and a way to wait until it has heard enough."""

    def __init__(self) -> None:
        self.events: list[StoredEvent] = []
        self._more = anyio.Event()

    def __call__(self, stored: StoredEvent) -> None:
        self.events.append(stored)
        self._more.set()
        self._more = anyio.Event()

    def delivery_ids(self) -> Counter[str]:
        return Counter(stored.delivery_id for stored in self.events)

    async def until(self, done: Callable[[list[StoredEvent]], bool]) -> None:
        with anyio.fail_after(DEADLINE):
            while not done(self.events):
                await self._more.wait()

    async def until_heard(self, *delivery_ids: str) -> None:
        await self.until(lambda events: set(delivery_ids) <= {stored.delivery_id for stored in events})


class Gate:
    """A relay's backoff that waits for the test instead of the clock: `closed` until `open` is set."""

    def __init__(self) -> None:
        self.waiting = anyio.Event()
        self.open = anyio.Event()
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        self.waiting.set()
        await self.open.wait()


@dataclass
class Replica:
    name: str
    feed: EventFeed
    relay: EventRelay
    http: httpx2.AsyncClient
    heard: Heard = field(default_factory=Heard)

    async def deliver(self, payload: dict[str, Any], delivery_id: str, *, endpoint: str = "/webhooks/telli") -> str:
        """Deliver a signed event to this replica's receiver, as telli's Svix does; the receiver's status."""
        secret = OTHER_SECRET if endpoint.endswith("acme-b") else SECRET
        body, headers = delivery(payload, delivery_id=delivery_id, secret=secret)
        response = await self.http.post(endpoint, content=body, headers=headers)
        assert response.status_code == 200, response.text
        return str(response.json()["status"])


@asynccontextmanager
async def replicas(url: str, *names: str, gates: dict[str, Gate] | None = None) -> AsyncIterator[list[Replica]]:
    """Replicas on the database at `url`, each relaying (started: listening) until the block ends."""
    gates = gates or {}
    async with anyio.create_task_group() as relays:
        started: list[Replica] = []
        try:
            for name in names:
                feed = EventFeed(SecretStr(url), now=lambda: datetime.now(UTC), clock=RealClock())
                sleep = gates.get(name) or (lambda seconds: anyio.sleep(min(seconds, 0.05)))
                relay = EventRelay(SecretStr(url), feed, sleep=sleep)
                app = Starlette(routes=webhook_routes(ENDPOINTS, feed.store, feed.hub))
                http = httpx2.AsyncClient(transport=httpx2.ASGITransport(app), base_url="http://127.0.0.1")
                replica = Replica(name, feed, relay, http)
                feed.hub.listen(replica.heard)
                started.append(replica)
                await relays.start(relay.run)
            yield started
        finally:
            relays.cancel_scope.cancel()
            for replica in started:
                await replica.http.aclose()
                replica.feed.close()


async def settle(everyone: Sequence[Replica], tag: str = "sentinel") -> None:
    """Each replica stores one more event; returns once every replica heard all of them."""
    sentinels = [f"{tag}-{replica.name}" for replica in everyone]
    for replica, sentinel in zip(everyone, sentinels, strict=True):
        assert await replica.deliver(call_ended(call_id=sentinel), sentinel) == "stored"
    for replica in everyone:
        await replica.heard.until_heard(*sentinels)


def heard_once(replica: Replica, *delivery_ids: str) -> bool:
    counts = replica.heard.delivery_ids()
    return all(counts[delivery_id] == 1 for delivery_id in delivery_ids)


async def test_an_event_one_replica_receives_reaches_both_replicas_listeners_exactly_once(postgres_url: str) -> None:
    async with replicas(postgres_url, "a", "b") as (a, b):
        assert await a.deliver(call_ended(call_id="call-1"), "msg-1") == "stored"
        await b.heard.until_heard("msg-1")
        await settle([a, b])

        assert a.heard.delivery_ids() == b.heard.delivery_ids() == Counter(["msg-1", "sentinel-a", "sentinel-b"])
        [in_a] = [stored for stored in a.heard.events if stored.delivery_id == "msg-1"]
        [in_b] = [stored for stored in b.heard.events if stored.delivery_id == "msg-1"]
        assert in_b == in_a  # the same stored event: seq, account, body, both clocks
        assert in_b.account == ACCOUNT_A and in_b.call_id == "call-1"
        assert b.feed.hub.changed(ACCOUNT_A) is not None  # a new waiter may take the next one


async def test_a_retried_delivery_reaches_no_listener_twice_whichever_replica_it_lands_on(postgres_url: str) -> None:
    async with replicas(postgres_url, "a", "b") as (a, b):
        payload = call_ended(call_id="call-2")
        statuses = [
            await a.deliver(payload, "msg-2"),
            await b.deliver(payload, "msg-2"),  # Svix retries on another replica
            await a.deliver(payload, "msg-2"),
        ]
        await settle([a, b])

        assert statuses == ["stored", "duplicate", "duplicate"]
        assert heard_once(a, "msg-2", "sentinel-a", "sentinel-b") and len(a.heard.events) == 3
        assert heard_once(b, "msg-2", "sentinel-a", "sentinel-b") and len(b.heard.events) == 3


async def test_a_replica_tells_an_event_only_to_the_listeners_of_its_account(postgres_url: str) -> None:
    """Replica b's subscription listeners (server/live.py's bus, fed by b's hub as the server wires it) hear
    what replica a received, and each tenant hears its own account's resources only."""
    async with replicas(postgres_url, "a", "b") as (a, b):
        callers = iter([ACCOUNT_A, ACCOUNT_B])
        bus = AccountBus(lambda: next(callers))
        b.feed.hub.listen(lambda stored: announce(bus, stored, lambda _account, _contact: []))
        tenant_a: list[ServerEvent] = []
        tenant_b: list[ServerEvent] = []
        bus.subscribe(tenant_a.append)  # subscribed as ACCOUNT_A's caller
        bus.subscribe(tenant_b.append)  # ... and as ACCOUNT_B's

        await a.deliver(call_ended(call_id="call-a", contact_id="contact-a"), "msg-a")
        other_tenant = call_ended(call_id="call-b", contact_id="contact-b")
        await a.deliver(other_tenant, "msg-b", endpoint="/webhooks/telli/acme-b")
        await b.heard.until_heard("msg-a", "msg-b")

        assert {stored.delivery_id: stored.account for stored in b.heard.events} == {
            "msg-a": ACCOUNT_A,
            "msg-b": ACCOUNT_B,
        }
        assert tenant_a == [
            AccountResourceUpdated(uri="telli://contacts/contact-a", account=ACCOUNT_A),
            AccountResourceUpdated(uri="telli://calls/call-a/transcript", account=ACCOUNT_A),
        ]
        assert tenant_b == [
            AccountResourceUpdated(uri="telli://contacts/contact-b", account=ACCOUNT_B),
            AccountResourceUpdated(uri="telli://calls/call-b/transcript", account=ACCOUNT_B),
        ]


async def test_events_stored_while_a_relay_is_cut_off_reach_it_once_after_it_reconnects(
    postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="telli_mcp.webhooks")
    gate = Gate()
    async with replicas(postgres_url, "a", "b", gates={"b": gate}) as (a, b):
        await a.deliver(call_ended(call_id="before"), "msg-before")
        await b.heard.until_heard("msg-before")
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s, 10000)", (b.relay.backend_pid,))
        with anyio.fail_after(DEADLINE):
            await gate.waiting.wait()  # b's relay saw its connection die and waits to reconnect

        missed = [f"msg-cut-{n}" for n in range(5)]
        for n, delivery_id in enumerate(missed):
            assert await a.deliver(call_ended(call_id=f"cut-{n}"), delivery_id) == "stored"
        assert not set(missed) & set(b.heard.delivery_ids())  # their notifications went nowhere
        gate.open.set()
        await b.heard.until_heard(*missed)
        await settle([a, b])

        assert heard_once(b, "msg-before", *missed, "sentinel-a", "sentinel-b") and len(b.heard.events) == 8
        assert heard_once(a, "msg-before", *missed, "sentinel-a", "sentinel-b") and len(a.heard.events) == 8
        caught_up = [stored.seq for stored in b.heard.events if stored.delivery_id in missed]
        assert caught_up == sorted(caught_up)  # in the order they were stored
        assert b.relay.connections == 2 and gate.delays == [0.5]

    warnings = [record.getMessage() for record in caplog.records if record.name == "telli_mcp.webhooks"]
    assert len([text for text in warnings if "do not reach this one's listeners" in text]) == 1
    assert len([text for text in warnings if "connected to the database" in text and "again" in text]) == 1
    password = psycopg.conninfo.conninfo_to_dict(postgres_url).get("password")
    assert not password or all(str(password) not in text for text in warnings)


async def test_replicas_storing_at_once_commit_out_of_turn_yet_every_event_reaches_the_listener_once(
    postgres_url: str,
) -> None:
    """Four more replicas store 25 events each at the same moment, each on its own connection, while replica b
    listens: no event may fall between two reads of b's relay, however their commits interleave."""
    writers = [EventStore(postgres_url) for _ in range(4)]
    try:
        async with replicas(postgres_url, "b") as (b,):

            def store_many(store: EventStore, prefix: str) -> None:
                for n in range(25):
                    payload = call_ended(call_id=f"{prefix}-{n}")
                    verified = VerifiedDelivery(delivery_id=f"{prefix}-{n}", sent_at=datetime.now(UTC))
                    store.record(ACCOUNT_A, verified, parse_event(payload), str(payload))

            async with anyio.create_task_group() as storing:
                for index, writer in enumerate(writers):
                    storing.start_soon(anyio.to_thread.run_sync, store_many, writer, f"w{index}")
            expected = {f"w{index}-{n}" for index in range(4) for n in range(25)}
            await b.heard.until_heard(*expected)
            await settle([b])

            assert heard_once(b, *expected) and len(b.heard.events) == len(expected) + 1
    finally:
        for writer in writers:
            writer.close()


async def test_a_replica_s_wait_for_a_call_wakes_when_another_replica_receives_its_event(postgres_url: str) -> None:
    """`wait_for_call_result` on replica b, the call's event delivered to replica a: b's wait ends with it. The
    wait's clock (the simulator's) never moves, so only b's hub can wake it."""
    sim = TelliSimulator(seed_demo=True)
    call_id = "7d3c4b52-0000-4000-8000-00000000c0de"
    async with (
        replicas(postgres_url, "a", "b") as (a, b),
        TelliClient(TEST_API_KEY, base_url="https://api.telli.example", transport=sim.transport()) as client,
    ):
        wait = CallWait(
            client=client, clock=sim, account=ACCOUNT_A, store=b.feed.store, hub=b.feed.hub, call_id=call_id
        )
        waited: list[Any] = []
        with anyio.fail_after(DEADLINE):
            async with anyio.create_task_group() as tasks:

                async def waiting() -> None:
                    waited.append(await wait.wait(3600))

                tasks.start_soon(waiting)
                await anyio.wait_all_tasks_blocked()
                assert not waited  # telli knows no such call yet: b's wait is waiting
                began = sim.clock.now()
                await a.deliver(call_ended(call_id=call_id), "msg-call")

        [done] = waited
        assert done.source == "webhook" and done.call is not None and done.call.call_id == call_id
        assert done.telli_reads == 1 and sim.clock.now() == began


async def test_a_relay_publishes_what_is_stored_after_it_started_not_what_was_stored_before(postgres_url: str) -> None:
    async with replicas(postgres_url, "a") as (a,):
        assert await a.deliver(call_ended(call_id="early"), "msg-early") == "stored"
        async with replicas(postgres_url, "late") as (late,):
            await a.deliver(call_ended(call_id="later"), "msg-later")
            await late.heard.until_heard("msg-later")
            await settle([a, late])

            assert late.heard.delivery_ids() == Counter(["msg-later", "sentinel-a", "sentinel-late"])
            assert late.feed.store.events_after(ACCOUNT_A, 0)[0].delivery_id == "msg-early"  # stored, for readers


async def test_strangers_on_the_channel_neither_publish_anything_nor_make_the_relay_skip_an_event(
    postgres_url: str,
) -> None:
    """The channel is the database's: another deployment on another schema, or anyone, may notify on it."""
    async with replicas(postgres_url, "a", "b") as (a, b):
        with psycopg.connect(postgres_url, autocommit=True) as stranger:
            for payload in ["someone-else:999999999", "not an announcement", ":", "x:-1", "x:\u00b2"]:
                stranger.execute("SELECT pg_notify('telli_mcp_events', %s)", (payload,))
        await a.deliver(call_ended(call_id="after-noise"), "msg-after-noise")
        await settle([a, b])

        assert b.heard.delivery_ids() == Counter(["msg-after-noise", "sentinel-a", "sentinel-b"])


async def test_a_relay_that_cannot_reach_the_database_backs_off_says_so_once_and_never_shows_the_password(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="telli_mcp.webhooks")
    url = SecretStr("postgresql://telli:pw-s3cret-4711@127.0.0.1:1/telli")  # nothing listens on port 1
    feed = EventFeed(url, now=lambda: datetime.now(UTC), clock=RealClock())
    delays: list[float] = []
    tried_enough = anyio.Event()

    async def backoff(seconds: float) -> None:
        delays.append(seconds)
        if len(delays) == 9:
            tried_enough.set()
            await anyio.sleep_forever()

    relay = EventRelay(url, feed, sleep=backoff)
    with anyio.fail_after(DEADLINE):
        async with anyio.create_task_group() as tasks:
            await tasks.start(relay.run)  # started although the database is down: the server does not wait
            await tried_enough.wait()
            tasks.cancel_scope.cancel()

    assert delays == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]
    assert relay.connections == 0
    messages = [record.getMessage() for record in caplog.records if record.name == "telli_mcp.webhooks"]
    assert len(messages) == 1 and "telli@127.0.0.1:1/telli" in messages[0]
    assert "pw-s3cret-4711" not in caplog.text and "pw-s3cret-4711" not in repr(relay.__dict__)


async def test_a_feed_on_a_sqlite_file_has_nothing_to_relay(tmp_path: Any) -> None:
    feed = EventFeed(str(tmp_path / "events.sqlite3"), now=lambda: datetime.now(UTC), clock=RealClock())
    with anyio.fail_after(DEADLINE):
        async with anyio.create_task_group() as tasks:
            await tasks.start(relay_events, feed)  # returns at once: no other replica writes a SQLite file
    assert feed.database_url is None and feed.readable(receiving=False) is None


async def test_a_feed_on_the_database_is_always_readable_and_never_shows_its_url(postgres_url: str) -> None:
    feed = EventFeed(postgres_url, now=lambda: datetime.now(UTC), clock=RealClock())
    try:
        assert isinstance(feed.location, SecretStr) and feed.database_url is not None
        store = feed.readable(receiving=False)
        assert store is not None and store.events_after(ACCOUNT_A, 0) == []
        password = psycopg.conninfo.conninfo_to_dict(postgres_url).get("password")
        assert not password or str(password) not in repr(vars(feed))
    finally:
        feed.close()
