"""Every call has a deadline: a trickling telli and a silent human cannot hold a tool call open.

The finding: a telli that trickles one byte per second kept every tool hanging past 150 s, even with
TELLI_TIMEOUT_SECONDS=5, and an unanswered confirmation question waited forever. Here telli trickles every
answer a byte per second (a simulator fault; each answer would take minutes), TELLI_TIMEOUT_SECONDS is 5 and
TELLI_MCP_TOOL_DEADLINE_SECONDS is 0.5: every tool of the default catalogue plus `phone_numbers_admin` must
answer well inside a 30 s hang guard, name the deadline and its setting, never send a creating or dialling POST
twice, and, when telli did act, never claim that nothing changed. The walk runs in one protocol era (one fresh
simulator and connection per tool, all at once); representative tools run in both. A legacy-era client whose
human never answers gets "nothing was done" after TELLI_MCP_ELICITATION_TIMEOUT_SECONDS, and telli is untouched.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import anyio
import pytest
from evidence_helpers import (
    API_KEY,
    MODES,
    DemoIds,
    assert_no_key,
    creating_posts,
    make_server,
    new_sim,
    our_message,
    prepare,
    telli_state,
    text_of,
)
from mcp import Client
from mcp.server.mcpserver import MCPServer
from mcp.types import CallToolResult, ElicitRequestFormParams, ElicitResult
from mcp_helpers import connect

from telli_mcp.simulator import Fault, TelliSimulator

pytestmark = pytest.mark.anyio

DEADLINE = 0.5
HANG_GUARD = 30
SETTING = "TELLI_MCP_TOOL_DEADLINE_SECONDS"
LOCAL_TOOLS = frozenset({"list_campaigns"})
"""Tools that answer from the local campaign ledger without asking telli."""
CHANGED_BUT_NOTHING = "Nothing was changed"


def _trickle(sim: TelliSimulator, **match: str) -> None:
    sim.inject(Fault(kind="trickle", latency=1.0, times=-1, **match))


def _server(sim: TelliSimulator, **overrides: Any) -> MCPServer[Any]:
    """TELLI_TIMEOUT_SECONDS=5 (as in the finding), the tool deadline short, confirmation off unless asked for."""
    settings = {"confirm": "off", "tool_deadline_seconds": DEADLINE, "timeout_seconds": 5, **overrides}
    return make_server(sim, **settings)


@dataclass
class Outcome:
    tool: str
    writes: bool
    result: CallToolResult
    sim: TelliSimulator
    changed: bool
    """telli's state differs from before the call: a request that changes something was processed."""


async def _listed_tools() -> dict[str, bool]:
    """Every listed tool, and whether it may change something (not read-only)."""
    async with connect(_server(new_sim()), "auto") as client:
        tools = (await client.list_tools()).tools
    return {tool.name: not (tool.annotations and tool.annotations.read_only_hint) for tool in tools}


async def _trickled_call(tool: str, writes: bool, outcomes: list[Outcome]) -> None:
    sim = new_sim()
    ids = DemoIds.of(sim)
    async with connect(_server(sim), "auto") as client:
        args = await prepare(client, sim, tool, ids)  # e.g. starts the campaign get_campaign reads, untrickled
        before = telli_state(sim)
        _trickle(sim)
        result = await client.call_tool(tool, args)
    outcomes.append(Outcome(tool, writes, result, sim, telli_state(sim) != before))


async def test_every_tool_answers_within_its_deadline_when_telli_trickles() -> None:
    tools = await _listed_tools()
    outcomes: list[Outcome] = []
    with anyio.fail_after(HANG_GUARD):
        async with anyio.create_task_group() as group:
            for tool, writes in tools.items():
                group.start_soon(_trickled_call, tool, writes, outcomes)
    assert {outcome.tool for outcome in outcomes} == set(tools)
    for outcome in outcomes:
        _check_trickled(outcome)


