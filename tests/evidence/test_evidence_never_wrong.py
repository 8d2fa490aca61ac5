"""Never twice, never wrong: a yes covers exactly what it was given for, callees are called on their own clock,
nobody telli is already calling is dialled again, and a lost answer is reported with its check, never repeated.

Everything goes through the MCP client in both protocol eras against the simulator. Time is the simulator's
clock, which starts on Monday 2026-03-02 at 08:00 UTC: 09:00 in Berlin (the account's zone), 03:00 in New York.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from evidence_helpers import (
    API_KEY,
    CAMPAIGN_LEADS,
    MODES,
    DemoIds,
    guarded_tool_schemas,
    is_write,
    make_server,
    new_sim,
    no_sleep,
    text_of,
    token_of,
)
from mcp import Client
from mcp.types import CallToolResult
from mcp_helpers import Answers, connect

from telli_mcp.client import ContactV1Create, TelliClient
from telli_mcp.simulator import Fault, TelliSimulator

pytestmark = pytest.mark.anyio

TOKEN = "confirmation_token"
GUARDED = guarded_tool_schemas()
NEW_YORK_NUMBER = "+12125550142"
AMBIGUOUS_NUMBER = "+18005550123"
"""Toll-free: telli cannot know where its owner lives (the number maps to dozens of zones)."""
REMOVE = "<argument left out>"


def _writes(sim: TelliSimulator) -> list[str]:
    return [f"{e.method} {e.path}" for e in sim.request_log if is_write(e.method, e.path)]


def _leads_file(directory: Path, leads: list[dict[str, Any]]) -> Path:
    path = directory / "leads.json"
    path.write_text(json.dumps(leads))
    return path


def _base_arguments(tool: str, ids: DemoIds) -> dict[str, Any]:
    """A valid call of each guarded tool that asks for a yes (every id in it exists and can be acted on)."""
    contact = ids.contacts
    return {
        "delete_contact": {"contact_id": contact["crm-1009"]},
        "schedule_calls": {"contact_ids": [contact["crm-1005"]], "agent_id": ids.sales_agent},
        "call_now": {"contact_id": contact["crm-1005"], "agent_id": ids.sales_agent},
        "replace_phone_number": {"phone_number_id": ids.phone_numbers["+493090182900"]},
        "delete_phone_number": {"phone_number_id": ids.phone_numbers["+12125550199"]},
        "start_campaign": {"agent_id": ids.sales_agent, "leads": CAMPAIGN_LEADS, "name": "Evidence"},
    }[tool]


def _changes(ids: DemoIds, leads_file: Path) -> dict[tuple[str, str], dict[str, Any]]:
    """For each guarded tool and argument, one change of that argument that is itself a valid call, so only the
    token can refuse it (REMOVE leaves an argument out where two exclude each other)."""
    us_agent = ids.agents["Sales Agent (US)"]
    edited = [dict(CAMPAIGN_LEADS[0], last_name="Rothe"), CAMPAIGN_LEADS[1]]
    return {
        ("delete_contact", "contact_id"): {"contact_id": ids.contacts["crm-1006"]},
        ("schedule_calls", "contact_ids"): {"contact_ids": [ids.contacts["crm-1006"]]},
        ("schedule_calls", "agent_id"): {"agent_id": us_agent},
        ("schedule_calls", "max_retry_days"): {"max_retry_days": 2},
        ("schedule_calls", "from_number"): {"from_number": "+493090182900"},
        ("schedule_calls", "reschedule_waiting"): {"reschedule_waiting": True},
        ("call_now", "contact_id"): {"contact_id": ids.contacts["crm-1006"]},
        ("call_now", "agent_id"): {"agent_id": us_agent},
        ("call_now", "from_number"): {"from_number": "+493090182900"},
        ("call_now", "allow_outside_hours"): {"allow_outside_hours": True},
        ("call_now", "even_if_waiting"): {"even_if_waiting": True},
        ("replace_phone_number", "phone_number_id"): {"phone_number_id": ids.phone_numbers["+12125550199"]},
        ("delete_phone_number", "phone_number_id"): {"phone_number_id": ids.phone_numbers["+493090182900"]},
        ("start_campaign", "agent_id"): {"agent_id": us_agent},
        ("start_campaign", "leads"): {"leads": edited},
        ("start_campaign", "leads_file"): {"leads": REMOVE, "leads_file": str(leads_file)},
        ("start_campaign", "name"): {"name": "Evidence 2"},
        ("start_campaign", "campaign_id"): {"campaign_id": "evidence-other"},
        ("start_campaign", "max_retry_days"): {"max_retry_days": 2},
        ("start_campaign", "from_number"): {"from_number": "+493090182900"},
        ("start_campaign", "default_region"): {"default_region": "US"},
        ("start_campaign", "ignore_unknown_columns"): {"ignore_unknown_columns": True},
        ("start_campaign", "dry_run"): {"dry_run": True},
    }


def _cases() -> list[Any]:
    cases = []
    for tool, schema in sorted(GUARDED.items()):
        for argument in sorted(set(schema["properties"]) - {TOKEN}):
            cases.append(pytest.param(tool, argument, id=f"{tool}.{argument}"))
    return cases


def _apply(arguments: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
    changed = {**arguments, **change}
    return {name: value for name, value in changed.items() if value != REMOVE}


def test_the_guarded_tools_are_the_ones_that_dial_or_erase() -> None:
    assert set(GUARDED) == {
        "delete_contact",
        "schedule_calls",
        "call_now",
        "replace_phone_number",
        "delete_phone_number",
        "start_campaign",
    }
    assert all(TOKEN in schema["properties"] for schema in GUARDED.values())


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("tool", "argument"), _cases())
async def test_a_token_is_refused_when_any_one_argument_changes(
    tool: str, argument: str, mode: str, tmp_path: Path
) -> None:
    sim = new_sim()
    ids = DemoIds.of(sim)
    base = _base_arguments(tool, ids)
    change = _changes(ids, _leads_file(tmp_path, CAMPAIGN_LEADS)).get((tool, argument))
    assert change is not None, f"{tool}.{argument} is a new argument: add a valid change of it to _changes()"
    changed = _apply(base, change)
    assert changed != base
    async with connect(make_server(sim, confirm="token", leads_dir=str(tmp_path)), mode) as client:
        preview = await client.call_tool(tool, base)
        token = token_of(preview.structured_content)
        sim.request_log.clear()
        refused = await client.call_tool(tool, {**changed, TOKEN: token})
        sent_after_refusal = _writes(sim)
        accepted = await client.call_tool(tool, {**base, TOKEN: token})
    assert refused.is_error and "does not match" in text_of(refused), text_of(refused)[:300]
    assert sent_after_refusal == [], f"{tool}.{argument}: sent {sent_after_refusal}"
    # The same token still works for exactly the arguments it was issued for.
    assert not accepted.is_error and _writes(sim), text_of(accepted)[:300]


@pytest.mark.parametrize("mode", MODES)
async def test_a_token_is_refused_when_the_leads_file_was_edited_after_the_preview(mode: str, tmp_path: Path) -> None:
    sim = new_sim()
    ids = DemoIds.of(sim)
    path = _leads_file(tmp_path, CAMPAIGN_LEADS)
    args = {"agent_id": ids.sales_agent, "leads_file": str(path), "name": "Evidence"}
    async with connect(make_server(sim, confirm="token", leads_dir=str(tmp_path)), mode) as client:
        token = token_of((await client.call_tool("start_campaign", args)).structured_content)
        _leads_file(tmp_path, [dict(CAMPAIGN_LEADS[0], phone_number="+493055501" + "99"), CAMPAIGN_LEADS[1]])
        sim.request_log.clear()
        refused = await client.call_tool("start_campaign", {**args, TOKEN: token})
    assert refused.is_error and "does not match" in text_of(refused), text_of(refused)[:300]
    assert _writes(sim) == []


@pytest.mark.parametrize("mode", MODES)
async def test_a_token_is_refused_when_the_callee_changed_at_telli_after_the_preview(mode: str) -> None:
    """The yes covers who is dialled, on which number and on which clock, not just the ids passed."""
    sim = new_sim()
    ids = DemoIds.of(sim)
    args = {"contact_ids": [ids.contacts["crm-1005"]], "agent_id": ids.sales_agent}
    async with connect(make_server(sim, confirm="token"), mode) as client:
        token = token_of((await client.call_tool("schedule_calls", args)).structured_content)
        moved = await client.call_tool(
            "update_contact", {"contact_id": ids.contacts["crm-1005"], "phone_number": "+493055501" + "07"}
        )
        assert not moved.is_error, text_of(moved)
        sim.request_log.clear()
        refused = await client.call_tool("schedule_calls", {**args, TOKEN: token})
    assert refused.is_error and "does not match" in text_of(refused)
    assert _writes(sim) == []


# -- time-correct calling -------------------------------------------------------------------------------------


async def _contact_without_timezone(sim: TelliSimulator, phone_number: str, external_id: str) -> str:
    """A contact created elsewhere (a CRM sync) without a time zone: telli stores the account's, Europe/Berlin."""
    async with TelliClient(API_KEY, transport=sim.transport(), sleep=no_sleep) as telli:
        contact_id = await telli.contacts_v1.create(
            ContactV1Create(
                external_contact_id=external_id, first_name="Ava", last_name="Reyes", phone_number=phone_number
            )
        )
    sim.request_log.clear()
    return contact_id


