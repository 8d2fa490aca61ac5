"""`telli-mcp webhooks serve`: the receiver on its own, for stdio users (behind their own tunnel).

It writes the same event store a stdio server with the same settings reads (`backend.events`: the data
directory's `events.sqlite3`, or the shared database when TELLI_MCP_DATABASE_URL names one), so
`wait_for_call_result` in a desktop client learns of a call's end a moment after telli reports it.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from pydantic import SecretStr

from telli_mcp.webhooks.receiver import WebhookEndpoint

__all__ = ["run_receiver"]


def run_receiver(
    endpoints: Sequence[WebhookEndpoint], store_location: str | SecretStr, *, host: str, port: int
) -> None:
    """Serve the receiver until interrupted, storing into `store_location` (a SQLite file or the database's URL)."""
    import uvicorn

    from telli_mcp.database import redacted_url
    from telli_mcp.webhooks.app import receiver_app
    from telli_mcp.webhooks.hub import EventHub
    from telli_mcp.webhooks.store import EventStore

    store = EventStore(store_location)
    where = redacted_url(store_location.get_secret_value()) if isinstance(store_location, SecretStr) else store_location
    paths = ", ".join(f"http://{host}:{port}{endpoint.path}" for endpoint in endpoints)
    print(f"telli-mcp webhook receiver: {paths} (events: {where})", file=sys.stderr)
    try:
        uvicorn.run(receiver_app(endpoints, store, EventHub()), host=host, port=port, log_level="warning")
    finally:
        store.close()
