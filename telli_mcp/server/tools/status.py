"""get_status: which telli account this server talks to and which guardrails are in effect."""

import logging
from typing import Annotated

from mcp.server.mcpserver import Context
from pydantic import Field

from telli_mcp._version import __version__
from telli_mcp.client import TelliError
from telli_mcp.config import public_url
from telli_mcp.server.deps import ServerDeps
from telli_mcp.server.registry import ToolRegistry
from telli_mcp.server.results import ToolResult
from telli_mcp.server.risk import Risk, ToolSpec

__all__ = ["SandboxClockResult", "StatusResult", "register", "register_sandbox"]

logger = logging.getLogger(__name__)


class StatusResult(ToolResult):
    server_version: str
    base_url: str
    sandbox: bool = Field(description="True when talking to the built-in simulator, not the real telli")
    api_key: str = Field(description="Masked key, or 'missing'")
    key_valid: bool | None = Field(description="Result of telli's verify-api-key; null if it could not be checked")
    read_only: bool
    confirm_mode: str = Field(description="auto | elicit | token | off")
    toolsets: list[str]
    tools: list[str]


class SandboxClockResult(ToolResult):
    simulated_now: str
    note: str


def register(registry: ToolRegistry, deps: ServerDeps) -> None:
    async def get_status(ctx: Context) -> StatusResult:
        """Which telli URL and key this server uses, whether the key works, and which guardrails are on."""
        client = deps.client(ctx)
        valid: bool | None
        try:
            valid = await client.verify_api_key()
        except TelliError as err:
            # Also when telli is too slow for the call's deadline: the rest of the status is still worth having.
            valid = None
            logger.warning("verify-api-key failed: %s", type(err).__name__)
        return StatusResult(
            # Without user:password@, query or fragment: whatever a proxy URL carries stays out of the answer.
            server_version=__version__, base_url=public_url(client.base_url), sandbox=deps.sandbox is not None,
            api_key=client.masked_key, key_valid=valid,
            read_only=deps.settings.read_only, confirm_mode=str(deps.settings.confirm),
            toolsets=sorted(deps.toolsets), tools=[spec.name for spec in registry.enabled],
        )

    registry.add(ToolSpec("get_status", "Connection status", "status", Risk.READ, idempotent=True), get_status)


def register_sandbox(registry: ToolRegistry, deps: ServerDeps) -> None:
    sandbox = deps.sandbox
    if sandbox is None:
        return

    async def advance_sandbox_clock(
        minutes: Annotated[float, Field(gt=0, le=60 * 24 * 14, description="Simulated minutes to move forward")],
    ) -> SandboxClockResult:
        """SANDBOX ONLY: move the simulated telli clock forward so the auto-dialer places due calls.

        Lets you watch scheduled calls happen and finish without waiting. Exists only in sandbox mode.
        """
        now = await sandbox.advance(minutes)
        return SandboxClockResult(simulated_now=now, note="Due calls ran; check list_calls and get_contact.")

    spec = ToolSpec("advance_sandbox_clock", "Advance sandbox clock", "sandbox", Risk.WRITE, idempotent=False,
                    open_world=False)
    registry.add(spec, advance_sandbox_clock)
