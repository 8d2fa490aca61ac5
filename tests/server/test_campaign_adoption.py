"""A campaign whose run died with its replica is resumed by the replica its account speaks to next.

Two "replicas" are two servers on their own backends against one telli (the simulator), sharing a PostgreSQL
schema and the state secret. A run that died leaves what a SIGKILLed process leaves (tests/deploy kills a real one):
the campaign recorded as running, under a lease whose holder is gone, with the request it was started with kept in
the ledger. Any request of the campaign's account to the other replica then resumes it in the background, and a
replica that holds the account's key itself finds it with nobody speaking to it; what counts is what telli received.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp.server.mcpserver import MCPServer
from postgres_helpers import postgres_url  # noqa: F401  # the fixture, for the tests here
from server_helpers import connect, first_agent_id, ok

from telli_mcp.backend import Backend
from telli_mcp.campaign_adoption import LOOK_AT_MOST_EVERY, LOOK_EVERY, CampaignAdopter
from telli_mcp.campaigns import Ledger
from telli_mcp.campaigns.lease import Holder
from telli_mcp.campaigns.ledger import NewCampaign
from telli_mcp.campaigns.models import CampaignRequest, CampaignState
from telli_mcp.client import key_fingerprint
from telli_mcp.config import Settings
from telli_mcp.database import DatabaseUnavailable
from telli_mcp.server import build_server
from telli_mcp.simulator import TEST_API_KEY, TelliSimulator

pytestmark = pytest.mark.anyio
OTHER_KEY = "telli-test-key-of-another-account"
SECRET = "replicas-share-this-state-secret"
HANG_GUARD = 30.0
DEAD = Holder(host="replica-a.internal", pid=4242, started="1")
"""The run's process on another machine: only its lapsed lease says it is gone."""
Replica = Callable[..., tuple[Backend, MCPServer[Any]]]
"""Start a replica; its in-process clients act with its key (TEST_API_KEY unless given)."""


@pytest.fixture
def sim() -> TelliSimulator:
    return TelliSimulator(api_keys=(TEST_API_KEY, OTHER_KEY), seed_demo=True)


async def _no_sleep(_seconds: float) -> None:
    return None


@pytest.fixture
async def replica(sim: TelliSimulator, postgres_url: str) -> AsyncIterator[Replica]:  # noqa: F811
    backends: list[Backend] = []

    def start(key: str = TEST_API_KEY) -> tuple[Backend, MCPServer[Any]]:
        settings = Settings(api_key=key, state_secret=SECRET, confirm="token", database_url=postgres_url)
        backends.append(Backend.simulated(settings, sim, sleep=_no_sleep))
        return backends[-1], build_server(backends[-1])

    yield start
    for backend in backends:
        backend.campaign_store.close()
        await backend.aclose()


def _leads(count: int) -> list[dict[str, Any]]:
    return [
        {"phone_number": f"+4930{20000000 + n}", "first_name": f"Lead{n}", "last_name": "Adopted"} for n in range(count)
    ]


async def _died_mid_start(backend: Backend, request: CampaignRequest) -> str:
    """Leave in the shared ledger what a run leaves when its process dies right after taking the lease."""
    tenant = key_fingerprint(TEST_API_KEY)
    async with backend.client(TEST_API_KEY) as client:
        plan = await backend.campaign_engine(client, tenant).plan(request)
    ledger = Ledger(backend.settings.database_url or "", tenant=tenant)
    ledger.create_campaign(
        NewCampaign(
            id=plan.campaign_id,
            name=plan.name,
            agent_id=request.agent_id,
            from_number=plan.from_number,
            source=f"{len(request.leads or [])} inline leads",
            source_sha256=plan.source_sha256,
            leads_count=0,
        )
    )
    assert ledger.claim_run(plan.campaign_id, "dead-run", holder=DEAD, ttl=timedelta(0)) is not None
    ledger.keep_source(plan.campaign_id, request.model_copy(update={"campaign_id": plan.campaign_id}).model_dump_json())
    ledger.close()
    return plan.campaign_id


def _scheduled(sim: TelliSimulator) -> Counter[str]:
    return Counter(
        item["contact_id"]
        for entry in sim.requests_to("POST", "/v1/schedule-calls-batch")
        if entry.status == 200
        for item in entry.body["contacts"]
    )


async def _account_speaks_to_another_replica(replica: Replica, key: str = TEST_API_KEY) -> None:
    """The account of `key` makes a request to a fresh replica, which then looks for its orphans and resumes them."""
    other, server = replica(key)
    assert other.campaign_adopter is not None
    async with connect(server, "auto") as client:
        await ok(client, "list_agents")
        with anyio.fail_after(HANG_GUARD):
            await other.campaign_adopter.idle()


async def _agent(replica: Replica) -> str:
    _backend, server = replica()
    async with connect(server, "auto") as client:
        return await first_agent_id(client)


