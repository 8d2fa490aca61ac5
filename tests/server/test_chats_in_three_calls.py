"""The five chats issue 15 started from, replayed in the sandbox through the real MCP client, counting tool calls.

Each is what an assistant that sees only our tools would do for the user's sentence; each must take at most three
tool calls, and its answer is checked against the simulator's own records (not against another tool's output).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from mcp import Client
from server_helpers import Answers, connect, ok

from telli_mcp.backend import open_backend
from telli_mcp.config import Settings
from telli_mcp.sandbox import DEMO_API_KEY
from telli_mcp.server import build_server
from telli_mcp.simulator import TelliSimulator
from telli_mcp.simulator.records import CallStatus, LoopState

pytestmark = pytest.mark.anyio

MOST_CALLS = 3


@dataclass
class Chat:
    """One conversation's tool calls, through one client (each must succeed)."""

    client: Client
    tools: list[str] = field(default_factory=list)

    async def call(self, tool: str, args: dict[str, Any] | None = None) -> dict[str, Any]:
        self.tools.append(tool)
        return await ok(self.client, tool, args)

    async def verify(self, tool: str, args: dict[str, Any]) -> dict[str, Any]:
        """A call the test makes to see the chat's effect (not counted: the user did not ask for it)."""
        return await ok(self.client, tool, args)


@asynccontextmanager
async def chat(mode: str) -> AsyncIterator[tuple[Chat, TelliSimulator]]:
    """A sandbox server whose clock only moves when asked, a client that says yes to every question."""
    backend = open_backend(Settings(sandbox=True), sandbox_speed=0)
    assert backend.sandbox is not None
    async with connect(build_server(backend), mode, Answers("accept")) as client:
        conversation = Chat(client)
        yield conversation, backend.sandbox.simulator
        assert len(conversation.tools) <= MOST_CALLS, conversation.tools


def _account(sim: TelliSimulator) -> Any:
    return sim.account(DEMO_API_KEY)


def _contact_named(sim: TelliSimulator, first: str, last: str) -> Any:
    return next(c for c in _account(sim).contacts.values() if (c.first_name, c.last_name) == (first, last))


def _now(status: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(status["now"].split(";")[0])


async def test_what_did_max_say_on_his_last_call(mode: str) -> None:
    async with chat(mode) as (conversation, sim):
        found = await conversation.call("find_contacts", {"name": "Max Mustermann"})
        contact_id = found["contacts"][0]["contact_id"]
        calls = await conversation.call("list_calls", {"contact_id": contact_id, "limit": 1})
        transcript = await conversation.call("get_call_transcript", {"call_id": calls["calls"][0]["call_id"]})
    max_ = _contact_named(sim, "Max", "Mustermann")
    last = max((c for c in _account(sim).calls.values() if c.contact_id == max_.id), key=lambda c: c.triggered_at)
    assert found["total"] == 1 and contact_id == max_.id
    assert transcript["call_id"] == last.call_id
    said = [line.content for line in last.transcript if line.role == "user"]
    assert said and all(line in transcript["text"] for line in said)


async def test_which_contacts_have_not_been_reached_this_week(mode: str) -> None:
    async with chat(mode) as (conversation, sim):
        status = await conversation.call("get_status")
        now = _now(status)
        monday = (now - timedelta(days=now.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
        found = await conversation.call("find_contacts", {"reached_before": monday.isoformat(), "limit": 50})
    expected = {
        c.id
        for c in _account(sim).contacts.values()
        if not c.deleted and (c.reached_at is None or c.reached_at < monday)
    }
    assert found["total"] == len(expected)
    assert {c["contact_id"] for c in found["contacts"]} == expected


async def test_move_everyone_on_the_silver_plan_to_the_appointment_setter(mode: str) -> None:
    async with chat(mode) as (conversation, sim):
        agents = await conversation.call("list_agents")
        setter = next(a["agent_id"] for a in agents["agents"] if a["title"] == "Appointment Setter")
        args = {"query": {"property_equals": {"plan": "silver"}}, "agent_id": setter, "also_not_waiting": True}
        moved = await conversation.call("reschedule_contacts", args)
    assert moved["status"] == "moved"
    account = _account(sim)
    silver = {c.id for c in account.contacts.values() if c.custom.get("plan") == "silver" and not c.deleted}
    live = {loop.contact_id: loop.agent_id for loop in account.loops.values() if loop.state is LoopState.ACTIVE}
    assert silver and all(live.get(contact_id) == setter for contact_id in silver)


async def test_how_did_this_weeks_calls_go_and_how_many_booked_an_appointment(mode: str) -> None:
    async with chat(mode) as (conversation, sim):
        status = await conversation.call("get_status")
        now = _now(status)
        since = now - timedelta(days=7)
        stats = await conversation.call("call_stats", {"since": since.isoformat(), "until": now.isoformat()})
    calls = [c for c in _account(sim).calls.values() if since <= c.triggered_at < now]
    assert calls, "the demo data has no calls in the last week"
    assert stats["calls"] == len(calls) and stats["complete"]
    assert stats["by_status"] == {
        s: sum(1 for c in calls if c.call_status == s) for s in {c.call_status for c in calls}
    }
    booked = sum(1 for c in calls if c.call_status is CallStatus.COMPLETED and c.call_outcome.get("appointment_booked"))
    assert stats["appointments"] == booked >= 1


async def test_never_call_jane_doe_again(mode: str) -> None:
    async with chat(mode) as (conversation, sim):
        found = await conversation.call("find_contacts", {"name": "jane doe"})
        person = found["contacts"][0]
        await conversation.call(
            "add_to_do_not_call", {"phone_numbers": [person["phone_number"]], "reason": "asked on the phone"}
        )
        jane = _contact_named(sim, "Jane", "Doe")
        # The effect the user asked for: the next attempt to have her called does not reach telli.
        before = len(sim.request_log)
        result = await conversation.verify("schedule_calls", {"contact_ids": [jane.id], "agent_id": _agent(sim)})
    assert person["contact_id"] == jane.id
    assert [skip["reason"] for skip in result["skipped"]] == ["do_not_call"]
    assert not [r for r in sim.request_log[before:] if r.path == "/v1/schedule-calls-batch"]


def _agent(sim: TelliSimulator) -> str:
    return next(iter(_account(sim).agents.values())).id
