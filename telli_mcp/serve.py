"""Run the MCP server over stdio or streamable HTTP, against telli or the sandbox simulator."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Literal

from telli_mcp.config import Settings, looks_like_placeholder, unsubstituted_placeholders

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from mcp.server.mcpserver import MCPServer
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    KeyVerifier = Callable[[str], Awaitable[bool | None]]

__all__ = ["http_app", "looks_like_placeholder", "run_server"]

logger = logging.getLogger("telli_mcp")


def _warn_about_key(settings: Settings) -> None:
    others = [name for name in unsubstituted_placeholders(settings) if name != "TELLI_API_KEY"]
    if others:
        logger.error(
            "%s look like unsubstituted placeholders: your MCP client did not fill them in (run `telli-mcp doctor`).",
            ", ".join(others),
        )
    if settings.api_key is None:
        logger.warning(
            "TELLI_API_KEY is not set: tools will answer with an error until it is "
            "(or run with --sandbox to try the demo account)."
        )
    elif looks_like_placeholder(settings.api_key.get_secret_value()):
        logger.error(
            "TELLI_API_KEY looks like an unsubstituted placeholder (e.g. ${...} or {{...}}): your MCP "
            "client did not fill it in. Put the real key in the client's env settings."
        )


def run_server(settings: Settings, *, transport: Literal["stdio", "http"], host: str, port: int) -> None:
    from telli_mcp.backend import SANDBOX_NOTICE, open_backend
    from telli_mcp.server import build_server

    backend = open_backend(settings)
    if backend.sandbox is not None:
        logger.warning(SANDBOX_NOTICE)
    else:
        _warn_about_key(settings)
    server = build_server(backend, remote=transport == "http")
    if transport == "stdio":
        from telli_mcp.stdio_pipes import serve_stdio

        serve_stdio(server)
    else:
        app = http_app(
            server, backend.settings, host, verify_key=backend.verify_key, webhooks=backend.webhook_receiver()
        )
        _serve_http(_closing(app, backend.aclose), host=host, port=port, log_level=settings.log_level)


def http_app(
    server: MCPServer[Any],
    settings: Settings,
    host: str,
    *,
    verify_key: KeyVerifier | None = None,
    webhooks: ASGIApp | None = None,
) -> ASGIApp:
    """The HTTP deployment of `server` (see `telli_mcp.server.http_deployment`)."""
    from telli_mcp.server import http_app as deployment

    return deployment(server, settings, host, verify_key=verify_key, webhooks=webhooks)


def _closing(app: ASGIApp, aclose: Callable[[], Awaitable[None]]) -> ASGIApp:
    """`app`, calling `aclose` (the backend's: its database connections) once the app has shut down, on the
    server's own event loop (a pool belongs to the loop it was opened on)."""

    async def lifespan_aware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await app(scope, receive, send)
            return

        async def closing_before_done(message: Message) -> None:
            if message["type"] == "lifespan.shutdown.complete":
                await aclose()
            await send(message)

        await app(scope, receive, closing_before_done)

    return lifespan_aware


def _serve_http(app: ASGIApp, *, host: str, port: int, log_level: str) -> None:
    import uvicorn

    shown = f"[{host}]" if ":" in host else host
    # Always said (also at the default WARNING level): where to point the MCP client, and the health probe.
    logger.warning("telli-mcp listening on http://%s:%d/mcp (health: /healthz)", shown, port)
    uvicorn.run(app, host=host, port=port, log_level=log_level.lower())