async def test_any_request_of_the_account_to_another_replica_resumes_the_campaign_once(
    replica: Replica, sim: TelliSimulator, mode: str
) -> None:
    request = CampaignRequest(agent_id=await _agent(replica), leads=_leads(120), campaign_id="spring-adopted")
    backend, _server = replica()
    campaign_id = await _died_mid_start(backend, request)
    other, other_server = replica()
    assert other.campaign_adopter is not None

    async with connect(other_server, mode) as client:
        await ok(client, "list_agents")  # any request of the account: the replica looks for its orphaned campaigns
        with anyio.fail_after(HANG_GUARD):
            await other.campaign_adopter.idle()
        page = await ok(client, "get_campaign", {"campaign_id": campaign_id})

    assert page["status"] == "completed", page
    scheduled = _scheduled(sim)
    assert len(scheduled) == 120 and set(scheduled.values()) == {1}, "every lead scheduled exactly once"
    ledger = Ledger(backend.settings.database_url or "", tenant=key_fingerprint(TEST_API_KEY))
    assert ledger.source(campaign_id) is None, "the leads are not kept once the run ended"
    ledger.close()


async def test_two_replicas_hearing_from_the_account_at_once_resume_it_once(
    replica: Replica, sim: TelliSimulator
) -> None:
    request = CampaignRequest(agent_id=await _agent(replica), leads=_leads(200), campaign_id="spring-raced")
    first, first_server = replica()
    campaign_id = await _died_mid_start(first, request)
    second, second_server = replica()
    assert first.campaign_adopter is not None and second.campaign_adopter is not None

    async with connect(first_server, "auto") as one, connect(second_server, "auto") as two:
        async with anyio.create_task_group() as both:
            both.start_soon(ok, one, "list_agents")
            both.start_soon(ok, two, "list_agents")
        with anyio.fail_after(HANG_GUARD):
            await first.campaign_adopter.idle()
            await second.campaign_adopter.idle()
        page = await ok(one, "get_campaign", {"campaign_id": campaign_id})

    assert page["status"] == "completed", page
    scheduled = _scheduled(sim)
    assert len(scheduled) == 200 and set(scheduled.values()) == {1}, "nobody scheduled twice"


async def test_a_campaign_whose_run_is_alive_or_that_was_stopped_is_left_alone(
    replica: Replica,
    sim: TelliSimulator,
    postgres_url: str,  # noqa: F811
) -> None:
    agent_id = await _agent(replica)
    backend, _server = replica()
    stopped = await _died_mid_start(backend, CampaignRequest(agent_id=agent_id, leads=_leads(3), campaign_id="halt"))
    tenant = key_fingerprint(TEST_API_KEY)
    ledger = Ledger(postgres_url, tenant=tenant)
    ledger.set_status(stopped, CampaignState.STOPPED)
    alive = CampaignRequest(agent_id=agent_id, leads=_leads(4), campaign_id="alive")
    await _died_mid_start(backend, alive)
    assert ledger.claim_run("alive", "live-run", holder=Holder("replica-b.internal", 1, "1")) is not None  # renewed
    await _account_speaks_to_another_replica(replica)

    assert _scheduled(sim) == Counter(), "nothing was sent"
    assert ledger.source(stopped) is None, "a stopped campaign does not keep its leads"
    assert ledger.get_campaign("alive") is not None and ledger.get_campaign("alive").run_token == "live-run"  # type: ignore[union-attr]
    ledger.close()


async def test_only_the_campaign_s_own_account_resumes_it(replica: Replica, sim: TelliSimulator) -> None:
    request = CampaignRequest(agent_id=await _agent(replica), leads=_leads(5), campaign_id="mine")
    backend, _server = replica()
    await _died_mid_start(backend, request)
    await _account_speaks_to_another_replica(replica, OTHER_KEY)  # its campaigns are looked for, not this one's

    assert _scheduled(sim) == Counter()


async def test_a_campaign_started_from_a_leads_file_is_not_resumed_by_reading_a_path_from_the_database(
    replica: Replica, sim: TelliSimulator, tmp_path: Path
) -> None:
    leads_file = tmp_path / "leads.json"
    leads_file.write_text(json.dumps(_leads(3)))
    request = CampaignRequest(agent_id=await _agent(replica), leads_file=leads_file, campaign_id="from-a-file")
    backend, _server = replica()
    await _died_mid_start(backend, request)
    await _account_speaks_to_another_replica(replica)

    assert _scheduled(sim) == Counter()


class _Pauses:
    """The watch's pause between two looks, in the test's hands: `next_look` ends the pause the watch is in."""

    def __init__(self) -> None:
        self.asked: list[float] = []
        self._paused = anyio.Event()
        self._resume = anyio.Event()

    async def pause(self, seconds: float) -> None:
        self.asked.append(seconds)
        self._paused.set()
        await self._resume.wait()
        self._resume = anyio.Event()

    async def looked(self, adopter: CampaignAdopter) -> None:
        """Wait until the watch has looked (and is pausing) and what the look started has ended."""
        with anyio.fail_after(HANG_GUARD):
            await self._paused.wait()
            await adopter.idle()
        self._paused = anyio.Event()

    def next_look(self) -> None:
        self._resume.set()


