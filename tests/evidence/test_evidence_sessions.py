"""Legacy-era sessions are bounded: a flood of `initialize` cannot lock new clients out or grow memory.

Finding (issue 11): 10,000 anonymous `initialize` requests in 18 s locked out new legacy-era clients for up to
30 minutes and added 366 MB. Here the real HTTP app (`telli_mcp.serve.http_app`, served by uvicorn on a
loopback socket) runs with a small cap and shows:

* a flood ten times the cap is absorbed: every request answered, never more sessions than the cap, and then new
  legacy and 2026-07-28 clients are served (the 2026-07-28 era opens no session at all);
* connected clients, busy or just quiet, survive a flood; sessions with a request in flight are never closed,
  and only when every session is busy is a new one refused, with 503 and Retry-After;
* the flooder's own sessions are closed first (least recently active first) when another caller comes;
* a session answers only the credential that opened it (anything else gets the same 404 as an unknown id);
* idle sessions expire after TELLI_MCP_SESSION_IDLE_SECONDS.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any

import anyio
import httpx2
import pytest
from evidence_helpers import API_KEY, DemoIds, make_server
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.types import ElicitResult
from mcp_helpers import LEGACY_VERSION, MCP_HEADERS, initialize_request
from process_helpers import serving

from telli_mcp.client import key_fingerprint
from telli_mcp.config import Settings
from telli_mcp.serve import http_app
from telli_mcp.server.http_auth import RequireCallerKey
from telli_mcp.server.sessions import (
    RETRY_AFTER_SECONDS,
    SERVER_KEY_OWNER,
    BoundedSessionManager,
    sdk_shape_problems,
)
from telli_mcp.simulator import TelliSimulator

pytestmark = pytest.mark.anyio

KEY_B = "tk-tenant-b-5Hq8Wm3Rz7Lp2Vx9"
KEY_C = "tk-tenant-c-8Jd4Nt6Yc1Bs3Kf5"
CAP = 20
HANG_GUARD = 60.0
INITIALIZE = initialize_request("flood", request_id=0)
PING = {"jsonrpc": "2.0", "id": 1, "method": "ping"}


@dataclass(frozen=True)
class Served:
    url: str
    sim: TelliSimulator
    manager: BoundedSessionManager

    def ids(self) -> set[str]:
        return {view.session_id for view in self.manager.sessions()}

    def held(self) -> dict[str, int]:
        held: dict[str, int] = {}
        for view in self.manager.sessions():
            held[view.owner] = held.get(view.owner, 0) + 1
        return held


@contextmanager
def serve(**limits: Any) -> Iterator[Served]:
    """The real HTTP deployment (bounded sessions behind the caller-key check) on a loopback socket."""
    sim = TelliSimulator(api_keys=(API_KEY, KEY_B, KEY_C), seed_demo=True)
    app = http_app(make_server(sim, **limits), Settings(api_key=API_KEY, **limits), "127.0.0.1")
    assert isinstance(app, RequireCallerKey)
    manager = app.app.state.session_manager
    assert isinstance(manager, BoundedSessionManager)
    with serving(app) as base:
        yield Served(f"{base}/mcp", sim, manager)


def _auth(key: str | None) -> dict[str, str]:
    return {} if key is None else {"Authorization": f"Bearer {key}"}


async def initialize(http: httpx2.AsyncClient, url: str, key: str | None = None) -> httpx2.Response:
    return await http.post(url, json=INITIALIZE, headers={**MCP_HEADERS, **_auth(key)})


async def ping(http: httpx2.AsyncClient, url: str, session_id: str, key: str | None = None) -> httpx2.Response:
    headers = {**MCP_HEADERS, **_auth(key), "Mcp-Session-Id": session_id, "MCP-Protocol-Version": LEGACY_VERSION}
    return await http.post(url, json=PING, headers=headers)


async def flood(served: Served, count: int, key: str | None = None, *, at_once: int = 10) -> list[str]:
    """`count` raw initialize requests, `at_once` at a time; every one must open a session. Returns their ids.

    Also checks, after every answer, that the table never holds more than the cap.
    """
    ids: list[str] = []
    limit = anyio.Semaphore(at_once)

    async def one(http: httpx2.AsyncClient) -> None:
        async with limit:
            response = await initialize(http, served.url, key)
        assert response.status_code == 200, response.text
        ids.append(response.headers["mcp-session-id"])
        assert served.manager.open_sessions <= served.manager.session_cap

    async with httpx2.AsyncClient(timeout=30) as http, anyio.create_task_group() as tg:
        for _ in range(count):
            tg.start_soon(one, http)
    return ids


@asynccontextmanager
async def legacy_client(url: str, key: str | None = None, **kwargs: Any) -> AsyncIterator[Client]:
    async with (
        httpx2.AsyncClient(headers=_auth(key), timeout=30) as http,
        Client(streamable_http_client(url, http_client=http), mode="legacy", **kwargs) as client,
    ):
        yield client


async def until(condition: Callable[[], bool]) -> None:
    """Poll `condition()` in short steps; the test's hang guard bounds the wait."""
    while not condition():  # noqa: ASYNC110 - the state lives in the server's thread; no event to wait on
        await anyio.sleep(0.02)


