"""What `start_campaign` tells the MCP client: time zones before anything is sent, and an honest status after."""

from __future__ import annotations

from typing import Any

import pytest
from mcp.server.mcpserver import MCPServer
from mcp_helpers import Answers, connect

from telli_mcp.backend import Backend
from telli_mcp.config import Settings
from telli_mcp.server import build_server
from telli_mcp.simulator import TEST_API_KEY, Fault, TelliSimulator

from .conftest import SCHEDULE_PATH, fictional_leads, no_sleep

pytestmark = pytest.mark.anyio


def server(sim: TelliSimulator, confirm: str = "off") -> MCPServer[Any]:
    """The MCP server on the simulator (its campaign ledger in memory)."""
    return build_server(Backend.simulated(Settings(api_key=TEST_API_KEY, confirm=confirm), sim, sleep=no_sleep))


async def start(sim: TelliSimulator, agent_id: str, **args: Any) -> dict[str, Any]:
    async with connect(server(sim), "auto") as client:
        result = await client.call_tool("start_campaign", {"agent_id": agent_id, **args})
    assert not result.is_error and result.structured_content is not None
    return result.structured_content


async def test_the_dry_run_shows_time_zone_sources_and_warns_about_the_account_default(
    sim: TelliSimulator, agent_id: str
) -> None:
    leads = [*fictional_leads(2), {"first_name": "Tia", "last_name": "Free", "phone": "+1 800 555 0142"}]

    report = await start(sim, agent_id, leads=leads, dry_run=True)

    assert report["status"] == "dry_run"
    assert report["timezones"] == {"column": 0, "inferred": 2, "account_default": 1}
    assert report["warnings"] and report["warnings"][0].startswith("1 of 3 leads have no timezone")
    assert "Europe/Berlin" in report["message"]


async def test_a_run_in_which_telli_rejects_every_batch_reports_incomplete_with_counts_and_reasons(
    sim: TelliSimulator, agent_id: str
) -> None:
    sim.inject(Fault(method="POST", path=SCHEDULE_PATH, status=503, times=-1))

    report = await start(sim, agent_id, leads=fictional_leads(60))

    assert report["status"] == "incomplete"
    assert (report["scheduled_total"], report["not_scheduled"]) == (0, 60)
    assert report["not_scheduled_reasons"][0].startswith("60 leads: not sent")
    assert "503" in report["not_scheduled_reasons"][0]
    assert "again" in report["message"]


async def test_the_confirmation_question_says_which_clock_the_leads_are_called_on(
    sim: TelliSimulator, agent_id: str
) -> None:
    answers = Answers("decline")
    leads = [*fictional_leads(2), {"first_name": "Tia", "last_name": "Free", "phone": "+1 800 555 0142"}]

    async with connect(server(sim, confirm="auto"), "auto", answers) as client:
        await client.call_tool("start_campaign", {"agent_id": agent_id, "leads": leads})

    assert len(answers.questions) == 1
    assert (
        "Time zones: 0 from the list, 2 inferred from the number and sent to telli; 1 unknown, so telli calls"
        in (answers.questions[0])
    )
    assert "account's clock (Europe/Berlin)" in answers.questions[0]
    assert sim.requests_to("POST", SCHEDULE_PATH) == []
