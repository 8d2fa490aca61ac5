"""Exactly once under late answers, cancels, crashes and take-overs: each test tries to get someone called twice.

telli is the in-repo simulator on its own clock: the engine's waits advance that clock (see `timed_engine`),
and an `applied_late` fault makes telli apply a request some simulated seconds after the client gave up.
"""

from __future__ import annotations

import contextlib
import json
from datetime import timedelta
from typing import Any

import anyio
import anyio.lowlevel
import httpx2
import pytest

from telli_mcp.campaigns import (
    CampaignBusyError,
    CampaignEngine,
    CampaignProgress,
    CampaignRequest,
    CampaignRunResult,
    CampaignState,
    LeadState,
    LeaseLostError,
    Ledger,
    RunOptions,
)
from telli_mcp.campaigns.lease import LEASE_TTL
from telli_mcp.campaigns.ledger import LedgerLocation
from telli_mcp.client import TelliClient
from telli_mcp.simulator import TEST_API_KEY, Account, Fault, TelliSimulator

from .conftest import (
    BOTH_ENGINES,
    SCHEDULE_PATH,
    exited_process,
    fictional_leads,
    loops_per_contact,
    scheduled_ids,
    timed_engine,
)

pytestmark = pytest.mark.anyio
LEDGER_ENGINES = BOTH_ENGINES

VERIFY_PATH = "/v1/get-contacts-batch"


class Killed(BaseException):
    """The process dying mid-run (not an Exception: nothing may catch it)."""


class InFlightWhen(httpx2.AsyncBaseTransport):
    """On the n-th schedule request telli receives it and applies it `delay` simulated seconds later, and the
    caller never sees an answer: it is cancelled (`scope`) or dies (`Killed`) while the request is in flight."""

    def __init__(self, sim: TelliSimulator, nth: int, delay: float, scope: anyio.CancelScope | None = None) -> None:
        self._sim, self._inner = sim, sim.transport()
        self._nth, self._delay, self._scope = nth, delay, scope
        self.lost_contacts: list[str] = []

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        if request.url.path == SCHEDULE_PATH:
            self._nth -= 1
            if self._nth == 0:
                await self._lose(request)
        return await self._inner.handle_async_request(request)

    async def _lose(self, request: httpx2.Request) -> None:
        self._sim.inject(Fault(method="POST", path=SCHEDULE_PATH, kind="applied_late", latency=self._delay))
        with contextlib.suppress(httpx2.ReadTimeout):
            await self._inner.handle_async_request(request)
        self.lost_contacts = [item["contact_id"] for item in json.loads(request.content)["contacts"]]
        if self._scope is None:
            raise Killed
        self._scope.cancel()
        await anyio.lowlevel.checkpoint()  # the cancellation lands here, with the request still unanswered


def request(agent_id: str, count: int) -> CampaignRequest:
    return CampaignRequest(agent_id=agent_id, leads=fictional_leads(count), campaign_id="spring")


def assert_everyone_scheduled_exactly_once(sim: TelliSimulator, account: Account, count: int) -> None:
    assert sim.late_pending() == 0, "release late requests before counting"
    applied = scheduled_ids(sim, processed_only=True)
    assert len(applied) == count, "a valid lead was lost"
    assert set(applied.values()) == {1}, f"scheduled twice: {[c for c, n in applied.items() if n > 1]}"
    assert {loops_per_contact(account)[contact] for contact in applied} == {1}


async def test_a_batch_telli_applies_after_the_client_timed_out_is_never_sent_again(
    sim: TelliSimulator, account: Account, agent_id: str, ledger_path: LedgerLocation
) -> None:
    # The reviewer's case: the client gives up after 1 s, telli applies the batch 2.5 s after it was sent.
    sim.inject(Fault(method="POST", path=SCHEDULE_PATH, kind="applied_late", latency=2.5))
    started = sim.clock.now()

    async with timed_engine(sim, ledger_path, request_timeout=1.0) as engine:
        result = await engine.start(request(agent_id, 100))

    assert (result.status, result.scheduled_total, result.not_scheduled) == (CampaignState.COMPLETED, 100, 0)
    assert result.requests.schedule_batches == 2
    assert [entry.fault for entry in sim.requests_to("POST", SCHEDULE_PATH)].count("applied_late") == 1
    # It was verified only after the timeout (1 s) plus the 30 s margin had passed.
    assert (sim.clock.now() - started).total_seconds() >= 31
    assert_everyone_scheduled_exactly_once(sim, account, 100)


