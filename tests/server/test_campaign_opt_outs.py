"""get_campaign shows opt-outs, through the real MCP client in both protocol eras: it counts the leads whose call
says they asked not to be called again, lists them first among the notable leads with their contact ids, and
proposes add_to_do_not_call with exactly the numbers not on the do-not-call list yet. Reading a status adds
nothing; once the user adds them, the proposal is not made again.

Calls end as scripted in the simulator (OPT_OUT: the agent outcome `do_not_call` is true); which leads opted out is
read from the simulator's records, never from the code under test.
"""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.types import TextResourceContents
from server_helpers import Answers, ServerFactory, connect, first_agent_id, ok

from telli_mcp.simulator import TEST_API_KEY, Account, ScriptedOutcome, TelliSimulator

pytestmark = pytest.mark.anyio

PROPOSAL = re.compile(r"add_to_do_not_call\((\[[^\]]*\])\)")
OWN_KEY = "wants_no_more_calls"
OUTCOMES: list[ScriptedOutcome] = ["COMPLETED", "OPT_OUT", "APPOINTMENT", "OPT_OUT", "NOT_REACHED", "OPT_OUT"]


def leads(count: int) -> list[dict[str, Any]]:
    return [{"phone_number": f"+4930555{n:05d}", "first_name": "Lead", "last_name": f"No{n}"} for n in range(count)]


@pytest.fixture
def make(make_server: ServerFactory, tmp_path: Path) -> ServerFactory:
    """Servers sharing one ledger, with the do-not-call tools."""

    def build(**overrides: Any) -> Any:
        return make_server(data_dir=str(tmp_path), toolsets=("default", "do_not_call"), **overrides)

    return build


async def start(client: Client, sim: TelliSimulator, outcomes: list[ScriptedOutcome]) -> tuple[str, dict[str, str]]:
    """A confirmed campaign whose lead n's call ends as outcomes[n], run until the dialer is done; its id and
    its contacts (id -> number)."""
    arguments = {"agent_id": await first_agent_id(client), "leads": leads(len(outcomes))}
    started = await ok(client, "start_campaign", arguments)
    account = sim.account(TEST_API_KEY)
    by_number = {contact.phone_number: contact.id for contact in account.live_contacts()}
    contacts = {by_number[lead["phone_number"]]: lead["phone_number"] for lead in leads(len(outcomes))}
    for contact_id, outcome in zip(contacts, outcomes, strict=True):
        account.script_outcomes(contact_id, [outcome])
    await sim.advance(timedelta(days=14))
    return started["campaign_id"], contacts


def opted_out_in_telli(account: Account, key: str = "do_not_call") -> set[str]:
    return {call.contact_id for call in account.calls.values() if call.call_outcome.get(key) is True}


def proposed(note: str) -> list[str]:
    [numbers] = PROPOSAL.findall(note)
    return list(json.loads(numbers))


async def test_get_campaign_counts_and_lists_opt_outs_and_proposes_only_the_numbers_not_listed(
    make: ServerFactory, sim: TelliSimulator, mode: str
) -> None:
    async with connect(make(), mode, Answers("accept")) as client:
        campaign_id, contacts = await start(client, sim, OUTCOMES)
        opted = opted_out_in_telli(sim.account(TEST_API_KEY))
        listed_first = sorted(contacts[contact_id] for contact_id in opted)[0]
        await ok(client, "add_to_do_not_call", {"phone_numbers": [listed_first]})
        status = await ok(client, "get_campaign", {"campaign_id": campaign_id})
        after_status = await ok(client, "list_do_not_call")
        added = await ok(client, "add_to_do_not_call", {"phone_numbers": proposed(status["note"])})
        again = await ok(client, "get_campaign", {"campaign_id": campaign_id})

    assert len(opted) == 3 and status["outcomes"]["opted_out"] == 3
    first = status["notable"][:3]
    assert [item["kind"] for item in first] == ["opted_out"] * 3
    assert {item["contact_id"] for item in first} == opted
    assert all(item["phone_number"] == contacts[item["contact_id"]] for item in first)
    assert all(item["kind"] != "opted_out" for item in status["notable"][3:])
    assert all(item.get("contact_id") in contacts for item in status["notable"])  # every notable lead has its id
    expected = [item["phone_number"] for item in first if item["phone_number"] != listed_first]
    assert proposed(status["note"]) == expected and "1 more is on the list already" in status["note"]
    # Reading the status added nothing; the user's own call added what it proposed.
    assert [entry["phone_number"] for entry in after_status["entries"]] == [listed_first]
    assert added["added_count"] == 2 and added["already_count"] == 0
    assert "add_to_do_not_call" not in again["note"] and "on the do-not-call list already" in again["note"]
    assert again["outcomes"]["opted_out"] == 3