def _check_trickled(outcome: Outcome) -> None:
    tool, result, text = outcome.tool, outcome.result, text_of(outcome.result)
    assert_no_key(text)
    posts = creating_posts(outcome.sim.request_log)
    assert len(posts) == len(set(posts)), f"{tool}: a creating or dialling POST was sent twice: {posts}"
    if tool in LOCAL_TOOLS:
        assert not result.is_error and not outcome.sim.request_log, f"{tool}: {text[:300]}"
        return
    if tool == "get_status":
        # It reports what it knows: the settings, and that the key could not be checked in time.
        assert not result.is_error and result.structured_content is not None, text[:300]
        assert result.structured_content["key_valid"] is None, text[:300]
        return
    # An error naming the deadline, or (batch tools) a per-contact report naming it.
    assert SETTING in text and f"{DEADLINE:g} s" in text, f"{tool}: the answer does not name the deadline: {text[:400]}"
    if not outcome.writes:
        assert result.is_error and not outcome.changed, f"{tool}: {text[:300]}"
        assert CHANGED_BUT_NOTHING in our_message(result, tool), f"{tool}: {text[:300]}"
    elif outcome.changed:
        # telli applied a write whose answer never arrived: the model must hear that the outcome is unknown.
        assert CHANGED_BUT_NOTHING not in text, f"{tool}: telli changed, but the answer says nothing did: {text[:400]}"
        assert _says_unknown(result), f"{tool}: telli changed, but the answer does not say so: {text[:400]}"


def _says_unknown(result: CallToolResult) -> bool:
    """An error saying telli may have acted and to check first, or a batch report marking each item unknown."""
    text = text_of(result)
    if result.is_error:
        return "may or may not" in text and "check first" in text
    problems = (result.structured_content or {}).get("problems") or []
    return bool(problems) and all(problem["status"] == "unknown" for problem in problems)


@pytest.mark.parametrize("mode", MODES)
async def test_a_dialling_tool_stops_at_its_deadline_before_it_dials(mode: str) -> None:
    sim = new_sim()
    ids = DemoIds.of(sim)
    _trickle(sim, method="GET")  # the reads that plan the calls
    args = {"contact_ids": [ids.contacts["crm-1005"]], "agent_id": ids.sales_agent}
    async with connect(_server(sim), mode) as client:
        with anyio.fail_after(HANG_GUARD):
            result = await client.call_tool("schedule_calls", args)
    message = our_message(result, "schedule_calls")
    assert result.is_error and SETTING in message and CHANGED_BUT_NOTHING in message, message
    assert not [r for r in sim.request_log if r.method == "POST"], "a call was scheduled after the deadline"


@pytest.mark.parametrize("mode", MODES)
async def test_a_write_cut_off_by_the_deadline_is_reported_unknown_with_the_check(mode: str) -> None:
    sim = new_sim()
    _trickle(sim, method="POST", path="/v2/contacts")
    args = {"first_name": "Ida", "last_name": "Roth", "phone_number": "+493090182077", "external_id": "crm-slow"}
    async with connect(_server(sim), mode) as client:
        with anyio.fail_after(HANG_GUARD):
            result = await client.call_tool("create_contact", args)
    message = our_message(result, "create_contact")
    assert result.is_error and SETTING in message, message
    assert "may or may not" in message and "Do not simply retry" in message, message
    assert len(sim.requests_to("POST", "/v2/contacts")) == 1  # telli created it once; nothing re-sent it
    assert [c.external_id for c in sim.account(API_KEY).live_contacts()].count("crm-slow") == 1


def _never_answers(asked: anyio.Event, release: anyio.Event) -> Any:
    async def callback(_context: Any, params: Any) -> ElicitResult:
        assert isinstance(params, ElicitRequestFormParams)
        asked.set()
        await release.wait()  # the human walked away
        return ElicitResult(action="accept", content={"confirm": True})

    return callback


