"""The receiver as an ASGI app: on its own (`telli-mcp webhooks serve`) or in front of the MCP HTTP app.

telli's deliveries carry a Svix signature, not a telli key, so they must not pass the MCP endpoint's
caller-key check; `beside` sends `/webhooks/telli…` to the receiver and everything else to the MCP app.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from telli_mcp.webhooks.hub import EventHub
from telli_mcp.webhooks.receiver import WEBHOOK_PATH, WebhookEndpoint, webhook_routes
from telli_mcp.webhooks.store import EventStore

__all__ = ["beside", "receiver_app"]

HEALTH_PATH = "/healthz"


async def _healthz(_request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


def receiver_app(endpoints: Sequence[WebhookEndpoint], store: EventStore, hub: EventHub) -> Starlette:
    """The receiver alone, with a liveness probe."""
    return Starlette(routes=[*webhook_routes(endpoints, store, hub), Route(HEALTH_PATH, _healthz, methods=["GET"])])


def _is_webhook_path(path: str) -> bool:
    return path == WEBHOOK_PATH or path.startswith(WEBHOOK_PATH + "/")


def beside(receiver: ASGIApp, app: ASGIApp) -> ASGIApp:
    """`app`, with the webhook paths answered by `receiver` instead."""

    async def dispatch(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _is_webhook_path(scope["path"]):
            await receiver(scope, receive, send)
        else:
            await app(scope, receive, send)

    return dispatch
