"""Adding select options keeps the existing ones; list tools say which rows telli sent but could not be read;
scheduling leaves the retry days to the account unless the user set them."""

from __future__ import annotations

from typing import Any

import pytest
from server_helpers import ServerFactory, connect, contact_id_of, fails, first_agent_id, ok

from telli_mcp.simulator import BodyEdit, Fault, TelliSimulator

pytestmark = pytest.mark.anyio

PLAN_PATH = "/v2/properties/contacts/plan"


async def test_adding_options_keeps_every_existing_option(make_server: ServerFactory, sim: TelliSimulator) -> None:
    async with connect(make_server(), "auto") as client:
        before = next(p for p in (await ok(client, "list_contact_properties"))["properties"] if p["key"] == "plan")
        updated = await ok(client, "update_contact_property", {"key": "plan", "add_options": ["platinum"]})
    assert updated["options"] == [*before["options"], "platinum"]
    [patch] = sim.requests_to("PATCH", PLAN_PATH)
    assert [option["value"] for option in patch.body["options"]] == updated["options"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param({"key": "plan", "add_options": ["diamond", "gold"]}, "add_options[1]", id="existing-value"),
        pytest.param({"key": "lead_source", "add_options": ["web"]}, "add_options", id="not-a-select"),
        pytest.param({"key": "plan"}, "Nothing to update", id="nothing"),
    ],
)
async def test_an_impossible_option_change_is_refused_before_any_write(
    make_server: ServerFactory, sim: TelliSimulator, args: dict[str, Any], expected: str
) -> None:
    async with connect(make_server(), "auto") as client:
        error = await fails(client, "update_contact_property", args)
    assert expected in error
    assert sim.requests_to("PATCH", "/v2/properties/contacts") == []


LISTS = [
    pytest.param(
        "list_calls", "/v1/list-calls", BodyEdit("calls.0.attempt", value="x"), "calls", "call_id", id="calls"
    ),
    pytest.param(
        "list_contacts",
        "/v2/contacts",
        BodyEdit("data.0.createdAt", value="x"),
        "contacts",
        "contact_id",
        id="contacts",
    ),
    pytest.param(
        "list_contacts",
        "/v2/contacts",
        BodyEdit("data.0.phoneNumber", value=None),
        "contacts",
        "contact_id",
        id="contact-without-phone",
    ),
    pytest.param(
        "list_agents", "/v2/agents", BodyEdit("data.0.createdAt", value="x"), "agents", "agent_id", id="agents"
    ),
    pytest.param(
        "list_contact_properties",
        "/v2/properties/contacts",
        BodyEdit("data.0.dataType", value=None),
        "properties",
        "key",
        id="properties",
    ),
    pytest.param(
        "list_phone_numbers",
        "/v1/phone-numbers",
        BodyEdit("data.0.phoneNumber", value=None),
        "phone_numbers",
        "phone_number_id",
        id="phone-numbers",
    ),
]


@pytest.mark.parametrize(("tool", "path", "edit", "rows", "id_field"), LISTS)
async def test_a_list_tool_names_the_rows_it_could_not_read_and_shows_the_rest(
    make_server: ServerFactory, sim: TelliSimulator, tool: str, path: str, edit: BodyEdit, rows: str, id_field: str
) -> None:
    async with connect(make_server(), "auto") as client:
        intact = await ok(client, tool)
        sim.inject(Fault(kind="reshape", method="GET", path=path, edits=(edit,)))
        partial = await ok(client, tool)
    skipped = intact[rows][0][id_field]
    assert [row[id_field] for row in partial[rows]] == [row[id_field] for row in intact[rows][1:]]
    assert "could not be read" in partial["note"] and skipped in partial["note"]
    assert intact.get("note") is None


async def test_scheduling_without_retry_days_leaves_them_to_the_account(
    make_server: ServerFactory, sim: TelliSimulator
) -> None:
    async with connect(make_server(confirm="off"), "auto") as client:
        contact_id = await contact_id_of(client, "crm-123")
        await ok(client, "schedule_calls", {"contact_ids": [contact_id], "agent_id": await first_agent_id(client)})
    [request] = sim.requests_to("POST", "/v1/schedule-calls-batch")
    assert [sorted(item) for item in request.body["contacts"]] == [["agent_id", "contact_id"]]


async def test_a_property_whose_definition_cannot_be_read_is_not_written_unchecked(
    make_server: ServerFactory, sim: TelliSimulator
) -> None:
    sim.inject(
        Fault(kind="reshape", method="GET", path="/v2/properties/contacts", edits=(BodyEdit("data.*.dataType"),))
    )
    async with connect(make_server(), "auto") as client:
        args = {
            "first_name": "Ida",
            "last_name": "Roth",
            "phone_number": "+4930901820" + "43",
            "properties": {"plan": "gold"},
        }
        error = await fails(client, "create_contact", args)
    assert "'plan' could not be read" in error and "Nothing was sent" in error
    assert sim.requests_to("POST", "/v2/contacts") == []
