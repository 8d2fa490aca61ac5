"""v2 contacts against the simulator."""

from __future__ import annotations

import pytest
from client_helpers import contact_params

from telli_mcp.client import (
    ConflictError,
    ContactUpdate,
    InputError,
    NotFoundError,
    PropertyCreate,
    PropertyDataType,
    PropertyValueInput,
    TelliClient,
    UnprocessableEntityError,
)
from telli_mcp.simulator import TelliSimulator

pytestmark = pytest.mark.anyio


async def test_a_created_contact_can_be_read_back_by_id_and_by_external_id(telli: TelliClient) -> None:
    created = await telli.contacts.create(contact_params(1, timezone_iana="Europe/Berlin"))
    assert created.first_name == "Erika"
    assert created.model_extra == {"type": "Contact"}
    assert created.timezone_iana == "Europe/Berlin"
    assert await telli.contacts.get(created.id) == created
    assert (await telli.contacts.get_by_external_id("crm-1")).id == created.id


async def test_create_sends_camel_case_fields_and_telli_answers_201(telli: TelliClient, sim: TelliSimulator) -> None:
    await telli.contacts.create(contact_params(1))
    [request] = sim.requests_to("POST", "/v2/contacts")
    assert request.status == 201
    assert request.body == {
        "firstName": "Erika",
        "lastName": "Muster1",
        "phoneNumber": "+49301000001",
        "externalId": "crm-1",
    }


async def test_an_external_id_with_slashes_and_spaces_is_url_encoded(telli: TelliClient) -> None:
    created = await telli.contacts.create(contact_params(1, external_id="crm/42 a?b"))
    assert (await telli.contacts.get_by_external_id("crm/42 a?b")).id == created.id


async def test_update_changes_only_the_given_fields_none_leaves_a_field_and_clear_empties_one(
    telli: TelliClient,
) -> None:
    created = await telli.contacts.create(contact_params(1, email="erika@example.com", salutation="Frau"))
    updated = await telli.contacts.update(
        created.id, ContactUpdate(last_name="Neu", email=None, clear=frozenset({"salutation"}))
    )
    assert (updated.last_name, updated.email, updated.salutation) == ("Neu", "erika@example.com", None)


async def test_replace_overwrites_the_whole_contact(telli: TelliClient) -> None:
    created = await telli.contacts.create(contact_params(1, salutation="Frau"))
    replaced = await telli.contacts.replace(created.id, contact_params(2))
    assert (replaced.id, replaced.last_name, replaced.salutation) == (created.id, "Muster2", None)


async def test_a_deleted_contact_is_no_longer_found(telli: TelliClient) -> None:
    created = await telli.contacts.create(contact_params(1))
    await telli.contacts.delete(created.id)
    with pytest.raises(NotFoundError) as caught:
        await telli.contacts.get(created.id)
    assert caught.value.status_code == 404


async def test_a_duplicate_external_id_is_a_conflict(telli: TelliClient) -> None:
    await telli.contacts.create(contact_params(1))
    with pytest.raises(ConflictError):
        await telli.contacts.create(contact_params(2, external_id="crm-1"))


async def test_properties_are_set_and_an_unknown_property_key_is_unprocessable(telli: TelliClient) -> None:
    await telli.properties.create(PropertyCreate(key="plan", data_type=PropertyDataType.STRING, label="Plan"))
    created = await telli.contacts.create(contact_params(1, properties=[PropertyValueInput(key="plan", value="gold")]))
    assert [(p.key, p.value) for p in created.properties if p.key == "plan"] == [("plan", "gold")]
    with pytest.raises(UnprocessableEntityError):
        await telli.contacts.update(created.id, ContactUpdate(properties=[PropertyValueInput(key="nope", value="x")]))


async def test_listing_walks_several_pages_until_the_last(telli: TelliClient, sim: TelliSimulator) -> None:
    created = [await telli.contacts.create(contact_params(i)) for i in range(5)]
    first = await telli.contacts.list(limit=2)
    assert len(first.items) == 2
    assert first.next_cursor is not None
    listed = [contact.id async for contact in telli.contacts.iterate(page_size=2)]
    assert sorted(listed) == sorted(contact.id for contact in created)
    assert len(sim.requests_to("GET", "/v2/contacts")) == 1 + 3


@pytest.mark.parametrize("contact_id", ["", "not-a-uuid", "../v1/verify-api-key"])
async def test_an_invalid_contact_id_is_rejected_before_any_request(
    telli: TelliClient, sim: TelliSimulator, contact_id: str
) -> None:
    with pytest.raises(InputError) as caught:
        await telli.contacts.get(contact_id)
    assert caught.value.field == "contact_id"
    assert sim.request_log == []


@pytest.mark.parametrize("limit", [0, 101])
async def test_a_page_size_outside_1_to_100_is_rejected_before_any_request(
    telli: TelliClient, sim: TelliSimulator, limit: int
) -> None:
    with pytest.raises(InputError, match="1 to 100"):
        await telli.contacts.list(limit=limit)
    assert sim.request_log == []
