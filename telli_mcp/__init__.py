"""telli-mcp: an MCP server (and async client, and simulator) for telli, the AI voice-agent platform.

Imports are lazy: `import telli_mcp` stays cheap so the server starts fast when an MCP client spawns it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from telli_mcp._version import __version__

if TYPE_CHECKING:
    from telli_mcp.client import TelliClient
    from telli_mcp.server import build_server
    from telli_mcp.simulator import TelliSimulator

__all__ = ["TelliClient", "TelliSimulator", "__version__", "build_server"]

_LAZY = {
    "TelliClient": "telli_mcp.client",
    "TelliSimulator": "telli_mcp.simulator",
    "build_server": "telli_mcp.server",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'telli_mcp' has no attribute {name!r}")
