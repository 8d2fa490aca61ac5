"""Reading what a sloppy or drifted telli may send: null for empty lists and objects, no body where telli
documents none, and one malformed row in an otherwise good list page."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from client_helpers import contact_params

from telli_mcp.client import (
    InitiateCall,
    InvalidItem,
    NotFoundError,
    PhoneNumberChange,
    PhoneNumberImport,
    PropertyCreate,
    PropertyDataType,
    PropertyOption,
    PropertyValueInput,
    ResponseDecodeError,
    ScheduleCall,
    TelliClient,
)
from telli_mcp.simulator import TEST_API_KEY, BodyEdit, Fault, FaultKind, TelliSimulator

pytestmark = pytest.mark.anyio

GARBAGE = "garbage-value-7f3a"
"""A value planted in a malformed row; it must never show up in what the client reports."""


@pytest.fixture
def agent_id(sim: TelliSimulator) -> str:
    return sim.account(TEST_API_KEY).add_agent("Sales", "de").id


async def _call_ids(telli: TelliClient, sim: TelliSimulator, agent_id: str, count: int) -> list[str]:
    """Calls that have finished, newest first."""
    for index in range(count):
        contact = await telli.contacts.create(contact_params(index))
        await telli.calls.initiate(InitiateCall(contact_id=contact.id, agent_id=agent_id))
    await sim.advance(timedelta(minutes=30))
    return [call.call_id for call in (await telli.calls.list(limit=100)).items]


def _reshape(path: str, *edits: BodyEdit, method: str = "GET") -> Fault:
    return Fault(kind="reshape", method=method, path=path, edits=edits)


# -- null where a list or an object is expected ---------------------------------------------------------

NULL_CALL_FIELDS = ("transcriptObject", "call_analysis", "call_outcome", "collected_data")


async def test_null_lists_and_objects_in_listed_calls_read_as_empty(
    telli: TelliClient, sim: TelliSimulator, agent_id: str
) -> None:
    [call_id] = await _call_ids(telli, sim, agent_id, 1)
    sim.inject(_reshape("/v1/list-calls", *(BodyEdit(f"calls.*.{name}", value=None) for name in NULL_CALL_FIELDS)))
    page = await telli.calls.list()
    [call] = page.items
    assert call.call_id == call_id
    assert (call.transcript_object, call.call_analysis, call.call_outcome, call.collected_data) == ([], {}, {}, {})
    assert page.invalid_items == []


async def test_null_transcript_and_contact_details_in_a_fetched_call_read_as_empty(
    telli: TelliClient, sim: TelliSimulator, agent_id: str
) -> None:
    [call_id] = await _call_ids(telli, sim, agent_id, 1)
    sim.inject(
        _reshape(
            f"/v1/get-call/{call_id}",
            BodyEdit("call.transcriptObject", value=None),
            BodyEdit("contact.contact_details", value=None),
        )
    )
    details = await telli.calls.get(call_id)
    assert details.call.transcript_object == []
    assert details.contact is not None
    assert details.contact.contact_details == {}


async def test_null_contact_details_of_a_v1_contact_read_as_empty(telli: TelliClient, sim: TelliSimulator) -> None:
    created = await telli.contacts.create(contact_params(1))
    sim.inject(_reshape(f"/v1/get-contact/{created.id}", BodyEdit("contact_details", value=None)))
    assert (await telli.contacts_v1.get(created.id)).contact_details == {}


async def test_null_properties_and_null_property_options_of_a_v2_contact_read_as_empty(
    telli: TelliClient, sim: TelliSimulator
) -> None:
    plan = [PropertyOption(value="gold", label="Gold")]
    await telli.properties.create(
        PropertyCreate(key="plan", data_type=PropertyDataType.SELECT, label="Plan", options=plan)
    )
    created = await telli.contacts.create(contact_params(1, properties=[PropertyValueInput(key="plan", value="gold")]))
    sim.inject(_reshape(f"/v2/contacts/{created.id}", BodyEdit("properties.*.options", value=None)))
    sim.inject(_reshape("/v2/contacts", BodyEdit("data.*.properties", value=None)))
    fetched = await telli.contacts.get(created.id)
    listed = await telli.contacts.list()
    assert [(p.key, p.value, p.options) for p in fetched.properties if p.key == "plan"] == [("plan", "gold", [])]
    assert [contact.properties for contact in listed.items] == [[]]


async def test_null_options_of_property_definitions_read_as_empty(telli: TelliClient, sim: TelliSimulator) -> None:
    plan = [PropertyOption(value="gold", label="Gold")]
    await telli.properties.create(
        PropertyCreate(key="plan", data_type=PropertyDataType.SELECT, label="Plan", options=plan)
    )
    sim.inject(_reshape("/v2/properties/contacts", BodyEdit("data.*.options", value=None)))
    sim.inject(_reshape("/v2/properties/contacts/plan", BodyEdit("options", value=None)))
    listed = await telli.properties.list()
    assert all(definition.options == [] for definition in listed.items)
    assert listed.invalid_items == []
    assert (await telli.properties.get("plan")).options == []


async def test_a_null_list_in_a_page_envelope_reads_as_an_empty_page(telli: TelliClient, sim: TelliSimulator) -> None:
    sim.inject(_reshape("/v1/list-calls", BodyEdit("calls", value=None)))
    page = await telli.calls.list()
    assert (page.items, page.next_cursor, page.invalid_items) == ([], None, [])


# -- no body where telli documents none ------------------------------------------------------------------

BODY_FAULTS: list[FaultKind] = ["empty_body", "text_body"]

SIP_IMPORT = PhoneNumberImport(
    phone_number="+12025550142", termination_uri="sip:trunk.example.com", auth_username="u", auth_password="p"
)


@pytest.mark.parametrize("kind", BODY_FAULTS)
async def test_initiating_a_call_without_a_readable_answer_reports_the_contact_sent(
    telli: TelliClient, sim: TelliSimulator, agent_id: str, kind: FaultKind
) -> None:
    contact = await telli.contacts.create(contact_params(1))
    sim.inject(Fault(kind=kind, method="POST", path="/v1/initiate-call"))
    result = await telli.calls.initiate(InitiateCall(contact_id=contact.id, agent_id=agent_id))
    assert (result.contact_id, result.status, result.call_id) == (contact.id, None, None)
    assert (await telli.contacts_v1.get(contact.id)).in_call_since is not None


@pytest.mark.parametrize("kind", BODY_FAULTS)
async def test_removing_from_the_dialer_without_a_readable_answer_is_a_success(
    telli: TelliClient, sim: TelliSimulator, agent_id: str, kind: FaultKind
) -> None:
    contact = await telli.contacts.create(contact_params(1))
    await telli.calls.schedule(ScheduleCall(contact_id=contact.id, agent_id=agent_id))
    sim.inject(Fault(kind=kind, method="POST", path="/v1/remove-from-auto-dialer"))
    assert await telli.calls.remove_from_dialer(contact.id) is None
    assert (await telli.contacts_v1.get(contact.id)).next_call_at is None


@pytest.mark.parametrize("kind", BODY_FAULTS)
async def test_deleting_a_v1_contact_without_a_readable_answer_is_a_success(
    telli: TelliClient, sim: TelliSimulator, kind: FaultKind
) -> None:
    contact = await telli.contacts.create(contact_params(1))
    sim.inject(Fault(kind=kind, method="DELETE", path="/v1/delete-contact*"))
    assert await telli.contacts_v1.delete(contact.id) is None
    with pytest.raises(NotFoundError):
        await telli.contacts_v1.get(contact.id)


@pytest.mark.parametrize("kind", BODY_FAULTS)
async def test_verifying_the_key_without_a_readable_answer_is_true(
    telli: TelliClient, sim: TelliSimulator, kind: FaultKind
) -> None:
    sim.inject(Fault(kind=kind, method="GET", path="/v1/verify-api-key"))
    assert await telli.verify_api_key() is True


@pytest.mark.parametrize("kind", BODY_FAULTS)
async def test_replacing_a_number_without_a_readable_answer_reports_the_replaced_id(
    telli: TelliClient, sim: TelliSimulator, kind: FaultKind
) -> None:
    imported = await telli.phone_numbers.import_sip(SIP_IMPORT)
    sim.inject(Fault(kind=kind, method="POST", path=f"/v1/phone-numbers/{imported.id}/replace"))
    change = await telli.phone_numbers.replace(imported.id)
    assert change == PhoneNumberChange(replaced_id=imported.id)
    assert imported.id not in {number.id for number in (await telli.phone_numbers.list()).items}


async def test_a_replaced_number_with_a_body_still_reports_the_replaced_id(telli: TelliClient) -> None:
    imported = await telli.phone_numbers.import_sip(SIP_IMPORT)
    change = await telli.phone_numbers.replace(imported.id)
    assert change.replaced_id == imported.id
    assert change.id not in (None, imported.id)


@pytest.mark.parametrize("kind", BODY_FAULTS)
async def test_deleting_a_number_without_a_readable_answer_is_a_success(
    telli: TelliClient, sim: TelliSimulator, kind: FaultKind
) -> None:
    imported = await telli.phone_numbers.import_sip(SIP_IMPORT)
    sim.inject(Fault(kind=kind, method="DELETE", path=f"/v1/phone-numbers/{imported.id}"))
    assert await telli.phone_numbers.delete(imported.id) is None
    assert imported.id not in {number.id for number in (await telli.phone_numbers.list()).items}


@pytest.mark.parametrize(
    ("kind", "action"),
    [
        pytest.param("text_body", lambda t, c, a: t.calls.schedule(ScheduleCall(contact_id=c, agent_id=a)), id="text"),
        pytest.param("empty_body", lambda t, c, a: t.contacts.get(c), id="empty"),
    ],
)
async def test_a_documented_endpoint_without_its_json_body_is_a_decode_error(
    telli: TelliClient,
    sim: TelliSimulator,
    agent_id: str,
    kind: FaultKind,
    action: Callable[[TelliClient, str, str], Awaitable[Any]],
) -> None:
    contact = await telli.contacts.create(contact_params(1))
    sim.inject(Fault(kind=kind))
    with pytest.raises(ResponseDecodeError):
        await action(telli, contact.id, agent_id)


# -- one malformed row in a list page --------------------------------------------------------------------


def _assert_reported(invalid: list[InvalidItem], index: int, item_id: str | None, field: str) -> None:
    [item] = invalid
    assert (item.index, item.id) == (index, item_id)
    assert field in item.problem
    assert GARBAGE not in item.model_dump_json()


async def test_a_malformed_call_is_reported_with_its_id_and_the_rest_of_the_page_is_read(
    telli: TelliClient, sim: TelliSimulator, agent_id: str
) -> None:
    call_ids = await _call_ids(telli, sim, agent_id, 3)
    sim.inject(_reshape("/v1/list-calls", BodyEdit("calls.1.attempt", value=GARBAGE)))
    page = await telli.calls.list(limit=100)
    assert [call.call_id for call in page.items] == [call_ids[0], call_ids[2]]
    _assert_reported(page.invalid_items, 1, call_ids[1], "attempt")


async def test_a_malformed_v2_contact_is_reported_with_its_id(telli: TelliClient, sim: TelliSimulator) -> None:
    for index in range(3):
        await telli.contacts.create(contact_params(index))
    listed = [contact.id for contact in (await telli.contacts.list()).items]
    sim.inject(_reshape("/v2/contacts", BodyEdit("data.0.createdAt", value=GARBAGE)))
    page = await telli.contacts.list()
    assert [contact.id for contact in page.items] == listed[1:]
    _assert_reported(page.invalid_items, 0, listed[0], "createdAt")


async def test_a_malformed_agent_is_reported_with_its_id(telli: TelliClient, sim: TelliSimulator) -> None:
    ids = [sim.account(TEST_API_KEY).add_agent(f"Agent {index}", "de").id for index in range(2)]
    listed = [agent.id for agent in (await telli.agents.list()).items]
    sim.inject(_reshape("/v2/agents", BodyEdit("data.1.createdAt", value=GARBAGE)))
    page = await telli.agents.list()
    assert sorted(listed) == sorted(ids)
    assert [agent.id for agent in page.items] == listed[:1]
    _assert_reported(page.invalid_items, 1, listed[1], "createdAt")


async def test_a_malformed_property_definition_is_reported_with_its_key(
    telli: TelliClient, sim: TelliSimulator
) -> None:
    keys = [definition.key for definition in (await telli.properties.list()).items]
    sim.inject(_reshape("/v2/properties/contacts", BodyEdit("data.0.dataType", value=None)))
    page = await telli.properties.list()
    assert [definition.key for definition in page.items] == keys[1:]
    _assert_reported(page.invalid_items, 0, keys[0], "dataType")


async def test_a_malformed_phone_number_is_reported_with_its_id(telli: TelliClient, sim: TelliSimulator) -> None:
    account = sim.account(TEST_API_KEY)
    for number in ("+493012345678", "+493012345679"):
        account.add_phone_number(number)
    ids = [number.id for number in (await telli.phone_numbers.list()).items]
    sim.inject(_reshape("/v1/phone-numbers", BodyEdit("data.0.phoneNumber", value=None)))
    page = await telli.phone_numbers.list()
    assert [number.id for number in page.items] == ids[1:]
    _assert_reported(page.invalid_items, 0, ids[0], "phoneNumber")


async def test_a_row_that_is_not_an_object_is_reported_by_its_position(telli: TelliClient, sim: TelliSimulator) -> None:
    sim.account(TEST_API_KEY).add_agent("Sales", "de")
    sim.inject(_reshape("/v2/agents", BodyEdit("data.0", value=GARBAGE)))
    page = await telli.agents.list()
    assert page.items == []
    _assert_reported(page.invalid_items, 0, None, "Agent")


async def test_iterating_passes_skipped_rows_to_on_invalid_and_yields_the_others(
    telli: TelliClient, sim: TelliSimulator
) -> None:
    ids = [(await telli.contacts.create(contact_params(index))).id for index in range(4)]
    sim.inject(
        Fault(kind="reshape", path="/v2/contacts", edits=(BodyEdit("data.1.createdAt", value=GARBAGE),), times=2)
    )
    skipped: list[InvalidItem] = []
    yielded = [contact.id async for contact in telli.contacts.iterate(page_size=2, on_invalid=skipped.append)]
    assert len(yielded) == 2
    assert sorted([*yielded, *(item.id or "" for item in skipped)]) == sorted(ids)
    assert [item.index for item in skipped] == [1, 1]


async def test_iterating_without_on_invalid_logs_each_skipped_row(
    telli: TelliClient, sim: TelliSimulator, agent_id: str, caplog: pytest.LogCaptureFixture
) -> None:
    call_ids = await _call_ids(telli, sim, agent_id, 2)
    sim.inject(_reshape("/v1/list-calls", BodyEdit("calls.0.attempt", value=GARBAGE)))
    caplog.set_level(logging.WARNING, logger="telli_mcp.client")
    yielded = [call.call_id async for call in telli.calls.iterate()]
    assert yielded == call_ids[1:]
    [record] = [r for r in caplog.records if "Skipped" in r.getMessage()]
    assert call_ids[0] in record.getMessage()
    assert GARBAGE not in record.getMessage()


@pytest.mark.parametrize("kind", ["malformed_json", "truncated"])
async def test_a_damaged_answer_on_an_endpoint_without_a_documented_body_is_still_a_decode_error(
    telli: TelliClient, sim: TelliSimulator, kind: FaultKind
) -> None:
    # An HTML page (a proxy, a wrong base URL) or cut-off JSON is not an answer telli sends: no "key valid".
    sim.inject(Fault(kind=kind, method="GET", path="/v1/verify-api-key"))
    with pytest.raises(ResponseDecodeError):
        await telli.verify_api_key()
