"""v1 contacts, including the batch endpoints, against the simulator."""

from __future__ import annotations

import math

import pytest
from client_helpers import berlin_number

from telli_mcp.client import (
    BatchReport,
    ContactStatus,
    ContactV1Create,
    ContactV1Update,
    InputError,
    NotFoundError,
    TelliClient,
)
from telli_mcp.simulator import TelliSimulator

pytestmark = pytest.mark.anyio

UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"


def v1_contact(index: int, **changes: object) -> ContactV1Create:
    fields: dict[str, object] = {
        "external_contact_id": f"ext-{index}",
        "first_name": "Max",
        "last_name": f"Muster{index}",
        "phone_number": berlin_number(index),
    }
    fields.update(changes)
    return ContactV1Create.model_validate(fields)


async def test_a_v1_contact_is_created_and_read_with_its_dialer_status(telli: TelliClient) -> None:
    contact_id = await telli.contacts_v1.create(v1_contact(1, contact_details={"plan": "gold"}))
    contact = await telli.contacts_v1.get(contact_id)
    assert (contact.contact_id, contact.external_contact_id) == (contact_id, "ext-1")
    assert contact.status is ContactStatus.NEW
    assert contact.call_attempts == 0
    assert contact.contact_details == {"plan": "gold"}


async def test_get_by_external_id_returns_the_documented_subset(telli: TelliClient) -> None:
    contact_id = await telli.contacts_v1.create(v1_contact(1))
    contact = await telli.contacts_v1.get_by_external_id("ext-1")
    assert (contact.contact_id, contact.external_contact_id) == (contact_id, "ext-1")


async def test_update_changes_the_given_fields_and_returns_the_contact_id(telli: TelliClient) -> None:
    contact_id = await telli.contacts_v1.create(v1_contact(1))
    assert await telli.contacts_v1.update(ContactV1Update(contact_id=contact_id, first_name="Moritz")) == contact_id
    assert (await telli.contacts_v1.get(contact_id)).first_name == "Moritz"


async def test_a_deleted_v1_contact_is_no_longer_found(telli: TelliClient) -> None:
    contact_id = await telli.contacts_v1.create(v1_contact(1))
    await telli.contacts_v1.delete(contact_id)
    with pytest.raises(NotFoundError):
        await telli.contacts_v1.get(contact_id)


async def test_adding_2500_contacts_sends_chunks_of_1000(telli: TelliClient, sim: TelliSimulator) -> None:
    report = await telli.contacts_v1.add_batch([v1_contact(i) for i in range(2500)])
    assert len(sim.requests_to("POST", "/v1/add-contacts-batch")) == math.ceil(2500 / 1000)
    assert report.requests_sent == 3
    assert len(report.succeeded) == 2500
    assert [item.ref for item in report.items[:2]] == ["ext-0", "ext-1"]
    assert all(item.contact_id for item in report.items)


async def test_a_rejected_contact_in_a_batch_is_reported_with_telli_s_message(telli: TelliClient) -> None:
    await telli.contacts_v1.create(v1_contact(1))
    report = await telli.contacts_v1.add_batch([v1_contact(1), v1_contact(2)])
    [failed] = report.failed
    assert failed.ref == "ext-1"
    assert failed.error
    assert [item.ref for item in report.succeeded] == ["ext-2"]


async def test_duplicate_keys_in_one_batch_are_rejected_before_any_request(
    telli: TelliClient, sim: TelliSimulator
) -> None:
    with pytest.raises(InputError) as caught:
        await telli.contacts_v1.add_batch([v1_contact(0), v1_contact(1), v1_contact(0)])
    assert caught.value.field == "contacts[2].external_contact_id"
    assert sim.request_log == []


async def test_update_batch_reports_unknown_contacts_as_errors(telli: TelliClient) -> None:
    contact_id = await telli.contacts_v1.create(v1_contact(1))
    report = await telli.contacts_v1.update_batch(
        [
            ContactV1Update(contact_id=contact_id, last_name="Neu"),
            ContactV1Update(contact_id=UNKNOWN_ID, last_name="Neu"),
        ]
    )
    assert [(item.ref, item.status) for item in report.items] == [
        (contact_id, "success"),
        (UNKNOWN_ID, "error"),
    ]
    assert (await telli.contacts_v1.get(contact_id)).last_name == "Neu"


async def test_progress_is_reported_after_every_chunk(telli: TelliClient) -> None:
    progress: list[tuple[int, int, int]] = []

    async def on_chunk(done: int, total: int, chunk: BatchReport) -> None:
        progress.append((done, total, len(chunk.items)))

    await telli.contacts_v1.add_batch([v1_contact(i) for i in range(2100)], concurrency=2, on_chunk=on_chunk)
    assert sorted(progress) == [(1, 3, progress[0][2]), (2, 3, progress[1][2]), (3, 3, progress[2][2])]
    assert sorted(size for _, _, size in progress) == [100, 1000, 1000]


async def test_get_batch_returns_found_contacts_and_lists_missing_ids(telli: TelliClient) -> None:
    first = await telli.contacts_v1.create(v1_contact(1))
    second = await telli.contacts_v1.create(v1_contact(2))
    result = await telli.contacts_v1.get_batch([first, UNKNOWN_ID, second])
    assert [contact.contact_id for contact in result.found] == [first, second]
    assert [(item.ref, item.status) for item in result.missing] == [(UNKNOWN_ID, "error")]


async def test_get_batch_of_2500_ids_sends_chunks_of_1000(telli: TelliClient, sim: TelliSimulator) -> None:
    report = await telli.contacts_v1.add_batch([v1_contact(i) for i in range(2500)])
    ids = [item.contact_id or "" for item in report.items]
    result = await telli.contacts_v1.get_batch(ids)
    assert len(sim.requests_to("POST", "/v1/get-contacts-batch")) == 3
    assert [contact.contact_id for contact in result.found] == ids


class ProgressStoreDown(Exception):
    """Stands in for a caller failing to persist batch progress."""


async def test_a_failing_progress_callback_stops_the_batch_with_its_own_exception(
    telli: TelliClient, sim: TelliSimulator
) -> None:
    async def on_chunk(done: int, total: int, chunk: BatchReport) -> None:
        raise ProgressStoreDown

    with pytest.raises(ProgressStoreDown):
        await telli.contacts_v1.add_batch([v1_contact(i) for i in range(1500)], on_chunk=on_chunk)
    assert len(sim.requests_to("POST", "/v1/add-contacts-batch")) == 1
