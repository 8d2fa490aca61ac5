"""What every tool needs at call time: the telli client for this request, the settings and the guards.

The lifespan of the server yields one `ServerDeps` (built by `build_server` from the backend), and every handler
reaches it through its request: `deps_of(ctx)`, i.e. `ctx.request_context.lifespan_context`. The SDK gives static
resources and completions no `Context`; for them the same object is captured per request by `RequestDeps`
and read with `deps_of()`.

In stdio mode there is one telli key (from the environment). In HTTP mode a request may bring its own telli
key as `Authorization: Bearer <key>`, so one deployment can serve many users; each key gets its own client
(cached, bounded) and its own confirmation-token tenant. Which key a request acts with is decided in one place
(`caller`), for every surface alike.
"""

from __future__ import annotations

import asyncio
from collections import Counter, OrderedDict
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from mcp.server.context import CallNext, HandlerResult, ServerMiddleware, ServerRequestContext
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import SecretStr

from telli_mcp.client import key_fingerprint
from telli_mcp.config import Settings
from telli_mcp.server.caller import Caller, current_caller
from telli_mcp.server.tokens import TokenSigner

if TYPE_CHECKING:
    from telli_mcp.campaigns.engine import CampaignEngine
    from telli_mcp.campaigns.store import CampaignStore
    from telli_mcp.client import TelliClient
    from telli_mcp.contact_index.store import ContactIndex, TenantIndex
    from telli_mcp.do_not_call.store import DoNotCallList, TenantList
    from telli_mcp.webhooks.feed import EventFeed
    from telli_mcp.webhooks.receiver import WebhookEndpoint
    from telli_mcp.webhooks.store import EventStore

__all__ = [
    "MAX_CACHED_CLIENTS",
    "ClientProvider",
    "RequestDeps",
    "SandboxControl",
    "ServerDeps",
    "deps_of",
]

MAX_CACHED_CLIENTS = 64


