"""What reaches telli: optional fields without a value are left out, null is sent only where it clears something.

Every assertion reads the body the simulator received, so it checks the request on the wire, not a model.
"""

from __future__ import annotations

from typing import Any

import pytest
from client_helpers import berlin_number, contact_params
from pydantic import SecretStr, ValidationError

from telli_mcp.client import (
    ContactCreate,
    ContactUpdate,
    ContactV1Create,
    ContactV1Update,
    InitiateCall,
    PhoneNumberImport,
    PropertyCreate,
    PropertyDataType,
    PropertyOption,
    PropertyValueInput,
    ScheduleCall,
    TelliClient,
)
from telli_mcp.simulator import TEST_API_KEY, TelliSimulator

pytestmark = pytest.mark.anyio


@pytest.fixture
def agent_id(sim: TelliSimulator) -> str:
    return sim.account(TEST_API_KEY).add_agent("Sales", "de").id


def _body(sim: TelliSimulator, method: str, path: str) -> Any:
    """The body of the one request to `path` (a path ending in "/" also matches the ids below it)."""
    [request] = [r for r in sim.requests_to(method, path) if r.path == path or path.endswith("/")]
    return request.body


def _v1_contact(index: int) -> ContactV1Create:
    return ContactV1Create(
        external_contact_id=f"ext-{index}", first_name="Max", last_name="Muster", phone_number=berlin_number(index)
    )


async def test_a_v2_create_with_no_optional_values_sends_only_the_required_fields(
    telli: TelliClient, sim: TelliSimulator
) -> None:
    await telli.contacts.create(
        ContactCreate(first_name="Erika", last_name="Muster", phone_number="+12025550100", email=None, properties=None)
    )
    assert _body(sim, "POST", "/v2/contacts") == {
        "firstName": "Erika",
        "lastName": "Muster",
        "phoneNumber": "+12025550100",
    }


async def test_a_v2_replace_leaves_out_fields_without_a_value(telli: TelliClient, sim: TelliSimulator) -> None:
    created = await telli.contacts.create(contact_params(1, salutation="Frau"))
    await telli.contacts.replace(created.id, contact_params(2, external_id=None))
    assert _body(sim, "PUT", "/v2/contacts/") == {
        "firstName": "Erika",
        "lastName": "Muster2",
        "phoneNumber": berlin_number(2),
    }


async def test_a_v2_patch_with_none_values_sends_only_what_changes_and_leaves_the_rest(
    telli: TelliClient, sim: TelliSimulator
) -> None:
    created = await telli.contacts.create(contact_params(1, email="erika@example.com", timezone_iana="Europe/Berlin"))
    update = ContactUpdate(
        last_name="Neu", email=None, external_id=None, external_url=None, salutation=None, timezone_iana=None
    )
    updated = await telli.contacts.update(created.id, update)
    assert _body(sim, "PATCH", "/v2/contacts/") == {"lastName": "Neu"}
    assert (updated.email, updated.external_id, updated.timezone_iana) == (
        "erika@example.com",
        "crm-1",
        "Europe/Berlin",
    )


async def test_clearing_nullable_contact_fields_sends_each_as_null_and_empties_it(
    telli: TelliClient, sim: TelliSimulator
) -> None:
    created = await telli.contacts.create(
        contact_params(1, email="erika@example.com", salutation="Frau", external_url="https://crm.example.com/1")
    )
    cleared = await telli.contacts.update(
        created.id, ContactUpdate(first_name="Eri", clear=frozenset({"email", "external_url", "external_id"}))
    )
    assert _body(sim, "PATCH", "/v2/contacts/") == {
        "firstName": "Eri",
        "email": None,
        "externalId": None,
        "externalUrl": None,
    }
    assert (cleared.email, cleared.external_url, cleared.external_id, cleared.salutation) == (None, None, None, "Frau")


@pytest.mark.parametrize("field", ["email", "timezone_iana"])
def test_setting_and_clearing_a_contact_field_at_once_is_an_error_naming_the_field(field: str) -> None:
    value = "erika@example.com" if field == "email" else "Europe/Berlin"
    with pytest.raises(ValidationError, match=f"{field} is both set and cleared"):
        ContactUpdate.model_validate({field: value, "clear": [field]})


def test_only_the_nullable_contact_fields_can_be_cleared() -> None:
    with pytest.raises(ValidationError, match="clear"):
        ContactUpdate.model_validate({"clear": ["first_name"]})


