"""Contact tools through the real MCP client, both protocol eras, against the simulator."""

from __future__ import annotations

import pytest
from server_helpers import ServerFactory, connect, contact_id_of, fails, ok, writes

from telli_mcp.simulator import TelliSimulator

pytestmark = pytest.mark.anyio


async def test_created_contact_can_be_read_back_with_its_dialer_state(make_server: ServerFactory, mode: str) -> None:
    async with connect(make_server(), mode) as client:
        created = await ok(
            client,
            "create_contact",
            {
                "first_name": "Lena",
                "last_name": "Vogel",
                "phone_number": "+49 30 901820 55",
                "external_id": "crm-lena",
                "timezone": "Europe/Berlin",
                "properties": {"plan": "gold"},
            },
        )
        fetched = await ok(client, "get_contact", {"external_id": "crm-lena"})
    assert created["phone_number"] == "+4930901820" + "55"
    assert fetched["contact_id"] == created["contact_id"]
    assert fetched["properties"]["plan"] == "gold"
    assert fetched["dialer_status"] == "new"
    assert fetched["call_attempts"] == 0


async def test_invalid_phone_number_is_rejected_naming_the_field_and_nothing_is_sent(
    make_server: ServerFactory, sim: TelliSimulator, mode: str
) -> None:
    async with connect(make_server(), mode) as client:
        error = await fails(client, "create_contact", {"first_name": "A", "last_name": "B", "phone_number": "12345"})
    assert "phone_number" in error and "E.164" in error
    assert writes(sim) == []


async def test_unknown_property_key_is_refused_before_any_write_with_the_valid_keys(
    make_server: ServerFactory, sim: TelliSimulator, mode: str
) -> None:
    async with connect(make_server(), mode) as client:
        error = await fails(
            client,
            "create_contact",
            {
                "first_name": "A",
                "last_name": "B",
                "phone_number": "+15550100123",
                "properties": {"shoe_size": 42},
            },
        )
    assert "shoe_size" in error and "lead_source" in error
    assert writes(sim) == []


async def test_select_value_outside_the_options_is_refused_with_the_allowed_values(
    make_server: ServerFactory, sim: TelliSimulator, mode: str
) -> None:
    async with connect(make_server(), mode) as client:
        contact_id = await contact_id_of(client, "crm-123")
        error = await fails(client, "update_contact", {"contact_id": contact_id, "properties": {"plan": "platinum"}})
    assert "plan" in error and "gold" in error
    assert writes(sim) == []


async def test_update_merges_fields_and_null_clears_a_property(make_server: ServerFactory, mode: str) -> None:
    async with connect(make_server(), mode) as client:
        contact_id = await contact_id_of(client, "crm-123")
        await ok(client, "update_contact", {"contact_id": contact_id, "properties": {"lead_source": "fair"}})
        before = await ok(client, "get_contact", {"contact_id": contact_id})
        await ok(
            client,
            "update_contact",
            {
                "contact_id": contact_id,
                "first_name": "Maximilian",
                "properties": {"lead_source": None},
            },
        )
        after = await ok(client, "get_contact", {"contact_id": contact_id})
    assert before["properties"]["lead_source"] == "fair"
    assert after["first_name"] == "Maximilian"
    assert after["last_name"] == before["last_name"] and after["phone_number"] == before["phone_number"]
    assert after["properties"].get("lead_source") is None
    assert {k: v for k, v in after["properties"].items() if k != "lead_source"} == {
        k: v for k, v in before["properties"].items() if k != "lead_source"
    }


async def test_list_contacts_pages_with_a_cursor_until_the_end(make_server: ServerFactory, mode: str) -> None:
    seen: list[str] = []
    cursor = None
    async with connect(make_server(), mode) as client:
        for _ in range(20):
            page = await ok(client, "list_contacts", {"limit": 3, **({"cursor": cursor} if cursor else {})})
            seen += [c["contact_id"] for c in page["contacts"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
    assert cursor is None
    assert len(seen) == len(set(seen)) >= 8


async def test_get_contact_needs_exactly_one_identifier(make_server: ServerFactory, mode: str) -> None:
    async with connect(make_server(), mode) as client:
        error = await fails(client, "get_contact", {})
    assert "exactly one of contact_id or external_id" in error


async def test_missing_contact_is_a_readable_not_found_error(make_server: ServerFactory, mode: str) -> None:
    async with connect(make_server(), mode) as client:
        error = await fails(client, "get_contact", {"contact_id": "3c90c3cc-0d44-4b50-8888-8dd25736052a"})
    assert "Not found (404)" in error


async def test_malformed_contact_id_is_rejected_before_any_request(
    make_server: ServerFactory, sim: TelliSimulator, mode: str
) -> None:
    async with connect(make_server(), mode) as client:
        sim.request_log.clear()
        error = await fails(client, "get_contact", {"contact_id": "../v2/agents"})
    assert "contact_id" in error and "UUID" in error
    assert sim.request_log == []


async def test_a_new_contact_without_timezone_gets_its_numbers_only_zone_and_is_told_so(
    make_server: ServerFactory, sim: TelliSimulator, mode: str
) -> None:
    async with connect(make_server(), mode) as client:
        inferred = await ok(
            client, "create_contact", {"first_name": "Ava", "last_name": "Reyes", "phone_number": "+1 212 555 0142"}
        )
        given = await ok(
            client,
            "create_contact",
            {"first_name": "Bo", "last_name": "Lind", "timezone": "Asia/Tokyo", "phone_number": "+1 212 555 0143"},
        )
        unsure = await ok(
            client, "create_contact", {"first_name": "Cy", "last_name": "Park", "phone_number": "+1 800 555 0123"}
        )
    sent = [entry.body.get("timezoneIana") for entry in sim.request_log if entry.path == "/v2/contacts"]
    assert sent == ["America/New_York", "Asia/Tokyo", None]
    assert inferred["timezone"] == "America/New_York"
    assert inferred["timezone_note"] == "timezone set to America/New_York, inferred from the phone number"
    assert "timezone_note" not in given
    assert unsure["timezone_note"].startswith(
        "timezone not set, so telli uses Europe/Berlin (the account's default: the number could be in"
    )


async def test_a_changed_number_brings_its_zone_and_an_unchanged_one_keeps_the_stored_zone(
    make_server: ServerFactory, mode: str
) -> None:
    async with connect(make_server(), mode) as client:
        contact_id = await contact_id_of(client, "crm-1007")  # +1 212 number, deliberately Los Angeles
        same = await ok(client, "update_contact", {"contact_id": contact_id, "phone_number": "+12125550103"})
        moved = await ok(client, "update_contact", {"contact_id": contact_id, "phone_number": "+4930555010" + "8"})
        unsure = await ok(client, "update_contact", {"contact_id": contact_id, "phone_number": "+18005550124"})
    assert same["timezone"] == "America/Los_Angeles" and "timezone_note" not in same
    assert moved["timezone"] == "Europe/Berlin" and "inferred from the phone number" in moved["timezone_note"]
    assert unsure["timezone"] == "Europe/Berlin"
    assert unsure["timezone_note"].startswith("timezone kept at Europe/Berlin: the number could be in")
