"""Run the MCP server over stdio or streamable HTTP, against telli or the sandbox simulator."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Literal

from telli_mcp.config import Settings, looks_like_placeholder, unsubstituted_placeholders

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer
    from mcp.server.transport_security import TransportSecuritySettings
    from starlette.types import ASGIApp

__all__ = ["http_app", "looks_like_placeholder", "run_server", "transport_security"]

logger = logging.getLogger("telli_mcp")

def _warn_about_key(settings: Settings) -> None:
    others = [name for name in unsubstituted_placeholders(settings) if name != "TELLI_API_KEY"]
    if others:
        logger.error("%s look like unsubstituted placeholders: your MCP client did not fill them in "
                     "(run `telli-mcp doctor`).", ", ".join(others))
    if settings.api_key is None:
        logger.warning("TELLI_API_KEY is not set: tools will answer with an error until it is "
                       "(or run with --sandbox to try the demo account).")
    elif looks_like_placeholder(settings.api_key.get_secret_value()):
        logger.error("TELLI_API_KEY looks like an unsubstituted placeholder (e.g. ${...} or {{...}}): your MCP "
                     "client did not fill it in. Put the real key in the client's env settings.")


def run_server(settings: Settings, *, transport: Literal["stdio", "http"], host: str, port: int) -> None:
    from telli_mcp.backend import SANDBOX_NOTICE, open_backend
    from telli_mcp.server import build_server

    backend = open_backend(settings)
    if backend.sandbox is not None:
        logger.warning(SANDBOX_NOTICE)
    else:
        _warn_about_key(settings)
    server = build_server(backend.settings, client_factory=backend.client_factory(), sandbox=backend.sandbox,
                          now=backend.now, remote=transport == "http")
    if transport == "stdio":
        server.run("stdio")
    else:
        _serve_http(http_app(server, backend.settings, host), host=host, port=port, log_level=settings.log_level)


def http_app(server: MCPServer[Any], settings: Settings, host: str) -> ASGIApp:
    """The HTTP deployment: bounded sessions behind the caller-key check (who may use which telli key)."""
    from telli_mcp.server.http_auth import RequireCallerKey, anonymous_may_use_server_key
    from telli_mcp.server.sessions import streamable_app

    app = streamable_app(server, settings, transport_security(settings, host))
    return RequireCallerKey(app, allow_anonymous=anonymous_may_use_server_key(settings, host))


def _serve_http(app: ASGIApp, *, host: str, port: int, log_level: str) -> None:
    import uvicorn

    uvicorn.run(app, host=host, port=port, log_level=log_level.lower())


LOOPBACK_HOSTS = ["127.0.0.1:*", "localhost:*", "[::1]:*"]
LOOPBACK_ORIGINS = ["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"]


def transport_security(settings: Settings, host: str) -> TransportSecuritySettings:
    """DNS-rebinding protection is always on (the SDK only enables it for a loopback bind by default).

    Loopback names are always accepted; a real hostname must be listed in TELLI_MCP_ALLOWED_HOSTS, and
    `*` there is the explicit way to switch the check off (e.g. behind a proxy that validates Host itself).
    """
    from mcp.server.transport_security import TransportSecuritySettings

    if "*" in settings.allowed_hosts:
        return TransportSecuritySettings(enable_dns_rebinding_protection=False)
    from telli_mcp.server.http_auth import is_loopback

    if not is_loopback(host) and not settings.allowed_hosts:
        logger.warning("Listening on %s, but only requests addressed to localhost are accepted. Set "
                       "TELLI_MCP_ALLOWED_HOSTS to the hostname clients use (e.g. mcp.example.com:*).", host)
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=[*LOOPBACK_HOSTS, *settings.allowed_hosts],
        allowed_origins=[*LOOPBACK_ORIGINS, *settings.allowed_origins],
    )
