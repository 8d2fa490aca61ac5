"""get_status in the first hour: it works before a key is set, and it names the telli it really talks to."""

from __future__ import annotations

import json

import pytest
from server_helpers import ServerFactory, connect, ok

from telli_mcp.backend import Backend, open_backend
from telli_mcp.config import Settings
from telli_mcp.server import build_server
from telli_mcp.simulator import TelliSimulator

pytestmark = pytest.mark.anyio


async def test_without_a_key_status_reports_the_missing_key_instead_of_failing(sim: TelliSimulator, mode: str) -> None:
    async with connect(build_server(Backend.simulated(Settings(), sim)), mode) as client:
        status = await ok(client, "get_status")
    assert status["api_key"] == "missing" and status["key_valid"] is None
    assert status["base_url"] == "https://api.telli.com" and status["sandbox"] is False
    assert "get_status" in status["tools"] and "list_contacts" in status["tools"]
    assert sim.request_log == []  # nothing to verify, so telli is not asked


async def test_in_the_sandbox_status_names_the_simulator_never_the_real_api(mode: str) -> None:
    server = build_server(open_backend(Settings(sandbox=True), sandbox_speed=0))
    async with connect(server, mode) as client:
        status = await ok(client, "get_status")
        title = client.server_info.title if client.server_info else None
    assert status["base_url"] == "the sandbox simulator" and "api.telli.com" not in json.dumps(status)
    assert status["sandbox"] is True and status["key_valid"] is True
    assert "advance_sandbox_clock" in status["tools"] and title == "telli (sandbox)"


async def test_a_server_over_a_test_simulator_is_not_the_sandbox_in_any_respect(
    make_server: ServerFactory, sim: TelliSimulator, mode: str
) -> None:
    async with connect(make_server(), mode) as client:
        status = await ok(client, "get_status")
        instructions = client.instructions or ""
    assert status["sandbox"] is False and "advance_sandbox_clock" not in status["tools"]
    assert "SANDBOX" not in instructions
    with pytest.raises(ValueError, match="open_backend"):
        Backend.simulated(Settings(sandbox=True), sim)  # the settings could not say "sandbox" with no sandbox


async def test_status_tells_the_time_in_utc_and_on_the_account_s_clock(
    make_server: ServerFactory, sim: TelliSimulator, mode: str
) -> None:
    """Who was not reached this week? That needs today's date; the simulator's clock starts on Monday 2 March 2026,
    08:00 UTC, which is 03:00 in New York (daylight saving time starts there on 8 March)."""
    async with connect(make_server(account_timezone="America/New_York"), mode) as client:
        before = await ok(client, "get_status")
        await sim.advance(90 * 60)
        after = await ok(client, "get_status")
    assert before["now"] == "2026-03-02T08:00:00Z; account clock America/New_York: Mon 2026-03-02 03:00"
    assert after["now"] == "2026-03-02T09:30:00Z; account clock America/New_York: Mon 2026-03-02 04:30"
