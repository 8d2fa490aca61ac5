"""A 5,000-lead campaign whose replica is killed with SIGKILL mid-run is resumed by the other replica on its own, and
telli schedules every lead exactly once.

The deployment of conftest.py (two replicas sharing a PostgreSQL schema behind HAProxy with the repo's config, the
simulator served in a thread of this process), with TELLI_TIMEOUT_SECONDS=5 so that a lead whose request may have
been in flight settles after 5 + 30 s, not 30 + 30 s. telli answers the first schedule-calls-batch requests 0.25 s
late and the next ones 15 s late (the simulator sleeps, then applies the request), so the run can be killed with
requests in flight that telli applies long after their sender died, and after the resumed run would have checked
those contacts had it not waited for them to settle: checked early, they would look unscheduled and be sent again.

Through the balancer, as a user would: a dry run, the preview that hands out a confirmation token, the confirmed
start. Once telli has accepted some but not all batches, the replica answering that call (HAProxy's current
sessions say which) is killed with SIGKILL. Once HAProxy has taken it out, the user only asks how the campaign is
doing (get_campaign): the request reaches the surviving replica, which finds the campaign in the shared ledger with
a dead holder (its process is gone, same host), takes over its lease, waits for the leads that were in flight to
settle and schedules the rest, in the background; the user's later get_campaign calls see it complete. Run again
with the replicas holding the account's key themselves (TELLI_API_KEY), nobody asks anything after the kill: the
survivor's own look every 15 s finds the campaign, and every lead is scheduled before any request reaches it. Then each
lead is checked against the simulator: exactly one contact with its number, named by exactly one accepted schedule
request; nothing else scheduled.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

import anyio
import pytest
from deployment import (
    SCHEDULE_BATCH,
    STEP_SECONDS,
    Deployment,
    accepted_schedule_batches,
    mcp_client,
    ok,
    start_confirmed,
    until,
    wait_until_down,
)
from mcp import Client

from telli_mcp.simulator import TEST_API_KEY, TelliSimulator
from telli_mcp.simulator.faults import Fault

pytestmark = pytest.mark.anyio

LEADS = 5_000
BATCHES = LEADS // 50
"""telli takes at most 50 contacts per schedule request, so the run needs at least this many."""
FAST_BATCHES = 20
"""Schedule requests telli answers after FAST_LATENCY (1,000 leads); every later one waits SLOW_LATENCY."""
FAST_LATENCY = 0.25
SLOW_LATENCY = 15.0
"""Well past the moment the resumed run could first check the contacts (HAProxy takes the dead replica out within
about 2 s), well within the settle time (TIMEOUT_SECONDS + 30 s after the request was sent)."""
IN_FLIGHT = 4
"""Slow requests to have in flight at the kill: the run's schedule concurrency (RunOptions' default)."""
TIMEOUT_SECONDS = 5
CAMPAIGN_SECONDS = 90.0
"""Bound on the resumed start_campaign: the settle wait (TIMEOUT_SECONDS + 30 s after the last request the dead
replica sent) plus the rest of the run. Its event stream may stay silent for all of the wait."""
CAMPAIGN_ID = "deploy-kill-5000"


ASKED = "the user asks"
OWN_KEY = "nobody asks; the replicas hold the key"
"""Who makes the surviving replica look for the campaign: a request of the account (replicas without a key of their
own, each user bringing theirs), or nobody (a one-account deployment: TELLI_API_KEY on every replica)."""


@pytest.fixture(params=[ASKED, OWN_KEY])
def wake(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def replica_env(wake: str) -> dict[str, str]:
    # A lead whose request may have been in flight settles TELLI_TIMEOUT_SECONDS + 30 s after it was sent.
    env = {"TELLI_TIMEOUT_SECONDS": str(TIMEOUT_SECONDS)}
    return {**env, "TELLI_API_KEY": TEST_API_KEY} if wake == OWN_KEY else env


def _leads() -> list[dict[str, Any]]:
    """Fictional Berlin numbers (+49 30 1000 0000 onwards, the scheme of tests/campaigns' make_leads)."""
    return [
        {"phone_number": f"+4930{10000000 + n}", "first_name": f"Lead{n}", "last_name": "Deploy"} for n in range(LEADS)
    ]


def _faulted(sim: TelliSimulator) -> int:
    """Schedule requests telli answered late (logged once answered)."""
    return sum(1 for entry in list(sim.requests_to("POST", SCHEDULE_BATCH)) if entry.fault == "latency")


@dataclass(frozen=True)
class PerLead:
    leads: int
    scheduled_once: int
    missing: int
    duplicated: int
    contacts_not_one: int
    """Leads with no contact, or with several, under their number."""
    stray: int
    """Contacts scheduled that belong to no lead."""

    def __str__(self) -> str:
        return (
            f"{self.leads} leads: scheduled once {self.scheduled_once}, missing {self.missing}, duplicated "
            f"{self.duplicated}, without exactly one contact {self.contacts_not_one}, stray scheduled {self.stray}"
        )


def _per_lead(sim: TelliSimulator, leads: list[dict[str, Any]]) -> PerLead:
    by_number: dict[str, list[str]] = {}
    for contact in sim.account(TEST_API_KEY).contacts.values():
        if not contact.deleted:
            by_number.setdefault(contact.phone_number, []).append(contact.id)
    named = Counter(contact_id for batch in accepted_schedule_batches(sim) for contact_id in batch)
    tally: Counter[str] = Counter()
    mine: set[str] = set()
    for lead in leads:
        found = by_number.get(lead["phone_number"], [])
        if len(found) != 1:
            tally["contacts_not_one"] += 1
            continue
        mine.update(found)
        times = named[found[0]]
        tally["scheduled_once" if times == 1 else "missing" if times == 0 else "duplicated"] += 1
    stray = sum(1 for contact_id in named if contact_id not in mine)
    counts = {name: tally[name] for name in ("scheduled_once", "missing", "duplicated", "contacts_not_one")}
    return PerLead(leads=len(leads), stray=stray, **counts)


async def _until_completed(client: Client) -> dict[str, Any]:
    """get_campaign through the balancer until the campaign is completed (bounded: the settle wait plus the run)."""
    deadline = time.monotonic() + CAMPAIGN_SECONDS
    while (page := await ok(client, "get_campaign", {"campaign_id": CAMPAIGN_ID}))["status"] != "completed":
        assert time.monotonic() < deadline, f"the campaign was not resumed to the end: {page}"
        await anyio.sleep(1.0)  # a bounded poll of other processes' work; no assertion depends on the wait
    return page


def _scheduled_leads(sim: TelliSimulator) -> int:
    """Contacts named by accepted schedule requests, counted with repeats."""
    return sum(len(batch) for batch in accepted_schedule_batches(sim))


async def test_a_campaign_whose_replica_is_killed_resumes_on_the_other_and_schedules_each_lead_once(
    deployment: Deployment, sim: TelliSimulator, wake: str
) -> None:
    leads = _leads()
    sim.inject(Fault(kind="latency", latency=FAST_LATENCY, times=FAST_BATCHES, path=SCHEDULE_BATCH))
    slow = Fault(kind="latency", latency=SLOW_LATENCY, times=BATCHES, path=SCHEDULE_BATCH)
    sim.inject(slow)  # used once the fast one is; its countdown says how many slow requests arrived

    def arrived_slow() -> int:
        return BATCHES - slow.times

    async with mcp_client(deployment.url, TEST_API_KEY, read_timeout=CAMPAIGN_SECONDS) as client:
        agent_id = (await ok(client, "list_agents"))["agents"][0]["agent_id"]
        args = {"agent_id": agent_id, "leads": leads, "campaign_id": CAMPAIGN_ID, "name": "Killed mid-run"}
        dry_run = await ok(client, "start_campaign", {**args, "dry_run": True})
        assert dry_run["valid_leads"] == LEADS and dry_run["invalid_leads"] == 0, dry_run
        assert not sim.requests_to("POST", SCHEDULE_BATCH), "a dry run schedules nobody"

        # The doomed run, on a client of its own: its answer never comes, and the call is abandoned after the kill.
        async with anyio.create_task_group() as doomed:

            async def first_run() -> None:
                async with mcp_client(deployment.url, TEST_API_KEY) as own:
                    await start_confirmed(own, args, within=CAMPAIGN_SECONDS)

            doomed.start_soon(first_run)
            await until(lambda: arrived_slow() >= IN_FLIGHT, "schedule requests in flight after the fast ones")
            running = [name for name, count in deployment.in_progress().items() if count]
            assert len(running) == 1, f"one replica runs the campaign: {deployment.in_progress()}"
            holder = deployment.replica(running[0])
            holder.kill()
            accepted_at_kill, in_flight_at_kill = len(accepted_schedule_batches(sim)), arrived_slow()
            sim.clear_faults()  # the requests in flight keep their 15 s; the resumed run's own are answered at once
            doomed.cancel_scope.cancel()
        assert accepted_at_kill == FAST_BATCHES, f"telli accepted {accepted_at_kill} batches before the kill"
        await anyio.to_thread.run_sync(wait_until_down, deployment, holder.name)
        assert len(accepted_schedule_batches(sim)) == accepted_at_kill, (
            "the requests in flight must land after the resume"
        )

        before = deployment.served()
        started = time.monotonic()
        if wake == ASKED:
            # Any request of the account now reaches the surviving replica, which resumes the campaign on its own.
            first_look = await ok(client, "get_campaign", {"campaign_id": CAMPAIGN_ID})
            assert first_look["status"] in ("interrupted", "running"), first_look
        else:
            # Nobody asks: the surviving replica looks for its own account's campaigns every 15 s by itself.
            await until(lambda: _scheduled_leads(sim) >= LEADS, "the rest of the leads scheduled", CAMPAIGN_SECONDS)
            unasked = {name: deployment.served()[name] - count for name, count in before.items()}
            assert sum(unasked.values()) == 0, f"no request reached a replica while it resumed: {unasked}"
        resumed = await _until_completed(client)
        resume_seconds = time.monotonic() - started
        served = {name: deployment.served()[name] - count for name, count in before.items()}
    # Only the dead replica's requests were answered late (the faults were cleared at the kill): once all of them
    # are logged, telli has applied everything it will ever apply. (It waited for them, so they are, unless that
    # wait was skipped; then this also waits, so the duplicates they make are counted.)
    delayed = FAST_BATCHES + in_flight_at_kill
    await until(lambda: _faulted(sim) == delayed, "the requests in flight at the kill", SLOW_LATENCY + STEP_SECONDS)
    per_lead = _per_lead(sim, leads)
    print(
        f"\nkill test ({wake}): killed {holder.name} after telli accepted {accepted_at_kill} of {BATCHES} batches, "
        f"with {in_flight_at_kill} in flight (applied {SLOW_LATENCY:.0f} s later); the resume on the other replica "
        f"took {resume_seconds:.1f} s (settle {TIMEOUT_SECONDS} + 30 s) until get_campaign said {resumed['status']}; "
        f"per lead: {per_lead}"
    )
    assert served[holder.name] == 0, f"the dead replica answered nothing after it was taken out: {served}"
    assert resumed["status"] == "completed", resumed
    assert per_lead == PerLead(LEADS, LEADS, 0, 0, 0, 0), str(per_lead)
