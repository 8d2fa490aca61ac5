"""Run the MCP server over stdio or streamable HTTP, against telli or the sandbox simulator."""

from __future__ import annotations

import logging
from typing import Literal

from telli_mcp.config import Settings, looks_like_placeholder

__all__ = ["looks_like_placeholder", "run_server"]

logger = logging.getLogger("telli_mcp")

def _warn_about_key(settings: Settings) -> None:
    if settings.api_key is None:
        logger.warning("TELLI_API_KEY is not set: tools will answer with an error until it is "
                       "(or run with --sandbox to try the demo account).")
    elif looks_like_placeholder(settings.api_key.get_secret_value()):
        logger.error("TELLI_API_KEY looks like an unsubstituted placeholder (e.g. ${...} or {{...}}): your MCP "
                     "client did not fill it in. Put the real key in the client's env settings.")


def run_server(settings: Settings, *, transport: Literal["stdio", "http"], host: str, port: int) -> None:
    from telli_mcp.server import build_server

    if settings.sandbox:
        from pydantic import SecretStr

        from telli_mcp.sandbox import DEMO_API_KEY, Sandbox

        sandbox = Sandbox()
        settings = settings.model_copy(update={"api_key": SecretStr(DEMO_API_KEY)})
        logger.warning("SANDBOX MODE: simulated telli with demo data; no real calls are placed.")
        server = build_server(settings, client_factory=sandbox.client_factory, sandbox=sandbox, now=sandbox.now,
                              remote=transport == "http")
    else:
        _warn_about_key(settings)
        server = build_server(settings, remote=transport == "http")
    if transport == "stdio":
        server.run("stdio")
    else:
        server.run("streamable-http", host=host, port=port)