async def _ok(client: Client, tool: str, args: dict[str, Any]) -> dict[str, Any]:
    result = await client.call_tool(tool, args)
    assert not result.is_error and result.structured_content is not None, f"{tool}: {text_of(result)[:400]}"
    return result.structured_content


async def _error(client: Client, tool: str, args: dict[str, Any]) -> str:
    result: CallToolResult = await client.call_tool(tool, args)
    assert result.is_error, f"{tool} unexpectedly succeeded: {result.structured_content}"
    return text_of(result)


@pytest.mark.parametrize("mode", MODES)
async def test_call_now_at_3am_in_new_york_is_refused_and_at_10am_it_proceeds(mode: str) -> None:
    sim = new_sim()
    ids = DemoIds.of(sim)
    contact_id = await _contact_without_timezone(sim, NEW_YORK_NUMBER, "crm-ny-1")
    args = {"contact_id": contact_id, "agent_id": ids.agents["Sales Agent (US)"]}
    answers = Answers("accept")
    async with connect(make_server(sim), mode, answers) as client:
        night = await _error(client, "call_now", args)
        asked_at_night = list(answers.questions)
        await sim.advance(7 * 3600)  # 15:00 UTC: 10:00 in New York, 16:00 in Berlin
        started = await _ok(client, "call_now", args)
    assert "03:00" in night and "America/New_York (inferred from the phone number)" in night
    assert "outside 08:00-21:00" in night and asked_at_night == []
    assert started["status"] == "started" and started["started"] is True
    assert "10:00–11:00 in America/New_York (inferred from the phone number)" in answers.questions[0]
    assert _writes(sim) == ["POST /v1/initiate-call"]


