"""Sandbox or real: the one place that decides which telli this process talks to.

Every entry point (the MCP server, `telli-mcp doctor`, `doctor --deep`, `telli-mcp campaign`, the docs
generator) turns its settings into a `Backend` here and asks it for clients. `TELLI_MCP_SANDBOX=1` or a
`--sandbox` flag anywhere means the in-process simulator with demo data, and then nothing ever connects to
`TELLI_API_BASE_URL`, whatever key is set: a user who believes they are in the sandbox never places a real call.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import httpx2
from pydantic import SecretStr

from telli_mcp.client import TelliClient
from telli_mcp.config import Settings, public_url

if TYPE_CHECKING:
    from telli_mcp.sandbox import Sandbox

__all__ = ["SANDBOX_NOTICE", "Backend", "ClientFactory", "open_backend"]

ClientFactory = Callable[[str], TelliClient]
SANDBOX_LABEL = "the sandbox simulator"
SANDBOX_NOTICE = "SANDBOX MODE: simulated telli with demo data; no real calls are placed."
"""What every entry point says when it runs against the sandbox."""


@dataclass(frozen=True)
class Backend:
    """The telli a process talks to: the real API at `settings.api_base_url`, or the sandbox simulator."""

    settings: Settings
    """The settings as given, except that in the sandbox the key is the demo account's."""
    sandbox: Sandbox | None
    """The in-process simulator, or None for the real API."""

    @property
    def label(self) -> str:
        """What to call this backend in messages and reports (never with credentials in the URL)."""
        if self.sandbox is not None:
            return SANDBOX_LABEL
        return public_url(self.settings.api_base_url)

    @property
    def api_key(self) -> SecretStr | None:
        """The key requests use when the caller brings none (the demo key in the sandbox)."""
        return self.settings.api_key

    def transport(self) -> httpx2.AsyncBaseTransport | None:
        """The simulator's in-process transport in the sandbox; None (the network) for the real API."""
        return None if self.sandbox is None else self.sandbox.simulator.transport()

    def client(self, api_key: str, *, max_retries: int | None = None) -> TelliClient:
        """A client for `api_key`; `max_retries` overrides the setting (the doctor wants one honest answer)."""
        return TelliClient(
            api_key,
            base_url=self.settings.api_base_url,
            timeout=self.settings.timeout_seconds,
            max_retries=self.settings.max_retries if max_retries is None else max_retries,
            retry_deadline=self.settings.retry_deadline_seconds,
            transport=self.transport(),
        )

    def client_factory(self, *, max_retries: int | None = None) -> ClientFactory:
        return lambda api_key: self.client(api_key, max_retries=max_retries)

    def now(self) -> datetime:
        """The current time of this backend (the simulator's clock in the sandbox)."""
        return self.sandbox.now() if self.sandbox is not None else datetime.now(UTC)


def open_backend(settings: Settings, *, sandbox_speed: float = 60.0) -> Backend:
    """The backend `settings` ask for. `sandbox_speed`: simulated seconds per real second (0: the clock only
    moves when asked), for a sandbox that runs as long as the server does."""
    if not settings.sandbox:
        return Backend(settings, None)
    from telli_mcp.sandbox import DEMO_API_KEY, Sandbox

    demo = settings.model_copy(update={"api_key": SecretStr(DEMO_API_KEY)})
    return Backend(demo, Sandbox(speed=sandbox_speed))
