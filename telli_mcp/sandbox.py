"""Sandbox mode: the real MCP server against the in-process simulator with demo data.

Nobody is called and no telli account is needed. The simulated clock runs faster than real time (one real
second is one simulated minute by default) and the dialer window is always open, so a scheduled call
completes within seconds; `advance_sandbox_clock` jumps ahead on demand. `telli_mcp.backend` decides when the
sandbox is used.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

import anyio

from telli_mcp.simulator import DEMO_API_KEY, TelliSimulator
from telli_mcp.simulator.serve import drive_clock

__all__ = ["DEMO_API_KEY", "SANDBOX_LOG_LIMIT", "Sandbox"]

SANDBOX_LOG_LIMIT = 10_000
"""Requests the sandbox remembers; it runs for as long as the MCP client keeps it open."""


class Sandbox:
    """Owns the simulator and implements the server's `SandboxControl` hooks."""

    def __init__(self, simulator: TelliSimulator, *, speed: float = 60.0) -> None:
        self.simulator = simulator
        self.speed = speed
        self._lock = anyio.Lock()

    @classmethod
    def demo(cls, *, speed: float = 60.0) -> Sandbox:
        """The demo account, with a dialer that calls around the clock."""
        simulator = TelliSimulator(
            api_keys=(DEMO_API_KEY,),
            seed_demo=True,
            dialer_window=(time(0, 0), time(23, 59, 59)),
            dialer_weekdays_only=False,
            request_log_limit=SANDBOX_LOG_LIMIT,
        )
        return cls(simulator, speed=speed)

    def now(self) -> datetime:
        return self.simulator.clock.now()

    async def advance(self, minutes: float) -> str:
        async with self._lock:
            await self.simulator.advance(timedelta(minutes=minutes))
        return self.simulator.clock.now().isoformat()

    async def run_clock(self) -> None:
        if self.speed > 0:
            await drive_clock(self.simulator, speed=self.speed)
