"""`telli-mcp webhooks serve`: the receiver on its own, for stdio users (behind their own tunnel).

It writes the same event store a stdio server with the same settings reads (`backend.events_path`: the data
directory's `events.sqlite3`), so `wait_for_call_result` in a desktop client learns of a call's end a moment
after telli reports it.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from telli_mcp.webhooks.receiver import WebhookEndpoint

__all__ = ["run_receiver"]


def run_receiver(endpoints: Sequence[WebhookEndpoint], store_path: str, *, host: str, port: int) -> None:
    """Serve the receiver until interrupted."""
    import uvicorn

    from telli_mcp.webhooks.app import receiver_app
    from telli_mcp.webhooks.hub import EventHub
    from telli_mcp.webhooks.store import EventStore

    store = EventStore(store_path)
    paths = ", ".join(f"http://{host}:{port}{endpoint.path}" for endpoint in endpoints)
    print(f"telli-mcp webhook receiver: {paths} (events: {store_path})", file=sys.stderr)
    try:
        uvicorn.run(receiver_app(endpoints, store, EventHub()), host=host, port=port, log_level="warning")
    finally:
        store.close()
