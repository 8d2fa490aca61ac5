"""Bulk changes through the MCP client, in both protocol eras: update_contacts and reschedule_contacts.

A dry run asks nothing and writes nothing; one confirmation covers exactly the selection and every argument; the
dial guards of schedule_calls hold for a move (nobody in a call is touched, nobody on the do-not-call list is
scheduled, a lost answer is reported with its check and never resent); and the report says what happened to each
contact. The simulator's state and request log are the witnesses.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from mcp.server.mcpserver import MCPServer
from server_helpers import Answers, ServerFactory, connect, fails, ok, writes

from telli_mcp.backend import Backend
from telli_mcp.client import ContactV1Create, InitiateCall, ScheduleCall, TelliClient, key_fingerprint
from telli_mcp.config import Settings
from telli_mcp.do_not_call import TenantList
from telli_mcp.server import build_server
from telli_mcp.simulator import TEST_API_KEY, BodyEdit, Fault, TelliSimulator

pytestmark = pytest.mark.anyio

TOOLSETS = ("default", "bulk")
UPDATE_PATH = "/v1/update-contacts-batch"
REMOVE_PATH = "/v1/remove-from-auto-dialer-batch"
SCHEDULE_PATH = "/v1/schedule-calls-batch"
UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
def bulk(make_server: ServerFactory) -> ServerFactory:
    def make(**overrides: Any) -> MCPServer[Any]:
        return make_server(toolsets=TOOLSETS, **overrides)

    return make


@asynccontextmanager
async def telli(sim: TelliSimulator) -> AsyncIterator[TelliClient]:
    """telli's API as another program sees it (for setting the scene, never to check a tool's work)."""
    async with TelliClient(TEST_API_KEY, transport=sim.transport()) as client:
        yield client


def _number(index: int) -> str:
    return f"+49305557{index:04d}"


async def _leads(sim: TelliSimulator, count: int) -> list[str]:
    """`count` new contacts with plan=bronze and lead_source=fair, in creation order."""
    leads = [
        ContactV1Create(
            external_contact_id=f"bulk-{index}",
            first_name="Lead",
            last_name=f"N{index}",
            phone_number=_number(index),
            contact_details={"plan": "bronze", "lead_source": "fair"},
        )
        for index in range(count)
    ]
    async with telli(sim) as client:
        report = await client.contacts_v1.add_batch(leads)
    ids = [item.contact_id for item in report.items]
    assert all(ids) and len(ids) == count
    return [contact_id for contact_id in ids if contact_id]


def _agents(sim: TelliSimulator) -> tuple[str, str]:
    """Two of the account's agents: the one contacts wait with, and the one they are moved to."""
    first, second, *_ = sim.account(TEST_API_KEY).agents_in_order()
    return first.id, second.id


async def _schedule(sim: TelliSimulator, contact_ids: list[str], agent_id: str) -> None:
    async with telli(sim) as client:
        report = await client.calls.schedule_batch([ScheduleCall(contact_id=c, agent_id=agent_id) for c in contact_ids])
    assert len(report.succeeded) == len(contact_ids)


async def _start_call(sim: TelliSimulator, contact_id: str, agent_id: str) -> None:
    async with telli(sim) as client:
        await client.calls.initiate(InitiateCall(contact_id=contact_id, agent_id=agent_id))
    assert sim.account(TEST_API_KEY).contacts[contact_id].in_call_since is not None


def _state(sim: TelliSimulator) -> Any:
    """Everything a bulk tool could change: each contact's fields and dialer state, and every dialer loop."""
    account = sim.account(TEST_API_KEY)
    contacts = {
        c.id: (copy.deepcopy(c.custom), c.timezone, c.salutation, c.status, c.next_call_at, c.in_call_since)
        for c in account.live_contacts()
    }
    loops = sorted((loop.loop_id, loop.contact_id, loop.agent_id, loop.state) for loop in account.loops.values())
    return contacts, loops


