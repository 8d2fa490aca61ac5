"""Campaign status shows opt-outs: the leads whose call says they asked not to be called again are counted, listed
first among the notable leads with their contact ids, and their numbers offered for the do-not-call list, except
those already on it. The status only proposes: the list is never changed by reading a status.

Calls end as scripted in the simulator (OPT_OUT: a COMPLETED call whose agent outcome `do_not_call` is true); the
expected opt-outs are read from the simulator's call records, never from the code under test. The account's own
opt-out outcome (TELLI_MCP_OPT_OUT_KEY) is an outcome the simulator's agents do not have, so a test writes it into
a finished call's record, as telli would report it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from telli_mcp.campaigns import CampaignEngine, CampaignRequest
from telli_mcp.campaigns.store import IN_MEMORY
from telli_mcp.client import key_fingerprint
from telli_mcp.do_not_call import DoNotCallList, TenantList
from telli_mcp.simulator import TEST_API_KEY, Account, ScriptedOutcome, TelliSimulator

from .conftest import BOTH_ENGINES, make_leads

pytestmark = pytest.mark.anyio
LEDGER_ENGINES = BOTH_ENGINES

OWN_KEY = "wants_no_more_calls"
OUTCOMES: list[ScriptedOutcome] = [
    "OPT_OUT",
    "APPOINTMENT",
    "OPT_OUT",
    "COMPLETED",
    "CALLBACK",
    "NOT_REACHED",
    "OPT_OUT",
    "COMPLETED",
]


@pytest.fixture
def dnc() -> Iterator[TenantList]:
    lists = DoNotCallList(IN_MEMORY)
    yield lists.for_tenant(key_fingerprint(TEST_API_KEY))
    lists.close()


async def run_scripted(
    engine: CampaignEngine, sim: TelliSimulator, account: Account, agent_id: str, outcomes: list[ScriptedOutcome]
) -> dict[str, str]:
    """Start one lead per outcome (row n ends as outcomes[n-1]) and let the dialer finish; contact id -> number."""
    request = CampaignRequest(agent_id=agent_id, leads=make_leads(len(outcomes)), campaign_id="spring")
    await engine.start(request)
    leads = engine.ledger.leads("spring")
    for lead, outcome in zip(leads, outcomes, strict=True):
        account.script_outcomes(lead.contact_id or "", [outcome])
    await sim.advance(timedelta(days=7))
    return {lead.contact_id or "": lead.e164 for lead in leads}


def opted_out_in_telli(account: Account) -> set[str]:
    """The contacts whose recorded call carries the simulator's opt-out outcome."""
    return {call.contact_id for call in account.calls.values() if call.call_outcome.get("do_not_call") is True}


def set_outcome(account: Account, contact_id: str, name: str, value: Any) -> None:
    """Give the contact's calls one more agent outcome (telli reports it as `{name: {"value": value}}`)."""
    for call in account.calls_for(contact_id):
        outcomes = {**call.call_outcome, name: value}
        account.calls[call.call_id] = dataclasses.replace(call, call_outcome=outcomes)


async def test_opted_out_leads_are_counted_listed_first_with_contact_ids_and_only_unlisted_numbers_proposed(
    engine: CampaignEngine, sim: TelliSimulator, account: Account, agent_id: str, dnc: TenantList
) -> None:
    numbers = await run_scripted(engine, sim, account, agent_id, OUTCOMES)
    opted = opted_out_in_telli(account)
    already = sorted(numbers[contact_id] for contact_id in opted)[0]
    dnc.add([already], reason="asked on an earlier call", source="tool")
    engine.dial_block = dnc

    status = await engine.status("spring", limit=20)

    assert len(opted) == 3
    assert status.outcomes.opted_out == 3
    first = status.notable[:3]
    assert [lead.kind for lead in first] == ["opted_out"] * 3
    assert {lead.contact_id for lead in first} == opted
    assert all(lead.phone_number == numbers[lead.contact_id or ""] for lead in first)
    assert all(lead.kind != "opted_out" for lead in status.notable[3:])
    assert [lead.row for lead in first] == sorted(lead.row for lead in first)
    assert status.opt_outs_not_listed == [lead.phone_number for lead in first if lead.phone_number != already]
    assert status.opt_outs_listed == 1
    assert [entry.phone_number for entry in dnc.entries()] == [already]  # proposed, never added


async def test_without_a_do_not_call_list_every_opted_out_number_is_proposed(
    engine: CampaignEngine, sim: TelliSimulator, account: Account, agent_id: str
) -> None:
    numbers = await run_scripted(engine, sim, account, agent_id, OUTCOMES)

    status = await engine.status("spring")

    expected = sorted(numbers[contact_id] for contact_id in opted_out_in_telli(account))
    assert sorted(status.opt_outs_not_listed) == expected and status.opt_outs_listed == 0


async def test_a_campaign_without_opt_outs_proposes_nothing(
    engine: CampaignEngine, sim: TelliSimulator, account: Account, agent_id: str
) -> None:
    await run_scripted(engine, sim, account, agent_id, ["COMPLETED", "CALLBACK", "APPOINTMENT", "NOT_REACHED"])

    status = await engine.status("spring")

    assert opted_out_in_telli(account) == set()
    assert (status.outcomes.opted_out, status.opt_outs_not_listed, status.opt_outs_listed) == (0, [], 0)
    assert all(lead.kind != "opted_out" for lead in status.notable)


async def test_the_account_s_own_opt_out_outcome_counts_only_when_configured_and_only_when_true(
    engine: CampaignEngine, sim: TelliSimulator, account: Account, agent_id: str
) -> None:
    numbers = await run_scripted(engine, sim, account, agent_id, ["COMPLETED"] * 6)
    said_yes, spelled, said_no, said_nothing, not_asked, _ = numbers
    set_outcome(account, said_yes, OWN_KEY, True)
    set_outcome(account, spelled, "Wants_No_More_Calls", "yes")
    set_outcome(account, said_no, OWN_KEY, False)
    set_outcome(account, said_nothing, OWN_KEY, "")
    set_outcome(account, not_asked, OWN_KEY, None)

    without = await engine.status("spring")
    engine.opt_out_key = "Wants no-more calls"  # as a label shows it: case, spaces and hyphens do not matter
    engine.contact_cache.clear()
    configured = await engine.status("spring")

    assert opted_out_in_telli(account) == set()  # no built-in name says so, and the summaries do not
    assert without.outcomes.opted_out == 0 and without.opt_outs_not_listed == []
    assert configured.outcomes.opted_out == 2
    opted = [lead for lead in configured.notable if lead.kind == "opted_out"]
    assert {lead.contact_id for lead in opted} == {said_yes, spelled}
    assert sorted(configured.opt_outs_not_listed) == sorted([numbers[said_yes], numbers[spelled]])
    assert {lead.detail for lead in opted} == {OWN_KEY, "wants_no_more_calls: yes"}