@pytest.mark.parametrize("mode", MODES)
async def test_a_schedule_confirmation_shows_each_us_callees_new_york_time(mode: str) -> None:
    sim = new_sim()
    ids = DemoIds.of(sim)
    defaulted = await _contact_without_timezone(sim, NEW_YORK_NUMBER, "crm-ny-2")
    answers = Answers("accept")
    async with connect(make_server(sim), mode, answers) as client:
        result = await _ok(
            client,
            "schedule_calls",
            {"contact_ids": [ids.contacts["crm-1002"], defaulted], "agent_id": ids.agents["Sales Agent (US)"]},
        )
    question = answers.questions[0]
    assert "Jane Doe (+12125550101) 03:00–04:00 (night) in America/New_York (the contact's own time zone)" in question
    assert (
        "Ava Reyes (+12125550142) 03:00–04:00 (night) in America/New_York (inferred from the phone number)" in question
    )
    # telli will still dial the defaulted contact on Berlin's clock: the question says so, and so does the result.
    assert "telli has the account's time zone Europe/Berlin although the number is in America/New_York" in question
    assert "update_contact" in result["note"] and "America/New_York" in result["local_times"]


@pytest.mark.parametrize("mode", MODES)
async def test_many_callees_are_counted_per_local_time_band(mode: str) -> None:
    sim = new_sim()
    ids = DemoIds.of(sim)
    berlin = [ids.contacts[name] for name in ("crm-123", "crm-1001", "crm-1005", "crm-1006", "crm-1009")]
    american = [ids.contacts["crm-1002"], ids.contacts["crm-1008"]]  # New York 03:00, Chicago 02:00
    answers = Answers("accept")
    async with connect(make_server(sim), mode, answers) as client:
        await _ok(client, "schedule_calls", {"contact_ids": berlin + american, "agent_id": ids.sales_agent})
    assert "Local time now: 2 at 00:00–04:00 (night), 5 at 08:00–12:00." in answers.questions[0]
    assert "5 × Europe/Berlin (the contact's own time zone)" in answers.questions[0]


