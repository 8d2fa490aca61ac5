"""A confirmation token is spent once across replicas and restarts that share the state secret and the store.

Each "replica" is a server on its own backend (its own clients, stores and token signer) against one telli (the
simulator), configured as replicas are: the same TELLI_MCP_STATE_SECRET, and either the same data directory
(SQLite, one machine) or the same TELLI_MCP_DATABASE_URL (PostgreSQL). What counts is what telli received: the
calls it was asked to place.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.server.mcpserver import MCPServer
from postgres_helpers import postgres_url  # noqa: F401  # the fixture, for the tests here
from process_helpers import free_port
from server_helpers import connect, contact_id_of, fails, first_agent_id, ok, text_of

from telli_mcp.backend import Backend
from telli_mcp.config import Settings
from telli_mcp.server import build_server
from telli_mcp.simulator import TEST_API_KEY, TelliSimulator

pytestmark = pytest.mark.anyio
SHARED_SECRET = "replicas-share-this-state-secret"
PASSWORD = "s3cret-Passw0rd"
Replica = Callable[[], MCPServer[Any]]


async def _no_sleep(_seconds: float) -> None:
    return None


@pytest.fixture(params=["sqlite", "postgresql"])
def shared_store(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    """The settings that make replicas share their spent tokens."""
    if request.param == "sqlite":
        return {"data_dir": str(tmp_path / "shared-data")}
    return {"database_url": request.getfixturevalue("postgres_url")}


@pytest.fixture
async def replica(sim: TelliSimulator, shared_store: dict[str, str]) -> AsyncIterator[Replica]:
    """Start another replica (or restart one): a new backend and server with the shared secret and store."""
    backends: list[Backend] = []

    def start() -> MCPServer[Any]:
        settings = Settings(api_key=TEST_API_KEY, state_secret=SHARED_SECRET, confirm="token", **shared_store)
        backends.append(Backend.simulated(settings, sim, sleep=_no_sleep))
        return build_server(backends[-1])

    yield start
    for backend in backends:
        await backend.aclose()


def _calls_placed(sim: TelliSimulator) -> int:
    return len(sim.requests_to("POST", "/v1/initiate-call"))


async def _call_now_args(client: Client) -> dict[str, Any]:
    # even_if_waiting: once the call is over, telli puts the contact back in the dialer for a retry; the replay
    # must then meet nothing but the spent token.
    contact_id, agent_id = await contact_id_of(client, "crm-123"), await first_agent_id(client)
    return {"contact_id": contact_id, "agent_id": agent_id, "even_if_waiting": True}


async def test_a_token_issued_by_one_replica_places_one_call_through_another_and_never_again(
    replica: Replica, sim: TelliSimulator, mode: str
) -> None:
    first, second = replica(), replica()
    async with connect(first, mode) as on_first, connect(second, mode) as on_second:
        args = await _call_now_args(on_first)
        token = (await ok(on_first, "call_now", args))["confirmation_token"]
        started = await ok(on_second, "call_now", {**args, "confirmation_token": token})
        assert started["started"] is True and _calls_placed(sim) == 1
        await sim.advance(15 * 60)  # the call is over: only the spent token stands between a replay and a call
        replays = [
            await fails(client, "call_now", {**args, "confirmation_token": token}) for client in (on_first, on_second)
        ]
    async with connect(replica(), mode) as after_restart:
        replays.append(await fails(after_restart, "call_now", {**args, "confirmation_token": token}))
    assert all("already used" in replay for replay in replays), replays
    assert _calls_placed(sim) == 1


@pytest.mark.parametrize("shared_store", ["postgresql"], indirect=True)
async def test_two_replicas_redeeming_one_token_at_once_place_one_call(replica: Replica, sim: TelliSimulator) -> None:
    # PostgreSQL only: there both redeems are past their checks and waiting on the database when they race (with
    # SQLite in one process the spends run one after the other; tests/database races its stores directly).
    first, second = replica(), replica()
    answers: list[str] = []
    async with connect(first, "auto") as on_first, connect(second, "auto") as on_second:
        args = await _call_now_args(on_first)
        token = (await ok(on_first, "call_now", args))["confirmation_token"]

        async def redeem(client: Client) -> None:
            result = await client.call_tool("call_now", {**args, "confirmation_token": token})
            answers.append("error: " + text_of(result) if result.is_error else "started")

        async with anyio.create_task_group() as racing:
            racing.start_soon(redeem, on_first)
            racing.start_soon(redeem, on_second)
    refused, started = sorted(answers)
    assert started == "started" and "already used" in refused, answers
    assert _calls_placed(sim) == 1


async def test_a_shared_database_that_is_down_refuses_the_token_without_its_password_and_places_nothing(
    sim: TelliSimulator,
    mode: str,
    postgres_url: str,  # noqa: F811
) -> None:
    # A healthy replica issues the token; the replica it is redeemed on has lost the database.
    up = Backend.simulated(_replica_settings(postgres_url), sim, sleep=_no_sleep)
    async with connect(build_server(up), mode) as client:
        args = await _call_now_args(client)
        token = (await ok(client, "call_now", args))["confirmation_token"]
    await up.aclose()
    down, port = _replica_without_its_database(sim)
    async with connect(build_server(down), mode) as client:
        preview = await fails(client, "call_now", args)  # the do-not-call list cannot be read either
        error = await fails(client, "call_now", {**args, "confirmation_token": token})
    await down.aclose()
    for answer in (preview, error):
        assert f"The database telli@127.0.0.1:{port}/telli_mcp is unreachable" in answer and "not sent" in answer
        assert PASSWORD not in answer
    assert _calls_placed(sim) == 0


def _replica_settings(database_url: str) -> Settings:
    return Settings(api_key=TEST_API_KEY, state_secret=SHARED_SECRET, confirm="token", database_url=database_url)


def _replica_without_its_database(sim: TelliSimulator) -> tuple[Backend, int]:
    """A replica whose database is down (nothing listens on its port), and that port."""
    port = free_port()
    url = f"postgresql://telli:{PASSWORD}@127.0.0.1:{port}/telli_mcp"
    return Backend.simulated(_replica_settings(url), sim, sleep=_no_sleep), port


async def test_a_token_that_cannot_be_recorded_as_spent_erases_nothing(
    sim: TelliSimulator,
    mode: str,
    postgres_url: str,  # noqa: F811
) -> None:
    up = Backend.simulated(_replica_settings(postgres_url), sim, sleep=_no_sleep)
    async with connect(build_server(up), mode) as client:
        contact_id = await contact_id_of(client, "crm-123")
        token = (await ok(client, "delete_contact", {"contact_id": contact_id}))["confirmation_token"]
    await up.aclose()
    down, port = _replica_without_its_database(sim)
    async with connect(build_server(down), mode) as client:
        error = await fails(client, "delete_contact", {"contact_id": contact_id, "confirmation_token": token})
    await down.aclose()
    assert f"The database telli@127.0.0.1:{port}/telli_mcp is unreachable" in error and "Nothing was done" in error
    assert PASSWORD not in error
    assert sim.requests_to("DELETE", "/") == []  # telli was never asked to delete
