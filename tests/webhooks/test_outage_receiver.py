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
from telli_mcp.webhooks.store import _PRUNE_EVERY as PRUNE_EVERY

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


async def test_an_event_stored_when_tidying_up_fails_is_still_answered_stored_and_announced(
    postgres_url: str,  # noqa: F811
) -> None:
    store = EventStore(postgres_url)
    hub = EventHub()
    heard: list[str | None] = []
    hub.listen(lambda stored: heard.append(stored.call_id))
    app = Starlette(routes=webhook_routes(ENDPOINTS, store, hub))
    transport = httpx2.ASGITransport(app, raise_app_exceptions=False)
    async with httpx2.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:

        async def deliver(n: int) -> httpx2.Response:
            body, headers = delivery(call_ended(call_id=f"call-{n}"), delivery_id=f"msg_{n}")
            return await http.post("/webhooks/telli", content=body, headers=headers)

        answers = [(await deliver(n)).status_code for n in range(PRUNE_EVERY - 1)]
        _refuse_deletes_of_events(postgres_url)  # the prune that follows the next event fails
        last = await deliver(PRUNE_EVERY)
    store.close()

    assert set(answers) == {200}
    assert last.status_code == 200 and last.json() == {"status": "stored"}, "telli must not retry a stored event"
    assert heard[-1] == f"call-{PRUNE_EVERY}", "and this replica announced it"


def _refuse_deletes_of_events(url: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(
            "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'deleting events is refused for this test'; END $$"
        )
        admin.execute("CREATE TRIGGER refuse_deletes BEFORE DELETE ON events FOR EACH ROW EXECUTE FUNCTION refuse()")
        admin.execute(
            "INSERT INTO events (account, delivery_id, kind, sent_at, received_at, body, received_wall, origin)"
            " VALUES ('old', 'msg_old', 'call_ended', 0, 0, '{}', 0, 'test')"
        )  # one old enough to prune