@pytest.mark.parametrize("mode", MODES)
async def test_an_ambiguous_number_names_the_account_default_and_why_and_call_now_checks_every_zone(
    mode: str,
) -> None:
    sim = new_sim()
    ids = DemoIds.of(sim)
    contact_id = await _contact_without_timezone(sim, AMBIGUOUS_NUMBER, "crm-tollfree")
    answers = Answers("accept")
    async with connect(make_server(sim, confirm="token"), mode, answers) as client:
        preview = await _ok(client, "schedule_calls", {"contact_ids": [contact_id], "agent_id": ids.sales_agent})
        refused = await _error(client, "call_now", {"contact_id": contact_id, "agent_id": ids.sales_agent})
    question = preview["confirmation_required"]
    assert "Europe/Berlin (the account's default: the number could be in" in question
    assert "set the contact's time zone to be sure" in question
    assert "night in another zone the number may be in" in question  # 09:00 in Berlin, night in Honolulu
    assert "a zone this number may be in" in refused and "outside 08:00-21:00" in refused
    assert _writes(sim) == []


# -- look before dialling ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
async def test_a_contact_in_a_call_is_skipped_by_schedule_calls_and_refused_by_call_now(mode: str) -> None:
    sim = new_sim()
    ids = DemoIds.of(sim)
    busy, free = ids.contacts["crm-1005"], ids.contacts["crm-1006"]
    answers = Answers("accept")
    async with connect(make_server(sim), mode, answers) as client:
        await _ok(client, "call_now", {"contact_id": busy, "agent_id": ids.sales_agent})
        sim.request_log.clear()
        scheduled = await _ok(client, "schedule_calls", {"contact_ids": [busy, free], "agent_id": ids.sales_agent})
        refused = await _error(
            client, "call_now", {"contact_id": busy, "agent_id": ids.sales_agent, "even_if_waiting": True}
        )
        alone = await _ok(
            client, "schedule_calls", {"contact_ids": [busy], "agent_id": ids.sales_agent, "reschedule_waiting": True}
        )
    sent = [e.body["contacts"] for e in sim.request_log if e.path == "/v1/schedule-calls-batch"]
    assert sent == [[{"contact_id": free, "agent_id": ids.sales_agent}]]
    assert scheduled["scheduled_count"] == 1
    assert [(s["contact_id"], s["reason"]) for s in scheduled["skipped"]] == [(busy, "in_call")]
    assert "1 contact in a call right now (Jonas Weber" in answers.questions[1]
    assert "on a call right now" in refused
    assert alone["status"] == "not_scheduled" and alone["skipped"][0]["reason"] == "in_call"
    assert len(answers.questions) == 2  # nothing to ask when nobody would be dialled


