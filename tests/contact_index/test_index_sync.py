"""A sync reads every contact with its dialer state in the fewest telli requests, within its budget, resumably,
and forgets the contacts deleted in telli once a walk completes."""

from __future__ import annotations

import pytest
from index_helpers import AddContact

from telli_mcp.client import ContactV1Update, TelliClient
from telli_mcp.contact_index import ContactQuery, TenantIndex, minimum_requests, sync_contacts
from telli_mcp.simulator import TelliSimulator
from telli_mcp.simulator.faults import Fault

pytestmark = pytest.mark.anyio


def _fill(add: AddContact, count: int) -> list[str]:
    return [add(f"First{n}", f"Last{n}", f"+4930555{n:05d}") for n in range(count)]


def _requests(sim: TelliSimulator) -> tuple[int, int]:
    """list-contacts and get-contacts-batch requests telli received so far."""
    return len(sim.requests_to("GET", "/v2/contacts")), len(sim.requests_to("POST", "/v1/get-contacts-batch"))


def _ids(index: TenantIndex) -> set[str]:
    ids, _total = index.select(ContactQuery(), limit=100_000)
    return set(ids)


@pytest.mark.parametrize("count", [0, 1, 100, 1000, 2345])
async def test_a_full_sync_uses_exactly_the_minimum_number_of_requests(
    sim: TelliSimulator, add: AddContact, client: TelliClient, index: TenantIndex, count: int
) -> None:
    created = _fill(add, count)

    report = await sync_contacts(index, client, budget=10_000)

    pages, batches = _requests(sim)
    assert pages + batches == report.requests == minimum_requests(count)
    assert (pages, batches) == (max(1, -(-count // 100)), -(-count // 1000))
    assert (report.complete, report.contacts_seen) == (True, count)
    assert _ids(index) == set(created)
    assert index.status().as_of == sim.clock.now()


async def test_a_sync_stays_within_its_budget_and_the_next_one_continues_where_it_stopped(
    sim: TelliSimulator, add: AddContact, client: TelliClient, index: TenantIndex
) -> None:
    created = _fill(add, 2345)

    first = await sync_contacts(index, client, budget=7)  # six pages and their batch read
    status = index.status()
    second = await sync_contacts(index, client, budget=10_000)

    assert (first.requests, first.contacts_seen, first.complete) == (7, 600, False)
    assert (status.walking, status.as_of, status.contacts) == (True, None, 600)
    assert second.complete and second.contacts_seen == 2345 - 600
    # Nothing was read twice: the two syncs together cost what one would have (600 + 1,745 contacts: 24 pages
    # and 3 batch reads).
    assert sum(_requests(sim)) == first.requests + second.requests == minimum_requests(2345)
    assert _ids(index) == set(created)


async def test_a_budget_too_small_to_read_a_page_and_its_state_is_refused(
    client: TelliClient, index: TenantIndex
) -> None:
    with pytest.raises(ValueError, match="at least 2"):
        await sync_contacts(index, client, budget=1)


async def test_a_cursor_telli_no_longer_accepts_starts_the_walk_over(
    sim: TelliSimulator, add: AddContact, client: TelliClient, index: TenantIndex
) -> None:
    created = _fill(add, 250)
    await sync_contacts(index, client, budget=2)  # one page, then stopped
    sim.inject(Fault(method="GET", path="/v2/contacts", status=400))

    report = await sync_contacts(index, client, budget=100)

    assert report.restarted and report.complete
    assert report.contacts_seen == 250
    assert _ids(index) == set(created)


async def test_contacts_deleted_in_telli_disappear_when_a_walk_completes_and_not_before(
    sim: TelliSimulator, add: AddContact, client: TelliClient, index: TenantIndex
) -> None:
    created = _fill(add, 150)
    await sync_contacts(index, client, budget=100)
    gone = created[120]
    await client.contacts.delete(gone)

    partial = await sync_contacts(index, client, budget=2)  # the first 100 only: the walk is not complete
    still = gone in _ids(index)
    complete = await sync_contacts(index, client, budget=100)

    assert (partial.complete, partial.swept, still) == (False, 0, True)
    assert (complete.complete, complete.swept) == (True, 1)
    assert _ids(index) == set(created) - {gone}


async def test_what_telli_changed_since_is_read_again(
    sim: TelliSimulator, add: AddContact, client: TelliClient, index: TenantIndex
) -> None:
    contact_id = add("Jane", "Doe", "+4930555010", custom_merge={"plan": "basic"})
    await sync_contacts(index, client, budget=10)
    await client.contacts_v1.update(ContactV1Update(contact_id=contact_id, contact_details={"plan": "pro"}))

    await sync_contacts(index, client, budget=10)

    assert index.select(ContactQuery(property_equals={"plan": "pro"}), limit=5) == ([contact_id], 1)
    assert index.select(ContactQuery(property_equals={"plan": "basic"}), limit=5) == ([], 0)
