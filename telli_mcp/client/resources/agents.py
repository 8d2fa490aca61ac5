"""v2 agents: `/v2/agents` (read-only)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from telli_mcp.client import _validate
from telli_mcp.client.models.agents import Agent
from telli_mcp.client.models.common import Page
from telli_mcp.client.pagination import InvalidItemCallback, iterate_pages
from telli_mcp.client.resources._base import Resource

__all__ = ["Agents"]


class Agents(Resource):
    """The AI agents of the account."""

    async def list(self, *, limit: int = 50, cursor: str | None = None) -> Page[Agent]:
        """One page of agents (`limit` 1-100)."""
        params: dict[str, str | int] = {"limit": _validate.page_limit(limit)}
        if cursor is not None:
            params["cursor"] = cursor
        return (await self._http.request("GET", "/v2/agents", params=params)).parse(Page[Agent])

    def iterate(self, *, page_size: int = 100, on_invalid: InvalidItemCallback | None = None) -> AsyncIterator[Agent]:
        """Every agent, fetching pages of `page_size` as needed.

        Agents telli sent in an unreadable shape are skipped and passed to `on_invalid` (logged when None).
        """
        _validate.page_limit(page_size, "page_size")
        return iterate_pages(lambda cursor: self.list(limit=page_size, cursor=cursor), on_invalid=on_invalid)

    async def get(self, agent_id: str) -> Agent:
        """One agent by id."""
        path = f"/v2/agents/{_validate.agent_id(agent_id)}"
        return (await self._http.request("GET", path)).parse(Agent)