@pytest.mark.parametrize("mode", MODES)
async def test_a_contact_waiting_in_the_dialer_is_left_alone_unless_asked(mode: str) -> None:
    sim = new_sim()
    ids = DemoIds.of(sim)
    waiting, fresh = ids.contacts["crm-1003"], ids.contacts["crm-1005"]  # crm-1003 has a call coming up
    agent = ids.agents["Sales Agent (US)"]
    answers = Answers("accept")
    async with connect(make_server(sim), mode, answers) as client:
        first = await _ok(client, "schedule_calls", {"contact_ids": [waiting, fresh], "agent_id": agent})
        refused = await _error(
            client, "call_now", {"contact_id": waiting, "agent_id": agent, "allow_outside_hours": True}
        )
        again = await _ok(
            client, "schedule_calls", {"contact_ids": [waiting], "agent_id": agent, "reschedule_waiting": True}
        )
    sent = [
        [item["contact_id"] for item in e.body["contacts"]]
        for e in sim.request_log
        if e.path == "/v1/schedule-calls-batch"
    ]
    assert sent == [[fresh], [waiting]]
    assert first["skipped"][0]["contact_id"] == waiting and first["skipped"][0]["reason"] == "waiting"
    assert "reschedule_waiting=true" in first["skipped"][0]["detail"]
    assert "already waiting in the dialer (John Smith" in answers.questions[0]
    assert "even_if_waiting=true" in refused and "Nothing was done" in refused
    assert again["status"] == "scheduled" and "are scheduled again" in answers.questions[1]
    assert "initiate" not in " ".join(_writes(sim))


# -- unknown outcomes ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
async def test_a_lost_schedule_answer_is_reported_unknown_with_its_check_and_not_repeated(mode: str) -> None:
    sim = new_sim()
    ids = DemoIds.of(sim)
    contact_id = ids.contacts["crm-1005"]
    args = {"contact_ids": [contact_id], "agent_id": ids.sales_agent}
    async with connect(make_server(sim), mode, Answers("accept")) as client:
        sim.inject(Fault(method="POST", path="/v1/schedule-calls-batch", kind="timeout_after"))
        lost = await _ok(client, "schedule_calls", args)
        await sim.advance(30)
        checked = await _ok(client, "get_contact", {"contact_id": contact_id})
        again = await _ok(client, "schedule_calls", args)
    problem = lost["problems"][0]
    assert lost["status"] == "not_scheduled" and problem["status"] == "unknown"
    assert f"get_contact(contact_id={contact_id}) after 30 seconds" in problem["check"]
    assert "next_call_at or in_call_since set" in problem["check"]
    assert checked.get("next_call_at") or checked.get("in_call_since")  # telli did schedule it
    assert again["status"] == "not_scheduled" and again["skipped"][0]["reason"] in ("waiting", "in_call")
    assert _writes(sim) == ["POST /v1/schedule-calls-batch"]


@pytest.mark.parametrize("mode", MODES)
async def test_a_lost_call_now_answer_is_reported_unknown_with_its_check_and_not_repeated(mode: str) -> None:
    sim = new_sim()
    ids = DemoIds.of(sim)
    contact_id = ids.contacts["crm-1005"]
    args = {"contact_id": contact_id, "agent_id": ids.sales_agent}
    async with connect(make_server(sim), mode, Answers("accept")) as client:
        sim.inject(Fault(method="POST", path="/v1/initiate-call", kind="timeout_after"))
        lost = await _ok(client, "call_now", args)
        checked = await _ok(client, "get_contact", {"contact_id": contact_id})
        again = await _error(client, "call_now", args)
    assert lost["status"] == "unknown" and lost["started"] is False
    assert f"get_contact(contact_id={contact_id}) after 30 seconds" in lost["check"]
    assert "in_call_since set or call_attempts above 0" in lost["check"]
    assert checked.get("in_call_since")  # the call was placed although the answer was lost
    assert "on a call right now" in again
    assert _writes(sim) == ["POST /v1/initiate-call"]