async def test_a_property_value_of_none_is_sent_as_null_and_clears_the_property(
    telli: TelliClient, sim: TelliSimulator
) -> None:
    await telli.properties.create(PropertyCreate(key="plan", data_type=PropertyDataType.STRING, label="Plan"))
    created = await telli.contacts.create(contact_params(1, properties=[PropertyValueInput(key="plan", value="gold")]))
    updated = await telli.contacts.update(
        created.id, ContactUpdate(properties=[PropertyValueInput(key="plan", value=None)])
    )
    assert _body(sim, "PATCH", "/v2/contacts/") == {"properties": [{"key": "plan", "value": None}]}
    assert [p.key for p in updated.properties] == []


async def test_v1_contact_writes_never_send_null(telli: TelliClient, sim: TelliSimulator) -> None:
    contact_id = await telli.contacts_v1.create(_v1_contact(1))
    await telli.contacts_v1.add_batch([_v1_contact(2)])
    await telli.contacts_v1.update(ContactV1Update(contact_id=contact_id, first_name="Moritz", email=None))
    await telli.contacts_v1.update_batch([ContactV1Update(contact_id=contact_id, last_name="Neu", timezone=None)])
    required = {"first_name": "Max", "last_name": "Muster"}
    assert _body(sim, "POST", "/v1/add-contact") == {
        "external_contact_id": "ext-1",
        **required,
        "phone_number": berlin_number(1),
    }
    assert _body(sim, "POST", "/v1/add-contacts-batch") == {
        "contacts": [{"external_contact_id": "ext-2", **required, "phone_number": berlin_number(2)}]
    }
    assert _body(sim, "PATCH", "/v1/update-contact") == {"contact_id": contact_id, "first_name": "Moritz"}
    assert _body(sim, "PATCH", "/v1/update-contacts-batch") == {
        "contacts": [{"contact_id": contact_id, "last_name": "Neu"}]
    }


async def test_scheduling_without_retry_days_or_caller_id_leaves_both_out(
    telli: TelliClient, sim: TelliSimulator, agent_id: str
) -> None:
    first = await telli.contacts.create(contact_params(1))
    second = await telli.contacts.create(contact_params(2))
    await telli.calls.schedule(ScheduleCall(contact_id=first.id, agent_id=agent_id))
    await telli.calls.schedule_batch([ScheduleCall(contact_id=second.id, agent_id=agent_id, max_retry_days=None)])
    assert _body(sim, "POST", "/v1/schedule-call") == {"contact_id": first.id, "agent_id": agent_id}
    assert _body(sim, "POST", "/v1/schedule-calls-batch") == {
        "contacts": [{"contact_id": second.id, "agent_id": agent_id}]
    }


async def test_an_explicit_zero_retry_days_is_sent_as_zero(
    telli: TelliClient, sim: TelliSimulator, agent_id: str
) -> None:
    contact = await telli.contacts.create(contact_params(1))
    await telli.calls.schedule(ScheduleCall(contact_id=contact.id, agent_id=agent_id, max_retry_days=0))
    assert _body(sim, "POST", "/v1/schedule-call")["max_retry_days"] == 0


async def test_initiating_a_call_with_only_a_contact_sends_only_the_contact(
    telli: TelliClient, sim: TelliSimulator, agent_id: str
) -> None:
    contact = await telli.contacts.create(contact_params(1))
    await telli.calls.initiate(InitiateCall(contact_id=contact.id))
    assert _body(sim, "POST", "/v1/initiate-call") == {"contact_id": contact.id}


async def test_a_property_create_leaves_out_a_missing_description_also_inside_options(
    telli: TelliClient, sim: TelliSimulator
) -> None:
    await telli.properties.create(
        PropertyCreate(
            key="plan",
            data_type=PropertyDataType.SELECT,
            label="Plan",
            description=None,
            options=[PropertyOption(value="gold", label="Gold", description=None)],
        )
    )
    assert _body(sim, "POST", "/v2/properties/contacts") == {
        "key": "plan",
        "dataType": "select",
        "label": "Plan",
        "options": [{"value": "gold", "label": "Gold"}],
    }


async def test_a_sip_import_sends_the_password_itself_while_reprs_stay_masked(
    telli: TelliClient, sim: TelliSimulator
) -> None:
    params = PhoneNumberImport(
        phone_number="+12025550142",
        termination_uri="sip:trunk.example.com",
        auth_username="trunk-user",
        auth_password=SecretStr("sip-secret-42"),
    )
    imported = await telli.phone_numbers.import_sip(params)
    assert sim.account(TEST_API_KEY).phone_numbers[imported.id].auth_password == "sip-secret-42"
    assert "sip-secret-42" not in repr(params) + params.model_dump_json()
