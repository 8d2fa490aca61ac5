"""Resuming after crashes and lost responses: every lead is scheduled exactly once."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import replace

import httpx2
import pytest

from telli_mcp.campaigns import (
    CampaignBusyError,
    CampaignEngine,
    CampaignProgress,
    CampaignRequest,
    CampaignState,
    Ledger,
)
from telli_mcp.campaigns.ledger import LedgerLocation
from telli_mcp.client import TelliClient
from telli_mcp.simulator import TEST_API_KEY, Account, Fault, TelliSimulator

from .conftest import ADD_PATH, BOTH_ENGINES, SCHEDULE_PATH, loops_per_contact, make_leads, no_sleep, scheduled_ids

pytestmark = pytest.mark.anyio
LEDGER_ENGINES = BOTH_ENGINES

RequestFor = Callable[[int], CampaignRequest]


class Killed(BaseException):
    """Stands in for the process dying in the middle of a run (not an Exception: nothing may catch it)."""


class DyingTransport(httpx2.AsyncBaseTransport):
    """Passes requests to the simulator; the process "dies" right after telli applied the n-th schedule
    request, before its response could be recorded."""

    def __init__(self, inner: httpx2.AsyncBaseTransport, *, die_after_schedule_request: int) -> None:
        self._inner = inner
        self._remaining = die_after_schedule_request

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        response = await self._inner.handle_async_request(request)
        if request.url.path == SCHEDULE_PATH:
            self._remaining -= 1
            if self._remaining == 0:
                raise Killed
        return response


@pytest.fixture
def request_for(agent_id: str) -> RequestFor:
    """The "spring" campaign with `count` leads."""

    def build(count: int) -> CampaignRequest:
        return CampaignRequest(agent_id=agent_id, leads=make_leads(count), campaign_id="spring")

    return build


def assert_scheduled_once(sim: TelliSimulator, account: Account, count: int) -> None:
    sent = scheduled_ids(sim)
    assert len(sent) == count
    assert set(sent.values()) == {1}, "a contact appeared in two schedule requests"
    loops = loops_per_contact(account)
    assert {loops[contact] for contact in sent} == {1}


async def test_a_run_killed_after_three_chunks_resumes_without_scheduling_anyone_twice(
    request_for: RequestFor,
    sim: TelliSimulator,
    client: TelliClient,
    account: Account,
    ledger_path: LedgerLocation,
) -> None:
    async def die_after_third_chunk(event: CampaignProgress) -> None:
        if event.phase == "schedule" and event.done >= 150:
            raise Killed

    with pytest.raises(Killed):
        await CampaignEngine(client, Ledger(ledger_path)).start(request_for(500), on_progress=die_after_third_chunk)
    sent_before_crash = len(scheduled_ids(sim))

    async with TelliClient(TEST_API_KEY, transport=sim.transport(), sleep=no_sleep) as fresh_client:
        result = await CampaignEngine(fresh_client, Ledger(ledger_path)).start(request_for(500))

    assert 150 <= sent_before_crash < 500
    assert (result.status, result.resumed, result.scheduled_total) == (CampaignState.COMPLETED, True, 500)
    assert result.requests.contact_batches == 0
    assert result.requests.verify_batches == 1
    assert_scheduled_once(sim, account, 500)


async def test_a_process_dying_after_telli_applied_a_chunk_resumes_without_scheduling_it_again(
    request_for: RequestFor, sim: TelliSimulator, account: Account, ledger_path: LedgerLocation
) -> None:
    dying = DyingTransport(sim.transport(), die_after_schedule_request=4)
    async with TelliClient(TEST_API_KEY, transport=dying, sleep=no_sleep) as doomed_client:
        with pytest.raises(Killed):
            await CampaignEngine(doomed_client, Ledger(ledger_path)).start(request_for(500))
    applied_before_death = len(scheduled_ids(sim))

    async with TelliClient(TEST_API_KEY, transport=sim.transport(), sleep=no_sleep) as fresh_client:
        result = await CampaignEngine(fresh_client, Ledger(ledger_path)).start(request_for(500))

    assert applied_before_death >= 200
    assert (result.status, result.scheduled_total) == (CampaignState.COMPLETED, 500)
    assert_scheduled_once(sim, account, 500)


async def test_an_interrupted_campaign_is_listed_as_interrupted(
    request_for: RequestFor, engine: CampaignEngine, ledger_path: LedgerLocation
) -> None:
    async def die(event: CampaignProgress) -> None:
        raise Killed

    with pytest.raises(Killed):
        await engine.start(request_for(10), on_progress=die)

    assert [item.status for item in engine.list().items] == [CampaignState.INTERRUPTED]


async def test_server_errors_on_schedule_batches_are_verified_and_resent_in_the_same_run(
    request_for: RequestFor, engine: CampaignEngine, sim: TelliSimulator, account: Account
) -> None:
    sim.inject(Fault(method="POST", path=SCHEDULE_PATH, status=503, times=2))

    result = await engine.start(request_for(300))

    assert (result.status, result.scheduled_total) == (CampaignState.COMPLETED, 300)
    assert result.requests.verify_batches >= 1
    rejected = [entry for entry in sim.requests_to("POST", SCHEDULE_PATH) if entry.status == 503]
    assert len(rejected) == 2
    applied = scheduled_ids(sim, processed_only=True)
    assert len(applied) == 300
    assert set(applied.values()) == {1}


async def test_a_lost_schedule_response_is_verified_and_never_resent(
    request_for: RequestFor, engine: CampaignEngine, sim: TelliSimulator, account: Account
) -> None:
    sim.inject(Fault(method="POST", path=SCHEDULE_PATH, kind="timeout_after"))

    result = await engine.start(request_for(200))

    assert (result.status, result.scheduled_total, result.unknown) == (CampaignState.COMPLETED, 200, 0)
    assert result.requests.verify_batches == 1
    assert_scheduled_once(sim, account, 200)


async def test_a_lost_schedule_response_left_unverified_is_verified_by_the_next_run(
    request_for: RequestFor, engine: CampaignEngine, sim: TelliSimulator, account: Account
) -> None:
    sim.inject(Fault(method="POST", path=SCHEDULE_PATH, kind="timeout_after"))
    sim.inject(Fault(method="POST", path="/v1/get-contacts-batch", status=503, times=-1))

    first = await engine.start(request_for(100))
    sim.clear_faults()
    second = await engine.start(request_for(100))

    assert first.status is CampaignState.INCOMPLETE
    assert first.unknown == 50
    assert "could not be confirmed" in first.message
    assert (second.status, second.scheduled_total) == (CampaignState.COMPLETED, 100)
    assert_scheduled_once(sim, account, 100)


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param(Fault(method="POST", path=ADD_PATH, status=503), id="server-error"),
        pytest.param(Fault(method="POST", path=ADD_PATH, kind="timeout_after"), id="lost-response"),
    ],
)
async def test_a_failed_contact_batch_never_creates_a_contact_twice(
    request_for: RequestFor,
    engine: CampaignEngine,
    sim: TelliSimulator,
    account: Account,
    fault: Fault,
) -> None:
    sim.inject(replace(fault))  # a copy: the simulator uses the fault up, and the parameter serves every engine

    result = await engine.start(request_for(1200))

    assert (result.status, result.scheduled_total) == (CampaignState.COMPLETED, 1200)
    external_ids = Counter(contact.external_id for contact in account.contacts.values())
    assert max(external_ids.values()) == 1
    assert len(sim.requests_to("POST", ADD_PATH)) == 3
    assert_scheduled_once(sim, account, 1200)


async def test_a_second_run_is_refused_while_the_first_one_is_alive(
    request_for: RequestFor, engine: CampaignEngine
) -> None:
    await engine.start(request_for(5))
    assert engine.ledger.claim_run("spring", "another-process")

    with pytest.raises(CampaignBusyError, match="is being run right now"):
        await engine.start(request_for(5))


async def test_only_a_shared_ledger_keeps_a_copy_of_the_leads_and_only_while_the_run_works(
    engine: CampaignEngine, agent_id: str
) -> None:
    kept_during_run: list[str | None] = []

    async def look(event: CampaignProgress) -> None:
        if not kept_during_run:
            kept_during_run.append(engine.ledger.source("spring"))

    await engine.start(CampaignRequest(agent_id=agent_id, leads=make_leads(60), campaign_id="spring"), on_progress=look)

    # On PostgreSQL another replica may have to resume the run from it; a file on this machine never needs it.
    [kept] = kept_during_run
    if engine.ledger.shared:
        assert kept is not None and '"Lead59"' in kept
    else:
        assert kept is None
    assert engine.ledger.source("spring") is None  # forgotten once the run ended
