"""The receiver while the shared database is down: telli is told to retry (503), never a crash, and a refused
delivery is still refused for what it is (401, 404) when its refusal cannot be counted."""

from __future__ import annotations

import httpx2
import pytest
from postgres_helpers import postgres_url  # noqa: F401  # the fixture, for the test here
from relay_helpers import relayed
from starlette.applications import Starlette
from webhook_helpers import ACCOUNT_A, OTHER_SECRET, SECRET, call_ended, delivery

from telli_mcp.webhooks import EventHub, EventStore, WebhookEndpoint, webhook_routes

pytestmark = pytest.mark.anyio

ENDPOINTS = [WebhookEndpoint(name=None, secret=SECRET, account=ACCOUNT_A)]


async def test_deliveries_while_the_database_is_down_are_answered_for_telli_to_retry(
    postgres_url: str,  # noqa: F811  # the fixture above
) -> None:
    with relayed(postgres_url) as (url, relay):
        store = EventStore(url)
        app = Starlette(routes=webhook_routes(ENDPOINTS, store, EventHub()))
        transport = httpx2.ASGITransport(app, raise_app_exceptions=False)
        async with httpx2.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
            first_body, first_headers = delivery(call_ended(call_id="call-1"))
            stored = await http.post("/webhooks/telli", content=first_body, headers=first_headers)
            relay.close()  # the store's connection is gone
            body, headers = delivery(call_ended(call_id="call-2"), delivery_id="msg_later")
            later = await http.post("/webhooks/telli", content=body, headers=headers)
            forged_body, forged_headers = delivery(call_ended(), delivery_id="msg_forged", secret=OTHER_SECRET)
            forged = await http.post("/webhooks/telli", content=forged_body, headers=forged_headers)
            unknown = await http.post("/webhooks/telli/nobody", content=body, headers=headers)
        store.close()

    assert stored.status_code == 200
    assert later.status_code == 503 and "retry" in later.json()["error"]  # telli delivers it again later
    assert (forged.status_code, unknown.status_code) == (401, 404)
