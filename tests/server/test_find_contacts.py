"""find_contacts through the real MCP client: one call finds contacts by name, number, properties, dialer state and
dates, with the total, from an index it syncs with the fewest telli requests and keeps current."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from server_helpers import Answers, ServerFactory, connect, fails, ok

from telli_mcp.backend import Backend, open_backend
from telli_mcp.client import InitiateCall, ScheduleCall, TelliClient
from telli_mcp.config import Settings
from telli_mcp.contact_index import minimum_requests
from telli_mcp.sandbox import DEMO_API_KEY
from telli_mcp.server import build_server
from telli_mcp.simulator import TEST_API_KEY, TelliSimulator
from telli_mcp.simulator.contacts import ContactChanges, create_contact
from telli_mcp.simulator.records import Contact

pytestmark = pytest.mark.anyio

JANE = "crm-1002"  # the demo account's Jane Doe, +1 212 555 0101


@pytest.fixture
def search(make_server: ServerFactory) -> ServerFactory:
    def make(**overrides: Any) -> Any:
        return make_server(toolsets=("default", "search"), **overrides)

    return make


def _live(sim: TelliSimulator, key: str = TEST_API_KEY) -> list[Contact]:
    return sim.account(key).live_contacts()


def _telli_reads(sim: TelliSimulator) -> int:
    """The requests a sync makes: list-contacts pages and get-contacts-batch reads."""
    pages = [entry for entry in sim.request_log if (entry.method, entry.path) == ("GET", "/v2/contacts")]
    return len(pages) + len(sim.requests_to("POST", "/v1/get-contacts-batch"))


async def _all_ids(client: Client, args: dict[str, Any]) -> tuple[list[str], set[int]]:
    """Every page of a search: the ids in order and the totals the pages reported."""
    ids: list[str] = []
    totals: set[int] = set()
    cursor = None
    while True:
        page = await ok(client, "find_contacts", {**args, **({"cursor": cursor} if cursor else {})})
        ids += [contact["contact_id"] for contact in page["contacts"]]
        totals.add(page["total"])
        cursor = page["next_cursor"]
        if cursor is None:
            return ids, totals


@pytest.mark.parametrize("typed", ["jane", "doe jane", "Jáne", "Jnae Doe"])
async def test_jane_doe_is_found_however_her_name_is_typed(search: ServerFactory, mode: str, typed: str) -> None:
    async with connect(search(), mode) as client:
        found = await ok(client, "find_contacts", {"name": typed})

    assert found["contacts"][0]["external_id"] == JANE
    assert found["contacts"][0]["name"] == "Jane Doe"
    assert ("typo" in (found.get("note") or "")) == (typed == "Jnae Doe")


async def test_the_first_search_syncs_with_the_fewest_requests_and_the_next_reads_nothing(
    search: ServerFactory, sim: TelliSimulator, mode: str
) -> None:
    for n in range(1234):
        changes = ContactChanges(first_name=f"Lead{n}", last_name="Bulk", phone_number=f"+4930555{n:05d}")
        create_contact(sim.account(TEST_API_KEY), changes)
    count = len(_live(sim))
    async with connect(search(), mode) as client:
        first = await ok(client, "find_contacts", {"limit": 1})
        reads = _telli_reads(sim)
        second = await ok(client, "find_contacts", {"name": "lead7"})
        after_second = _telli_reads(sim)
        refreshed = await ok(client, "find_contacts", {"limit": 1, "refresh": True})

    assert first["synced"] == {
        "requests": minimum_requests(count),
        "contacts_read": count,
        "complete": True,
        "removed": 0,
    }
    assert reads == minimum_requests(count)
    assert (first["total"], first["complete"], "synced" in second, after_second) == (count, True, False, reads)
    assert second["contacts"][0]["name"] == "Lead7 Bulk" and second["total"] == 111  # Lead7, Lead70-79, Lead700-799
    assert refreshed["synced"]["requests"] == minimum_requests(count) == _telli_reads(sim) - reads


@pytest.mark.parametrize("typed", ["+1 212-555-0101", "001 212 555 0101", "(212) 555-0101", "+12125550101"])
async def test_a_phone_number_in_any_format_finds_its_contact(search: ServerFactory, mode: str, typed: str) -> None:
    async with connect(search(), mode) as client:
        found = await ok(client, "find_contacts", {"phone": typed})

    assert [contact["external_id"] for contact in found["contacts"]] == [JANE]


async def test_bad_arguments_are_refused_by_name_before_telli_is_asked(
    search: ServerFactory, sim: TelliSimulator, mode: str
) -> None:
    async with connect(search(), mode) as client:
        phone = await fails(client, "find_contacts", {"phone": "call me maybe"})
        name = await fails(client, "find_contacts", {"name": "!!!"})
        state = await fails(client, "find_contacts", {"dialer_state": ["busy"]})
        dates = await fails(
            client,
            "find_contacts",
            {"created_after": "2026-03-02T00:00:00Z", "created_before": "2026-03-01T00:00:00Z"},
        )
        naive = await fails(client, "find_contacts", {"reached_before": "2026-03-02T00:00:00"})

    assert "phone" in phone and "not a phone number" in phone
    assert "name" in name and "no letters or digits" in name
    assert "dialer_state" in state
    assert "created_after must be earlier than created_before" in dates
    assert "reached_before" in naive and "offset" in naive
    assert sim.request_log == []


async def test_property_filters_match_what_telli_holds(search: ServerFactory, sim: TelliSimulator, mode: str) -> None:
    contacts = _live(sim)

    def having(match: Any) -> set[str]:
        return {contact.id for contact in contacts if match(contact.custom)}

    async with connect(search(), mode) as client:
        gold, _ = await _all_ids(client, {"property_equals": {"plan": "gold"}})
        gold_or_silver, _ = await _all_ids(client, {"property_in": {"plan": ["gold", "silver"]}})
        no_plan, _ = await _all_ids(client, {"property_empty": ["plan"]})
        budget, _ = await _all_ids(client, {"property_equals": {"budget_eur": 12000}})
        interests, _ = await _all_ids(client, {"property_equals": {"interests": "analytics"}})

    assert set(gold) == having(lambda custom: custom.get("plan") == "gold") != set()
    assert set(gold_or_silver) == having(lambda custom: custom.get("plan") in ("gold", "silver"))
    assert set(no_plan) == having(lambda custom: not custom.get("plan")) != set()
    assert set(budget) == having(lambda custom: custom.get("budget_eur") == 12000) != set()
    assert set(interests) == having(lambda custom: "analytics" in (custom.get("interests") or [])) != set()


async def test_dialer_states_including_a_live_call_match_telli(
    search: ServerFactory, sim: TelliSimulator, mode: str
) -> None:
    account = sim.account(TEST_API_KEY)
    agent = next(iter(account.agents))
    new = [contact.id for contact in _live(sim) if contact.status.value == "new"]
    async with TelliClient(TEST_API_KEY, transport=sim.transport()) as telli:
        await telli.calls.initiate(InitiateCall(contact_id=new[0], agent_id=agent))
        await telli.calls.schedule(ScheduleCall(contact_id=new[1], agent_id=agent))
    expected: dict[str, set[str]] = {}
    for contact in _live(sim):
        state = "in_call" if contact.in_call_since is not None else contact.status.value
        expected.setdefault(state, set()).add(contact.id)

    async with connect(search(), mode) as client:
        found = {state: set((await _all_ids(client, {"dialer_state": [state]}))[0]) for state in expected}
        either, _ = await _all_ids(client, {"dialer_state": ["pending", "in_call"]})

    assert found == expected and expected["in_call"] == {new[0]} and new[1] in expected["pending"]
    assert set(either) == expected["pending"] | expected["in_call"]


async def test_reached_and_created_ranges_match_telli(search: ServerFactory, sim: TelliSimulator, mode: str) -> None:
    contacts = _live(sim)
    reached = sorted(contact.reached_at for contact in contacts if contact.reached_at is not None)
    created = sorted(contact.created_at for contact in contacts)
    middle_reach, middle_creation = reached[len(reached) // 2], created[len(created) // 2]

    async with connect(search(), mode) as client:
        reached_since, _ = await _all_ids(client, {"reached_after": middle_reach.isoformat()})
        not_reached_since, _ = await _all_ids(client, {"reached_before": middle_reach.isoformat()})
        created_before, _ = await _all_ids(client, {"created_before": middle_creation.isoformat()})

    assert set(reached_since) == {c.id for c in contacts if c.reached_at is not None and c.reached_at >= middle_reach}
    assert set(not_reached_since) == {c.id for c in contacts if c.reached_at is None or c.reached_at < middle_reach}
    assert set(created_before) == {c.id for c in contacts if c.created_at < middle_creation}
    assert set(reached_since) and set(created_before)


async def test_paging_keeps_the_total_and_covers_every_match_once_and_a_cursor_serves_only_its_search(
    search: ServerFactory, sim: TelliSimulator, mode: str
) -> None:
    async with connect(search(), mode) as client:
        ids, totals = await _all_ids(client, {"limit": 3})
        page = await ok(client, "find_contacts", {"limit": 3})
        replayed = await fails(client, "find_contacts", {"limit": 3, "name": "jane", "cursor": page["next_cursor"]})
        forged = await fails(client, "find_contacts", {"cursor": "not-a-cursor"})

    assert totals == {len(_live(sim))}
    assert sorted(ids) == sorted(contact.id for contact in _live(sim))
    assert "cursor" in replayed and "same filters" in replayed
    assert "cursor" in forged


async def test_a_contact_deleted_in_telli_disappears_after_a_refresh(
    search: ServerFactory, sim: TelliSimulator, mode: str
) -> None:
    async with connect(search(), mode) as client:
        before = await ok(client, "find_contacts", {"name": "jane doe"})
        async with TelliClient(TEST_API_KEY, transport=sim.transport()) as telli:
            await telli.contacts.delete(before["contacts"][0]["contact_id"])
        stale = await ok(client, "find_contacts", {"name": "jane doe"})
        refreshed = await ok(client, "find_contacts", {"name": "jane doe", "refresh": True})

    assert stale["total"] == 1  # the index as of its last sync
    assert (refreshed["total"], refreshed["synced"]["removed"]) == (0, 1)


async def test_contacts_created_updated_and_deleted_through_the_tools_show_without_a_refresh(
    search: ServerFactory, sim: TelliSimulator, mode: str
) -> None:
    async with connect(search(), mode, Answers("accept")) as client:
        await ok(client, "find_contacts", {"limit": 1})
        reads = _telli_reads(sim)
        created = await ok(
            client, "create_contact", {"first_name": "Zoë", "last_name": "Quinn", "phone_number": "+4930555077"}
        )
        new = await ok(client, "find_contacts", {"name": "zoe quinn"})
        await ok(client, "update_contact", {"contact_id": created["contact_id"], "last_name": "Quist"})
        renamed = await ok(client, "find_contacts", {"name": "zoe quist"})
        await ok(client, "delete_contact", {"contact_id": created["contact_id"]})
        deleted = await ok(client, "find_contacts", {"name": "zoe quist"})

    assert [(c["contact_id"], c["dialer_state"]) for c in new["contacts"]] == [(created["contact_id"], "new")]
    assert [c["contact_id"] for c in renamed["contacts"]] == [created["contact_id"]]
    assert deleted["total"] == 0
    assert _telli_reads(sim) == reads  # no sync


async def test_two_tenants_sharing_one_index_file_never_see_each_others_contacts(tmp_path: Path, mode: str) -> None:
    sim = TelliSimulator(api_keys=("sim-key-a", "sim-key-b"))
    for key, first in (("sim-key-a", "Alice"), ("sim-key-b", "Bob")):
        create_contact(sim.account(key), ContactChanges(first_name=first, last_name="Doe", phone_number="+4930555010"))
    found: dict[str, list[str]] = {}
    for key in ("sim-key-a", "sim-key-b"):
        settings = Settings(api_key=key, toolsets=("default", "search"), data_dir=str(tmp_path))
        async with connect(build_server(Backend.simulated(settings, sim)), mode) as client:
            page = await ok(client, "find_contacts", {"name": "doe"})
            found[key] = [contact["name"] for contact in page["contacts"]]

    assert found == {"sim-key-a": ["Alice Doe"], "sim-key-b": ["Bob Doe"]}
    assert (tmp_path / "contacts.sqlite3").is_file()


async def test_in_the_sandbox_a_call_that_ends_shows_without_a_refresh(mode: str) -> None:
    backend = open_backend(Settings(sandbox=True), sandbox_speed=0)
    assert backend.sandbox is not None
    async with connect(build_server(backend), mode) as client:
        tools = {tool.name for tool in (await client.list_tools()).tools}
        before = await ok(client, "find_contacts", {"dialer_state": ["reached"]})
        sim = backend.sandbox.simulator
        account = sim.account(DEMO_API_KEY)
        anna = next(contact for contact in account.live_contacts() if contact.first_name == "Anna")
        account.script_outcomes(anna.id, ["COMPLETED"])
        async with TelliClient(DEMO_API_KEY, transport=sim.transport()) as telli:
            await telli.calls.initiate(InitiateCall(contact_id=anna.id, agent_id=next(iter(account.agents))))
        reads = _telli_reads(sim)
        await backend.sandbox.advance(minutes=10)
        after = await ok(client, "find_contacts", {"dialer_state": ["reached"]})

    reached = {contact.id for contact in account.live_contacts() if contact.status.value == "reached"}
    assert "find_contacts" in tools
    assert anna.id not in {contact["contact_id"] for contact in before["contacts"]}
    assert {contact["contact_id"] for contact in after["contacts"]} == reached
    [shown] = [contact for contact in after["contacts"] if contact["contact_id"] == anna.id]
    assert shown["last_called_at"] == anna.reached_at.isoformat().replace("+00:00", "Z")  # type: ignore[union-attr]
    assert _telli_reads(sim) == reads


async def test_an_old_index_says_its_age_and_how_to_refresh_it(
    search: ServerFactory, sim: TelliSimulator, mode: str
) -> None:
    async with connect(search(), mode) as client:
        fresh = await ok(client, "find_contacts", {"limit": 1})
        await sim.advance(timedelta(hours=3))
        old = await ok(client, "find_contacts", {"limit": 1})

    assert (fresh["index_age"], fresh.get("note")) == ("0 s", None)
    assert old["index_as_of"] == fresh["index_as_of"] and old["index_age"] == "3 h"
    assert "3 h old" in old["note"] and "refresh=true" in old["note"]
