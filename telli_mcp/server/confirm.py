"""Human confirmation for tools that ring people or erase data.

Each guarded tool has a resolver (see `mcp.server.mcpserver.Resolve`) that describes the exact action as a
`PendingAction` and hands it to `gate()`, which decides how to get the human's yes:

* elicitation, when the client can ask its user (both protocol eras);
* otherwise a preview plus a single-use confirmation token bound to the tool, its exact arguments, the
  telli account and a short expiry; the tool only acts when called again with that token;
* nothing, when the operator explicitly chose `TELLI_MCP_CONFIRM=off`.

The tool body then calls `approval_from()` on the resolver's outcome: it raises on decline or cancel and
tells the body whether to act or to return the confirmation request.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Self

from mcp.server.elicitation import AcceptedElicitation, ElicitationResult
from mcp.server.mcpserver import Context, Elicit
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types.version import MODERN_PROTOCOL_VERSIONS
from pydantic import BaseModel, Field

from telli_mcp.config import ConfirmMode
from telli_mcp.server.results import ToolResult

__all__ = [
    "Approval",
    "ConfirmForm",
    "Confirmable",
    "ConfirmationRequest",
    "PendingAction",
    "TokenSigner",
    "approval_from",
    "client_can_elicit",
    "gate",
]

TOKEN_TTL_SECONDS = 300


class ConfirmForm(BaseModel):
    """The elicitation form: one yes/no question."""

    confirm: bool = Field(description="Yes, go ahead")


class ConfirmationRequest(BaseModel):
    """What a guarded tool returns instead of acting when the human has not confirmed yet."""

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
class PendingAction:
    """One concrete action awaiting a yes: the tool, its exact arguments and the question for the human."""

    tool: str
    arguments: Mapping[str, Any]
    question: str


@dataclass(frozen=True)
class Approval:
    granted: bool
    via: Literal["elicitation", "token", "off", "pending"]
    request: ConfirmationRequest | None = None


@dataclass
class TokenSigner:
    """Issues and redeems HMAC-signed, single-use, short-lived confirmation tokens.

    The signature covers the tool name, the canonical JSON of the arguments, the telli account fingerprint
    and the expiry, so a token cannot be replayed for other arguments, another tool or another tenant.
    Redeemed nonces are remembered per process until they expire.
    """

    secret: bytes
    ttl: float = TOKEN_TTL_SECONDS
    clock: Callable[[], float] = time.time
    _spent: dict[str, float] = field(default_factory=dict)

    def issue(self, action: PendingAction, tenant: str) -> str:
        expires = int(self.clock() + self.ttl)
        nonce = secrets.token_hex(6)
        return f"{nonce}.{expires}.{self._sign(action, tenant, nonce, expires)}"

    def redeem(self, token: str, action: PendingAction, tenant: str) -> None:
        """Accept the token once for exactly this action, or raise `ToolError` saying why not."""
        nonce, expires = self._parse(token)
        expected = self._sign(action, tenant, nonce, expires)
        if not hmac.compare_digest(expected, token.rsplit(".", 1)[-1]):
            raise ToolError(
                "confirmation_token does not match this action: it was issued for different arguments, "
                "another tool or another account. Call again without a token to get a new preview."
            )
        now = self.clock()
        if expires < now:
            raise ToolError("confirmation_token has expired. Call again without a token to get a new preview.")
        self._forget_expired(now)
        if nonce in self._spent:
            raise ToolError("confirmation_token was already used. Each confirmation is good for one call.")
        self._spent[nonce] = expires

    def _parse(self, token: str) -> tuple[str, int]:
        parts = token.strip().split(".")
        if len(parts) != 3 or not parts[1].isdigit():
            raise ToolError("confirmation_token is malformed. Use the token exactly as it was returned.")
        return parts[0], int(parts[1])

    def _sign(self, action: PendingAction, tenant: str, nonce: str, expires: int) -> str:
        canonical = json.dumps(
            {"tool": action.tool, "args": action.arguments, "tenant": tenant, "nonce": nonce, "exp": expires},
            sort_keys=True,
            separators=(",", ":"),
            default=str,
        )
        digest = hmac.new(self.secret, canonical.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:18]).decode().rstrip("=")

    def _forget_expired(self, now: float) -> None:
        for nonce in [n for n, exp in self._spent.items() if exp < now]:
            del self._spent[nonce]


def client_can_elicit(ctx: Context) -> bool:
    """True when this connection can put a question to the user."""
    capabilities = ctx.client_capabilities
    if capabilities is None or capabilities.elicitation is None:
        return False
    elicitation = capabilities.elicitation
    if elicitation.form is None and elicitation.url is not None:
        return False
    legacy = ctx.protocol_version not in MODERN_PROTOCOL_VERSIONS
    # A legacy stateless/JSON-response HTTP leg has no channel to send the question on.
    return not (legacy and not ctx.session.can_send_request)


def gate(
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
        signer.redeem(token, action, tenant)
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


def approval_from(outcome: ElicitationResult[Any], *, what: str) -> Approval:
    """Interpret a resolver outcome inside the tool body; raise `ToolError` when the user said no."""
    if not isinstance(outcome, AcceptedElicitation):
        raise ToolError(f"The user did not confirm ({outcome.action}). Nothing was done: {what}")
    data = outcome.data
    if isinstance(data, Approval):
        return data
    if isinstance(data, ConfirmForm) and data.confirm:
        return Approval(granted=True, via="elicitation")
    raise ToolError(f"The user declined. Nothing was done: {what}")
