"""A stop through one replica ends a campaign another replica is running, and leaves nobody in telli's dialer.

The campaign runs on replica 1 (its start_campaign goes there directly); the stop goes to replica 2 directly. The
shared ledger carries the stop: the run on replica 1 sees it before its next schedule request, ends as stopped and
takes what it had scheduled back off the dialer, as the stop on replica 2 does with what it finds.
"""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from deployment import STEP_SECONDS, Deployment, accepted_schedule_batches, mcp_client, ok, start_confirmed, until

from telli_mcp.simulator import TEST_API_KEY, TelliSimulator
from telli_mcp.simulator.faults import Fault

pytestmark = pytest.mark.anyio

LEADS = 1_000
BATCHES = LEADS // 50
CAMPAIGN_ID = "deploy-stop-elsewhere"


def _leads() -> list[dict[str, Any]]:
    """Fictional Berlin numbers (+49 30 3000 0000 onwards)."""
    return [
        {"phone_number": f"+4930{30000000 + n}", "first_name": f"Lead{n}", "last_name": "Stop"} for n in range(LEADS)
    ]


async def test_a_stop_through_one_replica_ends_the_run_on_the_other_and_leaves_nobody_in_the_dialer(
    deployment: Deployment, sim: TelliSimulator
) -> None:
    running, stopping = deployment.replicas
    # telli answers each schedule request 0.3 s late: the run is still sending when the stop comes.
    sim.inject(Fault(kind="latency", latency=0.3, times=BATCHES, path="/v1/schedule-calls-batch"))
    results: list[dict[str, Any]] = []
    async with mcp_client(running.url, TEST_API_KEY) as runner, mcp_client(stopping.url, TEST_API_KEY) as stopper:
        agent_id = (await ok(runner, "list_agents"))["agents"][0]["agent_id"]
        args = {"agent_id": agent_id, "leads": _leads(), "campaign_id": CAMPAIGN_ID, "name": "Stopped elsewhere"}

        async def run() -> None:
            _preview, result = await start_confirmed(runner, args, within=STEP_SECONDS * 2)
            assert not result.is_error, result
            results.append(result.structured_content or {})

        async with anyio.create_task_group() as group:
            group.start_soon(run)
            await until(lambda: len(accepted_schedule_batches(sim)) >= 2, "the run to schedule its first leads")
            stopped = await ok(stopper, "stop_campaign", {"campaign_id": CAMPAIGN_ID})

    [ran] = results
    assert stopped["status"] == "stopped", stopped
    assert ran["status"] == "stopped", ran
    assert len(accepted_schedule_batches(sim)) < BATCHES, "the run went on sending after the stop"
    account = sim.account(TEST_API_KEY)
    numbers = {lead["phone_number"] for lead in _leads()}
    ours = [contact.id for contact in account.contacts.values() if contact.phone_number in numbers]
    assert ours and [contact_id for contact_id in ours if account.active_loop_for(contact_id) is not None] == []
