"""The auto-dialer and calls (v1) against the simulator."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest
from client_helpers import berlin_number, contact_params

from telli_mcp.client import (
    BadRequestError,
    BatchReport,
    CallStatus,
    ContactStatus,
    ContactV1Create,
    InitiateCall,
    InputError,
    ScheduleCall,
    TelliClient,
)
from telli_mcp.simulator import TEST_API_KEY, Fault, TelliSimulator

pytestmark = pytest.mark.anyio

UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
def agent_id(sim: TelliSimulator) -> str:
    return sim.account(TEST_API_KEY).add_agent("Sales", "de").id


async def _contacts(telli: TelliClient, count: int) -> list[str]:
    report = await telli.contacts_v1.add_batch(
        [
            ContactV1Create(
                external_contact_id=f"ext-{i}",
                first_name="Max",
                last_name="Muster",
                phone_number=berlin_number(i),
            )
            for i in range(count)
        ]
    )
    return [item.contact_id or "" for item in report.items]


async def test_scheduling_puts_the_contact_into_the_dialer(telli: TelliClient, agent_id: str) -> None:
    contact = await telli.contacts.create(contact_params(1))
    result = await telli.calls.schedule(ScheduleCall(contact_id=contact.id, agent_id=agent_id))
    assert (result.status, result.contact_id) == ("success", contact.id)
    assert result.loop_id
    assert (await telli.contacts_v1.get(contact.id)).status is ContactStatus.PENDING


async def test_calls_made_by_the_dialer_can_be_listed_and_read(
    telli: TelliClient, sim: TelliSimulator, agent_id: str
) -> None:
    contact = await telli.contacts.create(contact_params(1))
    await telli.calls.schedule(ScheduleCall(contact_id=contact.id, agent_id=agent_id))
    await sim.advance(timedelta(days=2))
    page = await telli.calls.list(contact_id=contact.id)
    assert page.items
    details = await telli.calls.get(page.items[0].call_id)
    assert details.call.call_id == page.items[0].call_id
    assert details.call.contact_id == contact.id
    assert details.call.triggered_at is not None
    assert details.call.triggered_at.tzinfo is not None
    assert isinstance(details.call.call_status, CallStatus)
    assert details.contact is not None
    assert details.contact.contact_id == contact.id


async def test_listing_calls_walks_several_v1_pages(telli: TelliClient, sim: TelliSimulator, agent_id: str) -> None:
    for index in range(3):
        contact = await telli.contacts.create(contact_params(index))
        await telli.calls.initiate(InitiateCall(contact_id=contact.id, agent_id=agent_id))
    await sim.advance(timedelta(minutes=30))
    every = (await telli.calls.list(limit=100)).items
    assert len(every) >= 3
    listed = [call.call_id async for call in telli.calls.iterate(page_size=1)]
    assert listed == [call.call_id for call in every]
    assert len(sim.requests_to("GET", "/v1/list-calls")) == 1 + len(every)


async def test_filtering_calls_by_contact_and_agent_at_once_is_rejected_before_sending(
    telli: TelliClient, sim: TelliSimulator, agent_id: str
) -> None:
    with pytest.raises(InputError, match="not both"):
        await telli.calls.list(contact_id=UNKNOWN_ID, agent_id=agent_id)
    assert sim.request_log == []


async def test_initiating_a_call_returns_the_call_id(telli: TelliClient, agent_id: str) -> None:
    contact = await telli.contacts.create(contact_params(1))
    result = await telli.calls.initiate(InitiateCall(contact_id=contact.id, agent_id=agent_id))
    assert (result.status, result.contact_id) == ("success", contact.id)
    assert result.call_id


async def test_removing_a_contact_from_the_dialer_works_once_then_is_a_bad_request(
    telli: TelliClient, agent_id: str
) -> None:
    contact = await telli.contacts.create(contact_params(1))
    await telli.calls.schedule(ScheduleCall(contact_id=contact.id, agent_id=agent_id))
    await telli.calls.remove_from_dialer(contact.id)
    with pytest.raises(BadRequestError):
        await telli.calls.remove_from_dialer(contact.id)


async def test_scheduling_2500_contacts_sends_chunks_of_50(
    telli: TelliClient, sim: TelliSimulator, agent_id: str
) -> None:
    ids = await _contacts(telli, 2500)
    report = await telli.calls.schedule_batch(
        [ScheduleCall(contact_id=contact_id, agent_id=agent_id) for contact_id in ids], concurrency=4
    )
    assert len(sim.requests_to("POST", "/v1/schedule-calls-batch")) == math.ceil(2500 / 50)
    assert len(report.succeeded) == 2500
    assert all(item.loop_id for item in report.items)
    assert [item.ref for item in report.items] == ids


async def test_a_schedule_batch_maps_per_item_errors_with_their_code(telli: TelliClient, agent_id: str) -> None:
    [contact_id] = await _contacts(telli, 1)
    report = await telli.calls.schedule_batch(
        [
            ScheduleCall(contact_id=contact_id, agent_id=agent_id),
            ScheduleCall(contact_id=UNKNOWN_ID, agent_id=agent_id),
        ]
    )
    [failed] = report.failed
    assert (failed.ref, failed.error_code) == (UNKNOWN_ID, 400)
    assert failed.error
    assert [item.ref for item in report.succeeded] == [contact_id]


async def test_a_chunk_failing_with_a_server_error_is_unknown_and_later_chunks_are_not_sent(
    telli: TelliClient, sim: TelliSimulator, agent_id: str
) -> None:
    ids = await _contacts(telli, 120)
    sim.inject(Fault(method="POST", path="/v1/schedule-calls-batch", status=503))
    progress: list[tuple[int, int]] = []

    async def on_chunk(done: int, total: int, chunk: BatchReport) -> None:
        progress.append((done, total))

    report = await telli.calls.schedule_batch(
        [ScheduleCall(contact_id=contact_id, agent_id=agent_id) for contact_id in ids], on_chunk=on_chunk
    )
    assert (len(report.unknown), len(report.not_sent), len(report.succeeded)) == (50, 70, 0)
    assert report.requests_sent == 1
    assert len(sim.requests_to("POST", "/v1/schedule-calls-batch")) == 1
    assert progress == [(1, 3)]


async def test_a_chunk_rejected_with_a_4xx_is_an_error_and_the_rest_continue_without_stop_on_error(
    telli: TelliClient, sim: TelliSimulator, agent_id: str
) -> None:
    ids = await _contacts(telli, 60)
    sim.inject(Fault(method="POST", path="/v1/schedule-calls-batch", status=400))
    report = await telli.calls.schedule_batch(
        [ScheduleCall(contact_id=contact_id, agent_id=agent_id) for contact_id in ids], stop_on_error=False
    )
    assert (len(report.failed), len(report.succeeded)) == (50, 10)
    assert {item.error_code for item in report.failed} == {400}


async def test_a_timeout_after_sending_a_chunk_marks_its_items_unknown(
    telli: TelliClient, sim: TelliSimulator, agent_id: str
) -> None:
    ids = await _contacts(telli, 2)
    sim.inject(Fault(method="POST", path="/v1/schedule-calls-batch", kind="timeout_after"))
    report = await telli.calls.schedule_batch(
        [ScheduleCall(contact_id=contact_id, agent_id=agent_id) for contact_id in ids]
    )
    assert [item.status for item in report.items] == ["unknown", "unknown"]


async def test_removing_contacts_from_the_dialer_in_a_batch_reports_each_contact(
    telli: TelliClient, sim: TelliSimulator, agent_id: str
) -> None:
    ids = await _contacts(telli, 60)
    await telli.calls.schedule_batch([ScheduleCall(contact_id=contact_id, agent_id=agent_id) for contact_id in ids])
    report = await telli.calls.remove_from_dialer_batch([*ids, UNKNOWN_ID])
    assert len(sim.requests_to("POST", "/v1/remove-from-auto-dialer-batch")) == 2
    assert len(report.succeeded) == 60
    assert [item.ref for item in report.failed] == [UNKNOWN_ID]


async def test_an_invalid_id_in_a_remove_batch_is_rejected_with_its_index(
    telli: TelliClient, sim: TelliSimulator
) -> None:
    with pytest.raises(InputError) as caught:
        await telli.calls.remove_from_dialer_batch([UNKNOWN_ID, ""])
    assert caught.value.field == "contact_ids[1]"
    assert sim.request_log == []
