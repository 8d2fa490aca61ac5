"""The streamed run: the list is validated, recorded, created and scheduled chunk by chunk, in a pipeline."""

from __future__ import annotations

import gc
from collections import Counter
from dataclasses import dataclass, field

import anyio
import httpx2
import pytest

from telli_mcp.campaigns import (
    CampaignEngine,
    CampaignProgress,
    CampaignRequest,
    CampaignState,
    LeadState,
    Ledger,
    planning,
)
from telli_mcp.campaigns.contact_state import in_dialer
from telli_mcp.campaigns.ledger import LedgerLocation
from telli_mcp.client import TelliClient
from telli_mcp.simulator import TEST_API_KEY, Account, Fault, TelliSimulator

from .conftest import ADD_PATH, SCHEDULE_PATH, loops_per_contact, make_leads, no_sleep, scheduled_ids

pytestmark = pytest.mark.anyio


class Killed(Exception):
    """Stands in for the process dying."""


@dataclass
class Moment:
    path: str
    recorded: int
    """Leads the ledger held when the request reached telli."""
    adds: int
    schedules: int


@dataclass
class Watching(httpx2.AsyncBaseTransport):
    """Passes every request to the simulator and notes, for each batch write, how far the run had got."""

    inner: httpx2.AsyncBaseTransport
    ledger_path: LedgerLocation
    moments: list[Moment] = field(default_factory=list)

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        if request.url.path in (ADD_PATH, SCHEDULE_PATH):
            with Ledger(self.ledger_path) as ledger:
                recorded = len(ledger.leads("spring"))
            adds = sum(moment.path == ADD_PATH for moment in self.moments)
            schedules = len(self.moments) - adds
            self.moments.append(Moment(request.url.path, recorded, adds, schedules))
        return await self.inner.handle_async_request(request)


async def test_the_list_is_validated_chunk_by_chunk_while_earlier_chunks_are_scheduled(
    sim: TelliSimulator, account: Account, agent_id: str, ledger_path: LedgerLocation
) -> None:
    watching = Watching(sim.transport(), ledger_path)
    async with TelliClient(TEST_API_KEY, transport=watching, sleep=no_sleep) as client:
        engine = CampaignEngine(client, Ledger(ledger_path))
        result = await engine.start(CampaignRequest(agent_id=agent_id, leads=make_leads(6000), campaign_id="spring"))

    adds = [moment for moment in watching.moments if moment.path == ADD_PATH]
    assert (result.status, result.scheduled_total, len(adds)) == (CampaignState.COMPLETED, 6000, 6)
    # When the first contacts went to telli, the rest of the list had not been read into the run yet; and at
    # every later create, the run was at most the chunk in hand plus one validated chunk ahead of telli.
    assert adds[0].recorded == 1000
    assert all(add.recorded <= (add.adds + 2) * 1000 for add in adds)
    # Scheduling began long before the last chunk was created.
    assert adds[-1].schedules > 0
    assert set(scheduled_ids(sim).values()) == {1}


async def test_a_run_killed_between_chunks_resumes_without_creating_or_scheduling_anyone_twice(
    sim: TelliSimulator, account: Account, agent_id: str, ledger_path: LedgerLocation
) -> None:
    request = CampaignRequest(agent_id=agent_id, leads=make_leads(3000), campaign_id="spring")

    async def die_after_the_first_chunk(event: CampaignProgress) -> None:
        if event.phase == "contacts" and event.done >= 1000:
            raise Killed

    async with TelliClient(TEST_API_KEY, transport=sim.transport(), sleep=no_sleep) as client:
        with pytest.raises(Killed):
            await CampaignEngine(client, Ledger(ledger_path)).start(request, on_progress=die_after_the_first_chunk)
        with Ledger(ledger_path) as ledger:
            recorded_at_death = len(ledger.leads("spring"))
        result = await CampaignEngine(client, Ledger(ledger_path)).start(request)

    assert recorded_at_death < 3000, "the killed run had not recorded the whole list"
    assert (result.status, result.resumed, result.scheduled_total) == (CampaignState.COMPLETED, True, 3000)
    assert max(Counter(contact.external_id for contact in account.contacts.values()).values()) == 1
    sent = scheduled_ids(sim)
    assert len(sent) == 3000 and set(sent.values()) == {1}
    assert {loops_per_contact(account)[contact] for contact in sent} == {1}
    assert CampaignEngine(client, Ledger(ledger_path)).list().items[0].leads_count == 3000


async def test_the_counts_from_the_ledger_match_each_lead_in_telli(
    engine: CampaignEngine, client: TelliClient, sim: TelliSimulator, agent_id: str
) -> None:
    sim.inject(Fault(method="POST", path=SCHEDULE_PATH, status=400, times=1))

    result = await engine.start(CampaignRequest(agent_id=agent_id, leads=make_leads(180), campaign_id="spring"))

    records = engine.ledger.leads("spring")
    telli = await client.contacts_v1.get_batch([record.contact_id or "" for record in records])
    in_the_dialer = sum(1 for contact in telli.found if in_dialer(contact))
    states = Counter(record.state for record in records)
    assert (result.scheduled_total, result.failed) == (in_the_dialer, 180 - in_the_dialer) == (130, 50)
    assert (states[LeadState.SCHEDULED], states[LeadState.FAILED]) == (130, 50)
    assert result.not_scheduled == sum(reason.leads for reason in result.not_scheduled_reasons) == 50
    assert (len(result.failures), result.failures_truncated) == (50, 0)
    assert engine.list().items[0].leads_count == 180


async def test_a_run_spares_the_collector_older_objects_only_while_it_works(
    engine: CampaignEngine, agent_id: str
) -> None:
    frozen_during: list[int] = []

    async def note(event: CampaignProgress) -> None:
        frozen_during.append(gc.get_freeze_count())

    await engine.start(CampaignRequest(agent_id=agent_id, leads=make_leads(60), campaign_id="spring"), on_progress=note)

    assert frozen_during and all(count > 0 for count in frozen_during)
    assert gc.get_freeze_count() == 0


async def test_validation_gives_the_event_loop_back_every_slice_so_answers_are_read_meanwhile(
    engine: CampaignEngine, agent_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A clock that moves 0.4 ms each time validation reads it: a slice is then about three rows, however fast
    # this machine validates.
    now = 0.0

    def clock() -> float:
        nonlocal now
        now += 0.0004
        return now

    monkeypatch.setattr(planning, "_clock", clock)
    held: list[float] = []  # how long (on that clock) validation kept the loop between two turns of another task
    done = False

    async def another_task() -> None:
        last = now
        while not done:
            await anyio.lowlevel.checkpoint()
            held.append(now - last)
            last = now

    async with anyio.create_task_group() as group:
        group.start_soon(another_task)
        plan = await engine.plan(CampaignRequest(agent_id=agent_id, leads=make_leads(600)))
        done = True
    assert plan.to_schedule == 600
    assert len(held) >= 600 / 4  # the other task ran every few rows, not once per chunk
    assert max(held) <= planning.SLICE_SECONDS + 0.0008  # the slice, then the row it ended on