def test_the_sdk_still_has_what_bounded_sessions_rely_on() -> None:
    # If this fails, the SDK changed the private parts sessions.py overrides: the bounds would silently vanish.
    assert sdk_shape_problems() == []


async def test_a_flood_ten_times_the_cap_leaves_new_clients_served() -> None:
    with anyio.fail_after(HANG_GUARD), serve(max_sessions=CAP) as served:
        opened = await flood(served, 10 * CAP)

        assert len(set(opened)) == 10 * CAP  # every flood request was answered with a session...
        assert served.manager.open_sessions == CAP  # ...yet the table (and its memory) stays at the cap
        assert served.ids() <= set(opened)

        before = served.ids()
        async with Client(served.url) as modern:  # 2026-07-28: stateless, no session opened or closed
            assert not (await modern.call_tool("list_agents", {})).is_error
        assert served.ids() == before

        async with legacy_client(served.url) as legacy:
            assert not (await legacy.call_tool("list_agents", {})).is_error
            assert served.manager.open_sessions == CAP


async def test_connected_clients_survive_a_flood_and_keep_working() -> None:
    with anyio.fail_after(HANG_GUARD), serve(max_sessions=CAP) as served:
        async with legacy_client(served.url, KEY_B) as tenant, legacy_client(served.url) as same_key_as_flood:
            assert not (await tenant.call_tool("list_agents", {})).is_error
            assert not (await same_key_as_flood.call_tool("list_agents", {})).is_error
            # Connected SDK clients hold their notification stream (GET) open; the flood's sessions hold nothing.
            await until(lambda: [v.state for v in served.manager.sessions()] == ["streaming"] * 2)
            ours = served.ids()

            await flood(served, 10 * CAP)

            assert ours <= served.ids()
            assert not (await tenant.call_tool("list_agents", {})).is_error
            assert not (await same_key_as_flood.call_tool("list_agents", {})).is_error


async def test_a_session_is_no_longer_busy_once_its_client_has_the_answer() -> None:
    # A flooder that sends its next `initialize` the moment it has an answer must find its earlier sessions
    # closable; if they still counted as busy, the only ones left to close would be connected clients' streams.
    with anyio.fail_after(HANG_GUARD), serve(max_sessions=10 * CAP) as served:
        still_busy: list[str] = []

        async def one(http: httpx2.AsyncClient) -> None:
            session_id = (await initialize(http, served.url)).headers["mcp-session-id"]
            if {v.session_id: v.state for v in served.manager.sessions()}[session_id] == "busy":
                still_busy.append(session_id)

        async with httpx2.AsyncClient(timeout=30) as http, anyio.create_task_group() as tg:
            for _ in range(10 * CAP):
                tg.start_soon(one, http)
        assert still_busy == []


class HeldConfirmation:
    """An elicitation callback that keeps the tool call in flight until released, then confirms."""

    def __init__(self) -> None:
        self.asked = anyio.Event()
        self.release = anyio.Event()

    async def __call__(self, _context: Any, _params: Any) -> ElicitResult:
        self.asked.set()
        await self.release.wait()
        return ElicitResult(action="accept", content={"confirm": True})


