"""Confirmation tokens: the human's yes, for clients that cannot be asked, bound to one exact action.

A guarded tool that cannot put its question to the user returns a preview and a token; the tool acts only when
called again with that token and an identical action (see `confirm`). The signer is the server's, made once in
`build_server`; its secret is TELLI_MCP_STATE_SECRET or a random one per process.

Signing and checking are pure. Spending is not: a token's nonce is recorded in the backend's spent-token store
(`telli_mcp.database.SpentTokens`) before the action is taken, atomically, so a token whose secret other processes
share (replicas, a restart) is still good for one action only.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mcp.server.mcpserver.exceptions import ToolError
from pydantic_core import to_jsonable_python

if TYPE_CHECKING:
    from telli_mcp.database import SpentTokens

__all__ = ["TOKEN_TTL_SECONDS", "PendingAction", "TokenSigner", "canonical_digest"]

TOKEN_TTL_SECONDS = 300
_ALREADY_USED = "confirmation_token was already used. Each confirmation is good for one call."
_MISMATCH = (
    "confirmation_token does not match this action: it was issued for different arguments, another tool or another "
    "account, or what it covered changed since the preview (such as a contact's number, time zone or dialer state, "
    "or the leads). Nothing was done. Call again without a token to get a new preview."
)


def canonical_digest(value: Any) -> str:
    """SHA-256 of the canonical JSON of `value` (sorted keys, no whitespace, pydantic-aware)."""
    text = json.dumps(
        to_jsonable_python(value, fallback=str), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class PendingAction:
    """One concrete action awaiting a yes: the tool, its exact arguments, what else the yes covers, and the
    question for the human."""

    tool: str
    arguments: Mapping[str, Any]
    question: str
    binding: Mapping[str, Any] = field(default_factory=dict)
    """Facts beyond the arguments that the yes covers (e.g. the contacts that will be dialled)."""


@dataclass
class TokenSigner:
    """Issues and redeems HMAC-signed, single-use, short-lived confirmation tokens.

    The signature covers the tool name, a digest of the canonical JSON of the arguments, a digest of the
    action's binding, the telli account fingerprint and the expiry, so a token cannot be replayed for other
    arguments, changed facts, another tool or another tenant. Redeemed nonces are recorded in `spent` (the
    backend's store, asked for on first redeem), which every process sharing the secret should share.
    """

    secret: bytes
    spent: Callable[[], SpentTokens]
    ttl: float = TOKEN_TTL_SECONDS
    clock: Callable[[], float] = time.time

    def issue(self, action: PendingAction, tenant: str) -> str:
        expires = int(self.clock() + self.ttl)
        nonce = secrets.token_hex(6)
        return f"{nonce}.{expires}.{self._sign(action, tenant, nonce, expires)}"

    async def redeem(self, token: str, action: PendingAction, tenant: str) -> None:
        """Accept the token once for exactly this action, or raise `ToolError` saying why not. The nonce is
        recorded as spent before this returns: the caller acts only after that."""
        nonce, expires = self._parse(token)
        now = self.clock()
        with _recording():
            store = self.spent()
            if not self.signs(token, action, tenant):
                # Once used, a token is spent whatever the action now looks like (the first use may itself have
                # changed what the preview reads, e.g. the contact is now in the dialer).
                raise ToolError(_ALREADY_USED if await store.was_spent(nonce) else _MISMATCH)
            if expires < now:
                raise ToolError("confirmation_token has expired. Call again without a token to get a new preview.")
            if not await store.spend(nonce, expires=expires, now=now):
                raise ToolError(_ALREADY_USED)

    def signs(self, token: str, action: PendingAction, tenant: str) -> bool:
        """Whether `token` is this signer's for exactly this action and tenant (its expiry not considered)."""
        nonce, expires = self._parse(token)
        return hmac.compare_digest(self._sign(action, tenant, nonce, expires), token.rsplit(".", 1)[-1])

    def _parse(self, token: str) -> tuple[str, int]:
        parts = token.strip().split(".")
        if len(parts) != 3 or not parts[1].isdigit():
            raise ToolError("confirmation_token is malformed. Use the token exactly as it was returned.")
        return parts[0], int(parts[1])

    def _sign(self, action: PendingAction, tenant: str, nonce: str, expires: int) -> str:
        canonical = json.dumps(
            {
                "tool": action.tool,
                "args": canonical_digest(action.arguments),
                "bound": canonical_digest(action.binding),
                "tenant": tenant,
                "nonce": nonce,
                "exp": expires,
            },
            sort_keys=True,
            separators=(",", ":"),
        )
        digest = hmac.new(self.secret, canonical.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:18]).decode().rstrip("=")


@contextmanager
def _recording() -> Iterator[None]:
    """A store that cannot be reached is the tool's error, and then nothing was done."""
    from telli_mcp.database import DatabaseUnavailable

    try:
        yield
    except DatabaseUnavailable as err:
        raise ToolError(
            f"{err}. Nothing was done: the confirmation could not be recorded as used. Call again in a moment (if "
            "the token is then reported as used, call again without it for a new preview)."
        ) from None
