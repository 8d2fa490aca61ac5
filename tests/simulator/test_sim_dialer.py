"""The auto-dialer driven by the simulated clock: loops, windows, Smart Calling retries, calls (§2.3, §7)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx2
import pytest
from sim_helpers import client_for, create_contact

from telli_mcp.simulator import TEST_API_KEY, Account, ContactStatus, SimClock, TelliSimulator
from telli_mcp.simulator.records import Agent

pytestmark = pytest.mark.anyio

BERLIN = ZoneInfo("Europe/Berlin")
MINUTE = timedelta(minutes=1)


async def schedule(client: httpx2.AsyncClient, contact_id: str, agent_id: str, **extra: Any) -> httpx2.Response:
    return await client.post("/v1/schedule-call", json={"contact_id": contact_id, "agent_id": agent_id, **extra})


async def v1_contact(client: httpx2.AsyncClient, contact_id: str) -> dict[str, Any]:
    body: dict[str, Any] = (await client.get(f"/v1/get-contact/{contact_id}")).json()
    return body


async def test_a_scheduled_contact_is_called_in_the_window_and_ends_reached(
    client: httpx2.AsyncClient, sim: TelliSimulator, account: Account, agent: Agent
) -> None:
    contact = await create_contact(client, externalId="crm-1")
    account.script_outcomes(contact["id"], ["COMPLETED"])

    response = await schedule(client, contact["id"], agent.id)
    assert response.status_code == 200
    assert set(response.json()) == {"status", "contact_id", "loop_id"}
    assert response.json()["status"] == "success"
    pending = await v1_contact(client, contact["id"])
    assert pending["status"] == "pending"
    assert pending["next_call_at"] == "2026-03-02T08:00:00.000Z"  # 09:00 in Berlin: the window is open
    assert (await client.get(f"/v2/contacts/{contact['id']}")).json()["autoDialerStatus"] == "in_dialer"

    await sim.advance(30)
    in_call = await v1_contact(client, contact["id"])
    assert in_call["in_call_since"] == "2026-03-02T08:00:00.000Z"
    assert (await client.get("/v1/list-calls")).json() == {"calls": [], "next_cursor": None}
    running = account.active_loop_for(contact["id"])
    assert running is not None and running.active is not None
    assert (await client.get(f"/v1/get-call/{running.active.call_id}")).status_code == 404

    await sim.advance(10 * MINUTE)
    calls = (await client.get("/v1/list-calls")).json()["calls"]
    assert len(calls) == 1
    call = calls[0]
    assert call["loop_id"] == response.json()["loop_id"]
    assert (call["call_status"], call["attempt"], call["direction"]) == ("COMPLETED", 1, "outbound")
    assert (call["to_number"], call["from_number"]) == ("+15550123", "+15550150")
    assert call["external_contact_id"] == "crm-1" and call["agent_id"] == agent.id
    assert call["triggered_at"] == 1772438400000 and call["triggered_at_iso"] == "2026-03-02T08:00:00.000Z"
    for name in ("triggered_at", "started_at", "ended_at"):
        assert isinstance(call[name], int)
        assert datetime.fromisoformat(call[f"{name}_iso"]).timestamp() * 1000 == call[name]
    assert 60_000 <= call["ended_at"] - call["triggered_at"] <= 240_000
    assert "Ada" in call["transcript"] and "Test Agent" in call["transcript"]
    assert {line["role"] for line in call["transcriptObject"]} == {"agent", "user"}
    assert call["call_analysis"]["summary"]["value"] is True

    reached = await v1_contact(client, contact["id"])
    assert (reached["status"], reached["call_attempts"], reached["in_call_since"]) == ("reached", 1, None)
    assert reached["reached_at"] == call["ended_at_iso"] and reached["next_call_at"] is None
    detail = (await client.get(f"/v1/get-call/{call['call_id']}")).json()
    assert detail == {"call": call, "contact": reached}


@pytest.mark.parametrize(("max_retry_days", "expected_calls"), [(None, 7), (1, 3), (2, 5)])
async def test_a_never_reached_contact_is_closed_after_max_retry_days(
    client: httpx2.AsyncClient,
    sim: TelliSimulator,
    account: Account,
    agent: Agent,
    max_retry_days: int | None,
    expected_calls: int,
) -> None:
    contact = await create_contact(client)
    account.script_outcomes(contact["id"], ["NOT_REACHED"])
    extra = {} if max_retry_days is None else {"max_retry_days": max_retry_days}
    await schedule(client, contact["id"], agent.id, **extra)
    await sim.advance(timedelta(days=14))

    closed = await v1_contact(client, contact["id"])
    assert (closed["status"], closed["call_attempts"], closed["next_call_at"]) == ("closed", expected_calls, None)
    calls = account.calls_for(contact["id"])
    assert [call.attempt for call in calls] == list(range(1, expected_calls + 1))
    for call in calls:
        local = call.triggered_at.astimezone(BERLIN)
        assert local.weekday() < 5 and 8 <= local.hour < 20
    assert calls[1].triggered_at - calls[0].ended_at == timedelta(hours=1)  # "first retry after 1 h"


@pytest.mark.parametrize(("max_retry_days", "expected_calls"), [(0, 1), (3, 7), (4, 9), (11, 16), (18, 17)])
async def test_smart_calling_totals_follow_the_documented_schedule(max_retry_days: int, expected_calls: int) -> None:
    sim = TelliSimulator(dialer_weekdays_only=False)
    account = sim.account(TEST_API_KEY)
    agent = account.add_agent("Agent")
    async with client_for(sim.transport(), TEST_API_KEY) as client:
        contact = await create_contact(client)
        account.script_outcomes(contact["id"], ["NOT_REACHED"])
        await schedule(client, contact["id"], agent.id, max_retry_days=max_retry_days)
        await sim.advance(timedelta(days=30))
    assert account.contacts[contact["id"]].call_attempts == expected_calls
    assert account.contacts[contact["id"]].status is ContactStatus.CLOSED


async def test_a_contact_reached_on_the_second_attempt_stops_the_loop(
    client: httpx2.AsyncClient, sim: TelliSimulator, account: Account, agent: Agent
) -> None:
    contact = await create_contact(client)
    account.script_outcomes(contact["id"], ["NOT_REACHED", "COMPLETED"])
    await schedule(client, contact["id"], agent.id)
    await sim.advance(timedelta(days=5))
    assert [call.call_status.value for call in account.calls_for(contact["id"])] == ["NOT_REACHED", "COMPLETED"]
    assert (await v1_contact(client, contact["id"]))["status"] == "reached"


async def test_scheduling_outside_the_window_waits_for_the_next_weekday_morning() -> None:
    late = datetime(2026, 3, 7, 2, 0, tzinfo=UTC)  # Saturday 03:00 in Berlin, Friday 21:00 in New York
    sim = TelliSimulator(clock=SimClock(late))
    account = sim.account(TEST_API_KEY)
    agent = account.add_agent("Agent")
    async with client_for(sim.transport(), TEST_API_KEY) as client:
        berlin = await create_contact(client)
        new_york = await create_contact(client, timezoneIana="America/New_York", phoneNumber="+15550124")
        await schedule(client, berlin["id"], agent.id)
        await schedule(client, new_york["id"], agent.id)
        assert (await v1_contact(client, berlin["id"]))["next_call_at"] == "2026-03-09T07:00:00.000Z"
        assert (await v1_contact(client, new_york["id"]))["next_call_at"] == "2026-03-09T12:00:00.000Z"
        await sim.advance(timedelta(days=2))
        assert account.calls == {}


async def test_scheduling_a_contact_already_in_a_loop_returns_the_same_loop(
    client: httpx2.AsyncClient, account: Account, agent: Agent
) -> None:
    contact = await create_contact(client)
    first = (await schedule(client, contact["id"], agent.id)).json()
    second = (await schedule(client, contact["id"], agent.id)).json()
    assert first == second
    assert len(account.dialer_loops_for(contact["id"])) == 1


async def test_a_reached_contact_can_be_scheduled_again(
    client: httpx2.AsyncClient, sim: TelliSimulator, account: Account, agent: Agent
) -> None:
    contact = await create_contact(client)
    account.script_outcomes(contact["id"], ["COMPLETED"])
    first = (await schedule(client, contact["id"], agent.id)).json()
    await sim.advance(timedelta(hours=1))
    second = (await schedule(client, contact["id"], agent.id)).json()
    assert second["loop_id"] != first["loop_id"]
    assert (await v1_contact(client, contact["id"]))["status"] == "pending"


async def test_remove_from_dialer_stops_further_calls(
    client: httpx2.AsyncClient, sim: TelliSimulator, account: Account, agent: Agent
) -> None:
    contact = await create_contact(client)
    account.script_outcomes(contact["id"], ["NOT_REACHED"])
    await schedule(client, contact["id"], agent.id)
    await sim.advance(timedelta(minutes=30))
    response = await client.post("/v1/remove-from-auto-dialer", json={"contact_id": contact["id"]})
    assert response.status_code == 200
    assert response.json() == {"status": "success", "contact_id": contact["id"]}
    await sim.advance(timedelta(days=3))
    assert len(account.calls_for(contact["id"])) == 1
    after = await v1_contact(client, contact["id"])
    assert (after["status"], after["next_call_at"]) == ("closed", None)


async def test_removing_a_contact_that_is_not_in_a_loop_is_400(client: httpx2.AsyncClient) -> None:
    contact = await create_contact(client)
    response = await client.post("/v1/remove-from-auto-dialer", json={"contact_id": contact["id"]})
    assert response.status_code == 400
    assert response.json() == {"message": "Contact is not in a dialer queue"}


async def test_removing_before_the_first_call_puts_the_contact_back_to_new(
    client: httpx2.AsyncClient, agent: Agent
) -> None:
    contact = await create_contact(client)
    await schedule(client, contact["id"], agent.id)
    await client.post("/v1/remove-from-auto-dialer", json={"contact_id": contact["id"]})
    assert (await v1_contact(client, contact["id"]))["status"] == "new"


async def test_initiate_call_starts_immediately_even_outside_the_window() -> None:
    sunday = datetime(2026, 3, 8, 22, 0, tzinfo=UTC)
    sim = TelliSimulator(clock=SimClock(sunday))
    account = sim.account(TEST_API_KEY)
    agent = account.add_agent("Agent")
    async with client_for(sim.transport(), TEST_API_KEY) as client:
        contact = await create_contact(client)
        account.script_outcomes(contact["id"], ["COMPLETED"])
        response = await client.post("/v1/initiate-call", json={"contact_id": contact["id"], "agent_id": agent.id})
        assert response.status_code == 200
        body = response.json()
        assert set(body) == {"status", "contact_id", "call_id"}
        assert (await v1_contact(client, contact["id"]))["in_call_since"] == "2026-03-08T22:00:00.000Z"
        again = await client.post("/v1/initiate-call", json={"contact_id": contact["id"]})
        assert again.status_code == 400
        await sim.advance(5 * MINUTE)
        call = (await client.get(f"/v1/get-call/{body['call_id']}")).json()["call"]
        assert call["triggered_at_iso"] == "2026-03-08T22:00:00.000Z"
        assert call["call_status"] == "COMPLETED"


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"agent_id": "AGENT"}, 400),
        ({"contact_id": "CONTACT"}, 400),
        ({"contact_id": "00000000-0000-4000-8000-000000000000", "agent_id": "AGENT"}, 404),
        ({"contact_id": "CONTACT", "agent_id": "00000000-0000-4000-8000-000000000000"}, 400),
        ({"contact_id": "CONTACT", "agent_id": "AGENT", "override_from_number": "+15550177"}, 400),
        ({"contact_id": "CONTACT", "agent_id": "AGENT", "max_retry_days": -1}, 400),
    ],
)
async def test_schedule_call_rejects_bad_requests(
    client: httpx2.AsyncClient, agent: Agent, body: dict[str, Any], status: int
) -> None:
    contact = await create_contact(client)
    filled = {key: {"CONTACT": contact["id"], "AGENT": agent.id}.get(str(value), value) for key, value in body.items()}
    response = await client.post("/v1/schedule-call", json=filled)
    assert response.status_code == status
    assert set(response.json()) == {"message"}


async def test_an_override_number_of_the_account_becomes_the_caller_id(
    client: httpx2.AsyncClient, sim: TelliSimulator, account: Account, agent: Agent
) -> None:
    account.add_phone_number("+493090182950")
    contact = await create_contact(client)
    account.script_outcomes(contact["id"], ["COMPLETED"])
    await schedule(client, contact["id"], agent.id, override_from_number="+493090182950")
    await sim.advance(10 * MINUTE)
    assert account.calls_for(contact["id"])[0].from_number == "+493090182950"


async def test_schedule_calls_batch_reports_loop_ids_and_numeric_error_codes(
    client: httpx2.AsyncClient, agent: Agent
) -> None:
    contact = await create_contact(client)
    unknown = "00000000-0000-4000-8000-000000000000"
    items = [{"contact_id": contact["id"], "agent_id": agent.id}, {"contact_id": unknown, "agent_id": agent.id}]
    body = (await client.post("/v1/schedule-calls-batch", json={"contacts": items})).json()
    assert set(body[0]) == {"contact_id", "status", "loop_id"} and body[0]["status"] == "success"
    assert body[1] == {
        "contact_id": unknown,
        "status": "error",
        "error_message": "Contact not found",
        "error_code": 400,
    }


async def test_a_malformed_contact_id_rejects_the_whole_schedule_batch(
    client: httpx2.AsyncClient, agent: Agent
) -> None:
    contact = await create_contact(client)
    items = [{"contact_id": contact["id"], "agent_id": agent.id}, {"contact_id": "nope", "agent_id": agent.id}]
    response = await client.post("/v1/schedule-calls-batch", json={"contacts": items})
    assert response.status_code == 400
    assert response.json()["message"].startswith("contacts[1].contact_id must be a UUID")
    assert (await client.get(f"/v1/get-contact/{contact['id']}")).json()["status"] == "new"


async def test_remove_from_dialer_batch_reports_per_contact(client: httpx2.AsyncClient, agent: Agent) -> None:
    looping, idle = await create_contact(client), await create_contact(client)
    await schedule(client, looping["id"], agent.id)
    body = (
        await client.post("/v1/remove-from-auto-dialer-batch", json={"contact_ids": [looping["id"], idle["id"], "7"]})
    ).json()
    assert body == [
        {"contact_id": looping["id"], "status": "success"},
        {"contact_id": idle["id"], "status": "error", "error": "Contact is not in a dialer queue"},
        {"contact_id": "7", "status": "error", "error": "Invalid contact_id"},
    ]


@pytest.mark.parametrize(
    ("path", "field"), [("/v1/schedule-calls-batch", "contacts"), ("/v1/remove-from-auto-dialer-batch", "contact_ids")]
)
async def test_dialer_batches_over_50_items_are_400(client: httpx2.AsyncClient, path: str, field: str) -> None:
    response = await client.post(path, json={field: [{}] * 51})
    assert response.status_code == 400
    assert "50" in response.json()["message"]


async def test_deleting_a_contact_ends_its_loop(
    client: httpx2.AsyncClient, sim: TelliSimulator, account: Account, agent: Agent
) -> None:
    contact = await create_contact(client)
    await schedule(client, contact["id"], agent.id)
    await client.delete(f"/v2/contacts/{contact['id']}")
    await sim.advance(timedelta(days=1))
    assert account.calls == {}


@pytest.fixture
async def called(client: httpx2.AsyncClient, sim: TelliSimulator, account: Account, agent: Agent) -> dict[str, Any]:
    """Five finished calls over two contacts and two agents."""
    other_agent = account.add_agent("Other Agent")
    first, second = await create_contact(client), await create_contact(client, phoneNumber="+15550125")
    account.script_outcomes(first["id"], ["NOT_REACHED", "NOT_REACHED", "COMPLETED"])
    account.script_outcomes(second["id"], ["NOT_REACHED", "COMPLETED"])
    await schedule(client, first["id"], agent.id)
    await schedule(client, second["id"], other_agent.id)
    await sim.advance(timedelta(days=2))
    return {"first": first["id"], "second": second["id"], "agent": agent.id, "other_agent": other_agent.id}


async def test_list_calls_pages_newest_first(client: httpx2.AsyncClient, called: dict[str, Any]) -> None:
    seen: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        body = (await client.get("/v1/list-calls", params=params)).json()
        assert set(body) == {"calls", "next_cursor"}
        seen += body["calls"]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 5 == len({call["call_id"] for call in seen})
    stamps = [call["triggered_at"] for call in seen]
    assert stamps == sorted(stamps, reverse=True)


async def test_list_calls_filters_by_contact_or_agent_but_not_both(
    client: httpx2.AsyncClient, called: dict[str, Any]
) -> None:
    by_contact = (await client.get("/v1/list-calls", params={"contact_id": called["first"]})).json()["calls"]
    assert len(by_contact) == 3 and {call["contact_id"] for call in by_contact} == {called["first"]}
    by_agent = (await client.get("/v1/list-calls", params={"agent_id": called["other_agent"]})).json()["calls"]
    assert len(by_agent) == 2 and {call["agent_id"] for call in by_agent} == {called["other_agent"]}
    both = await client.get("/v1/list-calls", params={"contact_id": called["first"], "agent_id": called["agent"]})
    assert both.status_code == 400


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 101}, {"cursor": "AAAA"}])
async def test_list_calls_rejects_a_bad_limit_or_cursor(client: httpx2.AsyncClient, params: dict[str, Any]) -> None:
    response = await client.get("/v1/list-calls", params=params)
    assert response.status_code == 400
    assert set(response.json()) == {"message"}


async def test_get_call_of_an_unknown_id_is_404(client: httpx2.AsyncClient) -> None:
    response = await client.get("/v1/get-call/00000000-0000-4000-8000-000000000000")
    assert response.status_code == 404
    assert set(response.json()) == {"message"}


async def test_advance_refuses_to_go_backwards(sim: TelliSimulator) -> None:
    with pytest.raises(ValueError, match="negative"):
        await sim.advance(-1)