def _waiting_with(sim: TelliSimulator, contact_id: str) -> str | None:
    """The agent whose dialer loop the contact waits in, or None when it is in no loop."""
    loop = sim.account(TEST_API_KEY).active_loop_for(contact_id)
    return None if loop is None else loop.agent_id


def _rows(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["contact_id"]: row for row in result["contacts"]}


def _statuses(result: dict[str, Any]) -> dict[str, str]:
    return {contact_id: row["status"] for contact_id, row in _rows(result).items()}


def _named_in(sim: TelliSimulator, path: str) -> set[str]:
    """Every contact id the requests to `path` carried."""
    found: set[str] = set()
    for request in sim.requests_to("POST", path):
        body = request.body or {}
        found |= {item if isinstance(item, str) else item["contact_id"] for key in body for item in body[key]}
    return found


# -- dry runs ------------------------------------------------------------------------------------------------------


async def test_a_dry_run_reports_what_would_happen_and_writes_nothing(
    bulk: ServerFactory, sim: TelliSimulator, mode: str
) -> None:
    ids = await _leads(sim, 3)
    old, new = _agents(sim)
    await _schedule(sim, ids[:2], old)
    before = _state(sim)
    sim.request_log.clear()
    answers = Answers("accept")
    async with connect(bulk(), mode, answers) as client:
        update = await ok(
            client, "update_contacts", {"contact_ids": ids, "set_properties": {"plan": "gold"}, "dry_run": True}
        )
        move = await ok(client, "reschedule_contacts", {"contact_ids": ids, "agent_id": new, "dry_run": True})
    assert _state(sim) == before and writes(sim) == [] and answers.questions == []
    assert update["status"] == "dry_run" and _statuses(update) == dict.fromkeys(ids, "would_update")
    assert move["status"] == "dry_run"
    assert _statuses(move) == {ids[0]: "would_move", ids[1]: "would_move", ids[2]: "skipped"}
    assert _rows(move)[ids[2]]["reason"] == "not_waiting"


# -- update_contacts -----------------------------------------------------------------------------------------------


async def test_a_confirmed_update_changes_exactly_the_selected_contacts_and_keeps_their_other_properties(
    bulk: ServerFactory, sim: TelliSimulator, mode: str
) -> None:
    ids = await _leads(sim, 4)
    chosen, other = ids[:3], ids[3]
    answers = Answers("accept")
    async with connect(bulk(), mode, answers) as client:
        result = await ok(
            client,
            "update_contacts",
            {
                "contact_ids": chosen,
                "set_properties": {"plan": "gold", "budget_eur": 1200},
                "clear_properties": ["lead_source"],
                "timezone": "America/New_York",
                "salutation": "Frau",
            },
        )
    account = sim.account(TEST_API_KEY)
    for contact_id in chosen:
        contact = account.contacts[contact_id]
        assert contact.custom == {"plan": "gold", "budget_eur": 1200}
        assert (contact.timezone, contact.salutation) == ("America/New_York", "Frau")
    untouched = account.contacts[other]
    assert untouched.custom == {"plan": "bronze", "lead_source": "fair"} and untouched.salutation is None
    assert result["status"] == "updated" and result["counts"] == {"updated": 3}
    assert _statuses(result) == dict.fromkeys(chosen, "updated")
    question = answers.questions[-1]
    assert "3 contacts" in question and "plan to 'gold'" in question and "clear lead_source" in question
    # On the wire: one batch, each item carrying only what changes and nothing null (v1 documents these fields as
    # optional, not nullable), and nothing the contract check of the simulator would refuse.
    [request] = sim.requests_to("PATCH", UPDATE_PATH)
    items = request.body["contacts"]
    assert [item["contact_id"] for item in items] == chosen
    assert all(set(item) == {"contact_id", "contact_details", "timezone", "salutation"} for item in items)
    assert all(not request.violations for request in sim.request_log)


