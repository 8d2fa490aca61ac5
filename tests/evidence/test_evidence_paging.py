"""Paging never loses a row: a page cut to the response budget resumes at the first row it did not show.

The simulator is seeded with more data than one result may carry (long names, titles and call summaries), and
every paged tool is walked to its end with limit=100 through the MCP client in both protocol eras. Every row
telli holds must be seen exactly once, in telli's order, and each cut page must say how many rows it left out.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import re
from datetime import timedelta
from typing import Any

import pytest
from evidence_helpers import API_KEY, MODES, make_server, new_sim, no_sleep, our_message, text_of
from mcp import Client
from mcp_helpers import connect

from telli_mcp.client import TelliClient
from telli_mcp.simulator import BodyEdit, Fault, TelliSimulator
from telli_mcp.simulator.records import AnalysisField, Contact

pytestmark = pytest.mark.anyio

CONTACTS_TOTAL = 160
CALLS_TOTAL = 288
AGENTS_TOTAL = 150
WALK_LIMIT = 100
MAX_PAGES = 60
"""Far more pages than any walk here needs: a cursor that does not advance fails instead of looping."""


def _seed_contacts(sim: TelliSimulator) -> None:
    account = sim.account(API_KEY)
    now = sim.clock.now()
    for n in range(CONTACTS_TOTAL - len(account.live_contacts())):
        account.insert_contact(
            Contact(
                id=account.new_id(),
                first_name=f"Maximiliane-Friederike-{n:03d}".ljust(50, "x"),
                last_name=f"Schmidt-Hohenzollern-{n:03d}".ljust(50, "y"),
                phone_number=f"+4930901{n:05d}",
                timezone="Europe/Berlin",
                created_at=now,
                updated_at=now,
                external_id=f"crm-paging-{n:03d}-" + "z" * 60,
                seq=account.next_seq(),
            )
        )


def _seed_calls(sim: TelliSimulator) -> None:
    """Copies of a demo call, each a minute apart, with a summary longer than the list preview."""
    account = sim.account(API_KEY)
    template = next(iter(account.calls.values()))
    for n in range(CALLS_TOTAL - len(account.calls)):
        call_id = account.new_id()
        summary = AnalysisField(True, f"Call {n}: " + "the customer asked about the contract terms again. " * 8)
        account.calls[call_id] = dataclasses.replace(
            template,
            call_id=call_id,
            triggered_at=template.triggered_at - timedelta(minutes=n + 1),
            call_analysis={**template.call_analysis, "summary": summary},
        )


def _seed_agents(sim: TelliSimulator) -> None:
    account = sim.account(API_KEY)
    for n in range(AGENTS_TOTAL - len(account.agents_in_order())):
        account.add_agent(f"Outbound agent {n:03d} " + "for the spring renewal campaign " * 6, "de")


def _seeded_sim() -> TelliSimulator:
    sim = new_sim()
    _seed_contacts(sim)
    _seed_calls(sim)
    _seed_agents(sim)
    return sim


def _contacts_in_order(sim: TelliSimulator) -> list[str]:
    return [c.id for c in sorted(sim.account(API_KEY).live_contacts(), key=lambda c: c.seq)]


def _calls_in_order(sim: TelliSimulator, agent_id: str | None = None) -> list[str]:
    calls = [c for c in sim.account(API_KEY).calls.values() if agent_id is None or c.agent_id == agent_id]
    return [c.call_id for c in sorted(calls, key=lambda c: (-c.triggered_at.timestamp(), c.call_id))]


def _agents_in_order(sim: TelliSimulator) -> list[str]:
    return [agent.id for agent in sim.account(API_KEY).agents_in_order()]


async def _walk(client: Client, tool: str, rows: str, key: str, args: dict[str, Any]) -> list[dict[str, Any]]:
    """Every page of `tool` from the first to the end: each with the ids it showed, its note and next_cursor."""
    pages: list[dict[str, Any]] = []
    cursor = None
    for _ in range(MAX_PAGES):
        result = await client.call_tool(tool, {**args, "limit": WALK_LIMIT, **({"cursor": cursor} if cursor else {})})
        assert not result.is_error and result.structured_content is not None, text_of(result)
        page = result.structured_content
        pages.append({"ids": [row[key] for row in page[rows]], "note": page.get("note"), "next": page["next_cursor"]})
        cursor = page["next_cursor"]
        if cursor is None:
            return pages
    raise AssertionError(f"{tool} did not reach its end in {MAX_PAGES} pages")


def _left_out(note: str | None, noun: str) -> int:
    found = re.search(rf"(\d+) more {noun} did not fit", note or "")
    return int(found.group(1)) if found else 0


def _assert_complete(pages: list[dict[str, Any]], expected: list[str], noun: str) -> None:
    seen = [row for page in pages for row in page["ids"]]
    assert seen == expected, f"{noun}: saw {len(seen)} rows ({len(set(seen))} distinct) of {len(expected)}"
    cut = [page for page in pages if page["next"] is not None and _left_out(page["note"], noun)]
    assert cut, f"the {noun} seeded are meant to overflow a page; the walk never cut one"
    assert all(len(page["ids"]) < WALK_LIMIT for page in cut)
    assert _left_out(pages[-1]["note"], noun) == 0, "the last page cannot have rows left out"


@pytest.mark.parametrize("mode", MODES)
async def test_every_paged_tool_shows_every_row_exactly_once_and_says_when_a_page_was_cut(mode: str) -> None:
    sim = _seeded_sim()
    agent_id = next(iter(sim.account(API_KEY).calls.values())).agent_id
    walks = {
        "contacts": ("list_contacts", "contact_id", {}, _contacts_in_order(sim)),
        "calls": ("list_calls", "call_id", {}, _calls_in_order(sim)),
        "agents": ("list_agents", "agent_id", {}, _agents_in_order(sim)),
    }
    async with connect(make_server(sim), mode) as client:
        for noun, (tool, key, args, expected) in walks.items():
            _assert_complete(await _walk(client, tool, noun, key, args), expected, noun)
        by_agent = await _walk(client, "list_calls", "calls", "call_id", {"agent_id": agent_id})
    _assert_complete(by_agent, _calls_in_order(sim, agent_id), "calls")
    assert (len(walks["contacts"][3]), len(walks["calls"][3])) == (CONTACTS_TOTAL, CALLS_TOTAL)


@pytest.mark.parametrize("mode", MODES)
async def test_a_smaller_limit_after_a_cut_page_still_loses_nothing(mode: str) -> None:
    """The model may change limit between pages: the resumed page starts at the first row not yet shown."""
    sim = _seeded_sim()
    async with connect(make_server(sim), mode) as client:
        first = (await client.call_tool("list_calls", {"limit": WALK_LIMIT})).structured_content
        assert first is not None and _left_out(first["note"], "calls")
        seen = [call["call_id"] for call in first["calls"]]
        cursor = first["next_cursor"]
        while cursor is not None:
            page = (await client.call_tool("list_calls", {"limit": 7, "cursor": cursor})).structured_content
            assert page is not None
            seen += [call["call_id"] for call in page["calls"]]
            cursor = page["next_cursor"]
    assert seen == _calls_in_order(sim)


@pytest.mark.parametrize("mode", MODES)
async def test_an_unreadable_row_on_a_cut_page_is_reported_once_and_the_rest_still_shown(mode: str) -> None:
    sim = _seeded_sim()
    expected = _contacts_in_order(sim)
    broken = expected.pop(90)  # on telli's first page of 100, beyond the first cut
    sim.inject(
        Fault(
            kind="reshape",
            method="GET",
            path="/v2/contacts",
            edits=(BodyEdit("data.90.createdAt", value="x"),),
            times=-1,
        )
    )
    async with connect(make_server(sim), mode) as client:
        pages = await _walk(client, "list_contacts", "contacts", "contact_id", {})
    _assert_complete(pages, expected, "contacts")
    naming = [page["note"] for page in pages if broken in (page["note"] or "")]
    assert len(naming) == 1 and "1 contacts telli sent could not be read" in naming[0]


def _encode(payload: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()


def _decode(cursor: str) -> dict[str, Any]:
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(cursor))
    return decoded


@pytest.mark.parametrize("mode", MODES)
async def test_a_tampered_or_foreign_cursor_is_refused_naming_cursor_before_telli_is_asked(mode: str) -> None:
    sim = _seeded_sim()
    async with connect(make_server(sim), mode) as client:
        page = (await client.call_tool("list_contacts", {"limit": WALK_LIMIT})).structured_content
        assert page is not None and page["next_cursor"] is not None
        real = _decode(page["next_cursor"])
        async with TelliClient(API_KEY, transport=sim.transport(), sleep=no_sleep) as telli:
            telli_cursor = (await telli.contacts.list(limit=1)).next_cursor
        tampered = {
            "not base64": "%%%not-a-cursor%%%",
            "base64, not JSON": base64.urlsafe_b64encode(b"\xff\xfe rows").decode(),
            "telli's own cursor": telli_cursor,
            "another listing's": _encode({**real, "l": "calls"}),
            "rows below zero": _encode({**real, "d": -1}),
            "rows past a page": _encode({**real, "d": 100}),
            "rows as text": _encode({**real, "d": "5"}),
            "unknown version": _encode({**real, "v": 2}),
            "extra field": _encode({**real, "x": 1}),
            "field missing": _encode({k: v for k, v in real.items() if k != "t"}),
            "the first page in disguise": _encode({**real, "t": None, "d": 0}),
            "a JSON list": _encode([real]),
        }
        sim.request_log.clear()
        for case, cursor in tampered.items():
            result = await client.call_tool("list_contacts", {"limit": 5, "cursor": cursor})
            assert result.is_error, f"{case}: accepted"
            assert "cursor" in our_message(result, "list_contacts"), f"{case}: {text_of(result)}"
    assert sim.request_log == [], "a refused cursor must not reach telli"
