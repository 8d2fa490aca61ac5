"""The webhook receiver: `POST /webhooks/telli` (and `/webhooks/telli/{name}` per extra account).

For each delivery: read the body (at most `MAX_BODY_BYTES`), verify its Svix signature with the endpoint's
secret, parse the event, store it (once per delivery id) and commit, then answer. Answers:
- 200 `{"status": "stored"}`, `{"status": "duplicate"}` (a retry of a delivery already stored) or
  `{"status": "forgotten"}` (about a contact deleted through this server: not kept);
- 401 for a missing, forged or stale signature (counted for `get_status` and `doctor`), 404 for an endpoint
  name nobody configured, 413 for an oversized body, 400 for a signed body that is not a telli event;
- 503 when the store's database cannot be reached: telli delivers the event again later (a refusal that cannot be
  counted is still answered 401 or 404).
Everything happens before the answer and takes milliseconds, well inside the 15 s telli allows. The endpoint a
delivery arrives on decides its account: one secret per account, so an event can only ever be stored for the
account whose secret signed it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Final

from pydantic import BaseModel, SecretStr, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from telli_mcp.database import DatabaseUnavailable
from telli_mcp.webhooks.events import parse_event
from telli_mcp.webhooks.hub import EventHub
from telli_mcp.webhooks.signature import RefusedDelivery, verify
from telli_mcp.webhooks.store import UNKNOWN_ENDPOINT, EventStore

__all__ = ["MAX_BODY_BYTES", "WEBHOOK_PATH", "WebhookEndpoint", "webhook_routes"]

logger = logging.getLogger("telli_mcp.webhooks")

WEBHOOK_PATH: Final = "/webhooks/telli"
MAX_BODY_BYTES: Final = 4 * 1024 * 1024
"""A call_ended event carries the whole transcript; hours of conversation stay far below this."""


class WebhookEndpoint(BaseModel):
    """One telli account's webhook endpoint."""

    name: str | None
    """None for `/webhooks/telli` (the server key's account); otherwise `/webhooks/telli/{name}`."""
    secret: SecretStr
    """The endpoint's `whsec_` signing secret from telli's webhook portal."""
    account: str
    """The account's tenant: the fingerprint of its telli API key."""

    @property
    def path(self) -> str:
        return WEBHOOK_PATH if self.name is None else f"{WEBHOOK_PATH}/{self.name}"


class _TooLarge(Exception):
    pass


async def _body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise _TooLarge
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def webhook_routes(endpoints: Sequence[WebhookEndpoint], store: EventStore, hub: EventHub) -> list[Route]:
    """The receiver's routes for `endpoints` (no routes when none is configured)."""
    by_name = {endpoint.name: endpoint for endpoint in endpoints}

    def count_refusal(account: str, reason: str) -> None:
        try:
            store.refused(account, reason)
        except DatabaseUnavailable as err:  # only a count: the refusal is answered for what it is all the same
            logger.warning("A refused webhook delivery could not be counted: %s", err)

    async def receive(request: Request) -> Response:
        try:
            return await deliver(request)
        except DatabaseUnavailable as err:  # telli delivers it again later (once stored, a retry is a duplicate)
            logger.warning("A webhook delivery on %s was not stored: %s", request.url.path, err)
            return JSONResponse({"error": "the event store is unavailable; retry later"}, status_code=503)

    async def deliver(request: Request) -> Response:
        endpoint = by_name.get(request.path_params.get("name"))
        if endpoint is None:
            count_refusal(UNKNOWN_ENDPOINT, "no account configured for this endpoint")
            return JSONResponse({"error": "unknown webhook endpoint"}, status_code=404)
        try:
            body = await _body(request)
        except _TooLarge:
            return JSONResponse({"error": f"body larger than {MAX_BODY_BYTES} bytes"}, status_code=413)
        try:
            delivery = verify(endpoint.secret, body, {k.lower(): v for k, v in request.headers.items()})
        except RefusedDelivery as err:
            count_refusal(endpoint.account, str(err))
            logger.warning("Refused a webhook delivery on %s: %s", endpoint.path, err)
            return JSONResponse({"error": "invalid or stale signature"}, status_code=401)
        try:
            event = parse_event(json.loads(body))
        except (ValueError, ValidationError):
            logger.warning("A signed delivery on %s is not a telli event", endpoint.path)
            return JSONResponse({"error": "not a telli event"}, status_code=400)
        if store.is_forgotten(endpoint.account, event.contact_id):
            return JSONResponse({"status": "forgotten"})  # 2xx: telli must not retry what we will never keep
        stored = store.record(endpoint.account, delivery, event, body.decode("utf-8"))
        if stored is None:
            return JSONResponse({"status": "duplicate"})
        hub.published(stored)
        return JSONResponse({"status": "stored"})

    if not endpoints:
        return []
    return [
        Route(WEBHOOK_PATH, receive, methods=["POST"]),
        Route(WEBHOOK_PATH + "/{name}", receive, methods=["POST"]),
    ]
