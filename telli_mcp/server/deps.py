"""What every tool needs at call time: the telli client for this request, the settings and the guards.

In stdio mode there is one telli key (from the environment). In HTTP mode a request may bring its own telli
key as `Authorization: Bearer <key>`, so one deployment can serve many users; each key gets its own client
(cached, bounded) and its own confirmation-token tenant. Which key a request acts with is decided in one place
(`caller`), for every surface alike.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from mcp.server.mcpserver import Context, Elicit, Resolve
from mcp.server.mcpserver.exceptions import ToolError

from telli_mcp.client import TelliClient
from telli_mcp.config import Settings
from telli_mcp.server.caller import Caller, current_caller
from telli_mcp.server.confirm import Approval, AskFn, Confirmation, ConfirmForm, PendingAction, TokenSigner, gate

__all__ = ["ClientProvider", "SandboxControl", "ServerDeps", "key_fingerprint"]

MAX_CACHED_CLIENTS = 64


def key_fingerprint(api_key: str) -> str:
    """A stable, non-reversible tenant label for a key (never the key itself)."""
    return hashlib.sha256(api_key.encode()).hexdigest()[:16]


@dataclass
class ClientProvider:
    """Hands out the `TelliClient` for the current request, creating clients lazily.

    At most `MAX_CACHED_CLIENTS` are kept; the least recently used is evicted and closed (an unclosed client
    keeps its sockets until the GC happens to run). A client still used by a request in flight (`in_use`) is
    closed only when the last such request ends, never under it.
    """

    factory: Callable[[str], TelliClient]
    default_key: str | None
    _clients: OrderedDict[str, TelliClient] = field(default_factory=OrderedDict)
    _in_use: Counter[str] = field(default_factory=Counter)
    """Requests in flight per tenant."""
    _retired: dict[str, list[TelliClient]] = field(default_factory=dict)
    """Evicted while in use: closed when their tenant's last request ends."""
    _evicted: list[TelliClient] = field(default_factory=list)
    """Evicted and free, not yet closed (no event loop was running when they were evicted)."""
    _closing: set[asyncio.Task[None]] = field(default_factory=set)
    """Close tasks in flight; referenced here because the loop keeps only weak references to tasks."""

    def current_key(self) -> str:
        """The telli key of the request being handled: the caller's bearer key, else the server's own."""
        key = self._key_of(current_caller())
        if not key:
            raise ToolError(
                "No telli API key is configured. Set TELLI_API_KEY in the MCP client's environment "
                "(telli app: Settings > API & Webhooks), or send 'Authorization: Bearer <telli key>' over HTTP."
            )
        return key

    def _key_of(self, caller: Caller) -> str | None:
        return caller.bearer_key or self.default_key

    def current_client(self) -> TelliClient:
        return self.client_for_key(self.current_key())

    def current_tenant(self) -> str:
        return key_fingerprint(self.current_key())

    def client_for_key(self, key: str) -> TelliClient:
        tenant = key_fingerprint(key)
        client = self._clients.get(tenant)
        if client is None:
            client = self.factory(key)
            self._clients[tenant] = client
            self._evict()
        self._clients.move_to_end(tenant)
        return client

    @contextmanager
    def in_use(self, caller: Caller) -> Iterator[None]:
        """Mark the caller's client as used for the duration of one request (the caller middleware wraps
        every request in this)."""
        key = self._key_of(caller)
        tenant = None if key is None else key_fingerprint(key)
        if tenant is None:
            yield
            return
        self._in_use[tenant] += 1
        try:
            yield
        finally:
            self._in_use[tenant] -= 1
            if not self._in_use[tenant]:
                del self._in_use[tenant]
                self._evicted.extend(self._retired.pop(tenant, []))
                self._schedule_close()

    def _evict(self) -> None:
        while len(self._clients) > MAX_CACHED_CLIENTS:
            tenant, client = self._clients.popitem(last=False)
            if self._in_use[tenant]:
                self._retired.setdefault(tenant, []).append(client)
            else:
                self._evicted.append(client)
        self._schedule_close()

    def _schedule_close(self) -> None:
        # Callers are synchronous (tools look clients up without awaiting), hence the close is scheduled on the
        # running loop, or left for `aclose` when there is none.
        if not self._evicted:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        task = loop.create_task(self._close_evicted())
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def _close_evicted(self) -> None:
        while self._evicted:
            await self._evicted.pop(0).aclose()

    async def aclose(self) -> None:
        """Close every client, cached, retired or evicted (the server's lifespan calls this when it ends)."""
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)
        self._evicted.extend(self._clients.values())
        self._evicted.extend(client for clients in self._retired.values() for client in clients)
        self._clients.clear()
        self._retired.clear()
        await self._close_evicted()


class SandboxControl(Protocol):
    """Hooks that only exist in sandbox mode (the simulated dialer clock)."""

    async def advance(self, minutes: float) -> str:
        """Move the simulated clock forward; return the new simulated time (ISO)."""
        ...

    async def run_clock(self) -> None:
        """Keep the simulated clock moving in the background while the server runs."""
        ...


@dataclass
class ServerDeps:
    settings: Settings
    clients: ClientProvider
    signer: TokenSigner
    toolsets: frozenset[str]
    sandbox: SandboxControl | None = None
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    """Wall clock for the waking-hours check (the simulator's clock in sandbox mode and tests)."""
    remote: bool = False
    """Served over HTTP: tools must not read the server's files on a caller's behalf."""

    @property
    def default_timezone(self) -> str:
        """The account's time zone: telli dials contacts without one on this clock (TELLI_ACCOUNT_TIMEZONE)."""
        return self.settings.account_timezone

    # `ctx` is not read: the caller comes from `caller.current_caller()`, which every surface shares (see there).
    # Tools pass it all the same, as the mark of code that runs inside a request.
    def client(self, ctx: Context) -> TelliClient:
        """The telli client of this request's caller."""
        return self.clients.current_client()

    def tenant(self, ctx: Context) -> str:
        """This request's caller as a tenant label (a key fingerprint)."""
        return self.clients.current_tenant()

    def confirm(self, ctx: Context, action: PendingAction, token: str | None) -> Approval | Elicit[ConfirmForm]:
        """Get (or check) the human's yes for `action`.

        Tools declare `confirmation()` instead, which calls this with all their arguments; a direct call binds
        only what the caller puts in `action` (start_campaign still does, until it declares its confirmation).
        """
        return gate(
            ctx, mode=self.settings.confirm, signer=self.signer, tenant=self.tenant(ctx), action=action, token=token
        )

    def confirmation(self, ask: AskFn, *, needs: Mapping[str, Resolve] | None = None) -> Confirmation:
        """Declare a guarded tool's confirmation: `ask(arguments, ctx, **needs)` builds the question (see
        `confirm.Confirmation`); the token binds every argument of the tool plus what the `Ask` binds."""
        return Confirmation(self.confirm, self.now, ask, needs=needs)
