"""What the tools do when the shared database goes away in the middle of a call.

Two promises: a tool that dials never dials without the do-not-call list's answer (the database going away while
the human is asked leaves everybody undialled); and a tool that changed telli reports what telli did, however the
database fails after it (an error there reads "not sent, call again", and the caller would do it twice or never
learn what happened). The database goes through a relay the test closes (`relay_helpers`); telli is the simulator.
"""

from __future__ import annotations

from typing import Any

import httpx2
import pytest
from mcp.server.mcpserver import MCPServer
from postgres_helpers import postgres_url  # noqa: F401  # the fixture, for the tests here
from relay_helpers import Relay, relayed
from server_helpers import Answers, ServerFactory, connect, ok, text_of

from telli_mcp.backend import Backend
from telli_mcp.client import ContactV1Create, ScheduleCall, TelliClient
from telli_mcp.config import Settings
from telli_mcp.server import build_server
from telli_mcp.simulator import TEST_API_KEY, TelliSimulator

pytestmark = pytest.mark.anyio

DIAL_PATHS = ("/v1/schedule-call", "/v1/initiate-call")
"""Every telli request that puts a contact into the dialer or rings them (schedule-call, schedule-calls-batch)."""
REMOVE_PATH = "/v1/remove-from-auto-dialer-batch"
SCHEDULE_PATH = "/v1/schedule-calls-batch"
NORA = {"first_name": "Nora", "last_name": "Fictional", "phone_number": "+4930555010"}


async def _no_sleep(_seconds: float) -> None:
    return None


def _dialled(sim: TelliSimulator) -> list[str]:
    return [f"{r.method} {r.path}" for r in sim.request_log if r.path.startswith(DIAL_PATHS)]


class GoesDownWhileAsked(Answers):
    """Says yes, but the database goes away while the question is on screen."""

    def __init__(self, relay: Relay) -> None:
        super().__init__("accept")
        self.relay = relay

    async def __call__(self, context: Any, params: Any) -> Any:
        self.relay.close()
        return await super().__call__(context, params)


DIAL_CASES: dict[str, Any] = {
    "schedule_calls": lambda contact_id, agent_id: {"contact_ids": [contact_id], "agent_id": agent_id},
    "call_now": lambda contact_id, agent_id: {"contact_id": contact_id, "agent_id": agent_id},
    "reschedule_contacts": lambda contact_id, agent_id: {
        "contact_ids": [contact_id],
        "agent_id": agent_id,
        "also_not_waiting": True,
    },
    "start_campaign": lambda _contact_id, agent_id: {
        "agent_id": agent_id,
        "leads": [{**NORA, "phone_number": "+4930555011"}],
    },
}


@pytest.mark.parametrize("tool", sorted(DIAL_CASES))
async def test_a_database_gone_while_the_human_is_asked_dials_nobody(
    make_server: ServerFactory,
    sim: TelliSimulator,
    mode: str,
    tool: str,
    postgres_url: str,  # noqa: F811  # the fixture above
) -> None:
    with relayed(postgres_url) as (url, relay):
        answers = GoesDownWhileAsked(relay)
        server = make_server(database_url=url, toolsets=("all",))
        async with connect(server, mode, answers) as client:
            contact_id = (await ok(client, "create_contact", NORA))["contact_id"]
            agent_id = (await ok(client, "list_agents"))["agents"][0]["agent_id"]
            sim.request_log.clear()
            result = await client.call_tool(tool, DIAL_CASES[tool](contact_id, agent_id))
    assert answers.questions, f"{tool} dialled without asking: {text_of(result)}"
    assert _dialled(sim) == [], f"{tool} dialled without the do-not-call list's answer"


async def test_a_contact_deleted_while_the_database_is_down_is_reported_deleted(
    make_server: ServerFactory,
    sim: TelliSimulator,
    mode: str,
    postgres_url: str,  # noqa: F811
) -> None:
    with relayed(postgres_url) as (url, relay):
        server = make_server(database_url=url)
        async with connect(server, mode, Answers("accept")) as client:
            contact_id = (await ok(client, "create_contact", NORA))["contact_id"]
            await ok(client, "get_status")  # reads the event store: its connection is open
            relay.close()  # and now gone: the contact's events cannot be forgotten
            deleted = await ok(client, "delete_contact", {"contact_id": contact_id})
    assert deleted == {**deleted, "deleted": True, "contact_id": contact_id}
    assert contact_id not in {contact.id for contact in sim.account(TEST_API_KEY).live_contacts()}


