"""The caller of the MCP request being handled: whose telli key every surface acts with.

Tools get a `Context`, but completions and static resources do not, and a surface that cannot see the caller
would fall back to the server's key and answer from the operator's account. So the caller is captured once per
inbound message, by a middleware that wraps every handler (tools, resources, templates, prompts,
completions), and read from here by `ClientProvider`. Over stdio and in-process there are no headers: the
caller is the server's own key. Over HTTP the edge (`http_auth.RequireCallerKey`) has already refused
malformed headers and, where the operator disallows it, requests without one.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerMiddleware, ServerRequestContext
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_REQUEST

from telli_mcp.server.http_auth import MalformedAuthorization, bearer_key

__all__ = ["Caller", "CallerMiddleware", "current_caller"]


@dataclass(frozen=True)
class Caller:
    bearer_key: str | None
    """The telli key the request brought (`Authorization: Bearer`), or None: then the server's own key."""


_SERVER = Caller(bearer_key=None)
_current: ContextVar[Caller] = ContextVar("telli_mcp_caller", default=_SERVER)


def current_caller() -> Caller:
    """Who sent the message being handled (the server's own identity outside any HTTP request)."""
    return _current.get()


def _authorization_values(request: object) -> list[str]:
    headers = getattr(request, "headers", None)
    if headers is None:
        return []
    getlist = getattr(headers, "getlist", None)
    if callable(getlist):
        return [str(value) for value in getlist("authorization")]
    value = headers.get("authorization")
    return [] if value is None else [str(value)]


class CallerMiddleware(ServerMiddleware[Any]):
    """Capture the request's bearer key for everything that handles this message.

    `in_use(caller)` is entered for the duration of the request (the client provider uses it so that a client
    is never closed under a request still using it).
    """

    def __init__(self, in_use: Callable[[Caller], AbstractContextManager[None]]) -> None:
        self._in_use = in_use

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        try:
            caller = Caller(bearer_key=bearer_key(_authorization_values(ctx.request)))
        except MalformedAuthorization as err:
            # The HTTP edge refuses these first; this guards any other way the app may be mounted.
            raise MCPError(code=INVALID_REQUEST, message=f"Authorization refused: {err}") from None
        token = _current.set(caller)
        try:
            with self._in_use(caller):
                return await call_next(ctx)
        finally:
            _current.reset(token)
