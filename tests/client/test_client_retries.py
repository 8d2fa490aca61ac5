"""The retry policy: what is repeated, how long it waits, and what is never repeated."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from client_helpers import SleepRecorder, contact_params

from telli_mcp.client import (
    ContactStatus,
    RateLimitError,
    ResponseDecodeError,
    ScheduleCall,
    ServerError,
    TelliClient,
    TelliConnectionError,
    TelliTimeoutError,
)
from telli_mcp.client._http import parse_retry_after
from telli_mcp.simulator import TEST_API_KEY, Fault, TelliSimulator

pytestmark = pytest.mark.anyio


async def test_a_get_answered_429_waits_the_retry_after_then_succeeds(
    telli: TelliClient, sim: TelliSimulator, sleeps: SleepRecorder
) -> None:
    sim.inject(Fault(method="GET", path="/v2/agents", status=429, retry_after=3))
    await telli.agents.list()
    assert sleeps.delays == [3.0]
    assert [request.status for request in sim.requests_to("GET", "/v2/agents")] == [429, 200]


async def test_without_retry_after_the_backoff_is_full_jitter_doubling_from_half_a_second(
    telli: TelliClient, sim: TelliSimulator, sleeps: SleepRecorder
) -> None:
    sim.inject(Fault(method="GET", path="/v2/agents", status=503, times=3))
    await telli.agents.list()
    expected = random.Random(7)
    assert sleeps.delays == [expected.uniform(0, 0.5), expected.uniform(0, 1.0), expected.uniform(0, 2.0)]


async def test_after_max_retries_the_last_error_is_raised(sim: TelliSimulator, sleeps: SleepRecorder) -> None:
    sim.inject(Fault(method="GET", path="/v2/agents", status=502, times=-1))
    async with TelliClient(TEST_API_KEY, transport=sim.transport(), sleep=sleeps, max_retries=2) as telli:
        with pytest.raises(ServerError):
            await telli.agents.list()
    assert len(sim.requests_to("GET", "/v2/agents")) == 3
    assert len(sleeps.delays) == 2


async def test_a_retry_after_beyond_the_deadline_raises_at_once_with_the_wait(
    telli: TelliClient, sim: TelliSimulator, sleeps: SleepRecorder
) -> None:
    sim.inject(Fault(method="GET", path="/v2/agents", status=429, retry_after=120))
    with pytest.raises(RateLimitError, match="retry after 120 s") as caught:
        await telli.agents.list()
    assert caught.value.retry_after == 120
    assert sleeps.delays == []
    assert len(sim.requests_to("GET", "/v2/agents")) == 1


async def test_retries_stop_when_the_total_wait_would_exceed_the_deadline(
    sim: TelliSimulator, sleeps: SleepRecorder
) -> None:
    sim.inject(Fault(method="GET", path="/v2/agents", status=429, retry_after=4, times=-1))
    async with TelliClient(
        TEST_API_KEY, transport=sim.transport(), sleep=sleeps, max_retries=10, retry_deadline=10
    ) as telli:
        with pytest.raises(RateLimitError):
            await telli.agents.list()
    assert sleeps.delays == [4.0, 4.0]


async def test_scheduling_is_not_retried_on_503(telli: TelliClient, sim: TelliSimulator, sleeps: SleepRecorder) -> None:
    contact = await telli.contacts.create(contact_params(1))
    agent_id = sim.account(TEST_API_KEY).add_agent("Sales").id
    sim.inject(Fault(method="POST", path="/v1/schedule-call", status=503, retry_after=1))
    with pytest.raises(ServerError, match="may or may not have been applied"):
        await telli.calls.schedule(ScheduleCall(contact_id=contact.id, agent_id=agent_id))
    assert len(sim.requests_to("POST", "/v1/schedule-call")) == 1
    assert sleeps.delays == []


async def test_scheduling_is_not_retried_after_a_timeout_that_may_have_dialled(
    telli: TelliClient, sim: TelliSimulator, sleeps: SleepRecorder
) -> None:
    contact = await telli.contacts.create(contact_params(1))
    agent_id = sim.account(TEST_API_KEY).add_agent("Sales").id
    sim.inject(Fault(method="POST", path="/v1/schedule-call", kind="timeout_after"))
    with pytest.raises(TelliTimeoutError) as caught:
        await telli.calls.schedule(ScheduleCall(contact_id=contact.id, agent_id=agent_id))
    assert caught.value.maybe_processed is True
    assert len(sim.requests_to("POST", "/v1/schedule-call")) == 1
    assert sleeps.delays == []
    assert (await telli.contacts_v1.get(contact.id)).status is ContactStatus.PENDING


async def test_a_connect_error_on_a_post_is_raised_as_not_processed(telli: TelliClient, sim: TelliSimulator) -> None:
    sim.inject(Fault(method="POST", path="/v2/contacts", kind="connect_error"))
    with pytest.raises(TelliConnectionError) as caught:
        await telli.contacts.create(contact_params(1))
    assert caught.value.maybe_processed is False
    assert not isinstance(caught.value, TelliTimeoutError)


async def test_a_get_is_retried_after_a_connect_error(
    telli: TelliClient, sim: TelliSimulator, sleeps: SleepRecorder
) -> None:
    sim.account(TEST_API_KEY).add_agent("Sales")
    sim.inject(Fault(method="GET", path="/v2/agents", kind="connect_error"))
    page = await telli.agents.list()
    assert len(page.items) == 1
    assert len(sleeps.delays) == 1


async def test_a_get_is_retried_after_a_read_timeout(
    telli: TelliClient, sim: TelliSimulator, sleeps: SleepRecorder
) -> None:
    sim.inject(Fault(method="GET", path="/v2/agents", kind="timeout_after", times=2))
    await telli.agents.list()
    assert len(sleeps.delays) == 2


async def test_the_read_only_get_contacts_batch_post_is_retried(
    telli: TelliClient, sim: TelliSimulator, sleeps: SleepRecorder
) -> None:
    contact = await telli.contacts.create(contact_params(1))
    sim.inject(Fault(method="POST", path="/v1/get-contacts-batch", status=503))
    result = await telli.contacts_v1.get_batch([contact.id])
    assert [found.contact_id for found in result.found] == [contact.id]
    assert len(sleeps.delays) == 1


async def test_a_malformed_json_body_raises_response_decode_error_without_retrying(
    telli: TelliClient, sim: TelliSimulator, sleeps: SleepRecorder
) -> None:
    sim.inject(Fault(method="GET", path="/v2/agents", kind="malformed_json"))
    with pytest.raises(ResponseDecodeError, match="not valid JSON"):
        await telli.agents.list()
    assert sleeps.delays == []


async def test_a_truncated_body_raises_response_decode_error(telli: TelliClient, sim: TelliSimulator) -> None:
    sim.account(TEST_API_KEY).add_agent("Sales")
    sim.inject(Fault(method="GET", path="/v2/agents", kind="truncated"))
    with pytest.raises(ResponseDecodeError):
        await telli.agents.list()


def test_retry_after_is_read_as_seconds_or_as_an_http_date() -> None:
    in_two_minutes = format_datetime(datetime.now(UTC) + timedelta(minutes=2), usegmt=True)
    assert parse_retry_after("2.5") == 2.5
    assert 110 < (parse_retry_after(in_two_minutes) or 0) <= 120
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0
    assert parse_retry_after("soon") is None