@dataclass
class ClientProvider:
    """Hands out the `TelliClient` for the current request, creating clients lazily.

    At most `MAX_CACHED_CLIENTS` are kept; the least recently used is evicted and closed (an unclosed client
    keeps its sockets until the GC happens to run). A client still used by a request in flight (`in_use`) is
    closed only when the last such request ends, never under it.
    """

    factory: Callable[[str], TelliClient]
    default_key: SecretStr | None
    """The server's own key (TELLI_API_KEY, the demo key in the sandbox): for callers that bring none."""
    _clients: OrderedDict[str, TelliClient] = field(default_factory=OrderedDict)
    _in_use: Counter[str] = field(default_factory=Counter)
    """Requests in flight per tenant."""
    _retired: dict[str, list[TelliClient]] = field(default_factory=dict)
    """Evicted while in use: closed when their tenant's last request ends."""
    _evicted: list[TelliClient] = field(default_factory=list)
    """Evicted and free, not yet closed (no event loop was running when they were evicted)."""
    _closing: set[asyncio.Task[None]] = field(default_factory=set)
    """Close tasks in flight; referenced here because the loop keeps only weak references to tasks."""

    def key_or_none(self) -> str | None:
        """The telli key of the request being handled: the caller's bearer key, else the server's own, else None."""
        return self._key_of(current_caller()) or None

    def current_key(self) -> str:
        """`key_or_none`, or a `ToolError` saying how to set a key."""
        key = self.key_or_none()
        if not key:
            raise ToolError(
                "No telli API key is configured. Set TELLI_API_KEY in the MCP client's environment "
                "(telli app: Settings > API & Webhooks), or send 'Authorization: Bearer <telli key>' over HTTP."
            )
        return key

    def _key_of(self, caller: Caller) -> str | None:
        default = None if self.default_key is None else self.default_key.get_secret_value()
        return caller.bearer_key or default

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
    """The running parts a handler may use; one per server (see `build_server`)."""

    settings: Settings
    clients: ClientProvider
    signer: TokenSigner
    campaigns: CampaignStore
    toolsets: frozenset[str]
    tools: tuple[str, ...]
    """The tools this server offers, in registration order (what get_status reports)."""
    backend: str
    """What the telli behind this server is called: its public base URL, or the sandbox or test simulator."""
    campaign_engines: Callable[[TelliClient, str], CampaignEngine]
    """The campaign engine of a tenant whose key a client holds (the backend's `campaign_engine`)."""
    do_not_call_lists: Callable[[], DoNotCallList]
    """Every tenant's do-not-call list (the backend's, opened on first use: starting the server opens nothing)."""
    contact_indexes: Callable[[], ContactIndex]
    """Every tenant's contact index (the backend's, opened on first use, like the do-not-call lists)."""
    sandbox: SandboxControl | None = None
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    """Wall clock for the waking-hours check (the simulator's clock in sandbox mode and tests)."""
    remote: bool = False
    """Served over HTTP: tools must not read the server's files on a caller's behalf."""
    events: EventFeed | None = None
    """telli's webhook events (their store opens on first use); None only in servers built without a backend."""
    webhook_endpoints: Callable[[], Sequence[WebhookEndpoint]] = tuple
    """The endpoints this server receives telli's events on (worked out when first asked)."""

    @property
    def default_timezone(self) -> str:
        """The account's time zone: telli dials contacts without one on this clock (TELLI_ACCOUNT_TIMEZONE)."""
        return self.settings.account_timezone

    def client(self) -> TelliClient:
        """The telli client of this request's caller."""
        return self.clients.current_client()

    def tenant(self) -> str:
        """This request's caller as a tenant label (a key fingerprint)."""
        return self.clients.current_tenant()

    def do_not_call(self) -> TenantList:
        """This request's caller's do-not-call list: what every dial path checks, and the list tools edit."""
        return self.do_not_call_lists().for_tenant(self.tenant())

    def on_do_not_call(self, numbers: Collection[str]) -> set[str]:
        """Which of these E.164 numbers are on the caller's do-not-call list. Read tools pass this (not the list)
        to what may need it, so a call that shows no opt-out never opens the list's file."""
        return self.do_not_call().blocked(numbers)

    def contact_index(self) -> TenantIndex:
        """This request's caller's contact index (find_contacts, and the selections of the bulk tools)."""
        return self.contact_indexes().for_tenant(self.tenant())

    def event_store(self) -> EventStore | None:
        """The webhook event store when this server receives events, or another process's receiver (`telli-mcp
        webhooks serve`) wrote one; None otherwise (nothing is created for a server without webhooks)."""
        if self.events is None:
            return None
        return self.events.readable(receiving=bool(self.webhook_endpoints()))

    def tenant_or_none(self) -> str | None:
        """`tenant`, or None when the caller has no key (nothing of any account is theirs to see)."""
        key = self.clients.key_or_none()
        return None if key is None else key_fingerprint(key)


_serving: ContextVar[ServerDeps | None] = ContextVar("telli_mcp_deps", default=None)


def deps_of(ctx: Context[Any, Any] | None = None) -> ServerDeps:
    """The `ServerDeps` of the server handling this request: from `ctx` (the lifespan's object), or, in the
    handlers the SDK calls without a `Context` (static resources, completions), as `RequestDeps` captured it."""
    deps = ctx.request_context.lifespan_context if ctx is not None else _serving.get()
    if not isinstance(deps, ServerDeps):
        raise RuntimeError("deps_of() was called outside a request handled by a telli MCP server")
    return deps


class RequestDeps(ServerMiddleware[Any]):
    """Make the server's `ServerDeps` available to every handler of this message (see `deps_of`)."""

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        deps = ctx.lifespan_context
        token = _serving.set(deps if isinstance(deps, ServerDeps) else None)
        try:
            return await call_next(ctx)
        finally:
            _serving.reset(token)
