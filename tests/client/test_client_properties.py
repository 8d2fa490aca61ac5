"""Contact property definitions (v2) against the simulator."""

from __future__ import annotations

import pytest

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


async def test_a_created_property_is_listed_and_readable_by_key(
    telli: TelliClient, sim: TelliSimulator
) -> None:
    created = await telli.properties.create(PLAN)
    assert (created.key, created.data_type, created.source) == (
        "plan",
        PropertyDataType.SELECT,
        PropertySource.USER,
    )
    assert [request.status for request in sim.requests_to("POST", "/v2/properties/contacts")] == [201]
    assert await telli.properties.get("plan") == created
    assert "plan" in {definition.key for definition in await telli.properties.list()}


async def test_the_list_includes_system_properties(telli: TelliClient) -> None:
    system = {d.key for d in await telli.properties.list() if d.source is PropertySource.SYSTEM}
    assert {"firstName", "phoneNumber"} <= system


async def test_updating_options_replaces_the_whole_list(telli: TelliClient) -> None:
    await telli.properties.create(PLAN)
    updated = await telli.properties.update(
        "plan", PropertyUpdate(label="Tarif", options=[PropertyOption(value="bronze", label="Bronze")])
    )
    assert updated.label == "Tarif"
    assert [option.value for option in updated.options] == ["bronze"]


async def test_an_unknown_property_is_not_found(telli: TelliClient) -> None:
    with pytest.raises(NotFoundError):
        await telli.properties.get("missing")


async def test_a_malformed_key_is_rejected_before_any_request(
    telli: TelliClient, sim: TelliSimulator
) -> None:
    with pytest.raises(InputError) as caught:
        await telli.properties.get("../contacts")
    assert caught.value.field == "key"
    assert sim.request_log == []
