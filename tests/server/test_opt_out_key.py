"""TELLI_MCP_OPT_OUT_KEY through the real MCP client in both protocol eras: with the setting, a call whose agent
outcome of that name is true is an opt-out in get_call, wait_for_call_result and call_stats; without it, the same
call is not (no built-in name or summary phrase says so); a false or empty value never opts out.

The simulator's agents do not define that outcome, so each test writes it into finished calls' records, as telli
reports an outcome defined on the agent (`{name: {"value": ...}}`); which calls carry it true is read back from the
simulator's records, never from the code under test.
"""

from __future__ import annotations

from typing import Any

import pytest
from server_helpers import ServerFactory, connect, ok
from test_opt_out import place, replace_call

from telli_mcp.simulator import TEST_API_KEY, TelliSimulator
from telli_mcp.simulator.records import Call
from telli_mcp.text import FENCE_CLOSE, FENCE_OPEN

pytestmark = pytest.mark.anyio

OWN_KEY = "wants_no_more_calls"
VALUES: list[Any] = [True, "yes", False, "", None, "no"]
"""What the calls' own outcome says, in turn: the first two opt out, the others never."""


async def calls_with_own_outcome(sim: TelliSimulator) -> list[Call]:
    """One finished ordinary call per value of VALUES, each carrying the account's own outcome with that value."""
    placed = await place(sim, ["COMPLETED"] * len(VALUES))
    return [
        replace_call(sim, call, call_outcome={**call.call_outcome, OWN_KEY: value})
        for call, value in zip(placed, VALUES, strict=True)
    ]


def said_yes(sim: TelliSimulator, calls: list[Call]) -> list[Call]:
    """The calls whose recorded own outcome is true (telli's value as recorded, read without the code under test)."""
    recorded = [sim.account(TEST_API_KEY).calls[call.call_id] for call in calls]
    return [call for call in recorded if call.call_outcome.get(OWN_KEY) in (True, "yes")]


async def test_get_call_reads_the_own_outcome_as_an_opt_out_only_when_configured_and_true(
    make_server: ServerFactory, sim: TelliSimulator, mode: str
) -> None:
    calls = await calls_with_own_outcome(sim)
    ids = [call.call_id for call in calls]

    async with connect(make_server(opt_out_key=OWN_KEY), mode) as client:
        configured = [await ok(client, "get_call", {"call_id": call_id}) for call_id in ids]
    async with connect(make_server(), mode) as client:
        unconfigured = [await ok(client, "get_call", {"call_id": call_id}) for call_id in ids]

    opted = said_yes(sim, calls)
    assert len(opted) == 2
    assert [detail["call_id"] for detail in configured if "opt_out" in detail] == [call.call_id for call in opted]
    for call, detail in zip(calls, configured, strict=True):
        if call in opted:
            assert f'add_to_do_not_call(["{call.to_number}"])' in detail["opt_out"]
            assert f"{FENCE_OPEN}>{OWN_KEY}" in detail["opt_out"] and FENCE_CLOSE in detail["opt_out"]
    assert all("opt_out" not in detail for detail in unconfigured)
    assert all(detail["outcome"][OWN_KEY]["value"] == value for detail, value in zip(configured, VALUES, strict=True))


async def test_call_stats_counts_the_own_outcome_only_when_configured_and_true(
    analytics: ServerFactory, sim: TelliSimulator, mode: str
) -> None:
    since = sim.now()
    calls = await calls_with_own_outcome(sim)
    until = sim.now()
    period = {"since": since.isoformat(), "until": until.isoformat()}

    async with connect(analytics(opt_out_key=OWN_KEY), mode) as client:
        configured = await ok(client, "call_stats", period)
    async with connect(analytics(), mode) as client:
        unconfigured = await ok(client, "call_stats", period)

    expected = {call.contact_id for call in said_yes(sim, calls)}
    assert configured["calls"] == unconfigured["calls"] == len(calls)
    assert set(configured["opted_out_contact_ids"]) == expected and configured["opted_out"] == 2
    assert "add_to_do_not_call" in configured["note"]
    assert unconfigured["opted_out"] == 0 and not unconfigured.get("opted_out_contact_ids")


async def test_wait_for_call_result_reads_the_own_outcome_only_when_configured(
    make_server: ServerFactory, sim: TelliSimulator, mode: str
) -> None:
    calls = await calls_with_own_outcome(sim)
    yes, no = calls[0], calls[2]

    async with connect(make_server(toolsets=("default", "live"), opt_out_key=OWN_KEY), mode) as client:
        opted = await ok(client, "wait_for_call_result", {"call_id": yes.call_id, "timeout_seconds": 5})
        declined = await ok(client, "wait_for_call_result", {"call_id": no.call_id, "timeout_seconds": 5})
    async with connect(make_server(toolsets=("default", "live")), mode) as client:
        unconfigured = await ok(client, "wait_for_call_result", {"call_id": yes.call_id, "timeout_seconds": 5})

    proposal = f'add_to_do_not_call(["{yes.to_number}"])'
    assert opted["ended"] is True and proposal in opted["call"]["opt_out"] and proposal in opted["note"]
    assert (
        declined["ended"] is True and "opt_out" not in declined["call"] and "add_to_do_not_call" not in declined["note"]
    )
    assert unconfigured["ended"] is True and "opt_out" not in unconfigured["call"]
