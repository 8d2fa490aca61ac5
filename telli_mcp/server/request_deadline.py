"""The telli deadline for requests that are not tool calls: resource reads, completions, prompts.

Tool calls get theirs in the registry (with the human's answer time paused and the error text bounded); every
other request that may ask telli something is bounded here by the same setting, so a telli that trickles its
answer cannot hold a resource read or a completion open either.
"""

from __future__ import annotations

from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerMiddleware, ServerRequestContext

from telli_mcp.client import deadline
from telli_mcp.config import Settings, env_var

__all__ = ["RequestDeadline"]

_TOOL_CALL = "tools/call"


class RequestDeadline(ServerMiddleware[Any]):
    def __init__(self, settings: Settings) -> None:
        self._seconds = settings.tool_deadline_seconds
        self._setting = env_var("tool_deadline_seconds")

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        if ctx.method == _TOOL_CALL or ctx.request_id is None:
            return await call_next(ctx)
        with deadline(self._seconds, setting=self._setting):
            return await call_next(ctx)