async def test_a_batch_still_unsettled_when_telli_cannot_be_read_stays_unknown_and_is_never_resent(
    sim: TelliSimulator, account: Account, agent_id: str, ledger_path: LedgerLocation
) -> None:
    sim.inject(Fault(method="POST", path=SCHEDULE_PATH, kind="applied_late", latency=2.5))
    sim.inject(Fault(method="POST", path=VERIFY_PATH, status=503, times=-1))

    async with timed_engine(sim, ledger_path) as engine:
        first = await engine.start(request(agent_id, 100))
    sim.clear_faults()
    async with timed_engine(sim, ledger_path) as engine:
        second = await engine.start(request(agent_id, 100))

    assert (first.status, first.unknown, first.not_scheduled) == (CampaignState.INCOMPLETE, 50, 50)
    assert first.not_scheduled_reasons[0].reason.startswith("not confirmed yet")
    assert (second.status, second.scheduled_total) == (CampaignState.COMPLETED, 100)
    assert_everyone_scheduled_exactly_once(sim, account, 100)


async def test_a_cancel_while_a_batch_is_in_flight_then_an_immediate_rerun_sends_nobody_twice(
    sim: TelliSimulator, account: Account, agent_id: str, ledger_path: LedgerLocation
) -> None:
    with anyio.CancelScope() as scope:
        cancelling = InFlightWhen(sim, nth=2, delay=10.0, scope=scope)
        async with timed_engine(sim, ledger_path, transport=cancelling) as engine:
            await engine.start(request(agent_id, 200))
    assert scope.cancelled_caught
    with Ledger(ledger_path) as ledger:
        states = {lead.contact_id: lead.state for lead in ledger.leads("spring")}
        campaign = ledger.get_campaign("spring")
    # The request telli still holds is recorded as "may have been applied", never as "not sent".
    assert {states[contact] for contact in cancelling.lost_contacts} == {LeadState.UNKNOWN}
    assert campaign is not None and campaign.run_token is None  # the interrupted run let go of its lease

    async with timed_engine(sim, ledger_path) as engine:
        rerun = await engine.start(request(agent_id, 200))

    assert (rerun.status, rerun.scheduled_total) == (CampaignState.COMPLETED, 200)
    assert_everyone_scheduled_exactly_once(sim, account, 200)


async def test_a_crashed_run_is_resumed_at_once_and_settles_its_unknown_leads_before_sending(
    sim: TelliSimulator, account: Account, agent_id: str, ledger_path: LedgerLocation
) -> None:
    dying = InFlightWhen(sim, nth=3, delay=20.0)
    sequential = RunOptions(schedule_concurrency=1)  # so the fourth chunk is never sent before the crash
    with pytest.raises(Killed):
        async with timed_engine(sim, ledger_path, transport=dying, options=sequential) as engine:
            await engine.start(request(agent_id, 200))
    # A killed process keeps its lease: put back what SIGKILL would have left behind.
    with Ledger(ledger_path, clock=sim.clock.now) as ledger:
        assert ledger.claim_run("spring", "crashed", holder=exited_process())
    resumed_at = len(sim.request_log)

    async with timed_engine(sim, ledger_path) as engine:
        result = await engine.start(request(agent_id, 200))

    assert (result.status, result.resumed, result.scheduled_total) == (CampaignState.COMPLETED, True, 200)
    after = [(entry.path, entry.fault) for entry in sim.request_log[resumed_at:]]
    late, verify = after.index((SCHEDULE_PATH, "applied_late")), after.index((VERIFY_PATH, None))
    first_send = next(i for i, (path, fault) in enumerate(after) if path == SCHEDULE_PATH and fault is None)
    assert late < verify < first_send, "the resumed run must let the lost request land, verify, then send"
    assert_everyone_scheduled_exactly_once(sim, account, 200)


async def test_a_live_run_is_not_taken_over_and_the_error_says_when_it_could_be(
    sim: TelliSimulator, agent_id: str, ledger_path: LedgerLocation
) -> None:
    async with timed_engine(sim, ledger_path) as engine:
        await engine.start(request(agent_id, 5))
        assert engine.ledger.claim_run("spring", "another-process")

        with pytest.raises(CampaignBusyError, match=r"can be taken over in 20 s"):
            await engine.start(request(agent_id, 5))


