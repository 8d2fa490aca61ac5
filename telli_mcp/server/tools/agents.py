"""Agents and phone numbers: what the account calls with and from; admin changes to numbers are opt-in."""

from typing import Annotated, Any

from mcp.server.elicitation import ElicitationResult
from mcp.server.mcpserver import Context, Resolve
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from telli_mcp.client import PhoneNumber, TelliClient
from telli_mcp.server.confirm import Arguments, Ask, Confirmable, approval_from
from telli_mcp.server.deps import ServerDeps
from telli_mcp.server.paging import fit_page
from telli_mcp.server.params import ConfirmationTokenArg, CursorArg
from telli_mcp.server.registry import ToolRegistry
from telli_mcp.server.results import ToolResult
from telli_mcp.server.risk import Risk, ToolSpec
from telli_mcp.server.views import AgentView, PhoneNumberView, agent_view, phone_number_view, skipped_note
from telli_mcp.text import InlineObject, inline

__all__ = ["AgentList", "PhoneNumberChangeResult", "PhoneNumberList", "register"]

PhoneNumberIdArg = Annotated[
    str,
    Field(
        min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$", description="phone_number_id from list_phone_numbers"
    ),
]


class AgentList(ToolResult):
    agents: list[AgentView]
    next_cursor: str | None = Field(description="Pass as cursor to get the next page; null at the end")
    note: str | None = None


class PhoneNumberList(ToolResult):
    phone_numbers: list[PhoneNumberView]
    note: str | None = None


class PhoneNumberChangeResult(Confirmable):
    done: bool
    phone_number_id: str
    details: InlineObject | None = None


async def _find_number(client: TelliClient, phone_number_id: str) -> PhoneNumber:
    for number in (await client.phone_numbers.list()).items:
        if number.id == phone_number_id:
            return number
    raise ToolError(f"phone_number_id: no active number with id {phone_number_id}; see list_phone_numbers.")


def register(registry: ToolRegistry, deps: ServerDeps) -> None:
    async def list_agents(
        ctx: Context,
        limit: Annotated[int, Field(ge=1, le=100)] = 50,
        cursor: CursorArg = None,
    ) -> AgentList:
        """List the account's AI voice agents (id, title, language). Use an agent_id for schedule_calls."""
        agents = deps.client(ctx).agents
        page = await fit_page(
            lambda size, at: agents.list(limit=size, cursor=at),
            agent_view,
            listing="agents",
            limit=limit,
            cursor=cursor,
        )
        return AgentList(agents=page.items, next_cursor=page.next_cursor, note=page.note)

    async def list_phone_numbers(ctx: Context) -> PhoneNumberList:
        """List the account's active phone numbers (caller ids). Use one as from_number when scheduling."""
        page = await deps.client(ctx).phone_numbers.list()
        return PhoneNumberList(
            phone_numbers=[phone_number_view(number) for number in page.items],
            note=skipped_note(page.invalid_items, "phone numbers"),
        )

    async def ask_replace(args: Arguments, ctx: Context) -> Ask:
        number = await _find_number(deps.client(ctx), args["phone_number_id"])
        return Ask(
            f"Replace the phone number {inline(number.phone_number)} with a new number? Outbound calls will use "
            "the new number; the old one stays active for callbacks for 30 days."
        )

    replace_confirmation = deps.confirmation(ask_replace)

    async def replace_phone_number(
        phone_number_id: PhoneNumberIdArg,
        ctx: Context,
        answer: Annotated[ElicitationResult[Any], Resolve(replace_confirmation.resolver)],
        confirmation_token: ConfirmationTokenArg = None,
    ) -> PhoneNumberChangeResult:
        """Swap an account phone number for a new one (the old one keeps callbacks 30 days). Asks the user."""
        approval = approval_from(answer, what="the phone number was not replaced.")
        if not approval.granted:
            return PhoneNumberChangeResult(done=False, phone_number_id=phone_number_id).awaiting(approval.request)
        change = await deps.client(ctx).phone_numbers.replace(phone_number_id)
        return PhoneNumberChangeResult(
            done=True, phone_number_id=phone_number_id, details=change.model_dump(mode="json", exclude_none=True)
        )

    async def ask_delete_number(args: Arguments, ctx: Context) -> Ask:
        number = await _find_number(deps.client(ctx), args["phone_number_id"])
        return Ask(
            f"Delete the phone number {inline(number.phone_number)} from the account? It stops being used for "
            "outbound calls and stays active for callbacks for 30 days, then it is gone."
        )

    delete_number_confirmation = deps.confirmation(ask_delete_number)

    async def delete_phone_number(
        phone_number_id: PhoneNumberIdArg,
        ctx: Context,
        answer: Annotated[ElicitationResult[Any], Resolve(delete_number_confirmation.resolver)],
        confirmation_token: ConfirmationTokenArg = None,
    ) -> PhoneNumberChangeResult:
        """Schedule an account phone number for deletion (callbacks work 30 more days). Asks the user."""
        approval = approval_from(answer, what="the phone number was not deleted.")
        if not approval.granted:
            return PhoneNumberChangeResult(done=False, phone_number_id=phone_number_id).awaiting(approval.request)
        await deps.client(ctx).phone_numbers.delete(phone_number_id)
        return PhoneNumberChangeResult(done=True, phone_number_id=phone_number_id)

    registry.add(ToolSpec("list_agents", "List agents", "agents", Risk.READ, idempotent=True), list_agents)
    registry.add(
        ToolSpec("list_phone_numbers", "List phone numbers", "agents", Risk.READ, idempotent=True), list_phone_numbers
    )
    admin = "phone_numbers_admin"
    registry.add(
        ToolSpec("replace_phone_number", "Replace phone number", admin, Risk.DESTRUCTIVE, idempotent=False),
        replace_phone_number,
    )
    registry.add(
        ToolSpec("delete_phone_number", "Delete phone number", admin, Risk.DESTRUCTIVE, idempotent=True),
        delete_phone_number,
    )