async def test_a_campaign_without_opt_outs_says_nothing_about_them(
    make: ServerFactory, sim: TelliSimulator, mode: str
) -> None:
    async with connect(make(), mode, Answers("accept")) as client:
        campaign_id, _ = await start(client, sim, ["COMPLETED", "CALLBACK", "APPOINTMENT", "NOT_REACHED"] * 2)
        status = await ok(client, "get_campaign", {"campaign_id": campaign_id})

    assert opted_out_in_telli(sim.account(TEST_API_KEY)) == set()
    assert status["outcomes"]["opted_out"] == 0
    assert all(item["kind"] != "opted_out" for item in status["notable"])
    assert "Opted out" not in (status.get("note") or "") and "add_to_do_not_call" not in (status.get("note") or "")


async def test_the_account_s_own_opt_out_outcome_counts_in_a_campaign_only_when_configured(
    make: ServerFactory, sim: TelliSimulator, mode: str
) -> None:
    async with connect(make(), mode, Answers("accept")) as client:
        campaign_id, contacts = await start(client, sim, ["COMPLETED"] * 6)
    account = sim.account(TEST_API_KEY)
    yes, no, *_ = contacts
    for contact_id, value in ((yes, True), (no, False)):
        for call in account.calls_for(contact_id):
            outcome = {**call.call_outcome, OWN_KEY: value}
            account.calls[call.call_id] = dataclasses.replace(call, call_outcome=outcome)

    async with connect(make(), mode) as client:
        unconfigured = await ok(client, "get_campaign", {"campaign_id": campaign_id})
    async with connect(make(opt_out_key=OWN_KEY), mode) as client:
        configured = await ok(client, "get_campaign", {"campaign_id": campaign_id})
        document = await client.read_resource(f"telli://campaigns/{campaign_id}")

    assert opted_out_in_telli(account) == set() and opted_out_in_telli(account, OWN_KEY) == {yes}
    assert unconfigured["outcomes"]["opted_out"] == 0 and "add_to_do_not_call" not in (unconfigured.get("note") or "")
    assert configured["outcomes"]["opted_out"] == 1
    assert [(item["kind"], item["contact_id"]) for item in configured["notable"][:1]] == [("opted_out", yes)]
    assert proposed(configured["note"]) == [contacts[yes]]
    [contents] = document.contents
    assert isinstance(contents, TextResourceContents)
    body = json.loads(contents.text)
    assert body["outcomes"]["opted_out"] == 1 and body["opt_outs_not_listed"] == [contacts[yes]]


async def test_a_long_proposal_names_the_first_fifty_numbers_and_says_how_many_there_are(
    make: ServerFactory, sim: TelliSimulator, mode: str
) -> None:
    async with connect(make(), mode, Answers("accept")) as client:
        campaign_id, contacts = await start(client, sim, ["OPT_OUT"] * 53)
        status = await ok(client, "get_campaign", {"campaign_id": campaign_id, "limit": 50})
        rest = await ok(client, "get_campaign", {"campaign_id": campaign_id, "cursor": status["next_cursor"]})

    assert status["outcomes"]["opted_out"] == 53 == len(opted_out_in_telli(sim.account(TEST_API_KEY)))
    numbers = proposed(status["note"])
    assert len(numbers) == 50 and len(set(numbers)) == 50 and set(numbers) <= set(contacts.values())
    assert "(50 of 53; the rest are later opted_out leads)" in status["note"]
    later = {item["phone_number"] for item in rest["notable"] if item["kind"] == "opted_out"}
    assert later == set(contacts.values()) - set(numbers)
