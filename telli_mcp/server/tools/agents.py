"""The agents toolset: the AI agents and the account's phone numbers, what the account calls with and from."""

from typing import Annotated

from mcp.server.mcpserver import Context
from pydantic import Field

from telli_mcp.server.deps import deps_of
from telli_mcp.server.paging import fit_page
from telli_mcp.server.params import CursorArg
from telli_mcp.server.resources import as_json, reading
from telli_mcp.server.results import ToolResult
from telli_mcp.server.risk import Risk, ToolSpec
from telli_mcp.server.surface import ResourceDef, Surface, ToolDef
from telli_mcp.server.views import AgentView, PhoneNumberView, agent_view, phone_number_view, skipped_note

__all__ = ["SURFACE", "AgentList", "PhoneNumberList"]

AGENTS = "agents"


class AgentList(ToolResult):
    agents: list[AgentView]
    next_cursor: str | None = Field(description="Pass as cursor to get the next page; null at the end")
    note: str | None = None


class PhoneNumberList(ToolResult):
    phone_numbers: list[PhoneNumberView]
    note: str | None = None


async def list_agents(
    ctx: Context,
    limit: Annotated[int, Field(ge=1, le=100)] = 50,
    cursor: CursorArg = None,
) -> AgentList:
    """The account's AI voice agents (agent_id for schedule_calls)."""
    agents = deps_of(ctx).client().agents
    page = await fit_page(
        lambda size, at: agents.list(limit=size, cursor=at),
        agent_view,
        listing="agents",
        limit=limit,
        cursor=cursor,
    )
    return AgentList(agents=page.items, next_cursor=page.next_cursor, note=page.note)


async def list_phone_numbers(ctx: Context) -> PhoneNumberList:
    """The account's active phone numbers (caller ids for from_number)."""
    page = await deps_of(ctx).client().phone_numbers.list()
    return PhoneNumberList(
        phone_numbers=[phone_number_view(number) for number in page.items],
        note=skipped_note(page.invalid_items, "phone numbers"),
    )


async def agent_resource(agent_id: str, ctx: Context) -> str:
    """An AI voice agent (id, title, language)."""
    with reading(f"No telli agent {agent_id}"):
        agent = await deps_of(ctx).client().agents.get(agent_id)
    return as_json(agent_view(agent))


SURFACE = Surface(
    AGENTS,
    tools=(
        ToolDef(ToolSpec("list_agents", "List agents", AGENTS, Risk.READ, idempotent=True), list_agents),
        ToolDef(
            ToolSpec("list_phone_numbers", "List phone numbers", AGENTS, Risk.READ, idempotent=True),
            list_phone_numbers,
        ),
    ),
    resources=(ResourceDef("telli://agents/{agent_id}", "Agent", "application/json", agent_resource),),
)
