"""Contact property definitions (v2) against the simulator."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from telli_mcp.client import (
    InputError,
    NotFoundError,
    PropertyCreate,
    PropertyDataType,
    PropertyOption,
    PropertySource,
    PropertyUpdate,
    TelliClient,
)
from telli_mcp.simulator import TelliSimulator

pytestmark = pytest.mark.anyio

PLAN = PropertyCreate(
    key="plan",
    data_type=PropertyDataType.SELECT,
    label="Plan",
    options=[PropertyOption(value="gold", label="Gold"), PropertyOption(value="silver", label="Silver")],
)


async def test_a_created_property_is_listed_and_readable_by_key(telli: TelliClient, sim: TelliSimulator) -> None:
    created = await telli.properties.create(PLAN)
    assert (created.key, created.data_type, created.source) == (
        "plan",
        PropertyDataType.SELECT,
        PropertySource.USER,
    )
    assert [request.status for request in sim.requests_to("POST", "/v2/properties/contacts")] == [201]
    assert await telli.properties.get("plan") == created
    assert "plan" in {definition.key for definition in (await telli.properties.list()).items}


async def test_the_list_includes_system_properties(telli: TelliClient) -> None:
    system = {d.key for d in (await telli.properties.list()).items if d.source is PropertySource.SYSTEM}
    assert {"firstName", "phoneNumber"} <= system


async def test_adding_options_keeps_the_existing_ones(telli: TelliClient, sim: TelliSimulator) -> None:
    await telli.properties.create(PLAN)
    updated = await telli.properties.update(
        "plan", PropertyUpdate(label="Tarif", add_options=[PropertyOption(value="bronze", label="Bronze")])
    )
    assert updated.label == "Tarif"
    assert [option.value for option in updated.options] == ["gold", "silver", "bronze"]
    [patch] = sim.requests_to("PATCH", "/v2/properties/contacts/plan")
    assert patch.body == {
        "label": "Tarif",
        "options": [
            {"value": "gold", "label": "Gold"},
            {"value": "silver", "label": "Silver"},
            {"value": "bronze", "label": "Bronze"},
        ],
    }


async def test_an_update_without_added_options_sends_no_options_and_reads_nothing_first(
    telli: TelliClient, sim: TelliSimulator
) -> None:
    await telli.properties.create(PLAN)
    await telli.properties.update("plan", PropertyUpdate(description="Customer plan"))
    assert sim.requests_to("GET", "/v2/properties/contacts") == []
    [patch] = sim.requests_to("PATCH", "/v2/properties/contacts/plan")
    assert patch.body == {"description": "Customer plan"}
    assert [option.value for option in (await telli.properties.get("plan")).options] == ["gold", "silver"]


@pytest.mark.parametrize("value", ["silver", "bronze"], ids=["existing", "repeated"])
async def test_adding_an_option_value_that_exists_is_rejected_naming_it_before_any_write(
    telli: TelliClient, sim: TelliSimulator, value: str
) -> None:
    await telli.properties.create(PLAN)
    added = [PropertyOption(value="bronze", label="Bronze"), PropertyOption(value=value, label="Again")]
    with pytest.raises(InputError) as caught:
        await telli.properties.update("plan", PropertyUpdate(add_options=added))
    assert caught.value.field == "add_options[1]"
    assert value in caught.value.reason
    assert sim.requests_to("PATCH", "/v2/properties/contacts") == []


async def test_adding_options_to_a_property_that_is_not_a_select_is_rejected_before_any_write(
    telli: TelliClient, sim: TelliSimulator
) -> None:
    await telli.properties.create(PropertyCreate(key="notes", data_type=PropertyDataType.STRING, label="Notes"))
    with pytest.raises(InputError) as caught:
        await telli.properties.update("notes", PropertyUpdate(add_options=[PropertyOption(value="x", label="X")]))
    assert caught.value.field == "add_options"
    assert "select" in caught.value.reason
    assert sim.requests_to("PATCH", "/v2/properties/contacts") == []


async def test_a_description_can_be_cleared_explicitly_and_none_leaves_it(
    telli: TelliClient, sim: TelliSimulator
) -> None:
    await telli.properties.create(PLAN.model_copy(update={"description": "Customer plan"}))
    kept = await telli.properties.update("plan", PropertyUpdate(label="Tarif", description=None))
    cleared = await telli.properties.update("plan", PropertyUpdate(clear_description=True))
    assert (kept.description, cleared.description) == ("Customer plan", None)
    assert [request.body for request in sim.requests_to("PATCH", "/v2/properties/contacts/plan")] == [
        {"label": "Tarif"},
        {"description": None},
    ]


def test_setting_and_clearing_the_description_at_once_is_an_error_naming_it() -> None:
    with pytest.raises(ValidationError, match="description is both set and cleared"):
        PropertyUpdate(description="New", clear_description=True)


async def test_an_unknown_property_is_not_found(telli: TelliClient) -> None:
    with pytest.raises(NotFoundError):
        await telli.properties.get("missing")


async def test_a_malformed_key_is_rejected_before_any_request(telli: TelliClient, sim: TelliSimulator) -> None:
    with pytest.raises(InputError) as caught:
        await telli.properties.get("../contacts")
    assert caught.value.field == "key"
    assert sim.request_log == []
