"""telli-mcp: an MCP server (and async client, and simulator) for telli, the AI voice-agent platform.

Names load on first use (`telli_mcp.lazy`): `import telli_mcp` stays cheap so the server starts fast when an MCP
client spawns it.
"""

from typing import TYPE_CHECKING

from telli_mcp._version import __version__
from telli_mcp.lazy import lazy_exports

if TYPE_CHECKING:
    from telli_mcp.client import TelliClient
    from telli_mcp.server import build_server
    from telli_mcp.simulator import TelliSimulator

__all__ = ["TelliClient", "TelliSimulator", "__version__", "build_server"]

__getattr__ = lazy_exports(__name__, __file__)