async def test_a_timezone_change_sends_no_properties_and_does_not_skip_contacts_in_a_call(
    bulk: ServerFactory, sim: TelliSimulator, mode: str
) -> None:
    ids = await _leads(sim, 2)
    old, _new = _agents(sim)
    await _start_call(sim, ids[0], old)
    async with connect(bulk(), mode, Answers("accept")) as client:
        result = await ok(client, "update_contacts", {"contact_ids": ids, "timezone": "Europe/Vienna"})
    [request] = sim.requests_to("PATCH", UPDATE_PATH)
    assert [set(item) for item in request.body["contacts"]] == [{"contact_id", "timezone"}] * 2
    assert result["counts"] == {"updated": 2}
    assert [sim.account(TEST_API_KEY).contacts[c].custom for c in ids] == [
        {"plan": "bronze", "lead_source": "fair"}
    ] * 2


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"set_properties": {"no_such_key": 1}}, ["set_properties", "no_such_key"]),
        ({"set_properties": {"budget_eur": "lots"}}, ["set_properties", "budget_eur", "number"]),
        ({"set_properties": {"plan": "platinum"}}, ["set_properties", "plan"]),
        ({"set_properties": {"plan": None}}, ["set_properties", "clear_properties"]),
        ({"clear_properties": ["no_such_key"]}, ["clear_properties", "no_such_key"]),
        ({"set_properties": {"plan": "gold"}, "clear_properties": ["plan"]}, ["clear_properties", "not both"]),
        ({}, ["Nothing to change"]),
        ({"timezone": "Mars/Olympus"}, ["timezone"]),
    ],
)
async def test_a_bad_change_is_refused_naming_the_argument_before_anything_is_written(
    bulk: ServerFactory, sim: TelliSimulator, change: dict[str, Any], said: list[str]
) -> None:
    ids = await _leads(sim, 2)
    sim.request_log.clear()
    answers = Answers("accept")
    async with connect(bulk(), "auto", answers) as client:
        error = await fails(client, "update_contacts", {"contact_ids": ids, **change})
    assert all(part in error for part in said), error
    assert writes(sim) == [] and answers.questions == []


@pytest.mark.parametrize("tool", ["update_contacts", "reschedule_contacts"])
async def test_the_selection_is_contact_ids_or_query_exactly_one_and_capped(
    bulk: ServerFactory, sim: TelliSimulator, tool: str
) -> None:
    ids = await _leads(sim, 1)
    _old, new = _agents(sim)
    rest = {"set_properties": {"plan": "gold"}} if tool == "update_contacts" else {"agent_id": new}
    cap = 5000 if tool == "update_contacts" else 1000
    too_many = [f"00000000-0000-4000-8000-{index:012d}" for index in range(cap + 1)]
    sim.request_log.clear()
    async with connect(bulk(), "auto") as client:
        both = await fails(client, tool, {"contact_ids": ids, "query": {"name": "Lead"}, **rest})
        neither = await fails(client, tool, rest)
        over = await fails(client, tool, {"contact_ids": too_many, **rest})
    assert "exactly one of contact_ids" in both and "exactly one of contact_ids" in neither
    assert "contact_ids" in over and str(cap) in over.replace(",", "")
    assert sim.request_log == []


async def test_the_report_says_per_contact_what_happened_with_telli_s_reason(
    bulk: ServerFactory, sim: TelliSimulator, mode: str
) -> None:
    fine, calling, refused = await _leads(sim, 3)
    old, _new = _agents(sim)
    await _start_call(sim, calling, old)
    # telli refuses one item of the batch (the second sent: the one in a call is not sent at all).
    edits = (BodyEdit("1.status", value="error"), BodyEdit("1.error", value="Contact is locked by an import"))
    sim.inject(Fault(method="PATCH", path=UPDATE_PATH, kind="reshape", edits=edits))
    selection = [fine, calling, refused, UNKNOWN_ID]
    async with connect(bulk(), mode, Answers("accept")) as client:
        result = await ok(
            client, "update_contacts", {"contact_ids": selection, "set_properties": {"lead_source": "webinar"}}
        )
    rows = _rows(result)
    assert _statuses(result) == {fine: "updated", calling: "skipped", refused: "failed", UNKNOWN_ID: "not_found"}
    assert rows[refused]["detail"] == "Contact is locked by an import"
    assert "in a call" in rows[calling]["detail"]
    assert result["status"] == "partially_updated" and result["selected"] == 4
    assert result["counts"] == {"updated": 1, "skipped": 1, "failed": 1, "not_found": 1}
    [request] = sim.requests_to("PATCH", UPDATE_PATH)
    assert [item["contact_id"] for item in request.body["contacts"]] == [fine, refused]
    # Problems first.
    assert [row["status"] for row in result["contacts"]] == ["failed", "not_found", "skipped", "updated"]


