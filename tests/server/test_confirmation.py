"""Guardrails: calls and deletes happen only with the human's yes, by elicitation or by a bound token."""

from __future__ import annotations

from typing import Any

import pytest
from mcp import Client
from mcp.server.mcpserver import Context
from server_helpers import Answers, ServerFactory, connect, contact_id_of, fails, first_agent_id, ok, writes

from telli_mcp.server.results import ToolResult
from telli_mcp.server.risk import Risk, ToolSpec
from telli_mcp.server.surface import ToolDef, ToolRegistrationError
from telli_mcp.simulator import TelliSimulator

pytestmark = pytest.mark.anyio


async def _schedule_args(client: Client) -> dict[str, Any]:
    return {"contact_ids": [await contact_id_of(client, "crm-123")], "agent_id": await first_agent_id(client)}


async def test_accepted_confirmation_schedules_the_call_and_the_question_says_who_and_which_agent(
    make_server: ServerFactory, sim: TelliSimulator, mode: str
) -> None:
    answers = Answers("accept")
    async with connect(make_server(), mode, answers) as client:
        args = await _schedule_args(client)
        result = await ok(client, "schedule_calls", args)
    assert result["status"] == "scheduled" and result["scheduled_count"] == 1
    assert writes(sim) == ["POST /v1/schedule-calls-batch"]
    assert len(answers.questions) == 1
    assert "Max Mustermann" in answers.questions[0] and "Sales Agent" in answers.questions[0]
    assert "Europe/Berlin" in answers.questions[0]


@pytest.mark.parametrize(("action", "confirm"), [("decline", True), ("cancel", True), ("accept", False)])
async def test_declined_or_cancelled_confirmation_sends_nothing(
    make_server: ServerFactory, sim: TelliSimulator, mode: str, action: str, confirm: bool
) -> None:
    async with connect(make_server(), mode, Answers(action, confirm)) as client:
        args = await _schedule_args(client)
        error = await fails(client, "schedule_calls", args)
        contact_id = args["contact_ids"][0]
        delete_error = await fails(client, "delete_contact", {"contact_id": contact_id})
    assert "Nothing was done" in error and "Nothing was done" in delete_error
    assert writes(sim) == []


async def test_client_without_elicitation_gets_a_preview_and_token_and_the_token_executes_once(
    make_server: ServerFactory, sim: TelliSimulator, mode: str
) -> None:
    async with connect(make_server(), mode) as client:
        args = await _schedule_args(client)
        preview = await ok(client, "schedule_calls", args)
        assert writes(sim) == []
        token = preview["confirmation_token"]
        assert preview["status"] == "confirmation_required" and "Max Mustermann" in preview["confirmation_required"]
        done = await ok(client, "schedule_calls", {**args, "confirmation_token": token})
        reused = await fails(client, "schedule_calls", {**args, "confirmation_token": token})
    assert done["status"] == "scheduled"
    assert "already used" in reused
    assert writes(sim) == ["POST /v1/schedule-calls-batch"]


async def test_a_token_does_not_work_for_other_arguments_or_another_tool(
    make_server: ServerFactory, sim: TelliSimulator, mode: str
) -> None:
    async with connect(make_server(), mode) as client:
        args = await _schedule_args(client)
        token = (await ok(client, "schedule_calls", args))["confirmation_token"]
        other = await contact_id_of(client, "crm-1001")
        other_args = {**args, "contact_ids": [other], "confirmation_token": token}
        wrong_args = await fails(client, "schedule_calls", other_args)
        wrong_tool = await fails(
            client, "delete_contact", {"contact_id": args["contact_ids"][0], "confirmation_token": token}
        )
        tampered = await fails(client, "schedule_calls", {**args, "confirmation_token": token[:-2] + "xx"})
    assert "does not match" in wrong_args and "does not match" in wrong_tool and "does not match" in tampered
    assert writes(sim) == []


async def test_a_token_from_another_server_secret_is_refused(make_server: ServerFactory, sim: TelliSimulator) -> None:
    async with connect(make_server(), "auto") as client:
        args = await _schedule_args(client)
        token = (await ok(client, "schedule_calls", args))["confirmation_token"]
    async with connect(make_server(), "auto") as client:
        error = await fails(client, "schedule_calls", {**args, "confirmation_token": token})
    assert "does not match" in error
    assert writes(sim) == []


