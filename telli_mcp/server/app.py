"""`build_server`: assemble the MCP server from settings, a telli client factory and the toolsets."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime

import anyio
from mcp.server.mcpserver import MCPServer, RequestStateSecurity

from telli_mcp._version import __version__
from telli_mcp.backend import Backend, ClientFactory
from telli_mcp.config import Settings
from telli_mcp.server.caller import CallerMiddleware
from telli_mcp.server.campaign_store import CampaignStore, ledger_path
from telli_mcp.server.completions import register_completions
from telli_mcp.server.confirm import TokenSigner
from telli_mcp.server.deps import ClientProvider, SandboxControl, ServerDeps
from telli_mcp.server.instructions import instructions_for
from telli_mcp.server.prompts import register_prompts
from telli_mcp.server.registry import ToolRegistry
from telli_mcp.server.request_deadline import RequestDeadline
from telli_mcp.server.resources import register_resources
from telli_mcp.server.tools import register_all_tools
from telli_mcp.server.toolsets import resolve_toolsets

__all__ = ["ClientFactory", "build_server", "default_client_factory"]


def default_client_factory(settings: Settings) -> ClientFactory:
    """Clients for the real telli API the settings name (entry points pass their backend's factory)."""
    return Backend(settings, None).client_factory()


def _secret(settings: Settings) -> bytes:
    if settings.state_secret is not None:
        return settings.state_secret.get_secret_value().encode()
    return secrets.token_bytes(32)


def _lifespan(
    deps: ServerDeps, store: CampaignStore
) -> Callable[[MCPServer[ServerDeps]], AbstractAsyncContextManager[ServerDeps]]:
    @asynccontextmanager
    async def lifespan(_server: MCPServer[ServerDeps]) -> AsyncIterator[ServerDeps]:
        async with anyio.create_task_group() as background:
            if deps.sandbox is not None:
                background.start_soon(deps.sandbox.run_clock)
            try:
                yield deps
            finally:
                background.cancel_scope.cancel()
                await deps.clients.aclose()
                store.close()

    return lifespan


def build_server(
    settings: Settings,
    *,
    client_factory: ClientFactory | None = None,
    sandbox: SandboxControl | None = None,
    now: Callable[[], datetime] | None = None,
    remote: bool = False,
) -> MCPServer[ServerDeps]:
    """The telli MCP server; raises `UnknownToolsetError` for a bad toolset name (fail at startup)."""
    toolsets = resolve_toolsets(settings.toolsets) | ({"sandbox"} if sandbox else set())
    campaigns = "campaigns" in toolsets and not settings.read_only
    secret = _secret(settings)
    deps = ServerDeps(
        settings=settings,
        clients=ClientProvider(
            factory=client_factory or default_client_factory(settings),
            default_key=None if settings.api_key is None else settings.api_key.get_secret_value(),
        ),
        signer=TokenSigner(secret=secret),
        toolsets=toolsets,
        sandbox=sandbox,
        now=now or (lambda: datetime.now(UTC)),
        remote=remote,
    )
    store = CampaignStore(ledger_path(settings))
    server: MCPServer[ServerDeps] = MCPServer(
        "telli-mcp",
        title="telli" + (" (sandbox)" if sandbox else ""),
        description="Operate telli, the AI voice-agent platform: contacts, auto-dialer, calls and transcripts.",
        instructions=instructions_for(campaigns=campaigns, read_only=settings.read_only, sandbox=sandbox is not None),
        website_url="https://github.com/telli-mcp/telli-mcp",
        version=__version__,
        lifespan=_lifespan(deps, store),
        # The sealed state of a 2026-07-28 confirmation round expires with the human's time to answer.
        request_state_security=RequestStateSecurity(keys=[secret], ttl=settings.elicitation_timeout_seconds),
        log_level="WARNING",
    )
    server.middleware.extend([CallerMiddleware(deps.clients.in_use), RequestDeadline(settings)])
    registry = ToolRegistry(server, toolsets=toolsets, read_only=settings.read_only)
    register_all_tools(registry, deps, store)
    register_resources(server, deps, store)
    register_prompts(server, campaigns=campaigns)
    register_completions(server, deps)
    server.telli_registry = registry  # type: ignore[attr-defined]
    return server