async def test_a_lost_update_answer_is_reported_unknown_with_its_check_and_not_resent(
    bulk: ServerFactory, sim: TelliSimulator, mode: str
) -> None:
    ids = await _leads(sim, 2)
    sim.inject(Fault(method="PATCH", path=UPDATE_PATH, kind="timeout_after"))
    # Without the client's own retries of a safe-to-repeat update: what the tool itself sends is what is counted.
    async with connect(bulk(max_retries=0), mode, Answers("accept")) as client:
        result = await ok(client, "update_contacts", {"contact_ids": ids, "set_properties": {"plan": "silver"}})
    assert result["status"] == "not_updated" and _statuses(result) == dict.fromkeys(ids, "unknown")
    assert result["unknown"] == ids and all("get_contact" in row["check"] for row in result["contacts"])
    assert len(sim.requests_to("PATCH", UPDATE_PATH)) == 1


async def test_more_than_1000_contacts_are_updated_in_batches_of_1000(
    bulk: ServerFactory, sim: TelliSimulator, mode: str
) -> None:
    ids = await _leads(sim, 1500)
    progress: list[tuple[float, float | None]] = []

    async def on_progress(done: float, total: float | None, _message: str | None) -> None:
        progress.append((done, total))

    async with connect(bulk(), mode, Answers("accept")) as client:
        answer = await client.call_tool(
            "update_contacts",
            {"contact_ids": ids, "set_properties": {"plan": "gold"}},
            progress_callback=on_progress,
        )
    result = answer.structured_content
    assert not answer.is_error and result is not None
    sizes = [len(request.body["contacts"]) for request in sim.requests_to("PATCH", UPDATE_PATH)]
    assert sizes == [1000, 500]
    assert result["counts"] == {"updated": 1500} and result["selected"] == 1500
    assert len(result["contacts"]) < 1500 and "of 1,500" in result["note"]
    account = sim.account(TEST_API_KEY)
    assert all(account.contacts[contact_id].custom["plan"] == "gold" for contact_id in ids)
    assert max(progress) == (2, 2)


# -- one confirmation, bound to everything ------------------------------------------------------------------------


async def _update_args(sim: TelliSimulator) -> tuple[dict[str, Any], list[str]]:
    ids = await _leads(sim, 3)
    return {"contact_ids": ids[:2], "set_properties": {"plan": "gold"}}, ids


async def _move_args(sim: TelliSimulator) -> tuple[dict[str, Any], list[str]]:
    ids = await _leads(sim, 3)
    old, new = _agents(sim)
    await _schedule(sim, ids, old)
    return {"contact_ids": ids[:2], "agent_id": new}, ids


