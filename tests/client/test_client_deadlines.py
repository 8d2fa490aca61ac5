"""Timeouts that bound a whole exchange, and the deadline that bounds many requests together.

A telli that trickles its answer a byte at a time never lets a read time out, so only a limit on the whole
exchange ends the wait. Each case says whether telli may have acted, by the client's one rule: a request stuck
connecting never reached telli; anything later may have. Short real limits are used (a hanging peer would
exceed them), each under a generous hang guard.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import pytest
from anyio.abc import SocketStream
from client_helpers import SleepRecorder, contact_params

from telli_mcp.backend import Backend
from telli_mcp.client import (
    BadRequestError,
    ContactUpdate,
    ServerError,
    TelliClient,
    TelliTimeoutError,
    current_deadline,
    deadline,
)
from telli_mcp.config import Settings
from telli_mcp.simulator import TEST_API_KEY, Fault, TelliSimulator

pytestmark = pytest.mark.anyio

HANG_GUARD = 20
SETTING = "TEST_DEADLINE_SECONDS"


def _trickle(sim: TelliSimulator, **match: str) -> None:
    """Every matching answer a byte per second: a reader without a whole-exchange limit waits minutes."""
    sim.inject(Fault(kind="trickle", latency=1.0, times=-1, **match))


def _client(sim: TelliSimulator, sleeps: SleepRecorder, *, timeout: float = 30.0) -> TelliClient:
    return TelliClient(TEST_API_KEY, transport=sim.transport(), timeout=timeout, sleep=sleeps, rng=random.Random(7))


@asynccontextmanager
async def _silent_server() -> AsyncIterator[int]:
    """A loopback TCP server that accepts connections and never says a word; yields its port."""

    async def hold(stream: SocketStream) -> None:
        async with stream:
            await anyio.sleep_forever()

    async with await anyio.create_tcp_listener(local_host="127.0.0.1") as listener, anyio.create_task_group() as tg:
        tg.start_soon(listener.serve, hold)
        yield listener.extra(anyio.abc.SocketAttribute.local_port)
        tg.cancel_scope.cancel()


async def test_a_trickled_answer_fails_at_telli_timeout_seconds(sim: TelliSimulator) -> None:
    sim.account(TEST_API_KEY).add_agent("Sales")
    _trickle(sim, path="/v2/agents")
    settings = Settings(api_key=TEST_API_KEY, timeout_seconds=0.2, max_retries=0)
    async with Backend.simulated(settings, sim).client(TEST_API_KEY) as telli:
        with anyio.fail_after(HANG_GUARD), pytest.raises(TelliTimeoutError) as caught:
            await telli.agents.list()
    assert caught.value.maybe_processed is True and caught.value.deadline is None
    assert len(sim.requests_to("GET", "/v2/agents")) == 1


async def test_a_trickled_read_is_retried_like_any_timeout(sim: TelliSimulator, sleeps: SleepRecorder) -> None:
    sim.account(TEST_API_KEY).add_agent("Sales")
    sim.inject(Fault(kind="trickle", latency=1.0, path="/v2/agents"))  # the first answer only
    async with _client(sim, sleeps, timeout=0.2) as telli:
        with anyio.fail_after(HANG_GUARD):
            page = await telli.agents.list()
    assert len(page.items) == 1 and len(sleeps.delays) == 1


async def test_a_trickled_write_fails_at_its_timeout_once_and_may_have_been_processed(
    sim: TelliSimulator, sleeps: SleepRecorder
) -> None:
    _trickle(sim, method="POST", path="/v2/contacts")
    async with _client(sim, sleeps, timeout=0.2) as telli:
        with anyio.fail_after(HANG_GUARD), pytest.raises(TelliTimeoutError) as caught:
            await telli.contacts.create(contact_params(1))
    assert caught.value.maybe_processed is True  # telli created it, the answer never finished
    assert len(sim.requests_to("POST", "/v2/contacts")) == 1 and sleeps.delays == []
    assert len(sim.account(TEST_API_KEY).contacts) == 1


@pytest.mark.parametrize(
    ("scheme", "maybe_processed"),
    [
        # https to a server that never answers the TLS handshake: the exchange stalls before any byte is sent.
        ("https", False),
        # http: the request is sent, and the silent server may have acted on it.
        ("http", True),
    ],
    ids=["stuck-connecting-did-not-reach-telli", "sent-to-a-silent-telli-may-have-been-processed"],
)
async def test_a_request_cut_by_the_deadline_says_whether_telli_may_have_acted(
    sleeps: SleepRecorder, scheme: str, maybe_processed: bool
) -> None:
    async with _silent_server() as port:
        telli = TelliClient(TEST_API_KEY, base_url=f"{scheme}://127.0.0.1:{port}", sleep=sleeps, max_retries=0)
        async with telli:
            with (
                anyio.fail_after(HANG_GUARD),
                deadline(0.3, setting=SETTING),
                pytest.raises(TelliTimeoutError) as caught,
            ):
                await telli.contacts.create(contact_params(1))
    assert caught.value.maybe_processed is maybe_processed
    assert caught.value.deadline is not None and SETTING in str(caught.value)


async def test_a_deadline_cuts_the_request_in_flight_and_sends_nothing_after_it(
    sim: TelliSimulator, sleeps: SleepRecorder
) -> None:
    sim.account(TEST_API_KEY).add_agent("Sales")
    _trickle(sim, path="/v2/agents")
    async with _client(sim, sleeps) as telli:
        with anyio.fail_after(HANG_GUARD), deadline(0.3, setting=SETTING) as bound:
            with pytest.raises(TelliTimeoutError) as cut:
                await telli.agents.list()  # a read: it would be retried, but no retry fits
            with pytest.raises(TelliTimeoutError) as refused:
                await telli.contacts.create(contact_params(1))
    assert cut.value.maybe_processed is True and cut.value.deadline == f"the 0.3 s deadline ({SETTING})"
    assert refused.value.maybe_processed is False and SETTING in str(refused.value)
    assert [(r.method, r.path) for r in sim.request_log] == [("GET", "/v2/agents")]
    assert sleeps.delays == [] and bound.changes == []  # the write was never sent, so nothing may have changed


async def test_the_deadline_records_each_write_that_may_have_reached_telli(
    sim: TelliSimulator, sleeps: SleepRecorder
) -> None:
    async with _client(sim, sleeps) as telli:
        with deadline(30, setting=SETTING) as bound:
            contact = await telli.contacts.create(contact_params(1))
            await telli.contacts.get(contact.id)
            sim.inject(Fault(method="PATCH", path="/v2/contacts*", status=400))
            with pytest.raises(BadRequestError):
                await telli.contacts.update(contact.id, ContactUpdate(first_name="Ida"))
    assert bound.changes == ["POST /v2/contacts"]  # not the read, not the write telli refused


async def test_a_retry_waits_only_if_it_fits_the_deadline(sim: TelliSimulator, sleeps: SleepRecorder) -> None:
    sim.inject(Fault(method="GET", path="/v2/agents", status=503, retry_after=7))
    async with _client(sim, sleeps) as telli:
        with deadline(2, setting=SETTING), pytest.raises(ServerError):
            await telli.agents.list()
    assert sleeps.delays == [] and len(sim.request_log) == 1


async def test_paused_time_is_not_counted_and_the_deadline_ends_with_its_block() -> None:
    with deadline(0.5, setting=SETTING) as bound:
        with bound.paused():
            await anyio.sleep(0.2)  # a person thinking: telli's clock stands still
            assert current_deadline() is bound
        assert bound.remaining() > 0.4
    assert current_deadline() is None and not bound.active
