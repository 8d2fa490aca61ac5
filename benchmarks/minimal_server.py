"""The smallest useful MCP server on the same SDK: the cold-start baseline for `cold_start.py`.

.venv/bin/python benchmarks/minimal_server.py     # speaks MCP on stdio
"""

from __future__ import annotations

from mcp.server.mcpserver import MCPServer

server = MCPServer("minimal", version="0.0.0")


@server.tool()
def echo(text: str) -> str:
    """Return `text` unchanged."""
    return text


if __name__ == "__main__":
    server.run("stdio")