ArgsChange = Callable[[dict[str, Any], list[str], TelliSimulator], dict[str, Any]]
UPDATE_CHANGES: dict[str, ArgsChange] = {
    "contact_ids": lambda args, ids, _sim: {**args, "contact_ids": ids[1:]},
    "set_properties": lambda args, _ids, _sim: {**args, "set_properties": {"plan": "silver"}},
    "clear_properties": lambda args, _ids, _sim: {**args, "clear_properties": ["lead_source"]},
    "timezone": lambda args, _ids, _sim: {**args, "timezone": "Europe/Vienna"},
    "salutation": lambda args, _ids, _sim: {**args, "salutation": "Herr"},
    "dry_run": lambda args, _ids, _sim: {**args, "dry_run": True},
}
MOVE_CHANGES: dict[str, ArgsChange] = {
    "contact_ids": lambda args, ids, _sim: {**args, "contact_ids": ids[1:]},
    "agent_id": lambda args, _ids, sim: {**args, "agent_id": sim.account(TEST_API_KEY).agents_in_order()[2].id},
    "also_not_waiting": lambda args, _ids, _sim: {**args, "also_not_waiting": True},
    "max_retry_days": lambda args, _ids, _sim: {**args, "max_retry_days": 3},
    "from_number": lambda args, _ids, sim: {**args, "from_number": sim.account(TEST_API_KEY).outbound_number()},
    "dry_run": lambda args, _ids, _sim: {**args, "dry_run": True},
}
REPLAYS = [("update_contacts", name) for name in UPDATE_CHANGES] + [("reschedule_contacts", n) for n in MOVE_CHANGES]


@pytest.mark.parametrize(("tool", "changed"), REPLAYS)
async def test_a_token_replayed_with_any_argument_changed_is_refused(
    bulk: ServerFactory, sim: TelliSimulator, mode: str, tool: str, changed: str
) -> None:
    args, ids = await (_update_args(sim) if tool == "update_contacts" else _move_args(sim))
    change = (UPDATE_CHANGES if tool == "update_contacts" else MOVE_CHANGES)[changed]
    before = _state(sim)
    async with connect(bulk(confirm="token"), mode) as client:
        preview = await ok(client, tool, args)
        token = preview["confirmation_token"]
        refused = await fails(client, tool, {**change(args, ids, sim), "confirmation_token": token})
        assert _state(sim) == before
        done = await ok(client, tool, {**args, "confirmation_token": token})
    assert preview["status"] == "confirmation_required" and "does not match" in refused
    assert done["status"] in ("updated", "moved")


# -- reschedule_contacts ------------------------------------------------------------------------------------------


async def test_reschedule_takes_waiting_contacts_out_of_the_dialer_and_schedules_them_with_the_new_agent(
    bulk: ServerFactory, sim: TelliSimulator, mode: str
) -> None:
    ids = await _leads(sim, 3)
    old, new = _agents(sim)
    await _schedule(sim, ids, old)
    sim.request_log.clear()
    answers = Answers("accept")
    async with connect(bulk(), mode, answers) as client:
        result = await ok(client, "reschedule_contacts", {"contact_ids": ids, "agent_id": new})
    assert result["status"] == "moved" and _statuses(result) == dict.fromkeys(ids, "moved")
    assert {row["now"] for row in result["contacts"]} == {"new_agent"} and result["out_of_dialer"] == []
    assert [_waiting_with(sim, contact_id) for contact_id in ids] == [new] * 3
    assert writes(sim) == [f"POST {REMOVE_PATH}", f"POST {SCHEDULE_PATH}"]
    question = answers.questions[-1]
    new_title = sim.account(TEST_API_KEY).agents[new].title
    assert "Lead N0" in question and new_title in question and "Local time now" in question


async def test_a_contact_in_a_call_is_left_alone_by_a_move_and_reported(
    bulk: ServerFactory, sim: TelliSimulator, mode: str
) -> None:
    waiting, calling = await _leads(sim, 2)
    old, new = _agents(sim)
    await _schedule(sim, [waiting], old)
    await _start_call(sim, calling, old)
    sim.request_log.clear()
    async with connect(bulk(), mode, Answers("accept")) as client:
        result = await ok(client, "reschedule_contacts", {"contact_ids": [waiting, calling], "agent_id": new})
    rows = _rows(result)
    assert (rows[calling]["status"], rows[calling]["reason"], rows[calling]["now"]) == (
        "skipped",
        "in_call",
        "as_before",
    )
    assert rows[waiting]["status"] == "moved"
    assert calling not in _named_in(sim, REMOVE_PATH) | _named_in(sim, SCHEDULE_PATH)
    assert _waiting_with(sim, calling) == old


