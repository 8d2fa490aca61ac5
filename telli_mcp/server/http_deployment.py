"""The HTTP deployment of a built server: bounded sessions, behind the caller-key check and DNS-rebinding guard."""

from __future__ import annotations

import logging
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.types import ASGIApp

from telli_mcp.config import Settings
from telli_mcp.server.http_auth import (
    KeyVerdicts,
    KeyVerifier,
    RequireCallerKey,
    anonymous_may_use_server_key,
    is_loopback,
)
from telli_mcp.server.sessions import streamable_app

__all__ = ["LOOPBACK_HOSTS", "LOOPBACK_ORIGINS", "http_app", "transport_security"]

logger = logging.getLogger("telli_mcp")

LOOPBACK_HOSTS = ["127.0.0.1:*", "localhost:*", "[::1]:*"]
LOOPBACK_ORIGINS = ["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"]


def http_app(
    server: MCPServer[Any],
    settings: Settings,
    host: str,
    *,
    verify_key: KeyVerifier | None = None,
    webhooks: ASGIApp | None = None,
) -> ASGIApp:
    """The HTTP deployment: bounded sessions behind the caller-key check (who may use which telli key).

    With `verify_key` (telli's verdict on a key), a key telli rejects is answered with 401 at the door. With
    `webhooks` (the receiver), telli's signed deliveries to `/webhooks/telli…` go there, beside the key check.
    """
    mcp = _mcp_app(server, settings, host, verify_key)
    if webhooks is None:
        return mcp
    from telli_mcp.webhooks.app import beside

    return beside(webhooks, mcp)


def _mcp_app(server: MCPServer[Any], settings: Settings, host: str, verify_key: KeyVerifier | None) -> ASGIApp:
    app = streamable_app(server, settings, transport_security(settings, host))
    return RequireCallerKey(
        app,
        allow_anonymous=anonymous_may_use_server_key(settings, host),
        server_key=None if settings.api_key is None else settings.api_key.get_secret_value(),
        verdicts=None if verify_key is None else KeyVerdicts(verify_key),
    )


def transport_security(settings: Settings, host: str) -> TransportSecuritySettings:
    """DNS-rebinding protection is always on (the SDK only enables it for a loopback bind by default).

    Loopback names are always accepted; a real hostname must be listed in TELLI_MCP_ALLOWED_HOSTS, and
    `*` there is the explicit way to switch the check off (e.g. behind a proxy that validates Host itself).
    """
    if "*" in settings.allowed_hosts:
        return TransportSecuritySettings(enable_dns_rebinding_protection=False)
    if not is_loopback(host) and not settings.allowed_hosts:
        logger.warning(
            "Listening on %s, but only requests addressed to localhost are accepted. Set "
            "TELLI_MCP_ALLOWED_HOSTS to the hostname clients use (e.g. mcp.example.com:*).",
            host,
        )
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=[*LOOPBACK_HOSTS, *settings.allowed_hosts],
        allowed_origins=[*LOOPBACK_ORIGINS, *settings.allowed_origins],
    )
