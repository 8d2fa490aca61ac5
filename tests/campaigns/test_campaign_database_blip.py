"""A campaign whose run the shared database cut off (a PostgreSQL restart or failover) is resumed like one whose
process died: another replica finds it (at once, as the run lets its lease lapse when the database answers again)
and schedules every lead exactly once. Every other ending still releases the campaign, which then no replica
resumes.

PostgreSQL only: only the shared database keeps a campaign's source for another replica, and only it fails so.
"""

from __future__ import annotations

from datetime import timedelta

import anyio
import pytest

from telli_mcp.campaigns import CampaignProgress, CampaignRequest, CampaignState, RunOptions
from telli_mcp.campaigns.lease import Holder
from telli_mcp.campaigns.ledger import Ledger
from telli_mcp.database import DatabaseUnavailable
from telli_mcp.database.sql import PostgresSession
from telli_mcp.simulator import Account, TelliSimulator

from .conftest import loops_per_contact, make_leads, scheduled_ids, timed_engine
from .test_campaign_ledger_shared import DEADLINE_SECONDS, backend_pid, kill_backend

pytestmark = pytest.mark.anyio

LEADS = 300
OTHER_REPLICA = Holder(host="replica-b.example", pid=4102, started="1")
"""The replica that looks for orphans: not this process, so it may take a lease over only once it lapsed."""


def spring(agent_id: str) -> CampaignRequest:
    return CampaignRequest(agent_id=agent_id, leads=make_leads(LEADS), campaign_id="spring")


def assert_everyone_scheduled_once(sim: TelliSimulator, account: Account) -> None:
    applied = scheduled_ids(sim, processed_only=True)
    assert len(applied) == LEADS, f"{LEADS - len(applied)} leads were never scheduled"
    assert set(applied.values()) == {1}, "telli accepted a schedule request for a lead twice"
    assert set(loops_per_contact(account).values()) == {1}


@pytest.mark.parametrize("first_to_meet_it", ["a write of the run", "the lease's heartbeat"])
async def test_a_run_the_database_cut_off_is_resumed_by_another_replica_scheduling_everyone_once(
    sim: TelliSimulator, account: Account, agent_id: str, postgres_url: str, first_to_meet_it: str
) -> None:
    session = PostgresSession(postgres_url)
    killed: list[int] = []
    by_heartbeat = first_to_meet_it == "the lease's heartbeat"
    # One schedule worker, which waits in the callback: only the heartbeat (every 10 ms) touches the database, and
    # its failure reaches the run through the task group that keeps the lease.
    heartbeat_first = RunOptions(schedule_concurrency=1, heartbeat_interval=timedelta(milliseconds=10))
    options = heartbeat_first if by_heartbeat else None

    async def database_restarts(event: CampaignProgress) -> None:
        # The server ends the run's session; the next connect succeeds at once (the server is back).
        if event.phase == "schedule" and not killed:
            killed.append(backend_pid(session))
            kill_backend(postgres_url, killed[0])
            if by_heartbeat:
                with anyio.fail_after(DEADLINE_SECONDS):
                    await anyio.sleep_forever()  # until the heartbeat's failure ends the run

    with pytest.raises(DatabaseUnavailable):
        async with timed_engine(sim, session, options=options) as engine:
            await engine.start(spring(agent_id), on_progress=database_restarts)
    assert killed, "the run never reached its first schedule progress"
    assert 0 < len(scheduled_ids(sim, processed_only=True)) < LEADS, "the run was cut off mid-way"

    with Ledger(postgres_url, clock=sim.clock.now) as replica:
        campaign = replica.get_campaign("spring")
        assert campaign is not None and campaign.status is CampaignState.RUNNING
        kept = replica.source("spring")
        assert kept is not None, "the campaign's source was forgotten: no replica can resume it"
        # The database answered again as the run ended, so the run let its lease lapse at once: no replica, and no
        # user calling again, has to wait for it (nor is told the campaign is busy).
        assert campaign.lease().wait_before_take_over(sim.clock.now()) == timedelta(0)
        assert replica.orphans(OTHER_REPLICA) == ["spring"]

        async with timed_engine(sim, postgres_url) as other:
            result = await other.start(CampaignRequest.model_validate_json(kept))

        assert (result.status, result.resumed, result.scheduled_total) == (CampaignState.COMPLETED, True, LEADS)
        assert_everyone_scheduled_once(sim, account)
        assert (replica.source("spring"), replica.orphans(OTHER_REPLICA)) == (None, [])


@pytest.mark.parametrize("ending", ["completed", "stopped", "aborted"])
async def test_a_run_that_ends_otherwise_releases_its_campaign_and_no_replica_resumes_it(
    sim: TelliSimulator, agent_id: str, postgres_url: str, ending: str
) -> None:
    class Aborted(Exception):
        """A caller's progress callback giving up (a bug, a closed stream): not the database's failure."""

    async with timed_engine(sim, postgres_url) as engine:

        async def end_early(event: CampaignProgress) -> None:
            if event.phase != "schedule" or ending == "completed":
                return
            if ending == "stopped":
                await engine.stop("spring")
            else:
                raise Aborted

        if ending == "aborted":
            with pytest.raises(Aborted):
                await engine.start(spring(agent_id), on_progress=end_early)
        else:
            await engine.start(spring(agent_id), on_progress=end_early)

    expected = {
        "completed": CampaignState.COMPLETED,
        "stopped": CampaignState.STOPPED,
        "aborted": CampaignState.INTERRUPTED,
    }[ending]
    with Ledger(postgres_url, clock=lambda: sim.clock.now() + timedelta(hours=1)) as replica:
        campaign = replica.get_campaign("spring")
        assert campaign is not None
        assert (campaign.status, campaign.run_token) == (expected, None)
        assert (replica.source("spring"), replica.orphans(OTHER_REPLICA)) == (None, [])
