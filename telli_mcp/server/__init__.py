"""The MCP layer: tools, resources, prompts and guardrails over the telli client (never raw HTTP).

Its front door: `build_server(backend)` makes the server, `http_app` serves it over streamable HTTP, and
`offer_for(settings)` says what a server with those settings offers, as data, without building one (the
generated docs and manifests read it).
"""

from telli_mcp.server.app import build_server, offer_for
from telli_mcp.server.deps import SandboxControl, ServerDeps
from telli_mcp.server.http_deployment import http_app
from telli_mcp.server.risk import Risk, ToolSpec
from telli_mcp.server.surface import Offer
from telli_mcp.server.tools import SURFACES
from telli_mcp.toolsets import TOOLSETS, UnknownToolsetError, resolve_toolsets

__all__ = [
    "SURFACES",
    "TOOLSETS",
    "Offer",
    "Risk",
    "SandboxControl",
    "ServerDeps",
    "ToolSpec",
    "UnknownToolsetError",
    "build_server",
    "http_app",
    "offer_for",
    "resolve_toolsets",
]
