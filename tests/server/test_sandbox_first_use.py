"""The sandbox builds its simulator and demo data on first use (not at startup), and its clock then runs."""

from __future__ import annotations

import anyio
import pytest
from server_helpers import connect, ok

from telli_mcp.backend import open_backend
from telli_mcp.config import Settings
from telli_mcp.server import build_server

pytestmark = pytest.mark.anyio

HANG_GUARD = 10.0
POLL = 0.05  # how often the clock is read (it moves every 0.25 s of real time; 600 s simulated is 1 s real)


async def test_the_demo_data_is_there_at_the_first_call_and_the_clock_then_moves(mode: str) -> None:
    backend = open_backend(Settings(sandbox=True), sandbox_speed=3600)  # a real second is a simulated hour
    sandbox = backend.sandbox
    assert sandbox is not None
    async with connect(build_server(backend), mode) as client:
        contacts = await ok(client, "list_contacts", {"limit": 5})
        assert contacts["contacts"], "the first call found no demo data"
        first = sandbox.now()
        with anyio.fail_after(HANG_GUARD):
            while (sandbox.now() - first).total_seconds() < 600:  # noqa: ASYNC110 - real time drives the clock
                await anyio.sleep(POLL)
