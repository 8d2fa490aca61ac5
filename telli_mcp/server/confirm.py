"""Human confirmation for tools that ring people or erase data.

A guarded tool declares its confirmation once, next to the tool: `Confirmation(ask)` is plain data whose resolver
(see `mcp.server.mcpserver.Resolve`) the tool takes as a parameter; what it needs of the running server (the
confirm mode, the token signer, the caller's tenant, the clock) it takes from the request's `ServerDeps` each
time it resolves. Declaring the tool (`surface.ToolDef`) binds the confirmation to the tool's name and to every
one of its arguments, and refuses a tool that dials or erases without one. The resolver receives all validated
arguments by name; `ask` turns them into the question (an `Ask`), and `gate()` decides how to get the human's yes:

* elicitation, when the client can ask its user (both protocol eras);
* otherwise a preview plus a single-use confirmation token that binds the tool, a digest of ALL its
  validated arguments (everything but the token), a digest of what the ask adds (`Ask.binding`: facts read
  from telli or from files that the yes also covers), the telli account and a short expiry; the tool only
  acts when called again with that token and an identical action;
* nothing, when the operator explicitly chose `TELLI_MCP_CONFIRM=off`.

Because the arguments are bound wholesale, a new argument is covered the moment it exists. A tool that
dials must also name its callees (`Ask.callees`): their local time now is added to the question here, in
one place. The tool body then calls `approval_from()` on the resolver's outcome: it raises on decline or
cancel and tells the body whether to act or to return the confirmation request.

A question never waits forever. On a legacy (2025-11-25) connection the server sends `elicitation/create` mid-call
and would wait for the answer, so the resolver asks itself, for at most TELLI_MCP_ELICITATION_TIMEOUT_SECONDS
(the server's setting), and returns the outcome as a plain value; unanswered,
nothing is done and the result says so. On 2026-07-28 the SDK returns the question to the client and does not
wait (the sealed request state expires with the same setting). The tool call's telli deadline stands still
while the human thinks.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Annotated, Any, Literal, Self

import anyio
from mcp.server.elicitation import AcceptedElicitation, ElicitationResult
from mcp.server.mcpserver import Context, Elicit, Resolve
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types.version import MODERN_PROTOCOL_VERSIONS
from pydantic import BaseModel, ConfigDict, Field

from telli_mcp.client import current_deadline
from telli_mcp.config import ConfirmMode, env_var
from telli_mcp.server.callees import Callee, local_times
from telli_mcp.server.deps import deps_of
from telli_mcp.server.errors import translating
from telli_mcp.server.results import ToolResult
from telli_mcp.server.tokens import PendingAction, TokenSigner
from telli_mcp.text import block

__all__ = [
    "TOKEN_ARGUMENT",
    "Approval",
    "Arguments",
    "Ask",
    "AskFn",
    "ConfirmForm",
    "Confirmable",
    "Confirmation",
    "ConfirmationRequest",
    "NotConfirmed",
    "approval_from",
    "client_can_elicit",
    "declared_confirmations",
    "gate",
]

TOKEN_ARGUMENT = "confirmation_token"
_CONTEXT = "ctx"
_ANSWER_SETTING = env_var("elicitation_timeout_seconds")


class ConfirmForm(BaseModel):
    """The elicitation form: one yes/no question."""

    model_config = ConfigDict(defer_build=True)  # built on the first question

    confirm: bool = Field(description="Yes, go ahead")


class ConfirmationRequest(BaseModel):
    """What a guarded tool returns instead of acting when the human has not confirmed yet."""

    model_config = ConfigDict(defer_build=True)  # built on the first confirmation

    summary: str
    """Exactly what will happen, to show to the user word for word."""
    confirmation_token: str
    """Pass this back, with otherwise identical arguments, once the user has agreed."""
    instructions: str


class Confirmable(ToolResult):
    """Fields every guarded tool result has: set only when nothing was done and the user must confirm."""

    confirmation_required: str | None = None
    """What will happen and how to confirm; show the first part to the user word for word."""
    confirmation_token: str | None = None

    def awaiting(self, request: ConfirmationRequest | None) -> Self:
        if request is not None:
            self.confirmation_required = f"{request.summary}\n\n{request.instructions}"
            self.confirmation_token = request.confirmation_token
        return self


@dataclass(frozen=True)
class Approval:
    granted: bool
    via: Literal["elicitation", "token", "off", "pending", "not_needed"]
    request: ConfirmationRequest | None = None


@dataclass(frozen=True)
class NotConfirmed:
    """The resolver asked the human itself and did not get a yes: why, in a sentence. Nothing may be done."""

    reason: str


def _legacy(ctx: Context) -> bool:
    """A 2025-11-25 connection: a question is a request the server sends mid-call and waits on."""
    return ctx.protocol_version not in MODERN_PROTOCOL_VERSIONS


def client_can_elicit(ctx: Context) -> bool:
    """True when this connection can put a question to the user."""
    capabilities = ctx.client_capabilities
    if capabilities is None or capabilities.elicitation is None:
        return False
    elicitation = capabilities.elicitation
    if elicitation.form is None and elicitation.url is not None:
        return False
    # A legacy stateless/JSON-response HTTP leg has no channel to send the question on.
    return not (_legacy(ctx) and not ctx.session.can_send_request)


async def _ask_human(ctx: Context, question: Elicit[ConfirmForm]) -> Approval | NotConfirmed:
    """Put the question to the human over a legacy connection, waiting at most the call's answer time.

    The telli deadline of the call stands still meanwhile: the human's thinking time is not telli's.
    """
    limit = deps_of(ctx).settings.elicitation_timeout_seconds
    call = current_deadline()
    with call.paused() if call is not None else nullcontext(), anyio.move_on_after(limit) as waiting:
        try:
            outcome = await ctx.elicit(question.message, question.schema)
        except ValueError:
            # Accepted with no or malformed content (the SDK reports the same mistake this way).
            return NotConfirmed("The answer to the confirmation question could not be read.")
    if waiting.cancelled_caught:
        return NotConfirmed(
            f"The user did not answer the confirmation question within {limit:g} s ({_ANSWER_SETTING}), so it "
            "was withdrawn. Call the tool again to ask again."
        )
    reason = _refusal(outcome)
    return Approval(granted=True, via="elicitation") if reason is None else NotConfirmed(reason)


async def gate(
    ctx: Context,
    *,
    mode: ConfirmMode,
    signer: TokenSigner,
    tenant: str,
    action: PendingAction,
    token: str | None,
) -> Approval | Elicit[ConfirmForm]:
    """Decide how this action gets (or already has) the human's yes. Called from a resolver."""
    if mode is ConfirmMode.OFF:
        return Approval(granted=True, via="off")
    if token:
        await signer.redeem(token, action, tenant)
        return Approval(granted=True, via="token")
    if mode is not ConfirmMode.TOKEN and client_can_elicit(ctx):
        return Elicit(action.question, ConfirmForm)
    if mode is ConfirmMode.ELICIT:
        raise ToolError(
            f"{action.tool} needs the user's confirmation, but this client cannot ask its user "
            "(no elicitation support) and the server is set to TELLI_MCP_CONFIRM=elicit. Nothing was done."
        )
    request = ConfirmationRequest(
        summary=action.question,
        confirmation_token=signer.issue(action, tenant),
        instructions=(
            "Nothing has been done yet. Show the summary to the user and ask for an explicit yes. Only if "
            f"they agree, call {action.tool} again with the same arguments plus this confirmation_token. "
            f"The token works once, only for these exact arguments, and expires in {int(signer.ttl) // 60} "
            "minutes."
        ),
    )
    return Approval(granted=False, via="pending", request=request)


