"""v2 agent endpoints (§2.7): read-only; agents are created in the telli app, not through the API."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from .endpoint import ApiRequest, Backend, json_response, make_route
from .errors import ApiError
from .pagination import paginate, parse_limit
from .views import agent_v2, collection_v2

__all__ = ["routes"]


def routes(backend: Backend) -> list[Route]:
    def route(path: str, method: str, handler: Any) -> Route:
        return make_route(path, method, handler, version="v2", backend=backend)

    return [route("/v2/agents", "GET", list_agents), route("/v2/agents/{agent_id}", "GET", get)]


async def list_agents(req: ApiRequest) -> Response:
    limit = parse_limit(req.query("limit"))
    agents = req.account.agents_in_order()
    page = paginate(
        agents,
        scope="agents",
        limit=limit,
        cursor=req.query("cursor"),
        position=lambda agent: [agent.seq],
    )
    data = [agent_v2(agent) for agent in page.items]
    return json_response(collection_v2("AgentCollection", data, next_cursor=page.next_cursor, limit=limit))


async def get(req: ApiRequest) -> Response:
    agent = req.account.agents.get(req.path_param("agent_id"))
    if agent is None:
        raise ApiError(404, "Agent not found", "AGENT_NOT_FOUND")
    return json_response(agent_v2(agent))
