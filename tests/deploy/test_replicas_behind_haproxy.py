"""Two `telli-mcp --transport http` replicas behind a real HAProxy running the repo's deploy/haproxy.cfg.

Everything runs on loopback: the simulator (served in a thread, so its request log is what telli received), two
replica subprocesses that share TELLI_MCP_STATE_SECRET and a PostgreSQL schema of their own (each with its own
data directory, as on two machines: only the database can share a spent token), and HAProxy with the repo's
config, only its addresses changed (the plumbing: deployment.py; the fixtures: conftest.py). Clients are the real
`mcp.Client` over streamable HTTP, each with its own telli key as a bearer token. HAProxy's stats say which replica
answered what, and each replica's access log says the same from the other side.

Without HAProxy or PostgreSQL the tests skip, saying how to get them; in CI (CI=true) they fail instead.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import httpx2
import pytest
from deployment import STEP_SECONDS, Deployment, call, mcp_client, ok, text_of, wait_until_down
from mcp import Client

from telli_mcp.simulator import TEST_API_KEY, TelliSimulator

pytestmark = pytest.mark.anyio


@asynccontextmanager
async def _client(url: str, mode: str = "auto") -> AsyncIterator[Client]:
    async with mcp_client(url, TEST_API_KEY, mode=mode) as client:
        yield client


def _calls_placed(sim: TelliSimulator) -> int:
    return len(sim.requests_to("POST", "/v1/initiate-call"))


def _gained(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {name: after[name] - before.get(name, 0) for name in after}


async def test_one_token_replayed_through_both_replicas_places_one_call(
    deployment: Deployment, sim: TelliSimulator, sim_url: str
) -> None:
    async with _client(deployment.url) as client:
        contact_id = (await ok(client, "get_contact", {"external_id": "crm-123"}))["contact_id"]
        agent_id = (await ok(client, "list_agents"))["agents"][0]["agent_id"]
        # The replicas run on the wall clock: allow_outside_hours keeps the test independent of the time of day.
        # even_if_waiting: once the call is over telli puts the contact back in the dialer for a retry; a replay
        # must then meet nothing but the spent token.
        args = {"contact_id": contact_id, "agent_id": agent_id, "even_if_waiting": True, "allow_outside_hours": True}
        preview = await ok(client, "call_now", args)
        assert _calls_placed(sim) == 0, "a preview must place no call"
        token = preview["confirmation_token"]
        started = await ok(client, "call_now", {**args, "confirmation_token": token})
        assert started["started"] is True
        async with httpx2.AsyncClient(timeout=STEP_SECONDS) as http:  # the call ends in simulated time
            (await http.post(f"{sim_url}/_sim/advance", json={"seconds": 15 * 60})).raise_for_status()
        before = deployment.served()
        replays = [await call(client, "call_now", {**args, "confirmation_token": token}) for _ in range(4)]
        during_replays = _gained(before, deployment.served())
    assert all(replay.is_error and "already used" in text_of(replay) for replay in replays), [
        text_of(replay) for replay in replays
    ]
    assert _calls_placed(sim) == 1, "one confirmation, one call, however many replicas see the token"
    assert all(count >= 1 for count in during_replays.values()), f"a replica saw no replay: {during_replays}"
    answered = {replica.name: replica.mcp_requests() for replica in deployment.replicas}
    assert all(answered.values()), f"each replica's own log must show requests it answered: {answered}"


async def test_a_replica_killed_with_sigkill_is_taken_out_and_calls_go_on(deployment: Deployment) -> None:
    dead, alive = deployment.replicas
    rounds = 2 * len(deployment.replicas)
    async with _client(deployment.url) as client:
        for _ in range(rounds):
            await ok(client, "list_agents")
        assert all(deployment.served().values()), f"round robin reaches every replica: {deployment.served()}"
        dead.kill()
        # Right away, before the health check has noticed: connection failures are redispatched.
        for _ in range(rounds):
            await ok(client, "list_agents")
        await anyio.to_thread.run_sync(wait_until_down, deployment, dead.name)
        before = deployment.served()
        for _ in range(rounds):
            await ok(client, "list_agents")
        after_down = _gained(before, deployment.served())
    assert after_down[dead.name] == 0 and after_down[alive.name] == rounds, after_down
    assert deployment.stats()[alive.name]["status"] == "UP"


async def test_a_legacy_era_session_sticks_to_the_replica_that_opened_it(deployment: Deployment) -> None:
    # Round robin alone would send the session's second request to the other replica, which knows no such session.
    before = deployment.served()
    async with _client(deployment.url, mode="legacy") as client:
        for _ in range(2 * len(deployment.replicas)):
            await ok(client, "list_agents")
    used = {name: count for name, count in _gained(before, deployment.served()).items() if count}
    assert len(used) == 1, f"one legacy session, one replica: {used}"