def _refusal(outcome: ElicitationResult[Any]) -> str | None:
    """Why an elicitation's outcome is no yes, or None for a yes."""
    if not isinstance(outcome, AcceptedElicitation):
        return f"The user did not confirm ({outcome.action})."
    if isinstance(outcome.data, ConfirmForm) and outcome.data.confirm:
        return None
    return "The user declined."


def approval_from(outcome: ElicitationResult[Any], *, what: str) -> Approval:
    """Interpret a resolver outcome inside the tool body; raise `ToolError` when the user said no (or nothing)."""
    # A resolver's plain value (an approval, or the human's no it got itself) arrives as an accepted outcome.
    data = outcome.data if isinstance(outcome, AcceptedElicitation) else None
    if isinstance(data, Approval):
        return data
    reason = data.reason if isinstance(data, NotConfirmed) else _refusal(outcome)
    if reason is not None:
        raise ToolError(f"{reason} Nothing was done: {what}")
    return Approval(granted=True, via="elicitation")


@dataclass(frozen=True)
class Ask:
    """What a guarded tool asks for one call: the question, and what beyond the arguments the yes covers."""

    question: str
    binding: Mapping[str, Any] = field(default_factory=dict)
    """Facts read for the question that the action depends on (e.g. the numbers and dialer clocks of the
    contacts that will be dialled, a digest of the leads): if they differ when the token comes back, it is
    refused."""
    callees: Sequence[Callee] | None = None
    """The people the action will have called (required for a tool that dials); their local time now is
    added to the question."""