# -- reschedule_contacts: the database goes away between taking contacts out and scheduling them ---------------------


class DownAfter(httpx2.AsyncBaseTransport):
    """The simulator; the database goes away once telli has answered the first request to `path`."""

    def __init__(self, sim: TelliSimulator, relay: Relay, path: str) -> None:
        self._inner = sim.transport()
        self._relay = relay
        self._path = path

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        response = await self._inner.handle_async_request(request)
        if request.url.path == self._path:
            self._relay.close()
        return response


def _server(sim: TelliSimulator, url: str, transport: httpx2.AsyncBaseTransport) -> MCPServer[Any]:
    settings = Settings(api_key=TEST_API_KEY, database_url=url, toolsets=("default", "bulk"))
    return build_server(Backend.simulated(settings, sim, transport=transport, sleep=_no_sleep))


async def _waiting_leads(sim: TelliSimulator, count: int, agent_id: str) -> list[str]:
    """`count` new contacts, each waiting in `agent_id`'s dialer."""
    leads = [
        ContactV1Create(
            external_contact_id=f"outage-{index}",
            first_name="Lead",
            last_name=f"N{index}",
            phone_number=f"+49305558{index:04d}",
        )
        for index in range(count)
    ]
    async with TelliClient(TEST_API_KEY, transport=sim.transport()) as client:
        ids = [item.contact_id or "" for item in (await client.contacts_v1.add_batch(leads)).items]
        await client.calls.schedule_batch([ScheduleCall(contact_id=c, agent_id=agent_id) for c in ids])
    return ids


def _waiting_with(sim: TelliSimulator, contact_id: str) -> str | None:
    loop = sim.account(TEST_API_KEY).active_loop_for(contact_id)
    return None if loop is None else loop.agent_id


async def test_a_move_cut_off_by_the_database_reports_who_is_out_of_the_dialer_and_schedules_nobody(
    sim: TelliSimulator,
    mode: str,
    postgres_url: str,  # noqa: F811
) -> None:
    old, new = (agent.id for agent in sim.account(TEST_API_KEY).agents_in_order()[:2])
    ids = await _waiting_leads(sim, 52, old)  # two rounds: 50, then 2
    first, second = ids[:50], ids[50:]
    sim.request_log.clear()
    with relayed(postgres_url) as (url, relay):
        server = _server(sim, url, DownAfter(sim, relay, REMOVE_PATH))
        async with connect(server, mode, Answers("accept")) as client:
            result = await client.call_tool("reschedule_contacts", {"contact_ids": ids, "agent_id": new})

    assert not result.is_error, f"telli took contacts out of the dialer, yet the tool said: {text_of(result)}"
    moved = result.structured_content or {}
    rows = {row["contact_id"]: row for row in moved["contacts"]}
    assert sim.requests_to("POST", SCHEDULE_PATH) == []  # nobody scheduled without the list's answer
    # The first round was taken out and not scheduled: the result names each one, and says why.
    assert moved["counts"] == {"out_of_dialer": 50, "not_sent": 2}
    assert sorted(moved["out_of_dialer"]) == sorted(first)
    shown_out = [row for row in rows.values() if row["status"] == "out_of_dialer"]
    assert shown_out and all(row["now"] == "out_of_dialer" for row in shown_out)
    assert all("do-not-call list could not be read" in row["detail"] for row in shown_out)
    assert [_waiting_with(sim, c) for c in first] == [None] * 50
    # The second round was not sent: still waiting with the old agent, and said so.
    assert [_waiting_with(sim, c) for c in second] == [old, old]
    assert all(rows[c]["now"] == "as_before" for c in second if c in rows)
    assert moved["status"] == "not_moved" and "out_of_dialer" in moved["note"]


async def test_get_status_answers_while_the_database_is_down_and_names_it(
    make_server: ServerFactory,
    sim: TelliSimulator,
    mode: str,
    postgres_url: str,  # noqa: F811
) -> None:
    with relayed(postgres_url) as (url, relay):
        async with connect(make_server(database_url=url), mode) as client:
            await ok(client, "get_status")  # reads the event store: its connection is open
            relay.close()
            status = await ok(client, "get_status")
    assert status["key_valid"] is True
    assert status["webhooks"].startswith("webhook events could not be read: The database postgres@127.0.0.1:")
    assert postgres_url.split("@")[0].split(":")[-1] not in status["webhooks"]  # never the password
