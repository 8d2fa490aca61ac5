"""The phone_numbers_admin toolset (opt-in): replace or delete the account's phone numbers, each after a yes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from mcp.server.elicitation import ElicitationResult
from mcp.server.mcpserver import Context, Resolve
from mcp.server.mcpserver.exceptions import ToolError

from telli_mcp.server.confirm import Arguments, Ask, Confirmable, Confirmation, approval_from
from telli_mcp.server.deps import deps_of
from telli_mcp.server.params import ConfirmationTokenArg, PhoneNumberIdArg
from telli_mcp.server.risk import Risk, ToolSpec
from telli_mcp.server.surface import Surface, ToolDef
from telli_mcp.text import InlineObject, inline

if TYPE_CHECKING:
    from telli_mcp.client import PhoneNumber, TelliClient

__all__ = ["SURFACE", "PhoneNumberChangeResult"]

ADMIN = "phone_numbers_admin"


class PhoneNumberChangeResult(Confirmable):
    done: bool
    phone_number_id: str
    details: InlineObject | None = None


async def _find_number(client: TelliClient, phone_number_id: str) -> PhoneNumber:
    for number in (await client.phone_numbers.list()).items:
        if number.id == phone_number_id:
            return number
    raise ToolError(f"phone_number_id: no active number with id {phone_number_id}; see list_phone_numbers.")


async def ask_replace(args: Arguments, ctx: Context) -> Ask:
    number = await _find_number(deps_of(ctx).client(), args["phone_number_id"])
    return Ask(
        f"Replace the phone number {inline(number.phone_number)} with a new number? Outbound calls will use "
        "the new number; the old one stays active for callbacks for 30 days."
    )


replace_confirmation = Confirmation(ask_replace)


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
    change = await deps_of(ctx).client().phone_numbers.replace(phone_number_id)
    return PhoneNumberChangeResult(
        done=True, phone_number_id=phone_number_id, details=change.model_dump(mode="json", exclude_none=True)
    )


async def ask_delete_number(args: Arguments, ctx: Context) -> Ask:
    number = await _find_number(deps_of(ctx).client(), args["phone_number_id"])
    return Ask(
        f"Delete the phone number {inline(number.phone_number)} from the account? It stops being used for "
        "outbound calls and stays active for callbacks for 30 days, then it is gone."
    )


delete_number_confirmation = Confirmation(ask_delete_number)


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
    await deps_of(ctx).client().phone_numbers.delete(phone_number_id)
    return PhoneNumberChangeResult(done=True, phone_number_id=phone_number_id)


SURFACE = Surface(
    ADMIN,
    tools=(
        ToolDef(
            ToolSpec("replace_phone_number", "Replace phone number", ADMIN, Risk.DESTRUCTIVE, idempotent=False),
            replace_phone_number,
        ),
        ToolDef(
            ToolSpec("delete_phone_number", "Delete phone number", ADMIN, Risk.DESTRUCTIVE, idempotent=True),
            delete_phone_number,
        ),
    ),
)
