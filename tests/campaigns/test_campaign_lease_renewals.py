"""Progress events renew the run's lease at most once a second (of the ledger's clock), not once per chunk."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest

from telli_mcp.campaigns import CampaignEngine, CampaignProgress, CampaignRequest, Ledger
from telli_mcp.campaigns.lease import LEASE_TTL, Lease
from telli_mcp.campaigns.ledger import LedgerLocation
from telli_mcp.client import TelliClient
from telli_mcp.simulator import TEST_API_KEY, TelliSimulator

from .conftest import BOTH_ENGINES, make_leads, no_sleep

pytestmark = pytest.mark.anyio
LEDGER_ENGINES = BOTH_ENGINES

Clock = Callable[[], datetime]


class CountingLedger(Ledger):
    """The real ledger, counting its lease renewals."""

    renewals = 0

    def renew(self, lease: Lease, *, ttl: timedelta = LEASE_TTL) -> None:
        self.renewals += 1
        super().renew(lease, ttl=ttl)


async def run_counting(
    sim: TelliSimulator, agent_id: str, ledger_path: LedgerLocation, clock: Clock
) -> tuple[int, int]:
    """Renewals of the lease and schedule progress events in a 500-lead run (ten chunks of 50)."""
    events: list[CampaignProgress] = []

    async def note(event: CampaignProgress) -> None:
        events.append(event)

    with CountingLedger(ledger_path, clock=clock) as ledger:
        async with TelliClient(TEST_API_KEY, transport=sim.transport(), sleep=no_sleep) as client:
            result = await CampaignEngine(client, ledger).start(
                CampaignRequest(agent_id=agent_id, leads=make_leads(500), campaign_id="spring"), on_progress=note
            )
        assert result.scheduled_total == 500
        return ledger.renewals, sum(event.phase == "schedule" for event in events)


async def test_progress_renews_the_lease_at_most_once_a_second(
    sim: TelliSimulator, agent_id: str, ledger_path: LedgerLocation
) -> None:
    renewals, schedule_events = await run_counting(sim, agent_id, ledger_path, sim.clock.now)  # time stands still
    assert schedule_events == 10
    assert renewals <= 1


async def test_progress_renews_the_lease_again_once_a_second_has_passed(
    sim: TelliSimulator, agent_id: str, ledger_path: LedgerLocation
) -> None:
    started = sim.clock.now()
    reads = itertools.count()

    def fast() -> datetime:
        return started + timedelta(seconds=next(reads))  # a second passes between any two readings

    renewals, schedule_events = await run_counting(sim, agent_id, ledger_path, fast)
    assert renewals >= schedule_events == 10