async def test_sessions_with_a_call_in_flight_are_never_closed_only_then_503() -> None:
    with anyio.fail_after(HANG_GUARD), serve(max_sessions=2) as served:
        contacts = [
            DemoIds.of(served.sim, API_KEY).contacts["crm-1008"],
            DemoIds.of(served.sim, KEY_B).contacts["crm-1009"],
        ]
        held = [HeldConfirmation(), HeldConfirmation()]
        results: list[Any] = []
        async with (
            legacy_client(served.url, elicitation_callback=held[0]) as first,
            legacy_client(served.url, KEY_B, elicitation_callback=held[1]) as second,
            anyio.create_task_group() as tg,
        ):

            async def delete(client: Client, contact_id: str) -> None:
                results.append(await client.call_tool("delete_contact", {"contact_id": contact_id}))

            tg.start_soon(delete, first, contacts[0])
            tg.start_soon(delete, second, contacts[1])
            await held[0].asked.wait()
            await held[1].asked.wait()
            assert [view.state for view in served.manager.sessions()] == ["busy", "busy"]

            async with httpx2.AsyncClient(timeout=30) as http:
                refused = await initialize(http, served.url)
            assert refused.status_code == 503
            assert refused.headers["retry-after"] == str(RETRY_AFTER_SECONDS)

            held[0].release.set()
            held[1].release.set()
        # Both calls finished on their sessions and did their work.
        assert [r.structured_content and r.structured_content["deleted"] for r in results] == [True, True]

        async with httpx2.AsyncClient(timeout=30) as http:
            assert (await initialize(http, served.url)).status_code == 200


async def test_the_caller_holding_the_most_sessions_loses_its_least_recently_used_first() -> None:
    with anyio.fail_after(HANG_GUARD), serve(max_sessions=CAP) as served:
        flooded = await flood(served, CAP, at_once=1)  # one after another: ids in order of last activity
        async with httpx2.AsyncClient(timeout=30) as http:
            assert (await ping(http, served.url, flooded[0])).status_code == 200  # the first is now the most recent

            tenant = [(await initialize(http, served.url, KEY_B)).headers["mcp-session-id"] for _ in range(3)]

            assert served.held() == {SERVER_KEY_OWNER: CAP - 3, key_fingerprint(KEY_B): 3}
            assert (await ping(http, served.url, flooded[0])).status_code == 200
            for evicted in flooded[1:4]:
                assert (await ping(http, served.url, evicted)).status_code == 404
            assert (await ping(http, served.url, flooded[4])).status_code == 200

            await flood(served, 3 * CAP)  # the flooder goes on: it only ever closes its own sessions
            for session_id in tenant:
                assert (await ping(http, served.url, session_id, KEY_B)).status_code == 200


async def test_a_request_refused_for_its_host_closes_no_session_to_make_room() -> None:
    with anyio.fail_after(HANG_GUARD), serve(max_sessions=CAP) as served:
        await flood(served, CAP)
        before = served.ids()
        async with httpx2.AsyncClient(timeout=30) as http:
            rebinding = await http.post(served.url, json=INITIALIZE, headers={**MCP_HEADERS, "Host": "evil.example"})
        assert rebinding.status_code == 421
        assert served.ids() == before


async def test_a_session_answers_only_the_credential_that_opened_it() -> None:
    with anyio.fail_after(HANG_GUARD), serve(max_sessions=CAP) as served:
        async with httpx2.AsyncClient(timeout=30) as http:
            session_id = (await initialize(http, served.url, KEY_B)).headers["mcp-session-id"]
            unknown = await ping(http, served.url, "0" * 32, KEY_B)
            other_key = await ping(http, served.url, session_id, KEY_C)
            no_key = await ping(http, served.url, session_id)
            own_key = await ping(http, served.url, session_id, KEY_B)

        assert unknown.status_code == 404
        for foreign in (other_key, no_key):
            assert (foreign.status_code, foreign.content) == (unknown.status_code, unknown.content)
        assert own_key.status_code == 200 and '"result"' in own_key.text


async def test_idle_sessions_expire() -> None:
    with anyio.fail_after(HANG_GUARD), serve(max_sessions=CAP, session_idle_seconds=0.2) as served:
        async with httpx2.AsyncClient(timeout=30) as http:
            session_id = (await initialize(http, served.url)).headers["mcp-session-id"]
            assert served.manager.open_sessions == 1

            await until(lambda: served.manager.open_sessions == 0)

            assert (await ping(http, served.url, session_id)).status_code == 404
