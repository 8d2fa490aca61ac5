"""Errors do not grow with the input, and leak neither the server's paths nor the credentials in its base URL.

The findings: 100,000 bad ids produced a 38 MB error (here: 32 MB before the fix, measured through the MCP
client); one error message exposed an internal path (the campaign ledger's); `get_status` showed credentials
embedded in TELLI_API_BASE_URL. Now a long list of problems shows the first few and "… and 99,990 more", one
huge value or telli's own huge error text is cut, a lead list with thousands of bad columns reports a few and a
count, the server's data directory never appears in an error, and URLs are shown without user, password or query.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import anyio
import pytest
from evidence_helpers import (
    ALL_TOOLSETS,
    API_KEY,
    MODES,
    DemoIds,
    make_server,
    new_sim,
    no_sleep,
    our_message,
    text_of,
)
from mcp.server.mcpserver import MCPServer
from mcp.types import CallToolResult
from mcp_helpers import connect

from telli_mcp.backend import Backend
from telli_mcp.config import Settings
from telli_mcp.server import build_server
from telli_mcp.simulator import BodyEdit, Fault, TelliSimulator

pytestmark = pytest.mark.anyio

A_FEW_KB = 6_000
"""What a bounded answer stays under: ten shown items of a few hundred characters and a count."""
SECRET = "s3cr3t-pass"
CREDENTIALED_URL = f"https://ops:{SECRET}@telli.example.test/api?token={SECRET}"


async def _call(server: MCPServer[Any], mode: str, tool: str, args: dict[str, Any]) -> CallToolResult:
    async with connect(server, mode) as client:
        with anyio.fail_after(60):
            return await client.call_tool(tool, args)


@pytest.mark.parametrize("mode", MODES)
async def test_many_bad_ids_give_a_few_kilobytes_naming_the_first_ones_and_the_field(mode: str) -> None:
    """1,000 bad ids (the most a call takes): every one is a problem, and ten are shown."""
    sim = new_sim()
    count = 1_000
    args = {"contact_ids": [f"bad-{index}" for index in range(count)], "agent_id": DemoIds.of(sim).sales_agent}
    result = await _call(make_server(sim), mode, "schedule_calls", args)
    message = our_message(result, "schedule_calls")
    assert result.is_error and len(text_of(result)) < A_FEW_KB, f"{len(text_of(result)):,} characters"
    assert f"{count:,} problems" in message and f"… and {count - 10:,} more" in message, message[:500]
    assert "contact_ids.0: 'bad-0' is not a telli contact id" in message and "contact_ids.9: 'bad-9'" in message
    assert "bad-10'" not in message
    assert not sim.request_log


async def test_a_hundred_thousand_bad_ids_are_refused_on_their_number_in_a_few_words() -> None:
    """The finding: 100,000 bad ids produced a 38 MB error."""
    sim = new_sim()
    args = {"contact_ids": [f"bad-{index}" for index in range(100_000)], "agent_id": DemoIds.of(sim).sales_agent}
    result = await _call(make_server(sim), "auto", "schedule_calls", args)
    message = our_message(result, "schedule_calls")
    assert result.is_error and len(text_of(result)) < A_FEW_KB, f"{len(text_of(result)):,} characters"
    assert "contact_ids" in message and "at most 1000 items" in message and "100000" in message
    assert not sim.request_log


async def test_one_huge_bad_value_is_quoted_clipped_with_its_advice_intact() -> None:
    sim = new_sim()
    result = await _call(make_server(sim), "auto", "get_contact", {"contact_id": "x" * 1_000_000})
    message = our_message(result, "get_contact")
    assert result.is_error and len(message) < 1_000, f"{len(message):,} characters"
    assert "contact_id" in message and "more characters" in message and "get one from list_contacts" in message
    assert not sim.request_log


async def test_tellis_own_huge_error_text_is_cut() -> None:
    sim = new_sim()
    unknown = "3c90c3cc-0d44-4b50-8888-8dd25736052a"
    edits = (
        BodyEdit("message", value="no such contact " * 100_000),
        BodyEdit("data", value={"ids": [f"bad-{index}" for index in range(100_000)]}),
    )
    sim.inject(Fault(kind="reshape", path="/v2/contacts*", edits=edits))
    result = await _call(make_server(sim), "auto", "get_contact", {"contact_id": unknown})
    assert result.is_error and len(text_of(result)) < A_FEW_KB, f"{len(text_of(result)):,} characters"
    assert "404" in text_of(result) and "more characters" in text_of(result)


async def test_a_lead_list_with_thousands_of_bad_columns_reports_a_few_and_a_count() -> None:
    sim = new_sim()
    # 5,000 spellings of "phone" (characters outside ASCII drop out of a column key): 4,999 duplicate columns.
    lead = {
        "first_name": "Ida",
        "last_name": "Roth",
        **{f"phone{chr(0x4E00 + i)}": "+493090182088" for i in range(5000)},
    }
    args = {"agent_id": DemoIds.of(sim).sales_agent, "leads": [lead], "dry_run": True}
    result = await _call(make_server(sim), "auto", "start_campaign", args)
    assert len(text_of(result)) < A_FEW_KB, f"{len(text_of(result)):,} characters (was 450 KB)"
    reasons = (result.structured_content or {}).get("blocking_reasons") or []
    assert len(reasons) == 11 and reasons[-1] == "… and 4,989 more column problems like these", reasons[-2:]
    assert "means the same as column" in reasons[0]


async def test_no_error_shows_the_servers_data_directory(tmp_path: Path) -> None:
    ledger = sqlite3.connect(tmp_path / "campaigns.sqlite3")
    ledger.execute("PRAGMA user_version = 99")  # written by a newer telli-mcp: the engine refuses it
    ledger.close()
    sim = new_sim()
    server = make_server(sim, data_dir=str(tmp_path))
    for tool in ("get_campaign", "stop_campaign"):
        result = await _call(server, "auto", tool, {"campaign_id": "c-evidence"})
        message = our_message(result, tool)
        assert result.is_error and "upgrade telli-mcp" in message, message
        assert str(tmp_path) not in text_of(result) and "campaigns.sqlite3" in message, message


def _server_at(sim: TelliSimulator, base_url: str) -> MCPServer[Any]:
    """A server whose telli client is configured with `base_url` (the simulator answers whatever the host)."""
    settings = Settings(api_key=API_KEY, api_base_url=base_url, toolsets=ALL_TOOLSETS)
    return build_server(Backend.simulated(settings, sim, sleep=no_sleep))


@pytest.mark.parametrize("mode", MODES)
async def test_get_status_shows_the_base_url_without_its_credentials(mode: str) -> None:
    result = await _call(_server_at(new_sim(), CREDENTIALED_URL), mode, "get_status", {})
    assert result.structured_content is not None
    assert result.structured_content["base_url"] == "https://telli.example.test/api"
    assert SECRET not in text_of(result) and "ops" not in json.dumps(result.structured_content)


async def test_a_connection_error_names_the_base_url_without_its_credentials() -> None:
    sim = new_sim()
    contact = DemoIds.of(sim).contacts["crm-1003"]
    sim.inject(Fault(kind="connect_error", times=-1))
    result = await _call(
        _server_at(sim, CREDENTIALED_URL), "auto", "cancel_scheduled_calls", {"contact_ids": [contact]}
    )
    problems = (result.structured_content or {}).get("problems") or []
    assert problems and "https://telli.example.test/api" in problems[0]["error"], text_of(result)
    assert SECRET not in text_of(result)


@pytest.mark.parametrize("mode", MODES)
async def test_a_long_list_of_failed_items_is_cut_and_says_how_many_there_are_in_all(mode: str) -> None:
    sim = new_sim()
    unknown_ids = [f"00000000-0000-4000-8000-{n:012d}" for n in range(1, 61)]
    result = await _call(make_server(sim), mode, "cancel_scheduled_calls", {"contact_ids": unknown_ids})
    shown = result.structured_content or {}
    assert not result.is_error and len(shown["problems"]) == 50
    assert shown["note"] == "problems lists the first 50 of 60."


async def test_a_cancel_whose_answer_was_lost_says_how_to_settle_it() -> None:
    sim = new_sim()
    contact_id = DemoIds.of(sim).contacts["crm-1005"]
    sim.inject(Fault(kind="timeout_after", method="POST", path="/v1/remove-from-auto-dialer-batch", times=-1))
    result = await _call(make_server(sim), "auto", "cancel_scheduled_calls", {"contact_ids": [contact_id]})
    problems = (result.structured_content or {}).get("problems", [])
    assert not result.is_error and [p["status"] for p in problems] == ["unknown"], text_of(result)
    assert "safe to repeat" in problems[0]["check"] and contact_id in problems[0]["check"]