async def test_a_run_that_lost_its_lease_stops_without_writing_or_sending(
    sim: TelliSimulator, account: Account, agent_id: str, ledger_path: LedgerLocation
) -> None:
    takeover: list[CampaignRunResult] = []

    async def stall_then_get_taken_over(event: CampaignProgress) -> None:
        if event.phase == "schedule" and not takeover:
            # This run freezes for longer than its lease; another run takes the campaign over and finishes.
            await sim.advance(LEASE_TTL.total_seconds())
            async with timed_engine(sim, ledger_path) as other:
                takeover.append(await other.start(request(agent_id, 200)))

    one_at_a_time = RunOptions(schedule_concurrency=1)
    async with timed_engine(sim, ledger_path, options=one_at_a_time) as engine:
        with pytest.raises(LeaseLostError):
            await engine.start(request(agent_id, 200), on_progress=stall_then_get_taken_over)
        sends_after_takeover = len(sim.requests_to("POST", SCHEDULE_PATH))
        campaign = engine.ledger.get_campaign("spring")

    assert len(sim.requests_to("POST", SCHEDULE_PATH)) == sends_after_takeover
    assert campaign is not None and campaign.status is CampaignState.COMPLETED  # the new holder's word stands
    assert [run.scheduled_total for run in takeover] == [200]
    assert_everyone_scheduled_exactly_once(sim, account, 200)


async def test_server_errors_on_every_batch_leave_an_incomplete_run_that_says_why(
    sim: TelliSimulator, agent_id: str, ledger_path: LedgerLocation
) -> None:
    sim.inject(Fault(method="POST", path=SCHEDULE_PATH, status=503, times=-1))

    async with timed_engine(sim, ledger_path) as engine:
        result = await engine.start(request(agent_id, 120))

    assert (result.status, result.scheduled_total, result.not_scheduled) == (CampaignState.INCOMPLETE, 0, 120)
    assert "NOT SCHEDULED" in result.message and "again" in result.message
    assert sum(reason.leads for reason in result.not_scheduled_reasons) == 120
    assert any("503" in reason.reason for reason in result.not_scheduled_reasons)


async def test_a_stop_while_a_batch_is_in_flight_waits_for_it_to_settle_before_calling_it_removed(
    sim: TelliSimulator, account: Account, agent_id: str, ledger_path: LedgerLocation
) -> None:
    one_at_a_time = RunOptions(schedule_concurrency=1)
    with anyio.CancelScope() as scope:
        cancelling = InFlightWhen(sim, nth=2, delay=10.0, scope=scope)
        async with timed_engine(sim, ledger_path, transport=cancelling, options=one_at_a_time) as engine:
            await engine.start(request(agent_id, 150))

    async with timed_engine(sim, ledger_path) as engine:
        first = await engine.stop("spring")
        await sim.advance(60)  # the request telli held lands now, after the stop
        second = await engine.stop("spring")
        contacts = [lead.contact_id for lead in engine.ledger.leads("spring") if lead.contact_id]

    assert (first.removed_now, first.unknown) == (50, 50)
    assert "may still apply until" in first.message and "run stop again" in first.message
    assert (second.removed_now, second.unknown) == (50, 0)
    assert len(contacts) == 150
    assert [contact for contact in contacts if account.active_loop_for(contact) is not None] == []


class BarelyAnsweringLedger(Ledger):
    """A ledger on the simulator's clock whose first write-ahead takes 10 s: a database that barely answers."""

    def __init__(self, location: LedgerLocation, sim: TelliSimulator) -> None:
        super().__init__(location, clock=sim.clock.now)
        self._sim = sim
        self.slow_left = 1

    def mark_in_flight(self, *args: Any, **kwargs: Any) -> set[int]:
        marked = super().mark_in_flight(*args, **kwargs)
        if self.slow_left:
            self.slow_left -= 1
            self._sim.clock.advance_to(self._sim.clock.now() + timedelta(seconds=10))
        return marked


async def test_a_write_ahead_that_took_too_long_is_not_followed_by_its_request_until_the_leads_settled(
    sim: TelliSimulator, account: Account, agent_id: str, ledger_path: LedgerLocation
) -> None:
    started = sim.clock.now()

    async def advance(seconds: float) -> None:
        await sim.advance(seconds)

    client = TelliClient(TEST_API_KEY, transport=sim.transport(), sleep=advance, timeout=1.0)
    with BarelyAnsweringLedger(ledger_path, sim) as ledger:
        async with client:
            result = await CampaignEngine(client, ledger).start(request(agent_id, 100))

    assert (result.status, result.scheduled_total) == (CampaignState.COMPLETED, 100)
    # The slow chunk's request was not sent after its write-ahead: its leads were verified with telli once their
    # settle time (1 s timeout + 30 s margin) had passed, found unscheduled, and sent then; one request each.
    assert (sim.clock.now() - started).total_seconds() >= 31
    assert_everyone_scheduled_exactly_once(sim, account, 100)
    assert len(sim.requests_to("POST", SCHEDULE_PATH)) == 2
