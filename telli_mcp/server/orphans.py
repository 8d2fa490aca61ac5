"""Every request with a telli key tells the campaign adopter that its account spoke: the adopter then resumes that
account's campaigns whose run died with another replica (see `telli_mcp.campaign_adoption`), in the background."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mcp.server.context import CallNext, HandlerResult, ServerMiddleware, ServerRequestContext

if TYPE_CHECKING:
    from telli_mcp.campaign_adoption import CampaignAdopter

__all__ = ["ResumeOrphans"]


class ResumeOrphans(ServerMiddleware[Any]):
    """Pokes the adopter with the request's key; runs after `CallerMiddleware`, which makes the key known."""

    def __init__(self, adopter: CampaignAdopter, key_of_request: Callable[[], str | None]) -> None:
        self._adopter = adopter
        self._key_of_request = key_of_request

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        key = self._key_of_request()
        if key is not None:
            self._adopter.poke(key)  # never waits: the look runs in the server's task group
        return await call_next(ctx)
