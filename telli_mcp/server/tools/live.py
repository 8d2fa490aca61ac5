"""Waiting for a call's result: "call Max now and tell me how it went" without asking the user to ask again.

The `live` toolset: on by itself with webhooks or in the sandbox, or by name. Read-only: it never dials, it only
waits and reads (`telli_mcp.webhooks.waiting` says where results come from and how few telli reads it makes).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import AfterValidator, Field

from telli_mcp.server.deps import deps_of
from telli_mcp.server.params import OptionalContactIdArg, check_call_id
from telli_mcp.server.results import ToolResult
from telli_mcp.server.risk import Risk, ToolSpec
from telli_mcp.server.surface import Instruction, Surface, ToolDef
from telli_mcp.server.tools.contacts import dialer_state
from telli_mcp.server.views import call_detail, join_notes
from telli_mcp.text import optional
from telli_mcp.toolsets import LIVE

if TYPE_CHECKING:
    from telli_mcp.client import TelliClient

__all__ = ["SURFACE", "CallResult"]

MAX_WAIT_SECONDS = 300


class CallResult(ToolResult):
    ended: bool
    call: dict[str, Any] | None = Field(default=None, description="As get_call returns it")
    note: str | None = None


async def wait_for_call_result(
    ctx: Context,
    contact_id: OptionalContactIdArg = None,
    call_id: Annotated[str | None, AfterValidator(optional(check_call_id))] = None,
    timeout_seconds: Annotated[int, Field(ge=1, le=MAX_WAIT_SECONDS)] = 60,
) -> CallResult:
    """Wait until the contact's next call (or call_id) ends: its result, or not yet at the timeout."""
    from telli_mcp.webhooks.clock import RealClock
    from telli_mcp.webhooks.waiting import CallWait

    if (contact_id is None) == (call_id is None):
        raise ToolError("Pass exactly one of contact_id or call_id.")
    deps = deps_of(ctx)
    client, feed = deps.client(), deps.events
    wait = CallWait(
        client=client,
        clock=RealClock() if feed is None else feed.clock,
        account=deps.tenant(),
        store=None if feed is None else feed.store,
        hub=None if feed is None else feed.hub,
        contact_id=contact_id,
        call_id=call_id,
    )

    async def progress(done: float, total: float) -> None:
        await ctx.report_progress(done, total, "Waiting for the call to end")

    waited = await wait.wait(timeout_seconds, progress)
    if waited.call is not None:
        via = "telli's webhook" if waited.source == "webhook" else "telli"
        view = call_detail(waited.call, opt_out_key=deps.settings.opt_out_key, listed=deps.on_do_not_call)
        # The opt-out sentence (call.opt_out) is repeated in the note: it asks the model to propose something.
        return CallResult(
            ended=True,
            call=view.model_dump(mode="json"),
            note=join_notes(f"Ended; learned from {via} after {waited.waited_seconds:g} s.", view.opt_out),
        )
    return CallResult(ended=False, note=await _not_yet(client, contact_id, timeout_seconds))


async def _not_yet(client: TelliClient, contact_id: str | None, timeout_seconds: int) -> str:
    note = f"Not ended within {timeout_seconds} s; call again to keep waiting."
    if contact_id is None:
        return note
    dialer = await dialer_state(client, contact_id)
    if dialer is not None and dialer.status is not None:
        note += f" Dialer status: {dialer.status}"
        next_call = dialer.next_call_at
        note += f", next call at {next_call.isoformat(timespec='minutes')}." if next_call else "."
    return note


SURFACE = Surface(
    toolset=LIVE,
    tools=(
        ToolDef(
            ToolSpec("wait_for_call_result", "Wait for call result", LIVE, Risk.READ, idempotent=True),
            wait_for_call_result,
        ),
    ),
    instructions=(
        Instruction(
            "- After call_now, wait_for_call_result(contact_id) returns the call's result when it ends.",
            uses=("call_now", "wait_for_call_result"),
        ),
    ),
)