class CallsWhileAsked(Answers):
    """Says yes, but only after telli's dialer started calling one of the contacts while the question was open."""

    def __init__(self, sim: TelliSimulator, contact_id: str, agent_id: str) -> None:
        super().__init__("accept")
        self.sim, self.contact_id, self.agent_id = sim, contact_id, agent_id

    async def __call__(self, context: Any, params: Any) -> Any:
        if self.sim.account(TEST_API_KEY).contacts[self.contact_id].in_call_since is None:
            await _start_call(self.sim, self.contact_id, self.agent_id)
        return await super().__call__(context, params)


async def test_a_contact_whose_call_starts_while_the_question_is_open_is_left_alone(
    bulk: ServerFactory, sim: TelliSimulator, mode: str
) -> None:
    first, second = await _leads(sim, 2)
    old, new = _agents(sim)
    await _schedule(sim, [first, second], old)
    sim.request_log.clear()
    answers = CallsWhileAsked(sim, second, old)
    async with connect(bulk(), mode, answers) as client:
        result = await ok(client, "reschedule_contacts", {"contact_ids": [first, second], "agent_id": new})
    assert "Lead N1" in answers.questions[0]  # asked while they were still only waiting
    assert (_rows(result)[second]["status"], _rows(result)[second]["reason"]) == ("skipped", "in_call")
    assert second not in _named_in(sim, REMOVE_PATH) | _named_in(sim, SCHEDULE_PATH)
    assert _waiting_with(sim, first) == new


class ListsWhileAsked(Answers):
    """Says yes, but only after a number was put on the do-not-call list while the question was open."""

    def __init__(self, dnc: TenantList, number: str) -> None:
        super().__init__("accept")
        self.dnc, self.number = dnc, number

    async def __call__(self, context: Any, params: Any) -> Any:
        self.dnc.add([self.number], reason="asked while the question was open", source="tool")
        return await super().__call__(context, params)


async def test_a_number_listed_after_the_question_is_taken_out_of_the_dialer_and_never_scheduled(
    sim: TelliSimulator, mode: str
) -> None:
    ids = await _leads(sim, 2)
    old, new = _agents(sim)
    await _schedule(sim, ids, old)
    sim.request_log.clear()
    backend = Backend.simulated(Settings(api_key=TEST_API_KEY, toolsets=TOOLSETS), sim)
    dnc = backend.do_not_call.for_tenant(key_fingerprint(TEST_API_KEY))
    answers = ListsWhileAsked(dnc, _number(0))
    async with connect(build_server(backend), mode, answers) as client:
        result = await ok(client, "reschedule_contacts", {"contact_ids": ids, "agent_id": new})
    listed, other = ids
    row = _rows(result)[listed]
    assert (row["status"], row["reason"], row["now"]) == ("taken_out", "do_not_call", "out_of_dialer")
    assert "do-not-call" in row["detail"]
    assert listed not in _named_in(sim, SCHEDULE_PATH) and _waiting_with(sim, listed) is None
    assert _waiting_with(sim, other) == new
    assert "Lead N0" in answers.questions[0]


