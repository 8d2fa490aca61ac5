"""Replicas behind a load balancer share one contact index in PostgreSQL: what one writes or syncs, the other
finds at once; tenants stay apart; syncs running at once on two replicas keep every contact once and never
remove a live one. And PostgreSQL answers every query exactly as SQLite does (same rows, order, totals, match)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import anyio
import pytest
from index_helpers import TENANT, AddContact
from postgres_helpers import postgres_url  # noqa: F401  # the fixture
from pydantic import SecretStr

from telli_mcp.client import TelliClient
from telli_mcp.contact_index import ContactIndex, ContactQuery, TenantIndex, minimum_requests, sync_contacts
from telli_mcp.contact_index.store import Walk
from telli_mcp.database.sql import open_session
from telli_mcp.simulator import TelliSimulator

pytestmark = pytest.mark.anyio

HANG_GUARD = 60.0
"""Seconds a racing thread may wait for the other before the test fails instead of hanging."""


@pytest.fixture
def replicas(sim: TelliSimulator, postgres_url: str) -> Iterator[tuple[ContactIndex, ContactIndex]]:  # noqa: F811
    """Two independent handles (two replicas) on one PostgreSQL."""
    a = ContactIndex(SecretStr(postgres_url), now=sim.clock.now)
    b = ContactIndex(SecretStr(postgres_url), now=sim.clock.now)
    yield a, b
    a.close()
    b.close()


def _ids(index: TenantIndex, **filters: Any) -> list[str]:
    ids, total = index.select(ContactQuery.model_validate(filters), limit=100_000)
    assert total == len(ids)
    return ids


async def test_a_contact_written_through_one_replica_is_found_through_the_other(
    add: AddContact, client: TelliClient, replicas: tuple[ContactIndex, ContactIndex]
) -> None:
    a, b = (indexes.for_tenant(TENANT) for indexes in replicas)
    contact = await client.contacts.get(add("Jürgen", "Müller", "+4930555010", custom_merge={"plan": "pro"}))

    a.put(contact)

    for filters in (
        {"name": "jurgen"},
        {"name": "Jrugen Mul"},
        {"phone": "030 555010"},
        {"property_equals": {"plan": "pro"}},
    ):
        assert _ids(b, **filters) == [contact.id]
    assert b.remove(contact.id)
    assert _ids(a) == [] and _ids(a, name="jurgen") == []


async def test_a_sync_completed_by_one_replica_removes_deleted_contacts_for_the_other(
    add: AddContact, client: TelliClient, replicas: tuple[ContactIndex, ContactIndex]
) -> None:
    a, b = (indexes.for_tenant(TENANT) for indexes in replicas)
    kept, gone = add("Jane", "Doe", "+4930555010"), add("John", "Doe", "+4930555011")
    assert (await sync_contacts(b, client, budget=100)).complete
    await client.contacts.delete(gone)

    report = await sync_contacts(a, client, budget=100)

    assert report.complete and report.swept == 1
    assert _ids(b) == [kept] and _ids(b, name="doe") == [kept]
    assert b.status().as_of == a.status().as_of == report.as_of


async def test_a_walk_begun_by_one_replica_is_continued_by_the_other_at_its_cursor(
    sim: TelliSimulator, add: AddContact, client: TelliClient, replicas: tuple[ContactIndex, ContactIndex]
) -> None:
    a, b = (indexes.for_tenant(TENANT) for indexes in replicas)
    created = {add(f"P{n}", "Q", f"+4930555{n:04d}") for n in range(1250)}

    first = await sync_contacts(a, client, budget=11)  # one round: ten pages and their batch read
    second = await sync_contacts(b, client, budget=100)

    assert not first.complete and second.complete
    assert first.requests + second.requests == minimum_requests(1250)  # B read nothing A had read
    assert set(_ids(a)) == created


async def test_tenants_stay_apart_across_replicas(
    sim: TelliSimulator, add: AddContact, client: TelliClient, replicas: tuple[ContactIndex, ContactIndex]
) -> None:
    a_of_tenant, b_of_other = replicas[0].for_tenant(TENANT), replicas[1].for_tenant("tenant-b")
    jane = add("Jane", "Doe", "+4930555010")
    assert (await sync_contacts(a_of_tenant, client, budget=10)).complete

    # The other tenant's first walk completes over an empty listing: it removes nothing of TENANT's.
    other = await sync_contacts(b_of_other, _EmptyListing(), budget=10)  # type: ignore[arg-type]

    assert other.complete and other.swept == 0
    assert _ids(b_of_other) == [] and _ids(b_of_other, name="jane") == []
    assert not b_of_other.remove(jane) and b_of_other.get(jane) is None
    assert _ids(replicas[1].for_tenant(TENANT), name="jane") == [jane]


async def test_syncs_running_at_once_on_two_replicas_keep_every_contact_once(
    sim: TelliSimulator,
    add: AddContact,
    client: TelliClient,
    replicas: tuple[ContactIndex, ContactIndex],
    postgres_url: str,  # noqa: F811
) -> None:
    a, b = (indexes.for_tenant(TENANT) for indexes in replicas)
    created = {add(f"Name{n}", "Same", f"+4930555{n:04d}") for n in range(2345)}
    reports = []

    async def sync(index: TenantIndex) -> None:
        reports.append(await sync_contacts(index, client, budget=10_000))

    async with anyio.create_task_group() as group:
        group.start_soon(sync, a)
        group.start_soon(sync, b)

    assert any(report.complete for report in reports)
    assert sorted(_ids(a)) == sorted(created) and a.status().contacts == 2345
    assert len(_ids(b, name="same")) == 2345
    session = open_session(SecretStr(postgres_url))
    try:
        doubled = session.execute(
            "SELECT contact_id FROM contacts GROUP BY tenant, contact_id HAVING COUNT(*) > 1"
        ).fetchall()
        orphans = session.execute(
            "SELECT COUNT(*) FROM contact_name_keys WHERE row NOT IN (SELECT row FROM contacts)"
        ).fetchone()
    finally:
        session.close()
    assert doubled == [] and orphans[0] == 0


async def test_a_walk_another_replica_started_over_neither_moves_the_cursor_nor_removes_anything(
    add: AddContact, client: TelliClient, replicas: tuple[ContactIndex, ContactIndex]
) -> None:
    a, b = (indexes.for_tenant(TENANT) for indexes in replicas)
    contact = await client.contacts.get(add("Jane", "Doe", "+4930555010"))
    a.put(contact)
    walk = a.begin_walk()
    assert b.begin_walk() == walk  # a walk under way is joined, not started again
    a.save_round([], seen_ids=[], cursor="page-2", walk=walk.number)

    newer = b.begin_walk(replacing=walk.number)  # B found the cursor refused: it starts over
    late = a.save_round([], seen_ids=[], cursor="page-3", walk=walk.number)

    assert newer.number == walk.number + 1 and late.number == newer.number
    assert b.walk().cursor is None  # the newer walk's place, not the replaced walk's
    assert a.finish_walk(walk.number) is None
    assert _ids(b) == [contact.id] and not b.status().synced


async def test_replicas_beginning_a_tenants_first_walk_at_once_share_one_walk(
    replicas: tuple[ContactIndex, ContactIndex],
) -> None:
    for attempt in range(20):  # a race: tried often, on a new tenant each time
        tenant = f"tenant-{attempt}"
        barrier = threading.Barrier(2, timeout=HANG_GUARD)

        def begin(indexes: ContactIndex, tenant: str = tenant, barrier: threading.Barrier = barrier) -> Walk:
            barrier.wait()
            return indexes.for_tenant(tenant).begin_walk()

        with ThreadPoolExecutor(2) as pool:
            walks = list(pool.map(begin, replicas))

        assert walks == [Walk(1, True, None)] * 2
        assert replicas[0].for_tenant(tenant).walk() == Walk(1, True, None)


class _EmptyListing:
    """A telli account with no contacts, as far as a sync asks (another tenant's key)."""

    def __init__(self) -> None:
        self.contacts = self
        self.contacts_v1 = self

    async def list(self, *, limit: int, cursor: str | None) -> Any:
        from telli_mcp.client import Page

        return Page(items=[], next_cursor=None)


# -- the two engines answer alike ------------------------------------------------------------------------------

QUERIES: list[dict[str, Any]] = [
    {},
    {"name": "jane"},
    {"name": "jan"},
    {"name": "Jnae"},
    {"name": "doe jane"},
    {"name": "muller"},
    {"name": "zoe"},
    {"name": "Mülller"},
    {"name": "o"},
    {"name": "smiht"},
    {"phone": "030 5550"},
    {"property_equals": {"plan": "pro"}},
    {"property_in": {"plan": ["pro", "basic"]}},
    {"property_empty": ["plan"]},
    {"name": "jo", "property_empty": ["plan"]},
    {"dialer_state": ["new"]},
]


async def test_postgresql_answers_every_query_as_sqlite_does(
    sim: TelliSimulator,
    add: AddContact,
    client: TelliClient,
    postgres_url: str,  # noqa: F811
) -> None:
    names = [
        ("Jane", "Doe"),
        ("Janet", "Dorsey"),
        ("John", "Doe"),
        ("Jon", "Smith"),
        ("Zoë", "Müller-Strauß"),
        ("Jürgen", "Müller"),
        ("Ole", "Olsen"),
        ("Jo", "O'Neill"),
        ("Anna", "Smith"),
        ("Jane", "Smith"),
    ]
    plans = ["pro", "basic", "", None]
    for n in range(60):
        first, last = names[n % len(names)]
        plan = plans[n % len(plans)]
        add(first, last, f"+4930555{n:04d}", **({"custom_merge": {"plan": plan}} if plan is not None else {}))
        if n % 7 == 6:
            await sim.advance(timedelta(minutes=1))  # several contacts created at one moment: ties by id
    sqlite = ContactIndex(":memory:", now=sim.clock.now).for_tenant(TENANT)
    shared = ContactIndex(SecretStr(postgres_url), now=sim.clock.now)
    try:
        postgres = shared.for_tenant(TENANT)
        for index in (sqlite, postgres):
            assert (await sync_contacts(index, client, budget=100)).complete

        for filters in QUERIES:
            query = ContactQuery.model_validate(filters)
            for offset in (0, 5, 17):
                expected, got = (index.search(query, offset=offset, limit=9) for index in (sqlite, postgres))
                assert got == expected, filters
    finally:
        shared.close()
