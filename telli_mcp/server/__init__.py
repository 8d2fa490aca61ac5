"""The MCP layer: tools, resources, prompts and guardrails over the telli client (never raw HTTP).

Its front door: `build_server(backend)` makes the server, `http_app` serves it over streamable HTTP, and
`offer_for(settings)` says what a server with those settings offers, as data, without building one (the
generated docs and manifests read it). Names load on first use (`telli_mcp.lazy`): a stdio server never loads
the HTTP deployment.
"""

from typing import TYPE_CHECKING

from telli_mcp.lazy import lazy_exports

if TYPE_CHECKING:
    from telli_mcp.server.app import build_server, offer_for
    from telli_mcp.server.declarations import DECLARATIONS_FILE, declarations_text
    from telli_mcp.server.deps import SandboxControl, ServerDeps
    from telli_mcp.server.http_deployment import http_app
    from telli_mcp.server.risk import Risk, ToolSpec
    from telli_mcp.server.surface import Offer
    from telli_mcp.server.tool_schemas import SCHEMAS_FILE, catalogue_text
    from telli_mcp.server.tools import SURFACES
    from telli_mcp.toolsets import TOOLSETS, UnknownToolsetError, resolve_toolsets

__all__ = [
    "DECLARATIONS_FILE",
    "SCHEMAS_FILE",
    "SURFACES",
    "TOOLSETS",
    "Offer",
    "Risk",
    "SandboxControl",
    "ServerDeps",
    "ToolSpec",
    "UnknownToolsetError",
    "build_server",
    "catalogue_text",
    "declarations_text",
    "http_app",
    "offer_for",
    "resolve_toolsets",
]

__getattr__ = lazy_exports(__name__, __file__)
