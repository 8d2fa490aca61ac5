"""The sandbox toolset: tools that exist only against the sandbox simulator (switched on by the sandbox itself)."""

from typing import Annotated

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from telli_mcp.server.deps import deps_of
from telli_mcp.server.results import ToolResult
from telli_mcp.server.risk import Risk, ToolSpec
from telli_mcp.server.surface import Instruction, Surface, ToolDef
from telli_mcp.toolsets import SANDBOX

__all__ = ["SURFACE", "SandboxClockResult"]


class SandboxClockResult(ToolResult):
    simulated_now: str
    note: str


async def advance_sandbox_clock(
    minutes: Annotated[float, Field(gt=0, le=60 * 24 * 14, description="Simulated minutes to move forward")],
    ctx: Context,
) -> SandboxClockResult:
    """SANDBOX ONLY: move the simulated telli clock forward so the auto-dialer places due calls.

    Lets you watch scheduled calls happen and finish without waiting.
    """
    sandbox = deps_of(ctx).sandbox
    if sandbox is None:  # the toolset is only on in the sandbox
        raise ToolError("advance_sandbox_clock exists only in sandbox mode.")
    now = await sandbox.advance(minutes)
    return SandboxClockResult(simulated_now=now, note="Due calls ran; check list_calls and get_contact.")


SURFACE = Surface(
    SANDBOX,
    tools=(
        ToolDef(
            ToolSpec(
                "advance_sandbox_clock",
                "Advance sandbox clock",
                SANDBOX,
                Risk.WRITE,
                idempotent=False,
                open_world=False,
            ),
            advance_sandbox_clock,
        ),
    ),
    instructions=(
        Instruction(
            "- SANDBOX: this is a simulated telli account with demo data; no real person is called. Use\n"
            "  advance_sandbox_clock to let scheduled calls happen.",
            uses=("advance_sandbox_clock",),
        ),
    ),
)