async def test_an_unanswered_confirmation_is_withdrawn_after_its_timeout_and_nothing_is_done() -> None:
    sim = new_sim()
    contact = DemoIds.of(sim).contacts["crm-1009"]
    server = _server(sim, confirm="auto", elicitation_timeout_seconds=0.3)
    asked, release = anyio.Event(), anyio.Event()
    callback = _never_answers(asked, release)
    async with Client(server, mode="legacy", cache=None, elicitation_callback=callback) as client:
        with anyio.fail_after(HANG_GUARD):
            result = await client.call_tool("delete_contact", {"contact_id": contact})
        release.set()
    message = our_message(result, "delete_contact")
    assert asked.is_set() and result.is_error, message
    assert "did not answer" in message and "0.3 s" in message, message
    assert "TELLI_MCP_ELICITATION_TIMEOUT_SECONDS" in message and "Nothing was done" in message, message
    assert not [r for r in sim.request_log if r.method == "DELETE"], "deleted without an answer"
    assert contact in {c.id for c in sim.account(API_KEY).live_contacts()}


async def test_the_humans_thinking_time_does_not_count_against_the_telli_deadline() -> None:
    sim = new_sim()
    contact = DemoIds.of(sim).contacts["crm-1009"]
    server = _server(sim, confirm="auto", tool_deadline_seconds=0.3)

    async def slow_yes(_context: Any, _params: Any) -> ElicitResult:
        await anyio.sleep(0.5)  # longer than the whole telli deadline
        return ElicitResult(action="accept", content={"confirm": True})

    async with Client(server, mode="legacy", cache=None, elicitation_callback=slow_yes) as client:
        with anyio.fail_after(HANG_GUARD):
            result = await client.call_tool("delete_contact", {"contact_id": contact})
    assert not result.is_error and result.structured_content is not None, text_of(result)
    assert result.structured_content["deleted"] is True


@pytest.mark.parametrize("mode", MODES)
async def test_resource_reads_and_completions_stop_at_the_deadline_too(mode: str) -> None:
    from mcp.types import ResourceTemplateReference

    sim = new_sim()
    ids = DemoIds.of(sim)
    _trickle(sim)
    with anyio.fail_after(HANG_GUARD):
        async with connect(_server(sim), mode) as client:
            with pytest.raises(Exception, match="TelliTimeoutError"):
                await client.read_resource(f"telli://contacts/{ids.contacts['crm-123']}")
            with pytest.raises(Exception, match="TelliTimeoutError"):
                await client.read_resource("telli://properties")
            completed = await client.complete(
                ResourceTemplateReference(type="ref/resource", uri="telli://contacts/{contact_id}"),
                {"name": "contact_id", "value": ""},
            )
    assert completed.completion.values == []
    assert sim.request_log, "telli was never asked: the test proves nothing"


async def test_a_campaign_cut_by_the_deadline_says_so_and_resumes_without_scheduling_anyone_twice() -> None:
    sim = new_sim()
    ids = DemoIds.of(sim)
    _trickle(sim, method="POST", path="/v1/schedule-calls-batch")
    leads = [{"phone_number": f"+1202555010{n}", "first_name": f"Lea{n}", "last_name": "Test"} for n in range(5)]
    args = {"agent_id": ids.sales_agent, "leads": leads}
    async with connect(_server(sim), "auto") as client:
        with anyio.fail_after(HANG_GUARD):
            cut = (await client.call_tool("start_campaign", args)).structured_content or {}
            sim.clear_faults()
            resumed = (await client.call_tool("start_campaign", args)).structured_content or {}
    assert cut["status"] == "incomplete" and cut["unknown"] == 5, cut
    assert SETTING in cut["message"] and "again" in cut["message"], cut["message"]
    assert resumed["status"] == "completed" and resumed["scheduled_total"] == 5, resumed
    assert len(sim.requests_to("POST", "/v1/schedule-calls-batch")) == 1, "a lead was scheduled twice"
