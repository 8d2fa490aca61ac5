"""The telli deadline of every request: tool calls, resource reads, completions, prompts.

One place applies TELLI_MCP_TOOL_DEADLINE_SECONDS to everything a request does against telli, so a telli that
trickles its answer cannot hold a tool call, a resource read or a completion open. Inside a tool call a question
to the human pauses it (see `confirm`); the registry bounds the error text a late tool produces.
"""

from __future__ import annotations

from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerMiddleware, ServerRequestContext

from telli_mcp.client import deadline
from telli_mcp.config import Settings, env_var

__all__ = ["RequestDeadline"]


class RequestDeadline(ServerMiddleware[Any]):
    def __init__(self, settings: Settings) -> None:
        self._seconds = settings.tool_deadline_seconds
        self._setting = env_var("tool_deadline_seconds")

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        if ctx.request_id is None:  # a notification: nothing to answer, nothing to bound
            return await call_next(ctx)
        with deadline(self._seconds, setting=self._setting):
            return await call_next(ctx)
