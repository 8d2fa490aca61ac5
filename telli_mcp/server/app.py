"""`build_server`: the MCP server for one backend, assembled from the toolsets' static data.

Everything comes from the backend (`telli_mcp.backend`, the composition root): the settings, the clients,
the default key, the sandbox, the campaign store and the clock, so they cannot disagree. What the server
offers follows from the toolsets and read-only mode (`surface.Offer.select`).
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING, Any

import anyio
from mcp.server.context import ServerMiddleware
from mcp.server.mcpserver import MCPServer, RequestStateSecurity

from telli_mcp._version import __version__
from telli_mcp.backend import Backend
from telli_mcp.config import Settings
from telli_mcp.server.apps import apps_extension, attach_apps
from telli_mcp.server.caller import CallerMiddleware
from telli_mcp.server.completions import register_completions
from telli_mcp.server.contact_search import apply_event
from telli_mcp.server.declarations import listed_surfaces
from telli_mcp.server.deps import ClientProvider, RequestDeps, ServerDeps
from telli_mcp.server.instructions import instructions_for
from telli_mcp.server.live import AccountBus, announce
from telli_mcp.server.registry import register_prompts, register_resources, register_tools
from telli_mcp.server.request_deadline import RequestDeadline
from telli_mcp.server.surface import Offer
from telli_mcp.server.tokens import TokenSigner
from telli_mcp.toolsets import ANALYTICS, BULK, DO_NOT_CALL, LIVE, SANDBOX, SEARCH, resolve_toolsets

if TYPE_CHECKING:
    from collections.abc import Iterable

    from telli_mcp.campaign_adoption import CampaignAdopter
    from telli_mcp.server.surface import Surface

__all__ = ["build_server", "offer_for"]


def _secret(settings: Settings) -> bytes:
    if settings.state_secret is not None:
        return settings.state_secret.get_secret_value().encode()
    return secrets.token_bytes(32)


def _middleware(backend: Backend, deps: ServerDeps) -> list[ServerMiddleware[Any]]:
    """Ours, outermost first: the caller (its key) is known to everything after it."""
    chain: list[ServerMiddleware[Any]] = [CallerMiddleware(deps.clients.in_use)]
    if backend.campaign_adopter is not None:
        from telli_mcp.server.orphans import ResumeOrphans

        chain.append(ResumeOrphans(backend.campaign_adopter, deps.clients.key_or_none))
    return [*chain, RequestDeps(), RequestDeadline(deps.settings)]


def _lifespan(
    deps: ServerDeps, adopter: CampaignAdopter | None
) -> Callable[[MCPServer[ServerDeps]], AbstractAsyncContextManager[ServerDeps]]:
    @asynccontextmanager
    async def lifespan(_server: MCPServer[ServerDeps]) -> AsyncIterator[ServerDeps]:
        async with anyio.create_task_group() as background:
            if deps.sandbox is not None:
                background.start_soon(deps.sandbox.run_clock)
            if deps.events is not None and deps.events.database_url is not None:
                from telli_mcp.webhooks.relay import relay_events

                # Events other replicas receive wake this one's waiters and listeners too.
                await background.start(relay_events, deps.events)
            if adopter is not None:
                adopter.attach(background)  # campaigns other replicas left behind resume in here
                if deps.clients.default_key is not None:
                    background.start_soon(adopter.watch, deps.clients.default_key.get_secret_value())
            try:
                yield deps
            finally:
                if adopter is not None:
                    adopter.detach()
                background.cancel_scope.cancel()
                await deps.clients.aclose()
                deps.campaigns.close()
                if deps.events is not None:
                    deps.events.close()

    return lifespan


def _register(server: MCPServer[ServerDeps], offer: Offer) -> None:
    register_tools(server, offer.tools)
    register_resources(server, offer.resources)
    register_prompts(server, offer.prompts)
    register_completions(server)


def offer_for(settings: Settings, *, sandbox: bool = False, surfaces: Iterable[Surface] | None = None) -> Offer:
    """What a server with these settings offers (against the sandbox: plus its own tools, the do-not-call list's,
    call_stats and find_contacts, so trying them needs no setting), in order: from `surfaces`, by default the
    toolsets as the build-time declarations list them (`declarations`, what a server offers without importing them).

    Raises `UnknownToolsetError` for a bad toolset name.
    """
    realtime = sandbox or settings.webhook_secret is not None or settings.webhook_accounts is not None
    toolsets = (
        resolve_toolsets(settings.toolsets)
        | ({SANDBOX, DO_NOT_CALL, ANALYTICS, BULK, SEARCH} if sandbox else set())
        | ({LIVE} if realtime else set())
    )
    listed = listed_surfaces() if surfaces is None else surfaces
    return Offer.select(listed, toolsets=toolsets, read_only=settings.read_only)


def build_server(backend: Backend, *, remote: bool = False) -> MCPServer[ServerDeps]:
    """The telli MCP server over `backend`; `remote`: served over HTTP (tools then never read the server's files).

    Raises `UnknownToolsetError` for a bad toolset name (fail at startup).
    """
    settings = backend.settings
    offer = offer_for(settings, sandbox=backend.sandbox is not None)
    secret = _secret(settings)
    deps = ServerDeps(
        settings=settings,
        clients=ClientProvider(factory=backend.client_factory(), default_key=backend.api_key),
        signer=TokenSigner(secret=secret, spent=lambda: backend.spent_tokens),
        campaigns=backend.campaign_store,
        campaign_engines=backend.campaign_engine,
        toolsets=offer.toolsets,
        tools=tuple(tool.name for tool in offer.tools),
        backend=backend.label,
        # The backend owns the list (opened on its first use, closed with the process): a lifespan ends with every
        # in-process connection, and an in-memory list closed then would forget the numbers the user added.
        do_not_call_lists=lambda: backend.do_not_call,
        contact_indexes=lambda: backend.contact_index,
        sandbox=backend.sandbox,
        now=backend.now,
        remote=remote,
        events=backend.events,
        webhook_endpoints=lambda: backend.webhook_endpoints,
    )
    bus = AccountBus(deps.tenant_or_none)
    backend.events.hub.listen(lambda stored: announce(bus, stored, deps.campaigns.campaigns_with_contact))
    # An event says telli's state changed: campaign pages must not show what they cached before it.
    backend.events.hub.listen(lambda stored: deps.campaigns.forget_contacts(stored.account))
    # ... and the contact index learns the contact's dialer state and last call from it.
    backend.events.hub.listen(lambda stored: apply_event(backend.contact_index, stored))
    server: MCPServer[ServerDeps] = MCPServer(
        "telli-mcp",
        title="telli" + (" (sandbox)" if backend.sandbox is not None else ""),
        description="Operate telli, the AI voice-agent platform: contacts, auto-dialer, calls and transcripts.",
        instructions=instructions_for(offer, read_only=settings.read_only),
        website_url="https://github.com/telli-mcp/telli-mcp",
        version=__version__,
        lifespan=_lifespan(deps, backend.campaign_adopter),
        # The sealed state of a 2026-07-28 confirmation round expires with the human's time to answer.
        request_state_security=RequestStateSecurity(keys=[secret], ttl=settings.elicitation_timeout_seconds),
        log_level="WARNING",
        subscriptions=bus,
        extensions=apps_extension(offer),
    )
    server.middleware.extend(_middleware(backend, deps))
    _register(server, offer)
    attach_apps(server, offer)
    return server
