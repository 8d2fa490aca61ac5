"""No tool that dials ever sends telli a request naming a contact whose number is on the do-not-call list.

The tools are found from what the server offers (every `ToolSpec` with `dials=True`), not listed by hand: a new
dial tool fails `test_every_dial_tool_has_a_case` until it gets a case here. Each case dials a contact on the list
together with one who is not, with every confirmation accepted, and reads the simulator's request log: the listed
contact's id is in no schedule or initiate request, and the result says why. The list is also changed while the
human is deciding (between the question and the yes): the number is still never dialled.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from mcp import Client
from mcp.types import CallToolResult
from server_helpers import Answers, connect, first_agent_id, ok, text_of

from telli_mcp.backend import Backend
from telli_mcp.client import key_fingerprint
from telli_mcp.config import Settings
from telli_mcp.do_not_call import DO_NOT_CALL_REASON, TenantList, normalise_number
from telli_mcp.server import build_server
from telli_mcp.server.tools import SURFACES
from telli_mcp.simulator import TEST_API_KEY, TelliSimulator

pytestmark = pytest.mark.anyio

BLOCKED = "+493055501001"
ALLOWED = "+493055501002"
DIAL_PATHS = ("/v1/schedule-call", "/v1/initiate-call")
"""Every telli request that puts a contact into the dialer or rings them (schedule-call, schedule-calls-batch)."""


@dataclass(frozen=True)
class Callees:
    """The people a case dials: one whose number is on the list, and one whose number is not."""

    agent_id: str
    blocked_id: str
    allowed_id: str


ArgumentBuilder = Callable[[Callees], dict[str, Any]]


def _lead(number: str, first_name: str) -> dict[str, str]:
    return {"phone_number": number, "first_name": first_name, "last_name": "Fictional"}


CASES: dict[str, ArgumentBuilder] = {
    "schedule_calls": lambda c: {"contact_ids": [c.blocked_id, c.allowed_id], "agent_id": c.agent_id},
    # call_now rings one person: the one on the list (what is refused must be that person, not the other).
    "call_now": lambda c: {"contact_id": c.blocked_id, "agent_id": c.agent_id},
    # The campaign's leads carry the numbers; the engine finds the contacts created below by them.
    "start_campaign": lambda c: {
        "agent_id": c.agent_id,
        "name": "Do-not-call guard",
        "leads": [_lead(BLOCKED, "Nora"), _lead(ALLOWED, "Otto")],
    },
    # A move schedules with the new agent; the new contacts are in no dialer loop yet, so they are scheduled only
    # with also_not_waiting (test_bulk_tools has the listed contact that was waiting: taken out, never scheduled).
    "reschedule_contacts": lambda c: {
        "contact_ids": [c.blocked_id, c.allowed_id],
        "agent_id": c.agent_id,
        "also_not_waiting": True,
    },
}
"""How to make each dial tool dial both callees (or, for a tool that dials one person, the listed one)."""


def _dial_tools() -> set[str]:
    return {tool.name for surface in SURFACES for tool in surface.tools if tool.spec.dials}


def test_every_dial_tool_has_a_case() -> None:
    assert _dial_tools() == set(CASES), "a tool that dials needs a do-not-call case here"


@dataclass
class Account:
    server: Any
    dnc: TenantList
    sim: TelliSimulator


@pytest.fixture
def account(sim: TelliSimulator) -> Account:
    backend = Backend.simulated(Settings(api_key=TEST_API_KEY, toolsets=("all",)), sim)
    # The same list the server checks (what `telli-mcp dnc add` in another terminal would write to).
    return Account(build_server(backend), backend.do_not_call.for_tenant(key_fingerprint(TEST_API_KEY)), sim)


async def _callees(client: Client) -> Callees:
    created = [
        await ok(client, "create_contact", {"first_name": name, "last_name": "Fictional", "phone_number": number})
        for name, number in (("Nora", "+49 30 5550 1001"), ("Otto", "+49 30 5550 1002"))
    ]
    return Callees(await first_agent_id(client), created[0]["contact_id"], created[1]["contact_id"])


def _contact_ids(body: Any) -> Iterator[str]:
    if isinstance(body, dict):
        for key, value in body.items():
            if key in ("contact_id", "contactId") and isinstance(value, str):
                yield value
            else:
                yield from _contact_ids(value)
    elif isinstance(body, list):
        for item in body:
            yield from _contact_ids(item)


def dialled(sim: TelliSimulator) -> set[str]:
    """Every contact id a schedule or initiate request telli received names."""
    return {cid for r in sim.request_log if r.path.startswith(DIAL_PATHS) for cid in _contact_ids(r.body)}


async def dialled_numbers(client: Client, sim: TelliSimulator) -> set[str]:
    """The phone numbers of every contact a dial request named (a campaign dials contacts it made for its leads,
    so the number, not a contact id, says who was called)."""
    contacts = [await ok(client, "get_contact", {"contact_id": contact_id}) for contact_id in dialled(sim)]
    return {normalise_number(contact["phone_number"]) for contact in contacts}


def _said(result: CallToolResult) -> str:
    return text_of(result) + json.dumps(result.structured_content or {})


async def _dial(client: Client, tool: str, callees: Callees) -> CallToolResult:
    return await client.call_tool(tool, CASES[tool](callees))


async def _assert_refused(client: Client, tool: str, result: CallToolResult, sim: TelliSimulator) -> set[str]:
    """The listed number was in no dial request and the result says why; returns the numbers that were dialled."""
    numbers = await dialled_numbers(client, sim)
    said = _said(result)
    assert BLOCKED not in numbers, f"{tool} sent telli a request dialling a number on the do-not-call list"
    assert "do-not-call" in said or "do_not_call" in said, f"{tool} did not say why: {said[:500]}"
    return numbers


@pytest.mark.parametrize("tool", sorted(CASES))
async def test_a_listed_number_is_never_dialled_even_with_every_confirmation_accepted(
    account: Account, mode: str, tool: str
) -> None:
    answers = Answers("accept")
    async with connect(account.server, mode, answers) as client:
        callees = await _callees(client)
        account.dnc.add([BLOCKED], reason="asked not to be called", source="tool")
        result = await _dial(client, tool, callees)
        numbers = await _assert_refused(client, tool, result, account.sim)
    if tool == "call_now":  # refused before the human is asked anything
        assert result.is_error and answers.questions == []
    else:  # the guard leaves out only the listed person: the other is still dialled
        assert not result.is_error, text_of(result)
        assert numbers == {ALLOWED}
    if tool == "reschedule_contacts":
        rows = result.structured_content["contacts"] if result.structured_content else []
        assert {(r["contact_id"], r["status"], r.get("reason")) for r in rows} == {
            (callees.blocked_id, "skipped", "do_not_call"),
            (callees.allowed_id, "scheduled", None),
        }
        assert "do-not-call" in answers.questions[0]  # the question says someone is left out
    if tool == "schedule_calls":
        skipped = result.structured_content["skipped"] if result.structured_content else []
        assert [(s["contact_id"], s["reason"], s["detail"]) for s in skipped] == [
            (callees.blocked_id, "do_not_call", DO_NOT_CALL_REASON)
        ]
        assert "do-not-call" in answers.questions[0]  # the question says someone is left out
    if tool == "start_campaign":
        assert "schedule real phone calls to 1 contacts" in answers.questions[0]
        assert "(1 on the do-not-call list will not be called)" in answers.questions[0]


async def test_when_everyone_to_schedule_is_listed_nothing_is_asked_or_sent(account: Account, mode: str) -> None:
    answers = Answers("accept")
    async with connect(account.server, mode, answers) as client:
        callees = await _callees(client)
        account.dnc.add([BLOCKED, ALLOWED], reason=None, source="tool")
        result = await ok(
            client,
            "schedule_calls",
            {"contact_ids": [callees.blocked_id, callees.allowed_id], "agent_id": callees.agent_id},
        )
    assert result["status"] == "not_scheduled" and "do-not-call" in result["note"]
    assert {s["reason"] for s in result["skipped"]} == {"do_not_call"} and len(result["skipped"]) == 2
    assert answers.questions == [] and dialled(account.sim) == set()


class AddsWhileAsked(Answers):
    """Says yes, but only after the number was put on the list while the question was on screen."""

    def __init__(self, dnc: TenantList) -> None:
        super().__init__("accept")
        self.dnc = dnc

    async def __call__(self, context: Any, params: Any) -> Any:
        self.dnc.add([BLOCKED], reason="added while the question was open", source="tool")
        return await super().__call__(context, params)


@pytest.mark.parametrize("tool", sorted(CASES))
async def test_a_number_listed_between_the_question_and_the_yes_is_not_dialled(
    account: Account, mode: str, tool: str
) -> None:
    answers = AddsWhileAsked(account.dnc)
    async with connect(account.server, mode, answers) as client:
        callees = await _callees(client)
        result = await _dial(client, tool, callees)
        await _assert_refused(client, tool, result, account.sim)
    # The question was put while the number was not listed yet: it offered to call them.
    offered = "2 contacts" if tool == "start_campaign" else "Nora Fictional"
    assert answers.questions and offered in answers.questions[0], answers.questions


@pytest.mark.parametrize("tool", sorted(CASES))
async def test_a_number_listed_after_the_preview_is_not_dialled_with_its_token(sim: TelliSimulator, tool: str) -> None:
    settings = Settings(api_key=TEST_API_KEY, toolsets=("all",), confirm="token")
    async with connect(build_server(Backend.simulated(settings, sim)), "auto") as client:
        callees = await _callees(client)
        preview = await ok(client, tool, CASES[tool](callees))
        await ok(client, "add_to_do_not_call", {"phone_numbers": [BLOCKED]})
        result = await client.call_tool(
            tool, {**CASES[tool](callees), "confirmation_token": preview["confirmation_token"]}
        )
    assert preview["status"] == "confirmation_required"
    # The yes was for a plan that dialled them: it no longer matches (or the tool refuses them by name).
    said = _said(result)
    assert result.is_error and ("does not match" in said or "do-not-call" in said), said[:500]
    assert dialled(sim) == set()