async def test_a_replica_with_a_key_of_its_own_resumes_its_account_s_campaigns_though_nobody_speaks_to_it(
    replica: Replica, sim: TelliSimulator
) -> None:
    request = CampaignRequest(agent_id=await _agent(replica), leads=_leads(60), campaign_id="overnight")
    backend, _server = replica()
    watcher, _never_served = replica()  # TELLI_API_KEY of its own; no request ever reaches it
    adopter = watcher.campaign_adopter
    assert adopter is not None
    pauses = _Pauses()

    async with anyio.create_task_group() as group:
        adopter.attach(group)
        group.start_soon(partial(adopter.watch, TEST_API_KEY, pause=pauses.pause))
        await pauses.looked(adopter)  # the first look, at once: nothing is orphaned yet
        campaign_id = await _died_mid_start(backend, request)  # the run dies after that look
        assert _scheduled(sim) == Counter()
        pauses.next_look()
        await pauses.looked(adopter)
        group.cancel_scope.cancel()

    assert pauses.asked == [LOOK_EVERY, LOOK_EVERY], "a look every LOOK_EVERY seconds"
    scheduled = _scheduled(sim)
    assert len(scheduled) == 60 and set(scheduled.values()) == {1}, "every lead scheduled exactly once"
    ledger = Ledger(backend.settings.database_url or "", tenant=key_fingerprint(TEST_API_KEY))
    assert ledger.status(campaign_id) is CampaignState.COMPLETED
    ledger.close()


async def test_a_campaign_kept_in_a_form_this_version_cannot_read_holds_up_neither_the_others_nor_the_server(
    replica: Replica,
    sim: TelliSimulator,
    postgres_url: str,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    agent_id = await _agent(replica)
    backend, _server = replica()
    unreadable = await _died_mid_start(backend, CampaignRequest(agent_id=agent_id, leads=_leads(3), campaign_id="old"))
    ledger = Ledger(postgres_url, tenant=key_fingerprint(TEST_API_KEY))
    ledger.keep_source(unreadable, '{"written_by": "another version"}')  # e.g. mid rolling upgrade
    ledger.close()
    readable = await _died_mid_start(backend, CampaignRequest(agent_id=agent_id, leads=_leads(40), campaign_id="new"))

    other, server = replica()
    assert other.campaign_adopter is not None
    async with connect(server, "auto") as client:
        await ok(client, "list_agents")
        with anyio.fail_after(HANG_GUARD):
            await other.campaign_adopter.idle()
        assert (await ok(client, "get_campaign", {"campaign_id": readable}))["status"] == "completed"

    scheduled = _scheduled(sim)
    assert len(scheduled) == 40 and set(scheduled.values()) == {1}, "the readable one resumed, each lead once"
    other.campaign_store.orphaned(key_fingerprint(TEST_API_KEY))  # the next look, 15 s later
    said = [record for record in caplog.records if "cannot be resumed" in record.getMessage()]
    assert len(said) == 1 and unreadable in said[0].getMessage(), "said once, not at every look"


class _DatabaseDownFor:
    """A campaign store whose database is down for the first `looks` looks (the adopter's schedule is under test)."""

    def __init__(self, looks: int) -> None:
        self.down_for = looks
        self.looks = 0

    def orphaned(self, _tenant: str) -> list[CampaignRequest]:
        self.looks += 1
        if self.looks <= self.down_for:
            raise DatabaseUnavailable("The database postgres@db.internal:5432/telli is unreachable: connection refused")
        return []


def _adopter(store: _DatabaseDownFor, clock: Callable[[], float] = lambda: 0.0) -> CampaignAdopter:
    def unused(*_args: Any) -> Any:
        raise AssertionError("nothing is orphaned: nothing to resume")

    return CampaignAdopter(store, engine_for=unused, client_for=unused, clock=clock)  # type: ignore[arg-type]


async def test_while_the_database_is_down_the_looks_back_off_and_return_to_every_15_s_once_it_answers() -> None:
    store = _DatabaseDownFor(looks=6)
    adopter, pauses = _adopter(store), _Pauses()

    async with anyio.create_task_group() as group:
        adopter.attach(group)
        group.start_soon(partial(adopter.watch, TEST_API_KEY, pause=pauses.pause))
        for _ in range(8):
            await pauses.looked(adopter)
            pauses.next_look()
        group.cancel_scope.cancel()

    assert store.looks >= 8
    assert pauses.asked[:8] == [30, 60, 120, LOOK_AT_MOST_EVERY, LOOK_AT_MOST_EVERY, LOOK_AT_MOST_EVERY, 15, 15]


async def test_requests_during_an_outage_look_no_more_often_than_the_backed_off_wait() -> None:
    now = [0.0]
    store = _DatabaseDownFor(looks=1)
    adopter = _adopter(store, clock=lambda: now[0])

    async with anyio.create_task_group() as group:
        adopter.attach(group)
        for at in (0.0, 20.0, 29.0, 30.0, 40.0, 45.0):  # the first look fails: the next is due 30 s later, then 15
            now[0] = at
            adopter.poke(TEST_API_KEY)
            with anyio.fail_after(HANG_GUARD):
                await adopter.idle()
        group.cancel_scope.cancel()

    assert store.looks == 3, "looks at 0 (failed), 30 (answered) and 45"
