"""Sandbox mode: the real MCP server against the in-process simulator with demo data.

Nobody is called and no telli account is needed. The simulated clock runs faster than real time (one real
second is one simulated minute by default) and the dialer window is always open, so a scheduled call
completes within seconds; `advance_sandbox_clock` jumps ahead on demand. `telli_mcp.backend` decides when the
sandbox is used.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable
from datetime import datetime, time, timedelta
from functools import cached_property
from typing import TYPE_CHECKING

import anyio
import httpx2
from pydantic import SecretStr

from telli_mcp.simulator import DEMO_API_KEY

if TYPE_CHECKING:
    from telli_mcp.simulator import TelliSimulator
    from telli_mcp.webhooks.receiver import WebhookEndpoint

__all__ = ["DEMO_API_KEY", "SANDBOX_LOG_LIMIT", "Sandbox"]

SANDBOX_LOG_LIMIT = 10_000
"""Requests the sandbox remembers; it runs for as long as the MCP client keeps it open."""


class Sandbox:
    """Owns the simulator and implements the server's `SandboxControl` hooks.

    The simulator (and its demo data) is built on first use: by the first request to it, the first look at its
    clock or the first `advance`. Starting the server and answering `tools/list` never pay for it.
    """

    def __init__(self, build: Callable[[], TelliSimulator], *, speed: float = 60.0) -> None:
        self._build = build
        self._simulator: TelliSimulator | None = None
        self._built: anyio.Event | None = None
        self.speed = speed
        self._lock = anyio.Lock()
        self._when_built: list[Callable[[TelliSimulator], None]] = []

    @classmethod
    def demo(cls, *, speed: float = 60.0) -> Sandbox:
        """The demo account, with a dialer that calls around the clock."""

        def build() -> TelliSimulator:
            from telli_mcp.simulator import TelliSimulator

            return TelliSimulator(
                api_keys=(DEMO_API_KEY,),
                seed_demo=True,
                dialer_window=(time(0, 0), time(23, 59, 59)),
                dialer_weekdays_only=False,
                request_log_limit=SANDBOX_LOG_LIMIT,
            )

        return cls(build, speed=speed)

    @property
    def simulator(self) -> TelliSimulator:
        if self._simulator is None:
            self._simulator = self._build()
            for wire in self._when_built:
                wire(self._simulator)
            if self._built is not None:
                self._built.set()
        return self._simulator

    def when_built(self, wire: Callable[[TelliSimulator], None]) -> None:
        """Run `wire` on the simulator once it is built (at once if it is)."""
        self._when_built.append(wire)
        if self._simulator is not None:
            wire(self._simulator)

    @cached_property
    def webhook_endpoint(self) -> WebhookEndpoint:
        """The demo account's webhook endpoint, with a secret made up for this process."""
        from telli_mcp.client import key_fingerprint
        from telli_mcp.webhooks.receiver import WebhookEndpoint

        secret = SecretStr("whsec_" + base64.b64encode(secrets.token_bytes(24)).decode())
        return WebhookEndpoint(name=None, secret=secret, account=key_fingerprint(DEMO_API_KEY))

    async def sleep_until(self, moment: datetime) -> None:
        """Wait until simulated time reaches `moment` (the clock waits for calls run on in the sandbox)."""
        await self.simulator.sleep_until(moment)

    def transport(self) -> httpx2.AsyncBaseTransport:
        """The transport the server's clients use: the simulator's, built when the first request comes."""
        return _FirstUse(self)

    def now(self) -> datetime:
        return self.simulator.clock.now()

    async def advance(self, minutes: float) -> str:
        async with self._lock:
            await self.simulator.advance(timedelta(minutes=minutes))
        return self.simulator.clock.now().isoformat()

    async def run_clock(self) -> None:
        """Move the simulated clock with real time once the simulator exists (nothing to move before)."""
        if self.speed <= 0:
            return
        if self._simulator is None:
            self._built = anyio.Event()
            await self._built.wait()
        from telli_mcp.simulator.serve import drive_clock

        await drive_clock(self.simulator, speed=self.speed)


class _FirstUse(httpx2.AsyncBaseTransport):
    def __init__(self, sandbox: Sandbox) -> None:
        self._sandbox = sandbox
        self._transport: httpx2.AsyncBaseTransport | None = None

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        if self._transport is None:
            self._transport = self._sandbox.simulator.transport()
        return await self._transport.handle_async_request(request)

    async def aclose(self) -> None:
        if self._transport is not None:
            await self._transport.aclose()
