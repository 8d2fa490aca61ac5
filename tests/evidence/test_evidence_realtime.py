"""Over HTTP, telli's signed webhooks reach listening clients of the same account, and no other.

The real HTTP deployment (`serve.http_app` with the backend's receiver, as `telli-mcp --transport http` builds it)
runs on loopback with two accounts configured for webhooks: the operator's (`TELLI_MCP_WEBHOOK_SECRET`, path
`/webhooks/telli`) and tenant B's (`TELLI_MCP_WEBHOOK_ACCOUNTS`, path `/webhooks/telli/b`). The simulator signs
each account's events with that account's secret and POSTs them over the socket. Each account's client listens
(2026-07-28 `subscriptions/listen`) for both accounts' contact URIs; each must hear only its own account's update.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import anyio
import httpx2
import pytest
from evidence_helpers import no_sleep
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.client.subscriptions import ResourceUpdated, Subscription
from process_helpers import serving
from pydantic import SecretStr

from telli_mcp.backend import Backend
from telli_mcp.client import InitiateCall, TelliClient, key_fingerprint
from telli_mcp.config import Settings
from telli_mcp.serve import http_app
from telli_mcp.server import build_server
from telli_mcp.simulator import TelliSimulator
from telli_mcp.simulator.webhooks import http_delivery
from telli_mcp.webhooks import signed_headers

pytestmark = pytest.mark.anyio

OPERATOR, TENANT_B = "operator-key-0003", "tenant-bravo-key-0002"
SECRET_A = SecretStr("whsec_" + base64.b64encode(b"operator-account-secret-000001").decode())
SECRET_B = SecretStr("whsec_" + base64.b64encode(b"tenant-b-account-secret-000002").decode())
HANG_GUARD = 60.0


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def sim() -> TelliSimulator:
    return TelliSimulator(api_keys=(OPERATOR, TENANT_B), seed_demo=True)


@asynccontextmanager
async def served(sim: TelliSimulator) -> AsyncIterator[str]:
    accounts = {"b": {"secret": SECRET_B.get_secret_value(), "account": key_fingerprint(TENANT_B)}}
    config = Settings(api_key=OPERATOR, webhook_secret=SECRET_A, webhook_accounts=SecretStr(json.dumps(accounts)))
    backend = Backend.simulated(config, sim, sleep=no_sleep)
    app = http_app(build_server(backend), config, "127.0.0.1", webhooks=backend.webhook_receiver())
    with serving(app, lifespan="on") as base:
        sim.send_webhooks(OPERATOR, http_delivery(f"{base}/webhooks/telli"), SECRET_A)
        sim.send_webhooks(TENANT_B, http_delivery(f"{base}/webhooks/telli/b"), SECRET_B)
        yield base


@asynccontextmanager
async def listening(base: str, key: str | None, uris: list[str]) -> AsyncIterator[Subscription]:
    headers = {} if key is None else {"Authorization": f"Bearer {key}"}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=30) as http,
        Client(streamable_http_client(f"{base}/mcp", http_client=http)) as client,
        client.listen(resource_subscriptions=uris) as subscription,
    ):
        yield subscription


def a_new_contact(sim: TelliSimulator, key: str) -> str:
    return next(c.id for c in sim.account(key).contacts.values() if c.status.value == "new")


async def call_until_ended(sim: TelliSimulator, key: str, contact_id: str) -> None:
    async with TelliClient(key, base_url="https://api.telli.example", transport=sim.transport()) as client:
        started = await client.calls.initiate(InitiateCall(contact_id=contact_id))
    while started.call_id not in sim.account(key).calls:
        await sim.advance(timedelta(seconds=10))


async def next_update(subscription: Subscription) -> str:
    async for event in subscription:
        if isinstance(event, ResourceUpdated):
            return event.uri
    raise AssertionError("the subscription ended")


async def test_each_account_hears_its_own_contacts_update_and_never_the_others(sim: TelliSimulator) -> None:
    contact_a, contact_b = a_new_contact(sim, OPERATOR), a_new_contact(sim, TENANT_B)
    uris = [f"telli://contacts/{contact_a}", f"telli://contacts/{contact_b}"]  # B even listens for A's contact
    with anyio.fail_after(HANG_GUARD):
        async with (
            served(sim) as base,
            listening(base, None, uris) as operator,  # no Authorization on loopback: the operator's key
            listening(base, TENANT_B, uris) as tenant_b,
        ):
            await call_until_ended(sim, OPERATOR, contact_a)  # A's events first: B's stream must not show them
            await call_until_ended(sim, TENANT_B, contact_b)

            assert await next_update(operator) == f"telli://contacts/{contact_a}"
            assert await next_update(tenant_b) == f"telli://contacts/{contact_b}"


async def test_forged_and_stale_deliveries_over_http_are_refused_beside_the_mcp_key_check(sim: TelliSimulator) -> None:
    body = b'{"event": "call_ended", "call": {"call_id": "x"}}'
    async with served(sim) as base, httpx2.AsyncClient(timeout=30) as http:
        unsigned = await http.post(f"{base}/webhooks/telli", content=body)
        wrong_account = await http.post(
            f"{base}/webhooks/telli/b", content=body, headers=signed_headers(SECRET_A, "msg_1", datetime.now(UTC), body)
        )
        stale = await http.post(
            f"{base}/webhooks/telli",
            content=body,
            headers=signed_headers(SECRET_A, "msg_2", datetime.now(UTC) - timedelta(minutes=10), body),
        )
        mcp_without_key_elsewhere = await http.post(f"{base}/webhooks/telli/nobody", content=body)
    assert [unsigned.status_code, wrong_account.status_code, stale.status_code] == [401, 401, 401]
    assert mcp_without_key_elsewhere.status_code == 404