async def test_a_lost_schedule_answer_is_reported_unknown_and_the_rest_is_not_sent(
    bulk: ServerFactory, sim: TelliSimulator, mode: str
) -> None:
    ids = await _leads(sim, 60)
    old, new = _agents(sim)
    await _schedule(sim, ids, old)
    sim.request_log.clear()
    sim.inject(Fault(method="POST", path=SCHEDULE_PATH, kind="timeout_after"))
    async with connect(bulk(), mode, Answers("accept")) as client:
        result = await ok(client, "reschedule_contacts", {"contact_ids": ids, "agent_id": new})
    first_round, rest = ids[:50], ids[50:]
    assert result["counts"] == {"unknown": 50, "not_sent": 10} and result["status"] == "not_moved"
    assert result["unknown"] == first_round and "of 60" in result["note"]
    # The rows that fit, problems first: each unknown one with the check that tells, then the ones not sent.
    for row in result["contacts"]:
        if row["contact_id"] in first_round:
            assert (row["status"], row["now"]) == ("unknown", "unknown")
            assert "get_contact" in row["check"] and "taken out" in row["check"] and "next_call_at" in row["check"]
        else:
            assert (row["status"], row["now"]) == ("not_sent", "as_before")
    # Sent once each, never again; the rest still waits with its old agent.
    assert writes(sim) == [f"POST {REMOVE_PATH}", f"POST {SCHEDULE_PATH}"]
    assert [_waiting_with(sim, contact_id) for contact_id in rest] == [old] * 10
    # The check tells: the lost request was applied, so next_call_at is set again (with the new agent).
    account = sim.account(TEST_API_KEY)
    assert all(account.contacts[c].next_call_at is not None and _waiting_with(sim, c) == new for c in first_round)


async def test_a_lost_removal_answer_is_reported_unknown_and_nothing_is_scheduled(
    bulk: ServerFactory, sim: TelliSimulator, mode: str
) -> None:
    ids = await _leads(sim, 3)
    old, new = _agents(sim)
    await _schedule(sim, ids, old)
    sim.request_log.clear()
    sim.inject(Fault(method="POST", path=REMOVE_PATH, kind="timeout_after"))
    async with connect(bulk(), mode, Answers("accept")) as client:
        result = await ok(client, "reschedule_contacts", {"contact_ids": ids, "agent_id": new})
    assert result["counts"] == {"unknown": 3} and result["unknown"] == ids and result["out_of_dialer"] == []
    assert all("not scheduled with the new agent" in row["check"] for row in result["contacts"])
    assert writes(sim) == [f"POST {REMOVE_PATH}"]
    # The check tells: the lost removal was applied, so neither next_call_at nor in_call_since is set.
    account = sim.account(TEST_API_KEY)
    assert all(account.contacts[c].next_call_at is None and account.contacts[c].in_call_since is None for c in ids)


async def test_a_refused_schedule_after_the_removal_says_who_is_now_out_of_the_dialer(
    bulk: ServerFactory, sim: TelliSimulator, mode: str
) -> None:
    ids = await _leads(sim, 3)
    old, new = _agents(sim)
    await _schedule(sim, ids, old)
    sim.inject(Fault(method="POST", path=SCHEDULE_PATH, status=400))
    async with connect(bulk(), mode, Answers("accept")) as client:
        result = await ok(client, "reschedule_contacts", {"contact_ids": ids, "agent_id": new})
    assert result["out_of_dialer"] == ids and result["status"] == "not_moved"
    assert all(row["now"] == "out_of_dialer" and "schedule_calls" in row["check"] for row in result["contacts"])
    assert "nobody will call them" in result["note"]
    assert [_waiting_with(sim, contact_id) for contact_id in ids] == [None] * 3


async def test_contacts_not_waiting_are_scheduled_only_when_asked(
    bulk: ServerFactory, sim: TelliSimulator, mode: str
) -> None:
    ids = await _leads(sim, 2)
    _old, new = _agents(sim)
    async with connect(bulk(), mode, Answers("accept")) as client:
        left = await ok(client, "reschedule_contacts", {"contact_ids": ids, "agent_id": new})
        assert writes(sim) == ["POST /v1/add-contacts-batch"]
        moved = await ok(client, "reschedule_contacts", {"contact_ids": ids, "agent_id": new, "also_not_waiting": True})
    assert left["status"] == "not_moved" and {row["reason"] for row in left["contacts"]} == {"not_waiting"}
    assert _statuses(moved) == dict.fromkeys(ids, "scheduled")
    assert [_waiting_with(sim, contact_id) for contact_id in ids] == [new] * 2
    assert _named_in(sim, REMOVE_PATH) == set()  # nothing to take out: they were in no loop


