"""The receiver stores each signed event once, for the account whose secret signed it, and refuses the rest."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx2
import pytest
from event_store_handles import OpenEvents
from starlette.applications import Starlette
from webhook_helpers import ACCOUNT_A, ACCOUNT_B, CONTACT, OTHER_SECRET, SECRET, call_ended, delivery

from telli_mcp.webhooks import MAX_BODY_BYTES, EventHub, EventStore, StoredEvent, WebhookEndpoint, webhook_routes
from telli_mcp.webhooks.events import CallEnded
from telli_mcp.webhooks.store import UNKNOWN_ENDPOINT

pytestmark = pytest.mark.anyio

ENDPOINTS = [
    WebhookEndpoint(name=None, secret=SECRET, account=ACCOUNT_A),
    WebhookEndpoint(name="acme-b", secret=OTHER_SECRET, account=ACCOUNT_B),
]


@pytest.fixture
def store(open_events: OpenEvents) -> EventStore:
    return open_events()


@pytest.fixture
def hub() -> EventHub:
    return EventHub()


@pytest.fixture
async def http(store: EventStore, hub: EventHub) -> AsyncIterator[httpx2.AsyncClient]:
    app = Starlette(routes=webhook_routes(ENDPOINTS, store, hub))
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app), base_url="http://127.0.0.1") as client:
        yield client


async def post(http: httpx2.AsyncClient, path: str, body: bytes, headers: dict[str, str]) -> httpx2.Response:
    return await http.post(path, content=body, headers=headers)


async def test_a_signed_event_is_stored_before_the_answer_and_waiters_are_woken(
    http: httpx2.AsyncClient, store: EventStore, hub: EventHub
) -> None:
    heard: list[StoredEvent] = []
    hub.listen(heard.append)
    woken = hub.changed(ACCOUNT_A)

    response = await post(http, "/webhooks/telli", *delivery(call_ended(call_id="call-1")))

    assert response.status_code == 200 and response.json() == {"status": "stored"}
    assert woken.is_set()
    [stored] = store.events_after(ACCOUNT_A, 0)
    assert (stored.kind, stored.contact_id, stored.call_id) == ("call_ended", CONTACT, "call-1")
    assert heard == [stored]
    event = stored.event()
    assert isinstance(event, CallEnded) and event.call.call_analysis["summary"].details.startswith("Talked")


async def test_retries_of_one_delivery_are_stored_once(http: httpx2.AsyncClient, store: EventStore) -> None:
    body, headers = delivery(call_ended(), delivery_id="msg_retry")
    answers = [(await post(http, "/webhooks/telli", body, headers)).json()["status"] for _ in range(3)]
    # Svix re-signs each retry with a new timestamp but the same id.
    _, resigned = delivery(call_ended(), delivery_id="msg_retry", age=timedelta(seconds=30))
    answers.append((await post(http, "/webhooks/telli", body, resigned)).json()["status"])

    assert answers == ["stored", "duplicate", "duplicate", "duplicate"]
    assert len(store.events_after(ACCOUNT_A, 0)) == 1


async def test_forged_and_stale_deliveries_are_refused_counted_and_never_stored(
    http: httpx2.AsyncClient, store: EventStore
) -> None:
    body, headers = delivery(call_ended())
    forged = await post(http, "/webhooks/telli", body.replace(b"COMPLETED", b"VOICEMAIL"), headers)
    stale = await post(http, "/webhooks/telli", *delivery(call_ended(), delivery_id="msg_2", age=timedelta(minutes=6)))
    unsigned = await post(http, "/webhooks/telli", body, {"content-type": "application/json"})

    assert [forged.status_code, stale.status_code, unsigned.status_code] == [401, 401, 401]
    assert store.events_after(ACCOUNT_A, 0) == []
    health = store.health(ACCOUNT_A)
    assert health.refused == 3 and health.last_refused_reason is not None
    assert SECRET.get_secret_value() not in forged.text


async def test_an_event_reaches_only_the_account_whose_secret_signed_it(
    http: httpx2.AsyncClient, store: EventStore
) -> None:
    # Account B's endpoint with B's secret: stored for B only.
    assert (await post(http, "/webhooks/telli/acme-b", *delivery(call_ended(), secret=OTHER_SECRET))).status_code == 200
    # A's delivery sent to B's endpoint (or B's to A's) does not verify there.
    assert (await post(http, "/webhooks/telli/acme-b", *delivery(call_ended(), delivery_id="m3"))).status_code == 401
    wrong = delivery(call_ended(), delivery_id="m4", secret=OTHER_SECRET)
    assert (await post(http, "/webhooks/telli", *wrong)).status_code == 401

    assert [e.account for e in store.events_after(ACCOUNT_B, 0)] == [ACCOUNT_B]
    assert store.events_after(ACCOUNT_A, 0) == []
    assert store.last_call_ended(ACCOUNT_A, contact_id=CONTACT) is None


async def test_the_same_delivery_id_in_two_accounts_is_two_events(http: httpx2.AsyncClient, store: EventStore) -> None:
    await post(http, "/webhooks/telli", *delivery(call_ended(), delivery_id="msg_same"))
    await post(http, "/webhooks/telli/acme-b", *delivery(call_ended(), delivery_id="msg_same", secret=OTHER_SECRET))
    assert len(store.events_after(ACCOUNT_A, 0)) == len(store.events_after(ACCOUNT_B, 0)) == 1


async def test_unknown_endpoints_oversized_and_malformed_bodies_get_clear_answers(
    http: httpx2.AsyncClient, store: EventStore
) -> None:
    unknown = await post(http, "/webhooks/telli/nobody", *delivery(call_ended()))
    too_big = await post(http, "/webhooks/telli", *delivery(b"x" * (MAX_BODY_BYTES + 1)))
    not_an_event = await post(http, "/webhooks/telli", *delivery(b'{"call": {}}', delivery_id="m5"))
    broken_call = await post(http, "/webhooks/telli", *delivery({"event": "call_ended"}, delivery_id="m6"))
    not_json = await post(http, "/webhooks/telli", *delivery(b"<html>", delivery_id="m7"))

    assert [r.status_code for r in (unknown, too_big, not_an_event, broken_call, not_json)] == [404, 413, 400, 400, 400]
    assert store.health(UNKNOWN_ENDPOINT).refused == 1
    assert store.events_after(ACCOUNT_A, 0) == []


async def test_a_new_event_type_is_kept_but_not_acted_on(http: httpx2.AsyncClient, store: EventStore) -> None:
    response = await post(http, "/webhooks/telli", *delivery({"event": "agent_updated", "agent": {"id": "a"}}))
    assert response.json() == {"status": "stored"}
    [stored] = store.events_after(ACCOUNT_A, 0)
    assert (stored.kind, stored.contact_id) == ("agent_updated", None)


async def test_a_stored_event_survives_a_restart(
    http: httpx2.AsyncClient, store: EventStore, open_events: OpenEvents
) -> None:
    await post(http, "/webhooks/telli", *delivery(call_ended(call_id="call-9")))
    store.close()
    reopened = open_events()
    stored = reopened.last_call_ended(ACCOUNT_A, call_id="call-9")
    assert stored is not None and json.loads(stored.body)["call"]["call_id"] == "call-9"


async def test_beside_an_app_the_receiver_takes_only_the_webhook_paths(store: EventStore, hub: EventHub) -> None:
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    from telli_mcp.webhooks.app import beside, receiver_app

    async def mcp_endpoint(_request: object) -> PlainTextResponse:
        return PlainTextResponse("the MCP app", status_code=401)  # as the caller-key check answers a keyless call

    app = beside(receiver_app(ENDPOINTS, store, hub), Starlette(routes=[Route("/mcp", mcp_endpoint, methods=["POST"])]))
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app), base_url="http://127.0.0.1") as client:
        stored = await post(client, "/webhooks/telli", *delivery(call_ended()))
        named = await post(client, "/webhooks/telli/acme-b", *delivery(call_ended(), secret=OTHER_SECRET))
        mcp = await client.post("/mcp", json={})
        lookalike = await client.post("/webhooks/tellix", content=b"{}")

    assert (stored.status_code, named.status_code, mcp.text, lookalike.status_code) == (200, 200, "the MCP app", 404)


async def test_events_of_a_contact_deleted_here_are_not_kept_even_when_they_arrive_later(
    http: httpx2.AsyncClient, store: EventStore
) -> None:
    await post(http, "/webhooks/telli", *delivery(call_ended(call_id="before"), delivery_id="m-before"))
    assert store.forget_contact(ACCOUNT_A, CONTACT) == 1
    late = await post(http, "/webhooks/telli", *delivery(call_ended(call_id="after"), delivery_id="m-after"))
    assert late.json() == {"status": "forgotten"}
    assert store.events_after(ACCOUNT_A, 0) == []
