"""Calling people in their own daytime: time zones are sent when the number pins one down, and the plan says
which leads fall back to the account's clock."""

from __future__ import annotations

import json
from datetime import time, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import JsonValue

from telli_mcp.campaigns import CampaignEngine, CampaignRequest, CampaignState, Ledger
from telli_mcp.campaigns.ledger import LedgerLocation
from telli_mcp.client import TelliClient
from telli_mcp.simulator import Account, TelliSimulator

from .conftest import ADD_PATH, make_leads

pytestmark = pytest.mark.anyio

NEW_YORK = ZoneInfo("America/New_York")


def lead(first_name: str, phone: str, **extra: JsonValue) -> dict[str, JsonValue]:
    return {"first_name": first_name, "last_name": "Test", "phone": phone, **extra}


MIXED = [
    lead("Ada", "+49 30 555 0101"),
    lead("Bo", "+1 212 555 0102", timezone="America/Chicago"),
    lead("Cy", "+1 800 555 0103"),
    lead("Di", "+1 212 555 0104"),
    lead("Ed", "+1 800 555 0105"),
]
"""Berlin (inferred), a column value, a toll-free number (no single zone), New York (inferred), toll-free."""


async def test_a_us_lead_without_a_timezone_is_created_in_new_york_and_called_in_new_yorks_window(
    engine: CampaignEngine, sim: TelliSimulator, account: Account, agent_id: str
) -> None:
    # The simulator starts on Monday 08:00 UTC: 09:00 in Berlin (the account's zone), 03:00 in New York.
    result = await engine.start(CampaignRequest(agent_id=agent_id, leads=[lead("Nia", "+1 212 555 0142")]))
    sent = [item for entry in sim.requests_to("POST", ADD_PATH) for item in entry.body["contacts"]]
    contact = account.contact_by_external_id(sent[0]["external_contact_id"])
    assert contact is not None
    planned = contact.next_call_at

    await sim.advance(timedelta(days=1))

    assert result.status is CampaignState.COMPLETED
    assert sent[0]["timezone"] == "America/New_York"
    assert contact.timezone == "America/New_York"
    assert planned is not None and planned.astimezone(NEW_YORK).time() == time(8)
    first_call = min(call.triggered_at for call in account.calls.values() if call.contact_id == contact.id)
    assert time(8) <= first_call.astimezone(NEW_YORK).time() < time(20)


async def test_the_dry_run_reports_where_each_zone_comes_from_and_warns_about_defaults(
    engine: CampaignEngine, sim: TelliSimulator, agent_id: str
) -> None:
    plan = await engine.plan(CampaignRequest(agent_id=agent_id, leads=MIXED))

    assert {entry.method for entry in sim.request_log} == {"GET"}
    assert plan.timezones.by_source == {"column": 1, "inferred": 2, "account_default": 2}
    assert plan.timezones.by_zone == {"Europe/Berlin": 3, "America/Chicago": 1, "America/New_York": 1}
    assert [(row.timezone, row.timezone_source) for row in plan.sample] == [
        ("Europe/Berlin", "inferred"),
        ("America/Chicago", "column"),
        ("Europe/Berlin", "account_default"),
        ("America/New_York", "inferred"),
        ("Europe/Berlin", "account_default"),
    ]
    assert [example.row for example in plan.timezones.account_default_examples] == [3, 5]
    assert "could be in 42 time zones" in plan.timezones.account_default_examples[0].why
    assert len(plan.warnings) == 1
    assert plan.warnings[0].startswith("2 of 5 leads have no timezone column value")
    assert "account's clock (Europe/Berlin)" in plan.warnings[0] and "row 3 (+18005550103)" in plan.warnings[0]


async def test_the_account_timezone_setting_is_the_fallback_the_plan_names(
    client: TelliClient, agent_id: str, ledger_path: LedgerLocation
) -> None:
    engine = CampaignEngine(client, Ledger(ledger_path), account_timezone="America/Los_Angeles")

    plan = await engine.plan(CampaignRequest(agent_id=agent_id, leads=MIXED))

    assert plan.timezones.account_timezone == "America/Los_Angeles"
    assert plan.timezones.by_zone["America/Los_Angeles"] == 2
    assert "account's clock (America/Los_Angeles)" in plan.warnings[0]


async def test_the_run_result_carries_the_zones_and_the_warning(
    engine: CampaignEngine, sim: TelliSimulator, agent_id: str
) -> None:
    result = await engine.start(CampaignRequest(agent_id=agent_id, leads=MIXED))

    sent = {
        item["phone_number"]: item.get("timezone")
        for e in sim.requests_to("POST", ADD_PATH)
        for item in e.body["contacts"]
    }
    assert sent == {
        "+49305550101": "Europe/Berlin",
        "+12125550102": "America/Chicago",
        "+18005550103": None,
        "+12125550104": "America/New_York",
        "+18005550105": None,
    }
    assert result.timezones is not None and result.timezones.by_source["account_default"] == 2
    assert result.warnings and "2 of 5 leads" in result.warnings[0]


async def test_the_zone_report_of_ten_thousand_leads_stays_small(engine: CampaignEngine, agent_id: str) -> None:
    toll_free = [lead(f"T{n}", f"+1 800 555 0{100 + n}") for n in range(100)]

    plan = await engine.plan(CampaignRequest(agent_id=agent_id, leads=[*make_leads(9_900), *toll_free]))

    assert plan.timezones.by_source == {"column": 0, "inferred": 9_900, "account_default": 100}
    assert len(plan.timezones.account_default_examples) == 5
    assert plan.warnings[0].startswith("100 of 10000 leads")
    assert len(json.dumps(plan.timezones.model_dump(mode="json"))) < 2_000
    assert len(plan.model_dump_json()) < 10_000