async def test_elicit_only_mode_refuses_when_the_client_cannot_be_asked(
    make_server: ServerFactory, sim: TelliSimulator, mode: str
) -> None:
    async with connect(make_server(confirm="elicit"), mode) as client:
        error = await fails(client, "schedule_calls", await _schedule_args(client))
    assert "cannot ask its user" in error
    assert writes(sim) == []


async def test_token_mode_never_elicits_even_when_the_client_could(make_server: ServerFactory, mode: str) -> None:
    answers = Answers("accept")
    async with connect(make_server(confirm="token"), mode, answers) as client:
        preview = await ok(client, "schedule_calls", await _schedule_args(client))
    assert preview["status"] == "confirmation_required"
    assert answers.questions == []


async def test_confirmation_off_executes_without_asking(
    make_server: ServerFactory, sim: TelliSimulator, mode: str
) -> None:
    async with connect(make_server(confirm="off"), mode) as client:
        contact_id = await contact_id_of(client, "crm-123")
        result = await ok(client, "delete_contact", {"contact_id": contact_id})
        gone = await fails(client, "get_contact", {"contact_id": contact_id})
    assert result["deleted"] is True
    assert "404" in gone
    assert writes(sim) == [f"DELETE /v2/contacts/{contact_id}"]


async def test_call_now_is_refused_outside_waking_hours_without_asking(
    make_server: ServerFactory, sim: TelliSimulator, mode: str
) -> None:
    answers = Answers("accept")
    async with connect(make_server(), mode, answers) as client:
        contact_id = await contact_id_of(client, "crm-123")
        agent_id = await first_agent_id(client)
        await sim.advance(14 * 3600)  # simulator starts Monday 08:00 UTC; this is 23:00 in Berlin
        error = await fails(client, "call_now", {"contact_id": contact_id, "agent_id": agent_id})
    assert "outside 08:00-21:00" in error and "schedule_calls" in error
    assert answers.questions == []
    assert writes(sim) == []


async def test_call_now_with_confirmation_starts_a_call_that_appears_once_finished(
    make_server: ServerFactory, sim: TelliSimulator, mode: str
) -> None:
    answers = Answers("accept")
    async with connect(make_server(), mode, answers) as client:
        contact_id = await contact_id_of(client, "crm-123")
        agent_id = await first_agent_id(client)
        before = await ok(client, "list_calls", {"contact_id": contact_id, "limit": 100})
        started = await ok(client, "call_now", {"contact_id": contact_id, "agent_id": agent_id})
        await sim.advance(10 * 60)
        after = await ok(client, "list_calls", {"contact_id": contact_id, "limit": 100})
    assert started["started"] is True
    assert writes(sim) == ["POST /v1/initiate-call"]
    assert len(after["calls"]) == len(before["calls"]) + 1
    assert "right now" in answers.questions[0]


async def test_unknown_contact_is_refused_before_asking(make_server: ServerFactory, sim: TelliSimulator) -> None:
    answers = Answers("accept")
    async with connect(make_server(), "auto", answers) as client:
        error = await fails(
            client,
            "schedule_calls",
            {"contact_ids": ["3c90c3cc-0d44-4b50-8888-8dd25736052a"], "agent_id": await first_agent_id(client)},
        )
    assert "no telli contact" in error
    assert answers.questions == [] and writes(sim) == []


async def _dial(contact_id: str, ctx: Context, confirmation_token: str | None = None) -> ToolResult:
    return ToolResult()


def test_a_tool_that_dials_or_erases_without_a_confirmation_cannot_even_be_declared() -> None:
    # Refused where the tool is declared (at import), so no server, whatever its toolsets, can ever offer it.
    spec = ToolSpec("dial_everyone", "Dial everyone", "calls", Risk.DESTRUCTIVE, idempotent=False, dials=True)
    with pytest.raises(ToolRegistrationError, match="declares no confirmation"):
        ToolDef(spec, _dial)


def test_only_a_destructive_tool_may_dial() -> None:
    with pytest.raises(ValueError, match="destructive"):
        ToolSpec("dial_quietly", "Dial quietly", "calls", Risk.WRITE, idempotent=False, dials=True)