Arguments = Mapping[str, Any]
AskFn = Callable[..., Awaitable[Ask | None]]
"""`ask(arguments, ctx, **needs)`: the question for these validated arguments, or None when this call will
neither dial nor erase anything (nothing to confirm; a token, if given, is still checked)."""
Decision = Approval | NotConfirmed | Elicit[ConfirmForm]
"""What a confirmation resolver returns: a plain outcome, or (2026-07-28) the question for the SDK to ask."""


class Confirmation:
    """The single declaration of a guarded tool's confirmation, made next to the tool at import time.

    The tool takes `Annotated[ElicitationResult[Any], Resolve(confirmation.resolver)]`; declaring the tool
    (`surface.ToolDef`) calls `bind()` with the tool's name and argument names, which gives the resolver a
    signature naming every argument, so the SDK passes all validated arguments to it. `needs` are other
    resolvers (such as a plan shared with the tool body) passed to `ask` by name. The gate's settings, signer,
    tenant and clock come from the request's `ServerDeps` each time it resolves.
    """

    def __init__(self, ask: AskFn, *, needs: Mapping[str, Resolve] | None = None) -> None:
        self._ask = translating(ask, writes=False)
        self._needs = dict(needs or {})
        self.tool: str | None = None
        self.arguments: tuple[str, ...] = ()
        self.dials = False
        self.resolver = self._make_resolver()

    def _make_resolver(self) -> Callable[..., Awaitable[Decision]]:
        async def resolver(**values: Any) -> Decision:
            return await self._decide(dict(values))

        resolver.__telli_confirmation__ = self  # type: ignore[attr-defined]
        return resolver

    def bind(self, tool: str, arguments: Sequence[str], *, dials: bool) -> None:
        """Tie this confirmation to one tool and all of its arguments (declaring the tool calls this once)."""
        if self.tool is not None:
            raise ValueError(f"this confirmation already belongs to {self.tool}; declare one per tool")
        if TOKEN_ARGUMENT not in arguments:
            raise ValueError(f"{tool} needs a {TOKEN_ARGUMENT} argument for clients that cannot be asked")
        clash = {_CONTEXT, *self._needs} & set(arguments)
        if clash:
            raise ValueError(f"{tool}: arguments {sorted(clash)} clash with the confirmation's own parameters")
        self.tool, self.arguments, self.dials = tool, tuple(arguments), dials
        names = [*arguments, _CONTEXT, *self._needs]
        self.resolver.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
            [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY) for name in names]
        )
        self.resolver.__annotations__ = {
            _CONTEXT: Context,
            **{name: Annotated[Any, need] for name, need in self._needs.items()},
            "return": Decision,
        }
        # The SDK keys a pending question by the resolver's qualified name; make it the tool's.
        self.resolver.__qualname__ = self.resolver.__name__ = f"confirm_{tool}"

    async def _decide(self, values: dict[str, Any]) -> Decision:
        if self.tool is None:
            raise RuntimeError("a Confirmation was used before a ToolDef bound it to its tool")
        ctx: Context = values.pop(_CONTEXT)
        needs = {name: values.pop(name) for name in self._needs}
        token: str | None = values.pop(TOKEN_ARGUMENT)
        ask = await self._ask(MappingProxyType(values), ctx, **needs)
        if ask is None and not token:
            return Approval(granted=True, via="not_needed")
        deps = deps_of(ctx)
        action = self._action(values, ask, deps.now())
        decision = await gate(
            ctx, mode=deps.settings.confirm, signer=deps.signer, tenant=deps.tenant(), action=action, token=token
        )
        if isinstance(decision, Elicit) and _legacy(ctx):
            # The SDK would send this mid-call and wait without limit; ask with the call's answer time instead.
            return await _ask_human(ctx, decision)
        return decision

    def _action(self, arguments: dict[str, Any], ask: Ask | None, now: datetime) -> PendingAction:
        assert self.tool is not None
        if ask is None:
            return PendingAction(self.tool, arguments, "")
        question = ask.question
        if self.dials:
            if not ask.callees:
                raise RuntimeError(f"{self.tool} dials, so its Ask must name the callees")
            question = f"{question}\n{local_times(ask.callees, now)}"
        # The last clean of everything a human is shown, whatever the tool put into its question.
        return PendingAction(self.tool, arguments, block(question), ask.binding)


def declared_confirmations(hints: Mapping[str, Any]) -> list[Confirmation]:
    """The `Confirmation`s whose resolvers a tool function takes as parameters (`hints`: its annotations)."""
    found = []
    for hint in hints.values():
        if typing.get_origin(hint) is not Annotated:
            continue
        for marker in typing.get_args(hint)[1:]:
            owner = getattr(marker.fn, "__telli_confirmation__", None) if isinstance(marker, Resolve) else None
            if isinstance(owner, Confirmation):
                found.append(owner)
    return found