# -- selection by query (the contact index) -----------------------------------------------------------------------


async def test_an_update_by_query_changes_the_contacts_the_query_matches(
    bulk: ServerFactory, sim: TelliSimulator, mode: str
) -> None:
    await _leads(sim, 3)
    account = sim.account(TEST_API_KEY)
    bronze = {c.id for c in account.live_contacts() if c.custom.get("plan") == "bronze"}
    query = {"property_equals": {"plan": "bronze"}}
    async with connect(bulk(), mode, Answers("accept")) as client:
        result = await ok(client, "update_contacts", {"query": query, "set_properties": {"lead_source": "query"}})
    assert set(_statuses(result)) == bronze and set(_statuses(result).values()) == {"updated"}
    changed = {c.id for c in account.live_contacts() if c.custom.get("lead_source") == "query"}
    assert changed == bronze and result["index_as_of"] is not None


@pytest.mark.parametrize("tool", ["update_contacts", "reschedule_contacts"])
async def test_a_query_that_matches_someone_new_after_the_preview_does_not_act_on_them(
    bulk: ServerFactory, sim: TelliSimulator, mode: str, tool: str
) -> None:
    ids = await _leads(sim, 2)
    old, new = _agents(sim)
    await _schedule(sim, ids, old)
    query = {"property_equals": {"lead_source": "fair"}}
    rest = {"set_properties": {"plan": "gold"}} if tool == "update_contacts" else {"agent_id": new}
    async with connect(bulk(confirm="token"), mode) as client:
        preview = await ok(client, tool, {"query": query, **rest})
        newcomer = await ok(
            client,
            "create_contact",
            {
                "first_name": "Late",
                "last_name": "Comer",
                "phone_number": _number(99),
                "properties": {"lead_source": "fair"},
            },
        )
        await _schedule(sim, [newcomer["contact_id"]], old)
        before = _state(sim)
        refused = await fails(
            client, tool, {"query": query, **rest, "confirmation_token": preview["confirmation_token"]}
        )
    assert "does not match" in refused
    assert _state(sim) == before
    assert sim.requests_to("PATCH", UPDATE_PATH) == [] and _named_in(sim, REMOVE_PATH) == set()


async def test_a_query_matching_more_than_the_cap_is_refused_naming_query(
    bulk: ServerFactory, sim: TelliSimulator
) -> None:
    await _leads(sim, 1001)
    _old, new = _agents(sim)
    async with connect(bulk(), "auto") as client:
        error = await fails(
            client, "reschedule_contacts", {"query": {"property_equals": {"lead_source": "fair"}}, "agent_id": new}
        )
    assert "query: matches 1,001 contacts" in error and "1,000" in error
    assert _named_in(sim, REMOVE_PATH) == set()


async def test_find_contacts_shows_a_bulk_update_at_once_without_reading_telli_again(
    make_server: ServerFactory, sim: TelliSimulator, mode: str
) -> None:
    await _leads(sim, 3)
    bronze = {"property_equals": {"plan": "bronze"}}
    server = make_server(toolsets=(*TOOLSETS, "search"))
    async with connect(server, mode, Answers("accept")) as client:
        before = await ok(client, "find_contacts", bronze)
        change = {"set_properties": {"plan": "silver"}, "clear_properties": ["lead_source"]}
        await ok(client, "update_contacts", {"query": bronze, **change})
        reads = len(sim.request_log)
        still_bronze = await ok(client, "find_contacts", bronze)
        moved = await ok(
            client, "find_contacts", {"property_equals": {"plan": "silver"}, "property_empty": ["lead_source"]}
        )
    assert before["total"] >= 3 and still_bronze["total"] == 0
    assert {c["contact_id"] for c in before["contacts"]} <= {c["contact_id"] for c in moved["contacts"]}
    assert len(sim.request_log) == reads  # answered from the index: telli was not read again
