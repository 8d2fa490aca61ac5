"""The MCP layer: tools, resources, prompts and guardrails over the telli client (never raw HTTP)."""

from telli_mcp.server.app import ClientFactory, build_server, default_client_factory
from telli_mcp.server.deps import SandboxControl, ServerDeps
from telli_mcp.server.risk import Risk, ToolSpec
from telli_mcp.server.toolsets import TOOLSETS, UnknownToolsetError, resolve_toolsets

__all__ = [
    "TOOLSETS",
    "ClientFactory",
    "Risk",
    "SandboxControl",
    "ServerDeps",
    "ToolSpec",
    "UnknownToolsetError",
    "build_server",
    "default_client_factory",
    "resolve_toolsets",
]
