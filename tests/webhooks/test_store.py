"""The event store keeps what telli sent, per account, and forgets it when it must."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from webhook_helpers import ACCOUNT_A, ACCOUNT_B, CONTACT, call_ended

from telli_mcp.webhooks import EventStore, VerifiedDelivery, parse_event
from telli_mcp.webhooks.store import RETENTION


class Clock:
    def __init__(self) -> None:
        self.at = datetime(2026, 11, 30, 12, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.at


def put(store: EventStore, account: str, delivery_id: str, **call: str) -> None:
    payload = call_ended(**call)
    body = json.dumps(payload)
    store.record(account, VerifiedDelivery(delivery_id=delivery_id, sent_at=Clock()()), parse_event(payload), body)


def test_reads_are_per_account_in_arrival_order_and_filtered() -> None:
    store = EventStore(":memory:")
    put(store, ACCOUNT_A, "m1", call_id="c1")
    put(store, ACCOUNT_B, "m1", call_id="c2")
    put(store, ACCOUNT_A, "m2", call_id="c3", contact_id="someone-else")

    assert [e.call_id for e in store.events_after(ACCOUNT_A, 0)] == ["c1", "c3"]
    assert [e.call_id for e in store.events_after(ACCOUNT_A, 0, contact_id=CONTACT)] == ["c1"]
    first = store.events_after(ACCOUNT_A, 0)[0].seq
    assert [e.call_id for e in store.events_after(ACCOUNT_A, first)] == ["c3"]
    assert store.latest_seq(ACCOUNT_B) == store.events_after(ACCOUNT_B, 0)[0].seq
    last = store.last_call_ended(ACCOUNT_B, contact_id=CONTACT)
    assert last is not None and last.call_id == "c2"


def test_deleting_a_contact_erases_its_events_in_that_account_only() -> None:
    store = EventStore(":memory:")
    put(store, ACCOUNT_A, "m1")
    put(store, ACCOUNT_B, "m1")
    assert store.forget_contact(ACCOUNT_A, CONTACT) == 1
    assert store.events_after(ACCOUNT_A, 0) == []
    assert len(store.events_after(ACCOUNT_B, 0)) == 1


def test_events_older_than_the_retention_are_pruned_and_health_says_what_arrived() -> None:
    clock = Clock()
    store = EventStore(":memory:", now=clock)
    put(store, ACCOUNT_A, "old", call_id="c-old")
    clock.at += RETENTION + timedelta(hours=1)
    put(store, ACCOUNT_A, "new", call_id="c-new")

    assert store.prune(RETENTION) == 1
    assert [e.call_id for e in store.events_after(ACCOUNT_A, 0)] == ["c-new"]
    health = store.health(ACCOUNT_A)
    assert (health.events, health.last_event_kind, health.last_event_at) == (1, "call_ended", clock.at)
    assert store.health(ACCOUNT_B).events == 0 and store.health(ACCOUNT_B).last_event_at is None
