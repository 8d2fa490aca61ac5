"""The event store keeps what telli sent, per account, and forgets it when it must."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from event_store_handles import OpenEvents
from webhook_helpers import ACCOUNT_A, ACCOUNT_B, CONTACT, call_ended

from telli_mcp.webhooks import EventStore, StoredEvent, VerifiedDelivery, parse_event
from telli_mcp.webhooks.store import RETENTION, ContactWindow


class Clock:
    def __init__(self) -> None:
        self.at = datetime(2026, 11, 30, 12, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.at


def put(store: EventStore, account: str, delivery_id: str, **call: str) -> StoredEvent | None:
    payload = call_ended(**call)
    body = json.dumps(payload)
    verified = VerifiedDelivery(delivery_id=delivery_id, sent_at=Clock()())
    return store.record(account, verified, parse_event(payload), body)


def test_reads_are_per_account_in_arrival_order_and_filtered(open_events: OpenEvents) -> None:
    store = open_events()
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


def test_replicas_share_one_store_a_retry_on_either_is_stored_once_and_a_deletion_holds_for_both(
    open_events: OpenEvents,
) -> None:
    a, b = open_events(), open_events()  # two processes on one file, or two replicas on one database

    first = put(a, ACCOUNT_A, "m1", call_id="c1")
    retried = put(b, ACCOUNT_A, "m1", call_id="c1")
    b.refused(ACCOUNT_A, "No matching signature found")
    a.refused(ACCOUNT_A, "Message timestamp too old")

    assert first is not None and retried is None
    assert b.events_after(ACCOUNT_A, 0) == [first] and b.latest_seq(ACCOUNT_A) == first.seq
    assert (b.health(ACCOUNT_A).refused, b.health(ACCOUNT_A).last_refused_reason) == (2, "Message timestamp too old")
    assert a.forget_contact(ACCOUNT_A, CONTACT) == 1
    assert b.is_forgotten(ACCOUNT_A, CONTACT) and b.events_after(ACCOUNT_A, 0) == []
    assert not b.is_forgotten(ACCOUNT_B, CONTACT)


def test_deleting_a_contact_erases_its_events_in_that_account_only(open_events: OpenEvents) -> None:
    store = open_events()
    put(store, ACCOUNT_A, "m1")
    put(store, ACCOUNT_B, "m1")
    assert store.forget_contact(ACCOUNT_A, CONTACT) == 1
    assert store.events_after(ACCOUNT_A, 0) == []
    assert len(store.events_after(ACCOUNT_B, 0)) == 1


def test_events_older_than_the_retention_are_pruned_and_health_says_what_arrived(open_events: OpenEvents) -> None:
    clock = Clock()
    store = open_events(now=clock)
    put(store, ACCOUNT_A, "old", call_id="c-old")
    clock.at += RETENTION + timedelta(hours=1)
    put(store, ACCOUNT_A, "new", call_id="c-new")

    assert store.prune(RETENTION) == 1
    assert [e.call_id for e in store.events_after(ACCOUNT_A, 0)] == ["c-new"]
    health = store.health(ACCOUNT_A)
    assert (health.events, health.last_event_kind, health.last_event_at) == (1, "call_ended", clock.at)
    assert store.health(ACCOUNT_B).events == 0 and store.health(ACCOUNT_B).last_event_at is None


def test_receiving_begins_with_the_first_event_or_the_sandbox_s_word_and_survives_pruning(
    open_events: OpenEvents,
) -> None:
    simulated, wall = Clock(), Clock()
    wall.at = datetime(2026, 12, 1, 9, tzinfo=UTC)  # the sandbox's simulated clock runs apart from this machine's
    store = open_events(now=simulated, wall=wall)
    assert store.heard(ACCOUNT_A).since is None

    put(store, ACCOUNT_A, "m1")
    wall.at += timedelta(hours=1)
    put(store, ACCOUNT_A, "m2")
    store.mark_receiving(ACCOUNT_B)

    heard = store.heard(ACCOUNT_A)
    assert (heard.since, heard.last_event) == (datetime(2026, 12, 1, 9, tzinfo=UTC), wall.at)
    assert store.events_after(ACCOUNT_A, 0)[1].received_wall == wall.at
    assert store.events_after(ACCOUNT_A, 0)[1].received_at == simulated.at
    assert store.heard(ACCOUNT_B).since == wall.at and store.heard(ACCOUNT_B).last_event is None
    simulated.at += RETENTION + timedelta(days=1)
    store.prune(RETENTION)
    assert store.heard(ACCOUNT_A).since == datetime(2026, 12, 1, 9, tzinfo=UTC)  # the events went, not the fact


def test_events_of_many_contacts_are_read_in_bounded_queries_for_one_account_only(open_events: OpenEvents) -> None:
    store = open_events()
    contacts = [f"contact-{n:04d}" for n in range(1_200)]  # more than one query's worth of ids
    for n, contact in enumerate(contacts):
        put(store, ACCOUNT_A, f"a{n}", call_id=f"call-{n}", contact_id=contact)
    put(store, ACCOUNT_B, "b0", call_id="call-b", contact_id=contacts[0])
    store.forget_contact(ACCOUNT_A, contacts[5])

    found = store.events_of_contacts(ACCOUNT_A, contacts)

    assert [event.contact_id for event in found] == contacts[:5] + contacts[6:]
    assert store.forgotten_among(ACCOUNT_A, contacts) == {contacts[5]}
    assert store.forgotten_among(ACCOUNT_B, contacts) == set()


def test_a_store_written_before_events_had_the_wall_clock_column_is_upgraded_in_place(tmp_path: Path) -> None:
    path = tmp_path / "events.sqlite3"
    with sqlite3.connect(path) as old:
        old.execute(
            "CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT, account TEXT NOT NULL, delivery_id TEXT NOT "
            "NULL, kind TEXT NOT NULL, contact_id TEXT, call_id TEXT, sent_at REAL NOT NULL, received_at REAL NOT "
            "NULL, body TEXT NOT NULL, UNIQUE (account, delivery_id))"
        )
        old.execute(
            "INSERT INTO events (account, delivery_id, kind, contact_id, call_id, sent_at, received_at, body) "
            "VALUES (?, 'm0', 'call_ended', ?, 'c0', 1.0, 2.0, ?)",
            (ACCOUNT_A, CONTACT, json.dumps(call_ended("c0"))),
        )

    store = EventStore(path)
    put(store, ACCOUNT_A, "m1", call_id="c1")

    old_event, new_event = store.events_of_contacts(ACCOUNT_A, [CONTACT])
    assert old_event.received_wall == old_event.received_at  # the best it can know of an old row
    assert new_event.call_id == "c1"


def test_a_file_from_the_release_before_replicas_opens_and_keeps_counting_its_calls(tmp_path: Path) -> None:
    """A file written before events carried their origin (the column the replicas' relay reads) gets it on open;
    what it held stays readable and countable."""
    path = tmp_path / "events.sqlite3"
    store = EventStore(path)
    put(store, ACCOUNT_A, "m1", call_id="c1")
    store.close()
    with sqlite3.connect(path) as older:
        older.execute("ALTER TABLE events DROP COLUMN origin")
    older.close()

    store = EventStore(path)
    put(store, ACCOUNT_A, "m2", call_id="c2")
    since = datetime(2000, 1, 1, tzinfo=UTC)
    counted = store.calls_ended_by_slot(ACCOUNT_A, [ContactWindow(CONTACT, since, None)], 900)
    held = [event.call_id for event in store.events_after(ACCOUNT_A, 0)]
    store.close()

    assert held == ["c1", "c2"] and sum(counted.values()) == 2
