"""The floor for `round_trips.py`: a one-tool `MCPServer` on the same SDK whose tool makes get_contact's two
telli reads at once with plain httpx2 and returns a small dict (no validation, views, text cleaning or
guardrails). Whatever any server built on this SDK and httpx2 does, it pays at least this.

.venv/bin/python benchmarks/floor_get_contact.py      # speaks MCP on stdio; needs TELLI_API_BASE_URL, TELLI_API_KEY
"""

from __future__ import annotations

import logging
import os
from typing import Any

import anyio
import httpx2
from mcp.server.mcpserver import MCPServer

logging.getLogger("httpx2").setLevel(logging.WARNING)  # one log line per request would be measured too
server = MCPServer("floor", version="0.0.0")
http = httpx2.AsyncClient(
    base_url=os.environ["TELLI_API_BASE_URL"], headers={"Authorization": f"Bearer {os.environ['TELLI_API_KEY']}"}
)


@server.tool()
async def get_contact(contact_id: str) -> dict[str, Any]:
    """The contact and its dialer state, read at once."""
    bodies: dict[str, Any] = {}

    async def read(path: str) -> None:
        response = await http.get(path)
        response.raise_for_status()
        bodies[path] = response.json()

    async with anyio.create_task_group() as reads:
        reads.start_soon(read, f"/v2/contacts/{contact_id}")
        reads.start_soon(read, f"/v1/get-contact/{contact_id}")
    return {"contact_id": contact_id, "fields": sum(len(body) for body in bodies.values())}


if __name__ == "__main__":
    server.run("stdio")
